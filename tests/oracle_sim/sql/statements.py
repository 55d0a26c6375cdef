"""SQL statements other than queries: ALTER DATABASE / SYSTEM / SESSION, DML, and dispatch to ``ddl``.

``execute`` is the single entry point for SQL, used by the SQL*Plus command
loop, by EXECUTE IMMEDIATE and by embedded DML in PL/SQL.  Changes to the
database happen inside ``Database.changing()`` (lock, reload, save).
Statements the simulator does not model fail with ORA-03001 (unimplemented
feature) or the error Oracle gives for a malformed clause.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import session as sim_session
from ..controlfile import locked
from ..database import Database, parse_location
from ..instance import Instance, OraError, unquote
from . import ddl, query, views
from . import grammar as oracle_sql
from . import values as V
from .context import DbSession
from .query import PositionedError

PARAMS_KNOWN = {
    "archive_lag_target", "audit_file_dest", "audit_trail", "compatible", "control_files", "cpu_count",
    "db_block_size", "db_cache_size", "db_create_file_dest", "db_create_online_log_dest_1", "db_domain",
    "db_files", "db_flashback_retention_target", "db_name", "db_recovery_file_dest",
    "db_recovery_file_dest_size", "db_unique_name", "diagnostic_dest", "dispatchers",
    "enable_pluggable_database", "fal_client", "fal_server", "filesystemio_options", "instance_number",
    "job_queue_processes", "local_listener", "log_archive_config", "log_archive_format",
    "log_archive_max_processes", "log_archive_min_succeed_dest", "memory_target", "open_cursors",
    "pga_aggregate_target", "processes", "remote_login_passwordfile", "sessions", "sga_max_size", "sga_target",
    "shared_pool_size", "standby_file_management", "streams_pool_size", "thread", "undo_management",
    "undo_retention", "undo_tablespace", "common_user_prefix", "control_file_record_keep_time",
    "db_block_checking", "db_block_checksum", "db_lost_write_protect", "service_names", "resource_limit",
    "optimizer_mode", "nls_language", "nls_territory", "nls_date_format",
}
SESSION_PARAMS = {"NLS_DATE_FORMAT", "NLS_TIMESTAMP_FORMAT", "NLS_TIMESTAMP_TZ_FORMAT", "NLS_LANGUAGE",
                  "NLS_TERRITORY", "NLS_NUMERIC_CHARACTERS", "NLS_SORT", "NLS_COMP", "TIME_ZONE",
                  "CURRENT_SCHEMA", "CONTAINER", "OPTIMIZER_MODE", "DDL_LOCK_TIMEOUT", "STATISTICS_LEVEL",
                  "SQL_TRACE", "TRACEFILE_IDENTIFIER", "EVENTS", "NLS_DATE_LANGUAGE", "SKIP_UNUSABLE_INDEXES"}
INVALID_VALUE = "ORA-02097: parameter cannot be modified because specified value is invalid"


@dataclass
class Result:
    message: str | None = None
    result: query.ResultSet | None = None
    rowcount: int = 0
    warning: str | None = None


def norm(sql: str) -> str:
    return " ".join(sql.strip().rstrip(";").split()).upper()


def execute(s: DbSession, sql: str, binder: Any = None) -> Result:
    """Run one SQL statement (no trailing ';')."""
    text = oracle_sql.blank_comments(sql.strip()).strip()
    n = norm(text)
    head = n.split(" ", 1)[0] if n else ""
    if head in ("SELECT", "WITH") or text.startswith("("):
        s.running_instance()              # no parse without an instance (ORA-01034)
        oracle_sql.check_query(text)
        if re.search(r"\.NEXTVAL\b", n):
            db = writable(s)
            with db.changing():
                src = s.source()
                rs = query.run_query(s, text, binder, src)
                db.save_sidecar(src.sidecar)
            return Result(result=rs)
        return Result(result=query.run_query(s, text, binder))
    if head in ("INSERT", "UPDATE", "DELETE", "MERGE"):
        if head != "MERGE":
            s.running_instance()
            oracle_sql.check_dml(text)
        return dml(s, text, head, binder)
    if head in ("COMMIT", "ROLLBACK", "SAVEPOINT"):
        s.running_instance()
        return Result({"COMMIT": "Commit complete.", "ROLLBACK": "Rollback complete.",
                       "SAVEPOINT": "Savepoint created."}[head])
    if n.startswith("ALTER DATABASE"):
        return Result(alter_database(s, text, n))
    if n.startswith("ALTER SYSTEM"):
        return Result(alter_system(s, text, n))
    if n.startswith("ALTER SESSION"):
        return Result(alter_session(s, text, n))
    if head in ("CREATE", "DROP", "GRANT", "REVOKE", "ALTER", "TRUNCATE"):
        return ddl.execute(s, text, n)
    if head in ("LOCK", "COMMENT", "ANALYZE", "AUDIT", "NOAUDIT", "RENAME", "FLASHBACK", "PURGE", "EXPLAIN",
                "CALL", "SET"):
        s.running_instance()
        raise PositionedError("ORA-03001", "unimplemented feature")
    raise PositionedError("ORA-00900", "invalid SQL statement")


def writable(s: DbSession) -> Database:
    inst = s.running_instance()
    if inst.status != "open":
        raise OraError("ORA-01109", "database not open")
    if inst.open_mode != "READ WRITE":
        raise OraError("ORA-16000", "database or pluggable database open for read-only access")
    return Database(inst)


def dml(s: DbSession, sql: str, verb: str, binder: Any) -> Result:
    if verb == "MERGE":
        s.running_instance()
        raise PositionedError("ORA-03001", "unimplemented feature")
    db = writable(s)
    with db.changing():
        src = s.source()
        src.sidecar.setdefault("tables", {})
        count = query.run_dml(s, sql, src, binder)
        db.save_sidecar(src.sidecar)
    noun = "row" if count == 1 else "rows"
    word = {"INSERT": "created", "UPDATE": "updated", "DELETE": "deleted"}[verb]
    return Result(f"{count} {noun} {word}.", rowcount=count)


# -- ALTER DATABASE -------------------------------------------------------------------

def _mounted(s: DbSession) -> Instance:
    inst = s.running_instance()
    if inst.status == "started":
        raise OraError("ORA-01507", "database not mounted")
    return inst


def alter_database(s: DbSession, sql: str, n: str) -> str:
    rest = n[len("ALTER DATABASE"):].strip()
    inst = s.running_instance()
    if rest == "MOUNT" or rest == "MOUNT EXCLUSIVE":
        sim_session.mount(inst)
        return "Database altered."
    m = re.fullmatch(r"OPEN(?: (READ ONLY|READ WRITE))?(?: (RESETLOGS|NORESETLOGS))?", rest)
    if m:
        if m.group(2) == "RESETLOGS":
            raise OraError("ORA-03001", "unimplemented feature")
        db = Database(inst)
        if inst.status == "started":
            raise OraError("ORA-01507", "database not mounted")
        with locked(db.lock_path):
            sim_session.open_database(inst, read_only=m.group(1) == "READ ONLY")
        return "Database altered."
    m = re.fullmatch(r"(ENABLE|DISABLE) BLOCK CHANGE TRACKING(?: USING FILE '(.*)'( REUSE)?)?", rest)
    if m:
        _mounted(s)
        db = Database(inst)
        with db.changing() as cf:
            if m.group(1) == "DISABLE":
                _disable_bct(cf.doc)
            else:
                if cf.doc.get("edition", "EE") != "EE":
                    raise OraError("ORA-00439", "feature not enabled: Block Change Tracking")
                if m.group(2) is None:
                    db.enable_bct()
                else:
                    _enable_bct_file(cf.doc, _original(sql, m.group(2)), bool(m.group(3)))
        return "Database altered."
    m = re.fullmatch(r"RENAME FILE '(.*)' TO '(.*)'", rest)
    if m:
        _rename_file(s, inst, _original(sql, m.group(1)), _original(sql, m.group(2)))
        return "Database altered."
    if rest in ("FLASHBACK ON", "FLASHBACK OFF"):
        _mounted(s)
        db = Database(inst)
        with db.changing() as cf:
            if rest.endswith("ON") and not inst.param("db_recovery_file_dest"):
                raise OraError("ORA-38706", "Cannot turn on FLASHBACK DATABASE logging.",
                               "ORA-38709: Recovery Area is not enabled.")
            cf.doc["flashback"] = rest.endswith("ON")
        return "Database altered."
    if re.fullmatch(r"CLEAR (UNARCHIVED )?LOGFILE (GROUP )?(\d+|'.*')", rest):
        _mounted(s)
        return "Database altered."
    m = re.fullmatch(r"DATAFILE (\d+|'.*') (ONLINE|OFFLINE|OFFLINE DROP)", rest)
    if m:
        _mounted(s)
        db = Database(inst)
        with db.changing() as cf:
            key = m.group(1)
            entry = next((d for d in cf.datafiles() if str(d["file"]) == key
                          or f"'{d['name'].upper()}'" == key), None)
            if entry is None:
                raise OraError("ORA-01516", f'nonexistent log file, data file, or temporary file "{key}"')
            if entry.get("status") == "SYSTEM":
                raise OraError("ORA-01541", "system tablespace cannot be brought offline; shut down if necessary")
            entry["status"] = "ONLINE" if m.group(2) == "ONLINE" else "OFFLINE"
        return "Database altered."
    if rest == "ARCHIVELOG":
        if _mounted(s).status == "open":
            raise OraError("ORA-01126", "database must be mounted in this instance and not open in any instance")
        return "Database altered."
    if rest in ("FORCE LOGGING", "NO FORCE LOGGING"):
        _mounted(s)
        return "Database altered."
    if rest.startswith(("NOARCHIVELOG", "CREATE DATAFILE", "BACKUP CONTROLFILE", "RECOVER", "OPEN RESETLOGS",
                        "ADD LOGFILE", "DROP LOGFILE", "ACTIVATE", "CONVERT", "COMMIT TO SWITCHOVER",
                        "DEFAULT TABLESPACE", "CHARACTER SET")):
        raise OraError("ORA-03001", "unimplemented feature")
    raise PositionedError("ORA-02231", "missing or invalid option to ALTER DATABASE",
                          pos=len("ALTER DATABASE ") if len(sql) > 15 else 0)


def _original(sql: str, upper: str) -> str:
    """The quoted text as written (``norm`` upper-cased it)."""
    for m in re.finditer(r"'((?:[^']|'')*)'", sql):
        if " ".join(m.group(1).split()).upper() == upper:
            return m.group(1).replace("''", "'")
    return upper


def _disable_bct(doc: dict) -> None:
    bct = doc.get("bct") or {}
    if bct.get("status") != "ENABLED":
        raise OraError("ORA-19759", "block change tracking is not enabled")
    # Oracle deletes the tracking file when tracking is disabled
    if bct.get("filename"):
        Path(bct["filename"]).unlink(missing_ok=True)
    doc["bct"] = {"status": "DISABLED", "filename": None}


def _enable_bct_file(doc: dict, name: str, reuse: bool) -> None:
    if (doc.get("bct") or {}).get("status") == "ENABLED":
        raise OraError("ORA-19752", "block change tracking is already enabled")
    path = Path(name)
    if path.exists() and not reuse:
        raise OraError("ORA-19751", "could not create the change tracking file",
                       f"ORA-19750: change tracking file: '{name}'", "ORA-27038: created file already exists",
                       "Additional information: 1")
    if not path.parent.is_dir():
        raise OraError("ORA-19751", "could not create the change tracking file",
                       f"ORA-19750: change tracking file: '{name}'",
                       "ORA-27040: file create error, unable to create file",
                       "Linux-x86_64 Error: 2: No such file or directory", "Additional information: 1")
    path.write_bytes(b"\0" * 11 * 1024)
    doc["bct"] = {"status": "ENABLED", "filename": str(path)}


def _rename_file(s: DbSession, inst: Instance, old: str, new: str) -> None:
    _mounted(s)
    db = Database(inst)
    with db.changing() as cf:
        bct = cf.doc.get("bct") or {}
        if bct.get("filename") == old:
            # only the controlfile entry changes; Oracle does not move the tracking file
            bct["filename"] = new
            return
        entry = next((d for d in cf.datafiles() if d["name"] == old), None)
        if entry is None:
            raise OraError("ORA-01511", "error in renaming log/data files",
                           f'ORA-01516: nonexistent log file, data file, or temporary file "{old}"')
        if inst.status == "open" and entry.get("status") not in ("OFFLINE", "RECOVER"):
            raise OraError("ORA-01511", "error in renaming log/data files",
                           f"ORA-01121: cannot rename database file {entry['file']} - file is in use or recovery",
                           f"ORA-01110: data file {entry['file']}: '{old}'")
        if not Path(new).exists():
            raise OraError("ORA-01511", "error in renaming log/data files",
                           f"ORA-01141: error renaming data file {entry['file']} - new file '{new}' not found",
                           f"ORA-01110: data file {entry['file']}: '{old}'",
                           "ORA-27037: unable to obtain file status",
                           "Linux-x86_64 Error: 2: No such file or directory", "Additional information: 7")
        entry["name"] = new
        if "o1_mf_" in Path(old).name and old != new:
            # renaming away from an Oracle-managed file deletes it (the toolset works around this)
            Path(old).unlink(missing_ok=True)


# -- ALTER SYSTEM ---------------------------------------------------------------------

def alter_system(s: DbSession, sql: str, n: str) -> str:
    rest = n[len("ALTER SYSTEM"):].strip()
    inst = s.running_instance()
    if rest in ("ARCHIVE LOG CURRENT", "SWITCH LOGFILE", "ARCHIVE LOG CURRENT NOSWITCH"):
        if inst.status != "open":
            raise OraError("ORA-01109", "database not open")
        db = Database(inst)
        with db.changing():
            if rest == "SWITCH LOGFILE":
                db.switch_logfile()
            else:
                db.archive_log_current()
        return "System altered."
    if rest in ("CHECKPOINT", "CHECKPOINT GLOBAL", "CHECKPOINT LOCAL"):
        _mounted(s)
        db = Database(inst)
        with db.changing() as cf:
            db.checkpoint(cf.doc["current_scn"], s.now())
        return "System altered."
    if rest in ("ARCHIVE LOG ALL", "FLUSH BUFFER_CACHE", "FLUSH SHARED_POOL", "REGISTER"):
        return "System altered."
    if rest.startswith("SET "):
        _set_parameter(inst, sql[sql.upper().index(" SET ") + 5:].strip().rstrip(";"))
        return "System altered."
    if rest.startswith("RESET "):
        m = re.match(r"\s*(\w+)", sql[sql.upper().index(" RESET ") + 7:])
        name = m.group(1).lower() if m else ""
        sp = inst.read_spfile()
        if sp is None or name not in sp:
            raise OraError("ORA-32010", "cannot find entry to delete in SPFILE")
        del sp[name]
        inst.write_spfile(sp)
        return "System altered."
    if rest.startswith(("KILL SESSION", "SET EVENTS", "DUMP", "QUIESCE", "SUSPEND", "ENABLE RESTRICTED")):
        raise OraError("ORA-03001", "unimplemented feature")
    raise PositionedError("ORA-02065", "illegal option for ALTER SYSTEM", pos=len("ALTER SYSTEM "))


_OPTION = re.compile(r"\s+(SCOPE|SID|COMMENT|CONTAINER)\s*=\s*('(?:[^']|'')*'|\w+)|\s+DEFERRED\b", re.I)


def _set_parameter(inst: Instance, text: str) -> None:
    m = re.match(r"(\w+)\s*=\s*(.*)$", text, re.S)
    if not m:
        raise OraError("ORA-02065", "illegal option for ALTER SYSTEM")
    name, tail = m.group(1).lower(), m.group(2)
    options: dict[str, str] = {}
    # options follow the value; peel them off the end
    while True:
        om = None
        for cand in _OPTION.finditer(tail):
            om = cand
        if om is None or om.end() != len(tail.rstrip()):
            break
        if om.group(1):
            options[om.group(1).upper()] = om.group(2).strip("'").upper()
        tail = tail[:om.start()]
    raw = tail.strip()
    value: str | None = unquote(raw) if raw else None
    if value == "":
        value = None
    scope = options.get("SCOPE", "BOTH" if inst.doc.get("spfile") else "MEMORY").lower()
    if scope not in ("both", "memory", "spfile"):
        raise OraError("ORA-02065", "illegal option for ALTER SYSTEM")
    known = name in inst.params or name in PARAMS_KNOWN or re.fullmatch(
        r"log_archive_dest(_state)?_([1-9]|[12]\d|3[01])", name)
    if not known:
        raise OraError("ORA-02065", "illegal option for ALTER SYSTEM")
    if name in views.STATIC_PARAMS and scope != "spfile":
        raise OraError("ORA-02095", "specified initialization parameter cannot be modified")
    _validate(inst, name, value)
    if scope == "both" and inst.doc.get("spfile") is None:
        raise OraError("ORA-32001", "write to SPFILE requested but no SPFILE is in use")
    inst.set_parameter(name, value, scope)


def _validate(inst: Instance, name: str, value: str | None) -> None:
    m = re.fullmatch(r"log_archive_dest_(\d+)", name)
    if m and value:
        upper = value.upper()
        if not re.match(r"\s*(LOCATION|SERVICE)\s*=", upper):
            raise OraError("ORA-02097", INVALID_VALUE.split(": ", 1)[1],
                           f"ORA-16024: parameter LOG_ARCHIVE_DEST_{m.group(1)} cannot be parsed")
        loc = parse_location(value)
        if loc and loc.upper() != "USE_DB_RECOVERY_FILE_DEST" and not Path(loc).is_dir():
            raise OraError("ORA-02097", INVALID_VALUE.split(": ", 1)[1],
                           f"ORA-16032: parameter LOG_ARCHIVE_DEST_{m.group(1)} destination string cannot be "
                           "translated", "ORA-07286: sksagdi: cannot obtain device information.",
                           "Linux-x86_64 Error: 2: No such file or directory")
        if loc and loc.upper() == "USE_DB_RECOVERY_FILE_DEST" and not inst.param("db_recovery_file_dest"):
            raise OraError("ORA-02097", INVALID_VALUE.split(": ", 1)[1],
                           "ORA-16019: cannot use LOG_ARCHIVE_DEST_1 with LOG_ARCHIVE_DEST or "
                           "LOG_ARCHIVE_DUPLEX_DEST")
    if name.startswith("log_archive_dest_state_") and value and value.lower() not in (
            "enable", "defer", "alternate", "reset"):
        raise OraError("ORA-02097", INVALID_VALUE.split(": ", 1)[1],
                       f"ORA-00096: invalid value {value} for parameter {name}, must be from among alternate, "
                       "reset, defer, enable")
    if name == "archive_lag_target" and value is not None:
        try:
            lag = int(value)
        except ValueError:
            lag = -1
        if lag != 0 and not 60 <= lag <= 7200:
            raise OraError("ORA-02097", INVALID_VALUE.split(": ", 1)[1],
                           f"ORA-00068: invalid value {value} for parameter archive_lag_target, must be between "
                           "60 and 7200")


# -- ALTER SESSION --------------------------------------------------------------------

def alter_session(s: DbSession, sql: str, n: str) -> str:
    s.running_instance()
    m = re.match(r"\s*ALTER\s+SESSION\s+SET\s+(\w+)\s*=\s*(.+?)\s*;?\s*$", sql, re.I | re.S)
    if not m:
        if re.match(r"ALTER SESSION (ENABLE|DISABLE|FORCE) ", n):
            return "Session altered."
        raise PositionedError("ORA-02248", "invalid option for ALTER SESSION", pos=len("ALTER SESSION "))
    name, value = m.group(1).upper(), m.group(2).strip()
    if name not in SESSION_PARAMS:
        raise PositionedError("ORA-02248", "invalid option for ALTER SESSION", pos=sql.upper().find(name))
    text = value[1:-1].replace("''", "'") if value.startswith("'") and value.endswith("'") else value
    if name in ("NLS_DATE_FORMAT", "NLS_TIMESTAMP_FORMAT", "NLS_TIMESTAMP_TZ_FORMAT"):
        V.format_date(s.sysdate(), text)  # ORA-01821 for a bad mask
        s.nls["NLS_TIMESTAMP_FORMAT" if name != "NLS_DATE_FORMAT" else name] = text
    elif name == "CURRENT_SCHEMA":
        users = {u["username"] for u in s.database().sidecar().get("users", [])}
        if text.upper() not in users:
            raise OraError("ORA-01435", "user does not exist")
    elif name == "CONTAINER":
        if text.upper() != "CDB$ROOT":
            raise OraError("ORA-65011", f"Pluggable database {text.upper()} does not exist.")
    return "Session altered."

