"""The dictionary and dynamic performance views, built from the simulated state.

Each view has Oracle's column names and types (VARCHAR2 widths matter: SQL*Plus
sizes columns by them) and the instance state it needs: fixed views like
V$INSTANCE work in NOMOUNT, controlfile views need MOUNT, dictionary views,
SMON_SCN_TIME and application tables need the database OPEN.  Rows are built
only for the views a query names.  ``views_dba`` adds the DBA_ views.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from ..database import Database, parse_location
from ..instance import Instance, OraError, default_parameters
from . import values as V

VERSION = "12.1.0.2.0"
Row = tuple


@dataclass
class View:
    name: str
    columns: list[tuple[str, str]]  # (NAME, "VARCHAR2(n)" | "NUMBER" | "DATE" | "TIMESTAMP")
    needs: str  # "started" | "mounted" | "open"
    build: Callable[[Source], list[Row]]


class Source:
    """What views read: the instance, its database, the sidecar and the session user."""

    def __init__(self, inst: Instance, user: str, sysdba: bool):
        self.inst = inst
        self.user = user.upper()
        self.sysdba = sysdba

    @cached_property
    def db(self) -> Database:
        return Database(self.inst)

    @cached_property
    def sidecar(self) -> dict:
        return self.db.sidecar()

    @property
    def doc(self) -> dict:
        return self.db.cf.doc

    def edition(self) -> str:
        try:
            return self.doc.get("edition", "EE")
        except OraError:
            return "EE"


def require(inst: Instance, needs: str) -> None:
    """Oracle's errors for a view asked for in the wrong instance state."""
    status = inst.status
    if status == "idle":
        raise OraError("ORA-01034", "ORACLE not available", "ORA-27101: shared memory realm does not exist")
    if needs == "mounted" and status == "started":
        raise OraError("ORA-01507", "database not mounted")
    if needs == "open" and status != "open":
        raise OraError("ORA-01219", "database or pluggable database not open: queries allowed on fixed "
                                    "tables or views only")


REGISTRY: dict[str, View] = {}


def view(name: str, needs: str, columns: str) -> Callable[[Callable[[Source], list[Row]]], Callable]:
    """Register a view; ``columns`` is ``"NAME TYPE, NAME TYPE, ..."``."""
    cols = []
    for spec in columns.split(","):
        col, typ = spec.split()
        cols.append((col, typ))

    def deco(fn: Callable[[Source], list[Row]]) -> Callable[[Source], list[Row]]:
        REGISTRY[name] = View(name, cols, needs, fn)
        return fn
    return deco


def date(ts: Any) -> str | None:
    return V.from_epoch(ts) if isinstance(ts, (int, float)) else V.from_db_text(ts)


# -- instance and parameters ---------------------------------------------------------

@view("DUAL", "started", "DUMMY VARCHAR2(1)")
def _dual(src: Source) -> list[Row]:
    return [("X",)]


@view("V$INSTANCE", "started",
      "INSTANCE_NUMBER NUMBER, INSTANCE_NAME VARCHAR2(16), HOST_NAME VARCHAR2(64), VERSION VARCHAR2(17), "
      "STARTUP_TIME DATE, STATUS VARCHAR2(12), PARALLEL VARCHAR2(3), THREAD# NUMBER, ARCHIVER VARCHAR2(7), "
      "LOGINS VARCHAR2(10), SHUTDOWN_PENDING VARCHAR2(3), DATABASE_STATUS VARCHAR2(17), "
      "INSTANCE_ROLE VARCHAR2(18), ACTIVE_STATE VARCHAR2(9), BLOCKED VARCHAR2(3), CON_ID NUMBER")
def _instance(src: Source) -> list[Row]:
    inst = src.inst
    status = {"started": "STARTED", "mounted": "MOUNTED", "open": "OPEN"}[inst.status]
    number = int(inst.param("instance_number") or 0) or 1
    return [(number, inst.sid, inst.doc.get("host", "localhost"), VERSION, date(inst.doc.get("started")),
             status, "NO", int(inst.param("thread") or 0) or 1, "STARTED" if status != "STARTED" else "STOPPED",
             "ALLOWED", "NO", "ACTIVE", "PRIMARY_INSTANCE", "NORMAL", "NO", 0)]


