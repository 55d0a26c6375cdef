"""RESTORE, SWITCH and RECOVER DATABASE: bringing a database back from its copies.

``restore controlfile from '<piece>'`` writes the controlfile document the
piece holds to every ``control_files`` path of the started instance.
``restore datafile`` copies a datafile copy back (or, for a file that has
no copy, creates it empty as of its creation, so redo can rebuild it); with
``set newname ... to new`` the restored file gets a new name and is
recorded as a datafile copy, which ``switch database to copy`` then makes
the datafile, as in real RMAN.  ``recover database`` replays the
catalogued archivelogs through ``oracle_sim.recovery``.
"""
from __future__ import annotations

import time
from pathlib import Path

from .. import recovery, redo
from ..controlfile import Controlfile, locked
from ..database import Database, omf_datafile_name
from ..datafile import Datafile, copy_datafile, write_header
from ..datafile import create as create_datafile
from ..instance import Instance, OraError
from . import cmd_spfile, pieces
from . import statements as st
from .cmd_validate import restore_check
from .context import Context
from .output import RmanError, elapsed
from .timeexpr import evaluate


def _mounted_not_open(ctx: Context, busy: list[str]) -> Instance:
    inst = ctx.require("mounted", "open")
    if inst.status == "open":
        raise RmanError(*busy)
    return inst


def run_restore(ctx: Context, stmt: st.Restore) -> None:
    if stmt.preview or stmt.validate:
        restore_check(ctx, stmt)
        return
    if stmt.what == "CONTROLFILE":
        restore_controlfile(ctx, stmt)
        return
    if stmt.what == "SPFILE":
        cmd_spfile.restore_spfile(ctx, stmt)
        return
    if stmt.what not in ("DATABASE", "DATAFILE"):
        raise RmanError(f"RMAN-00600: internal error, arguments [simulator: restore {stmt.what.lower()} "
                        "is not simulated]")
    restore_datafiles(ctx, stmt)


def restore_controlfile(ctx: Context, stmt: st.Restore) -> None:
    inst = ctx.instance()
    if inst.status in ("mounted", "open"):
        raise RmanError("RMAN-06496: must use the TO clause when the database is mounted or open")
    ctx.require("started")
    if stmt.autobackup:
        raise RmanError("RMAN-00600: internal error, arguments [simulator: restore controlfile from autobackup "
                        "is not simulated]")
    if stmt.source is None:
        raise RmanError("RMAN-06563: control file or SPFILE must be restored using FROM AUTOBACKUP")
    out = ctx.out
    ctx.repository()
    out.line(f"Starting restore at {ctx.date()}")
    ch = ctx.channels(None)[0]
    out.line()
    started = time.monotonic()
    out.line(f"channel {ch.name}: restoring control file")
    try:
        header, _body = pieces.read_piece(Path(stmt.source))
    except RmanError as exc:
        raise RmanError(f"ORA-19870: error while restoring backup piece {stmt.source}", *exc.lines,
                        channel=ch.name) from exc
    doc = header.get("controlfile")
    if doc is None:
        raise RmanError(f"ORA-19870: error while restoring backup piece {stmt.source}",
                        "ORA-19626: backup set type is datafile - can not be processed by this conversation",
                        channel=ch.name)
    if doc["db_name"].upper() != str(inst.param("db_name")).upper():
        raise RmanError(f"ORA-19870: error while restoring backup piece {stmt.source}",
                        f"ORA-01103: database name '{doc['db_name'].upper()}' in control file is not "
                        f"'{str(inst.param('db_name')).upper()}'", channel=ch.name)
    doc = dict(doc, restored_from_backup=True)
    doc.pop("recovered_scn", None)
    paths = inst.control_files()
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
    with locked(paths[0]):
        Controlfile(paths, doc).save()
    out.line(f"channel {ch.name}: restore complete, elapsed time: {elapsed(time.monotonic() - started)}")
    for p in paths:
        out.line(f"output file name={p}")
    out.line(f"Finished restore at {ctx.date()}")


def _newname(ctx: Context, db: Database, entry: dict) -> Path | None:
    """Where SET NEWNAME sends a datafile (None: restore in place)."""
    run = ctx.run
    if run is None:
        return None
    if entry["file"] in run.newnames:
        name = run.newnames[entry["file"]]
    elif run.newname_all:
        name = None
    else:
        return None
    if name is not None:
        return Path(name)
    dest = db.instance.param("db_create_file_dest")
    if not dest:
        raise RmanError("ORA-19625: error identifying file TO NEW", "ORA-02236: invalid file name")
    return omf_datafile_name(dest, db.cf.doc["db_name"], entry["ts"])


