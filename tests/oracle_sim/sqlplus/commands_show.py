"""SQL*Plus commands that report: SHOW, DESCRIBE and ARCHIVE LOG LIST."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..instance import OraError
from ..sql import views
from ..sql.context import SP2Error
from .commands import SET_OPTIONS, _match, _sysdba, sga_lines

if TYPE_CHECKING:
    from .client import Client


def cmd_archive(c: Client, rest: str) -> None:
    if rest.upper().split() != ["LOG", "LIST"]:
        raise SP2Error(f'SP2-0734: unknown command beginning "archive {rest[:3]}..." - rest of line ignored.')
    inst = _sysdba(c)
    if inst is None:
        return
    try:
        src = c.s.source()
        views.require(src.inst, "mounted")
        dests = [d for d in src.db.archive_destinations()]
        seq = src.db.cf.thread(src.db.thread_no)["sequence"]
    except OraError as exc:
        c.ora_error(exc)
        return
    first = dests[0] if dests else None
    dest = "USE_DB_RECOVERY_FILE_DEST" if first and first[2] else (first[1] if first else "")
    c.out.lines([f"{'Database log mode':<31}Archive Mode", f"{'Automatic archival':<31}Enabled",
                 f"{'Archive destination':<31}{dest}", f"{'Oldest online log sequence':<31}{max(1, seq - 2)}",
                 f"{'Next log sequence to archive':<31}{seq}", f"{'Current log sequence':<31}{seq}"])


# -- SHOW / DESCRIBE ------------------------------------------------------------------------

def cmd_show(c: Client, rest: str) -> None:
    words = rest.split()
    what = words[0].upper() if words else ""
    if what == "USER":
        c.out.line(f'USER is "{c.s.user}"')
    elif what.startswith("PARAM"):
        _show_parameters(c, words[1].lower() if len(words) > 1 else "")
    elif what in ("SGA",):
        inst = c.s.running_instance()
        c.out.lines(sga_lines(inst), data=True)
    elif what.startswith("ERR"):
        _show_errors(c)
    elif what == "CON_NAME":
        c.out.lines(["", "CON_NAME", "-" * 30, c.s.sys_context("USERENV", "CON_NAME") or ""])
    elif what in ("REL", "RELEASE"):
        c.out.line("release 1201000200")
    else:
        option = _match(what, SET_OPTIONS) if what else None
        if option is None:
            raise SP2Error(f'SP2-0158: unknown SHOW option "{rest}"')
        value = getattr(c.settings, option.lower(), None)
        if isinstance(value, bool):
            c.out.line(f"{option.lower()} {'ON' if value else 'OFF'}")
        else:
            c.out.line(f"{option.lower()} {value}")


def _show_parameters(c: Client, pattern: str) -> None:
    try:
        rows = views.REGISTRY["V$PARAMETER"].build(c.s.source())
    except OraError as exc:
        c.ora_error(exc)
        return
    types = {1: "boolean", 2: "string", 3: "integer", 6: "big integer"}
    c.out.lines(["", f"{'NAME':<36} {'TYPE':<11} VALUE", f"{'-' * 36} {'-' * 11} {'-' * 30}"], data=True)
    for r in rows:
        if pattern in r[1]:
            c.out.line(f"{r[1]:<36} {types.get(r[2], 'string'):<11} {r[3] or ''}", data=True)


def _show_errors(c: Client) -> None:
    try:
        procs = c.s.database().sidecar().get("procedures", [])
    except OraError as exc:
        c.ora_error(exc)
        return
    if not procs:
        c.out.line("No errors.")
        return
    p = max(procs, key=lambda x: x.get("created", 0))
    if not p.get("errors"):
        c.out.line("No errors.")
        return
    c.out.lines([f"Errors for {p.get('type', 'PROCEDURE')} {p['owner']}.{p['name']}:", "",
                 "LINE/COL ERROR", "-------- " + "-" * 65])
    for e in p["errors"]:
        c.out.line(f"{str(e['line']) + '/' + str(e['col']):<8} {e['text']}")


def cmd_describe(c: Client, rest: str) -> None:
    if not c.s.connected:
        raise SP2Error("SP2-0640: Not connected")
    name = rest.split()[0] if rest.split() else ""
    schema, _, obj = name.rpartition(".")
    try:
        src = c.s.source()
        key, view = views.lookup(schema or None, obj, src)
        if view is not None:
            views.require(src.inst, view.needs)
            cols = view.columns
        elif views.table_exists(key, src):
            cols = views.table_columns(key, src)
        else:
            c.out.lines(["ERROR:", f"ORA-04043: object {name} does not exist", ""])
            return
    except OraError as exc:
        c.ora_error(exc)
        return
    c.out.lines([f" {'Name':<41} {'Null?':<8} Type", f" {'-' * 41} {'-' * 8} {'-' * 28}"])
    for col, typ in cols:
        c.out.line(f" {col:<41} {'':<8} {typ}")