STATIC_PARAMS = {"db_name", "db_block_size", "control_files", "compatible", "db_files", "processes",
                 "enable_pluggable_database", "db_unique_name", "instance_number", "thread", "sga_max_size",
                 "remote_login_passwordfile", "undo_management", "filesystemio_options", "log_archive_format",
                 "common_user_prefix", "diagnostic_dest", "db_create_online_log_dest_1"}
PARAM_TYPES = {"db_block_size": 3, "db_files": 3, "processes": 3, "instance_number": 3, "thread": 3,
               "archive_lag_target": 3, "db_recovery_file_dest_size": 6, "sga_target": 6,
               "pga_aggregate_target": 6, "sga_max_size": 6, "enable_pluggable_database": 1}


# V$PARAMETER lists parameters in Oracle's internal order (NUM), not by name
PARAM_ORDER = ["processes", "sessions", "sga_max_size", "sga_target", "control_files", "db_block_size",
               "db_cache_size", "compatible", "db_files", "db_create_file_dest", "db_create_online_log_dest_1",
               "db_recovery_file_dest", "db_recovery_file_dest_size", "thread", "instance_number",
               "log_archive_dest", *[f"log_archive_dest_{n}" for n in range(1, 32)],
               *[f"log_archive_dest_state_{n}" for n in range(1, 32)], "log_archive_format", "archive_lag_target",
               "log_archive_max_processes", "log_archive_min_succeed_dest", "filesystemio_options",
               "undo_management", "undo_tablespace", "undo_retention", "remote_login_passwordfile",
               "job_queue_processes", "db_domain", "db_name", "db_unique_name", "open_cursors",
               "pga_aggregate_target", "diagnostic_dest", "enable_pluggable_database", "common_user_prefix"]


def _param_key(name: str) -> tuple[int, str]:
    return (PARAM_ORDER.index(name), "") if name in PARAM_ORDER else (len(PARAM_ORDER), name)


def _param_rows(src: Source) -> list[Row]:
    defaults = default_parameters()
    rows = []
    for num, (name, value) in enumerate(sorted(src.inst.params.items(), key=lambda kv: _param_key(kv[0])),
                                        start=1):
        value = None if value is None or value == "" else str(value)
        isdefault = "TRUE" if name in defaults and defaults[name] == value else "FALSE"
        rows.append((num, name, PARAM_TYPES.get(name, 2), value, value, isdefault, "FALSE",
                     "FALSE" if name in STATIC_PARAMS else "IMMEDIATE", "FALSE", None, 0))
    return rows


PARAM_COLUMNS = ("NUM NUMBER, NAME VARCHAR2(80), TYPE NUMBER, VALUE VARCHAR2(4000), DISPLAY_VALUE VARCHAR2(4000), "
                 "ISDEFAULT VARCHAR2(9), ISSES_MODIFIABLE VARCHAR2(5), ISSYS_MODIFIABLE VARCHAR2(9), "
                 "ISMODIFIED VARCHAR2(10), DESCRIPTION VARCHAR2(255), CON_ID NUMBER")
view("V$PARAMETER", "started", PARAM_COLUMNS)(_param_rows)
view("V$SYSTEM_PARAMETER", "started", PARAM_COLUMNS)(_param_rows)


@view("V$SPPARAMETER", "started", "SID VARCHAR2(80), NAME VARCHAR2(80), VALUE VARCHAR2(255), "
      "ISSPECIFIED VARCHAR2(6), ORDINAL NUMBER, CON_ID NUMBER")
def _spparameter(src: Source) -> list[Row]:
    sp = src.inst.read_spfile() if src.inst.doc.get("spfile") else None
    names = sorted(set(src.inst.params) | set(sp or {}))
    return [("*", n, None if sp is None or sp.get(n) is None else str(sp[n]),
             "TRUE" if sp and sp.get(n) is not None else "FALSE", 0, 0) for n in names]