def restore_datafiles(ctx: Context, stmt: st.Restore) -> None:
    inst = _mounted_not_open(ctx, ["ORA-19573: cannot obtain exclusive enqueue for datafile 1"])
    db = Database(inst)
    out = ctx.out
    with db.changing() as cf:
        out.line(f"Starting restore at {ctx.date()}")
        ctx.repository(db)
        chans = ctx.channels(cf)
        out.line()
        entries = cf.datafiles() if stmt.what == "DATABASE" else []
        for n in stmt.files:
            entry = cf.datafile(n)
            if entry is None:
                raise RmanError("RMAN-20201: datafile not found in the repository",
                                f"RMAN-06010: error while looking up datafile: {n}")
            entries.append(entry)
        for i, entry in enumerate(entries):
            ch = chans[i % len(chans)]
            new = _newname(ctx, db, entry)
            dest = new or Path(entry["name"])
            copy = pieces.newest_copy(cf, entry["file"], None, entry["creation_scn"])
            if copy is not None and Path(copy["name"]) == dest:
                # Restoring a copy onto itself: nothing to copy, as RMAN's "already restored".
                out.line(f"skipping datafile {entry['file']}; already restored to file {dest}")
                continue
            if copy is None and entry["ts"] == "SYSTEM":
                # A SYSTEM datafile cannot be created empty and rebuilt from redo.
                raise RmanError("RMAN-06026: some targets not found - aborting restore",
                                f"RMAN-06023: no backup or copy of datafile {entry['file']} found to restore")
            if copy is None:
                header = db.file_header(dict(entry, checkpoint_scn=entry["creation_scn"],
                                             checkpoint_time=entry["creation_time"]))
                out.line(f"creating datafile file number={entry['file']} name={dest}")
                create_datafile(dest, header)
            else:
                started = time.monotonic()
                out.line(f"channel {ch.name}: restoring datafile {entry['file']:05d}")
                out.line(f"input datafile copy RECID={copy['recid']} STAMP={copy['stamp']} file name={copy['name']}")
                out.line(f"destination for restore of datafile {entry['file']:05d}: {dest}")
                if not Path(copy["name"]).exists():
                    raise RmanError(*pieces.missing_file_lines(copy["name"]), channel=ch.name)
                pieces.check_copy_blocks(Path(copy["name"]), entry["file"], ch.name)
                header = copy_datafile(Path(copy["name"]), dest, copy["checkpoint_scn"], copy["checkpoint_time"])
                header.pop("tag", None)
                write_header(dest, header)
                out.line(f"channel {ch.name}: copied datafile copy of datafile {entry['file']:05d}, "
                         f"elapsed time: {elapsed(time.monotonic() - started)}")
            if new is not None:
                row = pieces.add_copy_row(cf, dest, Datafile(dest).header, None, ctx.now())
                if copy is not None:
                    out.line(f"output file name={dest} RECID={row['recid']} STAMP={row['stamp']}")
            else:
                entry["checkpoint_scn"] = header["checkpoint_scn"]
                entry["checkpoint_time"] = header["checkpoint_time"]
                if copy is not None:
                    out.line(f"output file name={dest} RECID=0 STAMP=0")
            db._files.pop(entry["file"], None)  # the cached handle may name the replaced file
        out.line(f"Finished restore at {ctx.date()}")


