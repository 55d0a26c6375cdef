"""Bringing back a lost SPFILE: ``set dbid``, ``set controlfile autobackup format``,
``startup nomount`` without a parameter file, and ``restore spfile from autobackup``.

What real RMAN does, and this module reproduces:

* ``startup nomount`` when the instance has no parameter file fails in SQL*Plus,
  but RMAN then starts a dummy instance (``db_name=DUMMY``) "for retrieval of
  spfile" and prints both the failure and that fact;
* ``restore spfile from autobackup`` on an instance that is not mounted needs
  the DBID from ``set dbid`` (RMAN-06495 without it) and looks for
  ``%F`` autobackups, ``c-<dbid>-<YYYYMMDD>-<QQ>``, in the directory of the
  format ``set controlfile autobackup format for device type disk to`` gave
  (else ``<home>/dbs``): day by day from today back 7 days, the highest
  sequence of a day first.  Nothing found: RMAN-06172.  The newest piece that
  carries an SPFILE is restored to the instance's default SPFILE (refused with
  RMAN-06564 when the instance runs on an SPFILE: the TO clause would be needed,
  and it is not simulated).

The autobackup's SPFILE is the parameter set the simulated instance had when
``run_autobackup`` wrote the piece (``header["spfile"]``).
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path

from ..instance import Instance, OraError
from . import pieces
from . import statements as st
from .context import Context
from .output import RmanError, elapsed

# RMAN's defaults for the autobackup search (MAXDAYS 7, sequences 255 down to 0).
MAXDAYS = 7
DUMMY_PARAMS = {"db_name": "DUMMY"}


def _state(ctx: Context) -> dict:
    """Session settings of this module, kept on the context for the life of the client."""
    return ctx.__dict__.setdefault("spfile_session", {"dbid": None, "format": None})


def run_set_dbid(ctx: Context, stmt: st.SetDbid) -> None:
    _state(ctx)["dbid"] = stmt.dbid
    ctx.out.line("executing command: SET DBID")
    ctx.out.line()


def run_set_autobackup_format(ctx: Context, stmt: st.SetAutobackupFormat) -> None:
    _state(ctx)["format"] = stmt.format
    ctx.out.line("executing command: SET CONTROLFILE AUTOBACKUP FORMAT")
    ctx.out.line()


def start_dummy_instance(ctx: Context, inst: Instance, failure: OraError) -> None:
    """After ``startup nomount`` failed for want of a parameter file: the dummy instance."""
    out = ctx.out
    out.line(f"startup failed: {failure.lines[0]}")
    for line in failure.lines[1:]:
        out.line(line)
    out.line()
    out.line("starting Oracle instance without parameter file for retrieval of spfile")
    inst.start(dict(DUMMY_PARAMS))
    out.line("Oracle instance started")


def _dbid(ctx: Context, inst: Instance) -> int:
    dbid = _state(ctx)["dbid"]
    if dbid is not None:
        return int(dbid)
    raise RmanError("RMAN-06495: must explicitly specify DBID with SET DBID command")


def _search_dir(ctx: Context) -> tuple[Path, str]:
    """The directory %F autobackups are looked for in, and the format (for messages)."""
    fmt = _state(ctx)["format"] or "%F"
    if "%F" not in fmt:
        raise RmanError("RMAN-00600: internal error, arguments [simulator: autobackup search with a format "
                        f"other than %F ({fmt}) is not simulated]")
    probe = Path(fmt.replace("%F", "c-0-00000000-00"))
    return (probe.parent if probe.is_absolute() else ctx.home / "dbs"), fmt


def _candidates(directory: Path, dbid: int, day: str) -> list[Path]:
    """That day's autobackups of ``dbid`` in ``directory``, highest sequence first."""
    pattern = re.compile(rf"c-{dbid}-{day}-([0-9A-Fa-f]{{2}})$")
    if not directory.is_dir():
        return []
    found = [(int(m.group(1), 16), p) for p in directory.iterdir() if (m := pattern.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def restore_spfile(ctx: Context, stmt: st.Restore) -> None:
    inst = ctx.instance()
    if not stmt.autobackup:
        raise RmanError("RMAN-00600: internal error, arguments [simulator: restore spfile other than "
                        "FROM AUTOBACKUP is not simulated]")
    if stmt.to is not None:
        raise RmanError("RMAN-00600: internal error, arguments [simulator: restore spfile to is not simulated]")
    ctx.require("started", "mounted", "open")
    if inst.doc.get("spfile"):
        raise RmanError("RMAN-06564: must use the TO clause when the instance is started with SPFILE")
    dbid = _dbid(ctx, inst)
    directory, _fmt = _search_dir(ctx)
    out = ctx.out
    out.line(f"Starting restore at {ctx.date()}")
    ch = ctx.channels(None)[0]
    out.line()
    started = time.monotonic()
    today = datetime.fromtimestamp(ctx.now())
    for back in range(MAXDAYS):
        day = (today - timedelta(days=back)).strftime("%Y%m%d")
        out.line(f"channel {ch.name}: looking for AUTOBACKUP on day: {day}")
        for path in _candidates(directory, dbid, day):
            try:
                header, _body = pieces.read_piece(path)
            except RmanError:
                continue
            if header.get("dbid") != dbid or not header.get("spfile"):
                continue
            out.line(f"channel {ch.name}: AUTOBACKUP found: {path}")
            out.line(f"channel {ch.name}: restoring spfile from AUTOBACKUP {path}")
            inst.write_spfile(dict(header["spfile"]))
            out.line(f"channel {ch.name}: SPFILE restore from AUTOBACKUP complete, "
                     f"elapsed time: {elapsed(time.monotonic() - started)}")
            out.line(f"Finished restore at {ctx.date()}")
            return
    out.line(f"channel {ch.name}: no AUTOBACKUP in {MAXDAYS} days found")
    raise RmanError("RMAN-06172: no AUTOBACKUP found or specified handle is not a valid copy or piece")