@view("V$VERSION", "started", "BANNER VARCHAR2(80), CON_ID NUMBER")
def _version(src: Source) -> list[Row]:
    edition = "Enterprise Edition" if src.edition() == "EE" else "Standard Edition"
    return [(f"Oracle Database 12c {edition} Release {VERSION} - 64bit Production", 0),
            (f"PL/SQL Release {VERSION} - Production", 0),
            (f"CORE\t{VERSION}\tProduction", 0),
            (f"TNS for Linux: Version {VERSION} - Production", 0),
            (f"NLSRTL Version {VERSION} - Production", 0)]


# -- archive destinations -----------------------------------------------------------

def _dest_rows(src: Source) -> list[tuple[int, str | None, str, str, str | None]]:
    """(dest_id, value, status, binding, destination) for destinations 1..31."""
    inst = src.inst
    out = []
    any_set = any(inst.param(f"log_archive_dest_{n}") for n in range(1, 32))
    for n in range(1, 32):
        value = inst.param(f"log_archive_dest_{n}")
        state = str(inst.param(f"log_archive_dest_state_{n}") or "enable").lower()
        if not value:
            if n == 10 and not any_set and inst.param("db_recovery_file_dest"):
                # Oracle archives to the recovery area through dest 10 when nothing else is set
                out.append((n, "USE_DB_RECOVERY_FILE_DEST", "VALID", "OPTIONAL", "USE_DB_RECOVERY_FILE_DEST"))
            else:
                out.append((n, None, "INACTIVE", "OPTIONAL", None))
            continue
        loc = parse_location(value)
        destination = loc
        if loc is None:
            for attr in value.replace("'", " ").replace('"', " ").split():
                if attr.upper().startswith("SERVICE="):
                    destination = attr.split("=", 1)[1]
        status = {"defer": "DEFERRED", "alternate": "ALTERNATE", "reset": "DISABLED"}.get(state, "VALID")
        if status == "VALID" and loc and loc.upper() != "USE_DB_RECOVERY_FILE_DEST" and not Path(loc).is_dir():
            status = "ERROR"
        binding = "MANDATORY" if "MANDATORY" in value.upper().split() else "OPTIONAL"
        out.append((n, value, status, binding, destination))
    return out


@view("V$ARCHIVE_DEST", "started",
      "DEST_ID NUMBER, DEST_NAME VARCHAR2(256), STATUS VARCHAR2(9), BINDING VARCHAR2(9), "
      "NAME_SPACE VARCHAR2(7), TARGET VARCHAR2(16), ARCHIVER VARCHAR2(10), DESTINATION VARCHAR2(256), "
      "VALID_NOW VARCHAR2(16), VALID_TYPE VARCHAR2(15), VALID_ROLE VARCHAR2(12), ERROR VARCHAR2(256), "
      "CON_ID NUMBER")
def _archive_dest(src: Source) -> list[Row]:
    rows = []
    for n, value, status, binding, destination in _dest_rows(src):
        vtype = "ONLINE_LOGFILE" if value and "ONLINE_LOGFILE" in value.upper() else "ALL_LOGFILES"
        vrole = "PRIMARY_ROLE" if value and "PRIMARY_ROLE" in value.upper() else "ALL_ROLES"
        error = "ORA-19504: failed to create file" if status == "ERROR" else None
        rows.append((n, f"LOG_ARCHIVE_DEST_{n}", status, binding, "SYSTEM", "PRIMARY", "ARCH", destination,
                     "YES" if status == "VALID" else "UNKNOWN", vtype, vrole, error, 0))
    return rows


@view("V$ARCHIVE_DEST_STATUS", "started",
      "DEST_ID NUMBER, DEST_NAME VARCHAR2(256), STATUS VARCHAR2(9), TYPE VARCHAR2(14), "
      "DATABASE_MODE VARCHAR2(15), RECOVERY_MODE VARCHAR2(23), DESTINATION VARCHAR2(256), "
      "ERROR VARCHAR2(256), CON_ID NUMBER")