def run_switch(ctx: Context, stmt: st.Switch) -> None:
    inst = _mounted_not_open(ctx, ["ORA-01511: error in renaming log/data files",
                                   "ORA-01121: cannot rename database file 1 - file is in use or recovery"])
    db = Database(inst)
    out = ctx.out
    with db.changing() as cf:
        ctx.repository(db)
        if stmt.files is None:
            entries = cf.datafiles()
        else:
            entries = []
            for n in stmt.files:
                entry = cf.datafile(n)
                if entry is None:
                    raise RmanError("RMAN-20201: datafile not found in the repository",
                                    f"RMAN-06010: error while looking up datafile: {n}")
                entries.append(entry)
        chosen = []
        for entry in entries:
            rows = [c for c in cf.live_copies() if c["file"] == entry["file"]
                    and c["creation_scn"] == entry["creation_scn"] and Path(c["name"]).exists()]
            copy = max(rows, key=lambda c: (c["checkpoint_scn"], c["recid"]), default=None)
            if copy is None:
                raise RmanError(f"RMAN-06571: datafile {entry['file']} does not have recoverable copy")
            chosen.append((entry, copy))
        for entry, copy in chosen:
            header = Datafile(Path(copy["name"])).header
            entry["name"] = copy["name"]
            entry["checkpoint_scn"] = header["checkpoint_scn"]
            entry["checkpoint_time"] = header["checkpoint_time"]
            cf.doc["datafile_copies"].remove(copy)
            db._files.pop(entry["file"], None)
            out.line(f"datafile {entry['file']} switched to datafile copy \"{copy['name']}\"")
        out.line()


def _until(ctx: Context, db: Database, stmt: st.RecoverDatabase) -> tuple[float | None, int | None]:
    until = stmt.until or (ctx.run.until if ctx.run is not None else None)
    if until is None:
        return None, None
    if until.time is not None:
        try:
            return evaluate(until.time, ctx.now(), ctx.env), None
        except OraError as exc:
            raise RmanError.from_ora(exc) from exc
    if until.scn is not None:
        return None, until.scn
    for row in db.cf.live_archived_logs():
        if row["thread"] == until.thread and row["sequence"] == until.sequence:
            return None, row["first_change"]
    raise RmanError(f"RMAN-06556: datafile 1 must be restored from backup older than SCN {db.cf.doc['current_scn']}")


def run_recover_database(ctx: Context, stmt: st.RecoverDatabase) -> None:
    if stmt.files is not None or stmt.noredo:
        raise RmanError("RMAN-00600: internal error, arguments [simulator: recover datafile / noredo "
                        "is not simulated]")
    inst = _mounted_not_open(ctx, ["ORA-01124: cannot recover data file 1 - file is in use or recovery"])
    db = Database(inst)
    out = ctx.out
    out.line(f"Starting recover at {ctx.date()}")
    ctx.repository(db)
    ctx.channels(db.cf)
    until_time, until_scn = _until(ctx, db, stmt)
    out.line()
    out.line("starting media recovery")
    out.line()
    started = time.monotonic()
    try:
        with db.changing():
            start = min(db.datafile(d["file"]).header["checkpoint_scn"] for d in db.cf.datafiles())
            available = recovery.usable_logs(db)
            report = recovery.recover(db, until_time=until_time, until_scn=until_scn)
    except OraError as exc:
        raise RmanError.from_ora(exc) from exc
    except (redo.RedoLogError, redo.RedoInconsistent) as exc:
        # the files keep what was applied before the error, as after a real stuck recovery
        raise RmanError("ORA-00283: recovery session canceled due to errors", *exc.lines) from exc
    except recovery.MissingArchivelog as exc:
        found = [(t, s, row["name"]) for (t, s), row in sorted(available.items())
                 if t == exc.thread and s < exc.sequence and row["next_change"] > start]
        _log_lines(ctx, found)
        out.line("unable to find archived log")
        out.line(f"archived log thread={exc.thread} sequence={exc.sequence}")
        raise RmanError(f"RMAN-06054: media recovery requesting unknown archived log for thread {exc.thread} "
                        f"with sequence {exc.sequence} and starting SCN of {exc.scn}") from exc
    except recovery.TooRecentFile as exc:
        raise RmanError("ORA-01547: warning: RECOVER succeeded but OPEN RESETLOGS would get error below",
                        f"ORA-01152: file {exc.file_no} was not restored from a sufficiently old backup",
                        f"ORA-01110: data file {exc.file_no}: '{exc.name}'") from exc
    _log_lines(ctx, report.logs)
    out.line(f"media recovery complete, elapsed time: {elapsed(time.monotonic() - started)}")
    out.line(f"Finished recover at {ctx.date()}")


def _log_lines(ctx: Context, logs: list[tuple[int, int, str]]) -> None:
    for thread, seq, name in logs:
        ctx.out.line(f"archived log for thread {thread} with sequence {seq} is already on disk as file {name}")
    for thread, seq, name in logs:
        ctx.out.line(f"archived log file name={name} thread={thread} sequence={seq}")