def _archive_dest_status(src: Source) -> list[Row]:
    rows = []
    for n, value, status, _binding, destination in _dest_rows(src):
        kind = "LOCAL" if value is None or parse_location(value) else "PHYSICAL"
        mode = "OPEN" if src.inst.status == "open" else src.inst.status.upper()
        rows.append((n, f"LOG_ARCHIVE_DEST_{n}", status, kind, mode, "IDLE", destination, None, 0))
    return rows


# -- controlfile views ------------------------------------------------------------

@view("V$DATABASE", "mounted",
      "DBID NUMBER, NAME VARCHAR2(9), CREATED DATE, RESETLOGS_CHANGE# NUMBER, RESETLOGS_TIME DATE, "
      "LOG_MODE VARCHAR2(12), CHECKPOINT_CHANGE# NUMBER, CONTROLFILE_TYPE VARCHAR2(7), "
      "CONTROLFILE_CREATED DATE, OPEN_MODE VARCHAR2(20), PROTECTION_MODE VARCHAR2(20), "
      "DATABASE_ROLE VARCHAR2(16), FORCE_LOGGING VARCHAR2(39), PLATFORM_NAME VARCHAR2(101), "
      "CURRENT_SCN NUMBER, FLASHBACK_ON VARCHAR2(18), DB_UNIQUE_NAME VARCHAR2(30), CDB VARCHAR2(3), "
      "CON_ID NUMBER")
def _database(src: Source) -> list[Row]:
    doc, inst = src.doc, src.inst
    is_open = inst.status == "open"
    checkpoint = max((d.get("checkpoint_scn", 0) for d in doc["datafiles"]), default=0)
    standby = doc.get("database_role", "PRIMARY") != "PRIMARY"
    # an open standby applying redo (Active Data Guard) says so; a standby's SCN is the applied one
    open_mode = (inst.open_mode + (" WITH APPLY" if standby else "")) if is_open else "MOUNTED"
    return [(doc["dbid"], doc["db_name"].upper(), date(doc["created"]), doc.get("resetlogs_scn", 1),
             date(doc["created"]), "ARCHIVELOG", checkpoint,
             "BACKUP" if doc.get("restored_from_backup") else "STANDBY" if standby else "CURRENT",
             date(doc["created"]), open_mode, "MAXIMUM PERFORMANCE", doc.get("database_role", "PRIMARY"), "NO",
             "Linux x86 64-bit", doc["current_scn"] if is_open or standby else 0,
             "YES" if doc.get("flashback") else "NO",
             str(inst.param("db_unique_name") or doc["db_unique_name"]).upper(), "YES" if doc.get("cdb") else "NO",
             0)]


def _ts_number(doc: dict, ts: str) -> int:
    order = list(doc.get("tablespaces", []))
    return order.index(ts) if ts in order else 0


@view("V$TABLESPACE", "mounted", "TS# NUMBER, NAME VARCHAR2(30), INCLUDED_IN_DATABASE_BACKUP VARCHAR2(3), "
      "BIGFILE VARCHAR2(3), FLASHBACK_ON VARCHAR2(3), ENCRYPT_IN_BACKUP VARCHAR2(3), CON_ID NUMBER")
def _tablespace(src: Source) -> list[Row]:
    return [(i, ts, "YES", "NO", "YES", None, 0) for i, ts in enumerate(src.doc.get("tablespaces", []))]


@view("V$DATAFILE", "mounted",
      "FILE# NUMBER, CREATION_CHANGE# NUMBER, CREATION_TIME DATE, TS# NUMBER, RFILE# NUMBER, "
      "STATUS VARCHAR2(7), ENABLED VARCHAR2(10), CHECKPOINT_CHANGE# NUMBER, CHECKPOINT_TIME DATE, "
      "BYTES NUMBER, BLOCKS NUMBER, CREATE_BYTES NUMBER, BLOCK_SIZE NUMBER, NAME VARCHAR2(513), CON_ID NUMBER")
def _datafile(src: Source) -> list[Row]:
    doc = src.doc
    bs = doc["block_size"]
    return [(d["file"], d["creation_scn"], date(d.get("creation_time")), _ts_number(doc, d["ts"]), d["file"],
             d.get("status", "ONLINE"), "READ WRITE", d.get("checkpoint_scn"), date(d.get("checkpoint_time")),
             d["blocks"] * bs, d["blocks"], d["blocks"] * bs, bs, d["name"], 0)
            for d in src.db.cf.datafiles()]


@view("V$DATAFILE_COPY", "mounted",
      "RECID NUMBER, STAMP NUMBER, NAME VARCHAR2(513), TAG VARCHAR2(32), FILE# NUMBER, RFILE# NUMBER, "
      "CREATION_CHANGE# NUMBER, CREATION_TIME DATE, RESETLOGS_CHANGE# NUMBER, CHECKPOINT_CHANGE# NUMBER, "
      "CHECKPOINT_TIME DATE, ABSOLUTE_FUZZY_CHANGE# NUMBER, BLOCKS NUMBER, BLOCK_SIZE NUMBER, "
      "STATUS VARCHAR2(1), DELETED VARCHAR2(3), COMPLETION_TIME DATE, IS_RECOVERY_DEST_FILE VARCHAR2(3), "
      "INCREMENTAL_LEVEL NUMBER, CON_ID NUMBER")
def _datafile_copy(src: Source) -> list[Row]:
    rows = []
    for c in src.doc.get("datafile_copies", []):
        def g(*keys: str, default: Any = None, c: dict = c) -> Any:
            return next((c[k] for k in keys if k in c), default)
        status = g("status", default="A")
        rows.append((g("recid"), g("stamp"), g("name"), g("tag"), g("file", "file#"), g("file", "file#"),
                     g("creation_scn", "creation_change"), date(g("creation_time")),
                     g("resetlogs_scn", "resetlogs_change", default=src.doc.get("resetlogs_scn", 1)),
                     g("checkpoint_scn", "checkpoint_change"), date(g("checkpoint_time")), 0, g("blocks"),
                     g("block_size", default=src.doc["block_size"]), status,
                     g("deleted", default="YES" if status == "D" else "NO"),
                     date(g("completion_time", "checkpoint_time")), "NO", g("incremental_level", "level",
                                                                         default=0), 0))
    return rows


@view("V$ARCHIVED_LOG", "mounted",
      "RECID NUMBER, STAMP NUMBER, NAME VARCHAR2(513), DEST_ID NUMBER, THREAD# NUMBER, SEQUENCE# NUMBER, "
      "RESETLOGS_CHANGE# NUMBER, RESETLOGS_ID NUMBER, FIRST_CHANGE# NUMBER, FIRST_TIME DATE, "
      "NEXT_CHANGE# NUMBER, NEXT_TIME DATE, BLOCKS NUMBER, BLOCK_SIZE NUMBER, CREATOR VARCHAR2(7), "
      "REGISTRAR VARCHAR2(7), STANDBY_DEST VARCHAR2(3), ARCHIVED VARCHAR2(3), APPLIED VARCHAR2(9), "
      "DELETED VARCHAR2(3), STATUS VARCHAR2(1), COMPLETION_TIME DATE, BACKUP_COUNT NUMBER, "
      "IS_RECOVERY_DEST_FILE VARCHAR2(3), CON_ID NUMBER")
def _archived_log(src: Source) -> list[Row]:
    doc = src.doc
    fra = str(src.inst.param("db_recovery_file_dest") or "\0")
    rows = []
    for a in doc.get("archived_logs", []):
        name = a.get("name")
        rows.append((a.get("recid"), a.get("stamp"), name, a.get("dest_id"), a.get("thread"), a.get("sequence"),
                     doc.get("resetlogs_scn", 1), a.get("resetlogs_id"), a.get("first_change"),
                     date(a.get("first_time")), a.get("next_change"), date(a.get("next_time")), a.get("blocks"),
                     512, a.get("creator", "ARCH"), a.get("registrar", a.get("creator", "ARCH")), "NO",
                     a.get("archived", "YES"), a.get("applied", "NO"), a.get("deleted", "NO"),
                     a.get("status", "A"), date(a.get("next_time")), a.get("backup_count", 0),
                     "YES" if name and name.startswith(fra) else "NO", 0))
    return rows


@view("V$LOG", "mounted",
      "GROUP# NUMBER, THREAD# NUMBER, SEQUENCE# NUMBER, BYTES NUMBER, BLOCKSIZE NUMBER, MEMBERS NUMBER, "
      "ARCHIVED VARCHAR2(3), STATUS VARCHAR2(16), FIRST_CHANGE# NUMBER, FIRST_TIME DATE, "
      "NEXT_CHANGE# NUMBER, NEXT_TIME DATE, CON_ID NUMBER")
def _log(src: Source) -> list[Row]:
    """Three online log groups per redo thread; the current sequence is in group ((seq-1) mod 3)+1."""
    doc = src.doc
    by_key = {(a["thread"], a["sequence"]): a for a in doc.get("archived_logs", [])}
    rows = []
    for th in src.db.cf.threads():
        seq, thread = th["sequence"], th["thread"]
        for group in (1, 2, 3):
            s = seq - (seq - group) % 3
            number = (thread - 1) * 3 + group
            if s == seq:
                rows.append((number, thread, s, 52428800, 512, 1, "NO", "CURRENT", th["log_first_change"],
                             date(th["log_first_time"]), None, None, 0))
            elif s >= 1 and (thread, s) in by_key:
                a = by_key[(thread, s)]
                rows.append((number, thread, s, 52428800, 512, 1, "YES", "INACTIVE", a["first_change"],
                             date(a["first_time"]), a["next_change"], date(a["next_time"]), 0))
            else:
                rows.append((number, thread, 0, 52428800, 512, 1, "YES", "UNUSED", 0, None, None, None, 0))
    return rows


@view("V$THREAD", "mounted",
      "THREAD# NUMBER, STATUS VARCHAR2(6), ENABLED VARCHAR2(8), GROUPS NUMBER, INSTANCE VARCHAR2(80), "
      "OPEN_TIME DATE, CURRENT_GROUP# NUMBER, SEQUENCE# NUMBER, CHECKPOINT_CHANGE# NUMBER, CON_ID NUMBER")
def _thread(src: Source) -> list[Row]:
    rows = []
    for th in src.db.cf.threads():
        current = (th["thread"] - 1) * 3 + (th["sequence"] - 1) % 3 + 1
        rows.append((th["thread"], th.get("status", "OPEN"), th.get("enabled", "PUBLIC"), 3,
                     th.get("instance") or src.inst.sid, date(th["log_first_time"]), current, th["sequence"],
                     th["log_first_change"], 0))
    return rows


@view("V$LOGFILE", "mounted", "GROUP# NUMBER, STATUS VARCHAR2(7), TYPE VARCHAR2(7), MEMBER VARCHAR2(513), "
      "IS_RECOVERY_DEST_FILE VARCHAR2(3), CON_ID NUMBER")
def _logfile(src: Source) -> list[Row]:
    base = src.db.online_log_path
    return [(g, None, "ONLINE", str(base.with_name(f"redo0{g}.log")), "NO", 0) for g in (1, 2, 3)]


@view("V$CONTROLFILE", "mounted", "STATUS VARCHAR2(7), NAME VARCHAR2(513), IS_RECOVERY_DEST_FILE VARCHAR2(3), "
      "BLOCK_SIZE NUMBER, FILE_SIZE_BLKS NUMBER, CON_ID NUMBER")
def _controlfile(src: Source) -> list[Row]:
    return [(None, str(p), "NO", 16384, 646, 0) for p in src.inst.control_files()]


@view("V$BLOCK_CHANGE_TRACKING", "mounted",
      "STATUS VARCHAR2(10), FILENAME VARCHAR2(513), BYTES NUMBER, CON_ID NUMBER")
def _bct(src: Source) -> list[Row]:
    bct = src.doc.get("bct") or {"status": "DISABLED", "filename": None}
    if bct.get("status") != "ENABLED":
        # the 12.1 capture shows CON_ID empty while tracking is disabled
        return [("DISABLED", None, None, None)]
    path = bct.get("filename")
    size = os.path.getsize(path) if path and os.path.exists(path) else None
    return [("ENABLED", path, size, 0)]


@view("V$DATABASE_BLOCK_CORRUPTION", "mounted",
      "FILE# NUMBER, BLOCK# NUMBER, BLOCKS NUMBER, CORRUPTION_CHANGE# NUMBER, CORRUPTION_TYPE VARCHAR2(9), "
      "CON_ID NUMBER")
def _corruption(src: Source) -> list[Row]:
    return [(c.get("file"), c.get("block"), c.get("blocks", 1), c.get("corruption_change", 0),
             c.get("corruption_type", "CORRUPT"), 0) for c in src.doc.get("block_corruption", [])]


@view("V$RECOVERY_FILE_DEST", "started", "NAME VARCHAR2(513), SPACE_LIMIT NUMBER, SPACE_USED NUMBER, "
      "SPACE_RECLAIMABLE NUMBER, NUMBER_OF_FILES NUMBER, CON_ID NUMBER")
def _recovery_dest(src: Source) -> list[Row]:
    dest = src.inst.param("db_recovery_file_dest")
    if not dest:
        return []
    files = [p for p in Path(dest).rglob("*") if p.is_file()] if Path(dest).is_dir() else []
    return [(dest, int(src.inst.param("db_recovery_file_dest_size") or 0), sum(p.stat().st_size for p in files),
             0, len(files), 0)]


@view("V$PDBS", "mounted", "CON_ID NUMBER, DBID NUMBER, NAME VARCHAR2(128), OPEN_MODE VARCHAR2(10), "
      "RESTRICTED VARCHAR2(3)")
def _pdbs(src: Source) -> list[Row]:
    if not src.doc.get("cdb"):
        return []
    return [(2, src.doc["dbid"] + 2, "PDB$SEED", "READ ONLY" if src.inst.status == "open" else "MOUNTED", "NO")]


# -- name resolution -------------------------------------------------------------------

def _load_dba() -> None:
    from . import views_dba  # noqa: F401  (registers the DBA_ views)


def lookup(schema: str | None, name: str, src: Source) -> tuple[str, View | None]:
    """The registry key (or OWNER.TABLE of a table) a FROM item names; View None for tables."""
    if not REGISTRY.get("DBA_USERS"):
        _load_dba()
    name = name.upper()
    if name.startswith("V_$"):
        name = "V$" + name[3:]
    if name.startswith("GV$"):
        name = name[1:]
    if (schema is None or schema.upper() in ("SYS", "PUBLIC")) and name in REGISTRY:
        return name, REGISTRY[name]
    owner = (schema or src.user).upper()
    return f"{owner}.{name}", None


def table_exists(key: str, src: Source) -> bool:
    """An engine table (rows in datafile blocks) or a sidecar table created through SQL."""
    try:
        if key in src.db.dictionary()["tables"]:
            return True
    except OraError:
        pass
    return key in src.sidecar.get("tables", {})


def table_columns(key: str, src: Source) -> list[tuple[str, str]]:
    if key in src.sidecar.get("tables", {}):
        return [(c[0], c[1]) for c in src.sidecar["tables"][key]["cols"]]
    return [(c[0], c[1]) for c in src.db.table_columns(key)]


def table_rows(key: str, src: Source) -> list[Row]:
    cols = table_columns(key, src)
    if key in src.sidecar.get("tables", {}):
        raw = src.sidecar["tables"][key]["rows"]
    else:
        raw = src.db.table_rows(key)
    return [tuple(V.from_db_text(v) if t.upper().startswith("DATE") else v for v, (_c, t) in zip(r, cols))
            for r in raw]

