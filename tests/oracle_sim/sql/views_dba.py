"""DBA_ views (need the database open), the scheduler's views and the RMAN catalog's RC_DATABASE.

Users, grants, scheduler objects and stored procedures live in the database's
sidecar file (``Database.sidecar()``); see ``scheduler`` and ``statements``
for what writes them.  Credentials never show their password: the sidecar
keeps only a salted hash.
"""
from __future__ import annotations

from typing import Any

from ..instance import OraError
from . import values as V
from .views import Row, Source, date, view


def ts(epoch: Any) -> str | None:
    return V.from_epoch(epoch, timestamp=True) if isinstance(epoch, (int, float)) else None


def tf(flag: Any) -> str:
    return "TRUE" if flag else "FALSE"


def duration(seconds: Any) -> str | None:
    """INTERVAL DAY(9) TO SECOND(6) as SQL*Plus prints it."""
    if seconds is None:
        return None
    s = float(seconds)
    days, rest = divmod(s, 86400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    return f"+{int(days):09d} {int(h):02d}:{int(m):02d}:{sec:09.6f}"


@view("DBA_DATA_FILES", "open",
      "FILE_NAME VARCHAR2(513), FILE_ID NUMBER, TABLESPACE_NAME VARCHAR2(30), BYTES NUMBER, BLOCKS NUMBER, "
      "STATUS VARCHAR2(9), RELATIVE_FNO NUMBER, AUTOEXTENSIBLE VARCHAR2(3), MAXBYTES NUMBER, MAXBLOCKS NUMBER, "
      "INCREMENT_BY NUMBER, USER_BYTES NUMBER, USER_BLOCKS NUMBER, ONLINE_STATUS VARCHAR2(7)")
def _data_files(src: Source) -> list[Row]:
    bs = src.doc["block_size"]
    rows = []
    for d in src.db.cf.datafiles():
        online = d.get("status", "ONLINE")
        rows.append((d["name"], d["file"], d["ts"], d["blocks"] * bs, d["blocks"],
                     "AVAILABLE" if online in ("SYSTEM", "ONLINE", "OFFLINE", "RECOVER") else "INVALID",
                     d["file"], "NO", 0, 0, 0, (d["blocks"] - 8) * bs, d["blocks"] - 8, online))
    return rows


@view("DBA_TABLESPACES", "open", "TABLESPACE_NAME VARCHAR2(30), BLOCK_SIZE NUMBER, STATUS VARCHAR2(9), "
      "CONTENTS VARCHAR2(9), LOGGING VARCHAR2(9), BIGFILE VARCHAR2(3)")
def _tablespaces(src: Source) -> list[Row]:
    undo = str(src.inst.param("undo_tablespace") or "UNDOTBS1").upper()
    return [(t, src.doc["block_size"], "ONLINE", "UNDO" if t == undo else "PERMANENT", "LOGGING", "NO")
            for t in src.doc.get("tablespaces", [])]


def _users(src: Source) -> list[dict]:
    return src.sidecar.get("users", [])


@view("DBA_USERS", "open",
      "USERNAME VARCHAR2(128), USER_ID NUMBER, ACCOUNT_STATUS VARCHAR2(32), LOCK_DATE DATE, EXPIRY_DATE DATE, "
      "DEFAULT_TABLESPACE VARCHAR2(30), TEMPORARY_TABLESPACE VARCHAR2(30), CREATED DATE, "
      "PROFILE VARCHAR2(128), AUTHENTICATION_TYPE VARCHAR2(8), COMMON VARCHAR2(3), "
      "ORACLE_MAINTAINED VARCHAR2(1)")
def _dba_users(src: Source) -> list[Row]:
    created = date(src.doc["created"])
    rows = []
    for i, u in enumerate(_users(src)):
        locked = "LOCKED" in u.get("account_status", "OPEN")
        rows.append((u["username"], i, u.get("account_status", "OPEN"),
                     date(u.get("lock_date", u.get("created"))) if locked else None, None,
                     u.get("default_tablespace", "USERS"), "TEMP", date(u.get("created")) or created, "DEFAULT",
                     "PASSWORD", u.get("common", "NO"), "Y" if u["username"] == "SYS" else "N"))
    return rows


@view("ALL_USERS", "open", "USERNAME VARCHAR2(128), USER_ID NUMBER, CREATED DATE, COMMON VARCHAR2(3), "
      "ORACLE_MAINTAINED VARCHAR2(1)")
def _all_users(src: Source) -> list[Row]:
    return [(r[0], r[1], r[7], r[10], r[11]) for r in _dba_users(src)]


@view("DBA_SYS_PRIVS", "open", "GRANTEE VARCHAR2(128), PRIVILEGE VARCHAR2(40), ADMIN_OPTION VARCHAR2(3), "
      "COMMON VARCHAR2(3)")
def _sys_privs(src: Source) -> list[Row]:
    return [(g["grantee"], g["privilege"], "YES" if g.get("admin_option") else "NO", g.get("common", "NO"))
            for g in src.sidecar.get("grants", []) if not g.get("object")]


@view("DBA_TAB_PRIVS", "open", "GRANTEE VARCHAR2(128), OWNER VARCHAR2(128), TABLE_NAME VARCHAR2(128), "
      "GRANTOR VARCHAR2(128), PRIVILEGE VARCHAR2(40), GRANTABLE VARCHAR2(3), TYPE VARCHAR2(24)")
def _tab_privs(src: Source) -> list[Row]:
    rows = []
    for g in src.sidecar.get("grants", []):
        if g.get("object"):
            owner, _, name = g["object"].partition(".")
            rows.append((g["grantee"], owner, name, "SYS", g["privilege"], "NO", g.get("object_type", "TABLE")))
    return rows


def _qual(obj: dict, key: str) -> tuple[str, str]:
    return obj.get("owner", "SYS"), obj[key]


@view("DBA_SCHEDULER_JOBS", "open",
      "OWNER VARCHAR2(128), JOB_NAME VARCHAR2(128), JOB_SUBNAME VARCHAR2(128), JOB_STYLE VARCHAR2(11), "
      "JOB_CREATOR VARCHAR2(128), PROGRAM_OWNER VARCHAR2(4000), PROGRAM_NAME VARCHAR2(4000), "
      "JOB_TYPE VARCHAR2(16), JOB_ACTION VARCHAR2(4000), NUMBER_OF_ARGUMENTS NUMBER, "
      "SCHEDULE_OWNER VARCHAR2(4000), SCHEDULE_NAME VARCHAR2(4000), SCHEDULE_TYPE VARCHAR2(12), "
      "START_DATE TIMESTAMP, REPEAT_INTERVAL VARCHAR2(4000), END_DATE TIMESTAMP, JOB_CLASS VARCHAR2(128), "
      "ENABLED VARCHAR2(5), AUTO_DROP VARCHAR2(5), RESTARTABLE VARCHAR2(5), STATE VARCHAR2(15), "
      "JOB_PRIORITY NUMBER, RUN_COUNT NUMBER, MAX_RUNS NUMBER, FAILURE_COUNT NUMBER, MAX_FAILURES NUMBER, "
      "RETRY_COUNT NUMBER, LAST_START_DATE TIMESTAMP, LAST_RUN_DURATION VARCHAR2(30), "
      "NEXT_RUN_DATE TIMESTAMP, LOGGING_LEVEL VARCHAR2(11), CREDENTIAL_OWNER VARCHAR2(128), "
      "CREDENTIAL_NAME VARCHAR2(128), DESTINATION VARCHAR2(128), COMMENTS VARCHAR2(240)")
def _jobs(src: Source) -> list[Row]:
    rows = []
    for j in src.sidecar.get("jobs", []):
        sched_type = ("NAMED" if j.get("schedule_name") else "CALENDAR" if j.get("repeat_interval")
                      else "ONCE" if j.get("start_date") else "IMMEDIATE")
        rows.append((j["owner"], j["job_name"], None, "REGULAR", j.get("creator", "SYS"), j.get("program_owner"),
                     j.get("program_name"), j.get("job_type"), j.get("job_action"), j.get("number_of_arguments", 0),
                     j.get("schedule_owner"), j.get("schedule_name"), sched_type, ts(j.get("start_date")),
                     j.get("repeat_interval"), ts(j.get("end_date")), j.get("job_class", "DEFAULT_JOB_CLASS"),
                     tf(j.get("enabled")), tf(j.get("auto_drop", True)), "FALSE", j.get("state", "DISABLED"), 3,
                     j.get("run_count", 0), None, j.get("failure_count", 0), None, 0, ts(j.get("last_start_date")),
                     duration(j.get("last_run_duration")), ts(j.get("next_run_date")),
                     j.get("logging_level", "RUNS"), j.get("credential_owner"), j.get("credential_name"), None,
                     j.get("comments")))
    return rows


@view("DBA_SCHEDULER_PROGRAMS", "open",
      "OWNER VARCHAR2(128), PROGRAM_NAME VARCHAR2(128), PROGRAM_TYPE VARCHAR2(16), "
      "PROGRAM_ACTION VARCHAR2(4000), NUMBER_OF_ARGUMENTS NUMBER, ENABLED VARCHAR2(5), DETACHED VARCHAR2(5), "
      "COMMENTS VARCHAR2(240)")
def _programs(src: Source) -> list[Row]:
    return [(p["owner"], p["program_name"], p.get("program_type"), p.get("program_action"),
             p.get("number_of_arguments", 0), tf(p.get("enabled")), "FALSE", p.get("comments"))
            for p in src.sidecar.get("programs", [])]


@view("DBA_SCHEDULER_PROGRAM_ARGS", "open",
      "OWNER VARCHAR2(128), PROGRAM_NAME VARCHAR2(128), ARGUMENT_NAME VARCHAR2(128), "
      "ARGUMENT_POSITION NUMBER, ARGUMENT_TYPE VARCHAR2(257), DEFAULT_VALUE VARCHAR2(4000), "
      "OUT_ARGUMENT VARCHAR2(5)")
def _program_args(src: Source) -> list[Row]:
    return [(p["owner"], p["program_name"], a.get("argument_name"), a["argument_position"],
             a.get("argument_type", "VARCHAR2"), a.get("default_value"), tf(a.get("out_argument")))
            for p in src.sidecar.get("programs", []) for a in p.get("arguments", [])]


@view("DBA_SCHEDULER_SCHEDULES", "open",
      "OWNER VARCHAR2(128), SCHEDULE_NAME VARCHAR2(128), SCHEDULE_TYPE VARCHAR2(12), START_DATE TIMESTAMP, "
      "REPEAT_INTERVAL VARCHAR2(4000), END_DATE TIMESTAMP, COMMENTS VARCHAR2(240)")
def _schedules(src: Source) -> list[Row]:
    return [(s["owner"], s["schedule_name"], "CALENDAR", ts(s.get("start_date")), s.get("repeat_interval"),
             ts(s.get("end_date")), s.get("comments")) for s in src.sidecar.get("schedules", [])]


@view("DBA_SCHEDULER_JOB_CLASSES", "open",
      "OWNER VARCHAR2(128), JOB_CLASS_NAME VARCHAR2(128), RESOURCE_CONSUMER_GROUP VARCHAR2(128), "
      "SERVICE VARCHAR2(64), LOGGING_LEVEL VARCHAR2(11), LOG_HISTORY NUMBER, COMMENTS VARCHAR2(240)")
def _job_classes(src: Source) -> list[Row]:
    builtin = [{"job_class_name": "DEFAULT_JOB_CLASS", "logging_level": "RUNS",
                "comments": "This is the default job class."}]
    return [("SYS", c["job_class_name"], c.get("resource_consumer_group"), c.get("service"),
             c.get("logging_level", "RUNS"), c.get("log_history"), c.get("comments"))
            for c in builtin + src.sidecar.get("job_classes", [])]


CREDENTIAL_COLUMNS = ("OWNER VARCHAR2(128), CREDENTIAL_NAME VARCHAR2(128), USERNAME VARCHAR2(128), "
                      "WINDOWS_DOMAIN VARCHAR2(30), COMMENTS VARCHAR2(240), ENABLED VARCHAR2(5)")


def _credentials(src: Source) -> list[Row]:
    return [(c["owner"], c["credential_name"], c.get("username"), c.get("windows_domain"), c.get("comments"),
             tf(c.get("enabled", True))) for c in src.sidecar.get("credentials", [])]


view("DBA_CREDENTIALS", "open", CREDENTIAL_COLUMNS)(_credentials)
view("DBA_SCHEDULER_CREDENTIALS", "open", CREDENTIAL_COLUMNS)(_credentials)


@view("DBA_SCHEDULER_JOB_LOG", "open",
      "LOG_ID NUMBER, LOG_DATE TIMESTAMP, OWNER VARCHAR2(128), JOB_NAME VARCHAR2(261), "
      "JOB_SUBNAME VARCHAR2(261), JOB_CLASS VARCHAR2(128), OPERATION VARCHAR2(30), STATUS VARCHAR2(30), "
      "USER_NAME VARCHAR2(128), CREDENTIAL_OWNER VARCHAR2(128), CREDENTIAL_NAME VARCHAR2(128), "
      "ADDITIONAL_INFO VARCHAR2(4000)")
def _job_log(src: Source) -> list[Row]:
    return [(e["log_id"], ts(e.get("log_date")), e.get("owner"), e.get("job_name"), None, e.get("job_class"),
             e.get("operation"), e.get("status"), e.get("user_name", "SYS"), e.get("credential_owner"),
             e.get("credential_name"), e.get("additional_info")) for e in src.sidecar.get("job_log", [])]


@view("DBA_SCHEDULER_JOB_RUN_DETAILS", "open",
      "LOG_ID NUMBER, LOG_DATE TIMESTAMP, OWNER VARCHAR2(128), JOB_NAME VARCHAR2(261), "
      "JOB_SUBNAME VARCHAR2(261), STATUS VARCHAR2(30), ERROR# NUMBER, REQ_START_DATE TIMESTAMP, "
      "ACTUAL_START_DATE TIMESTAMP, RUN_DURATION VARCHAR2(30), INSTANCE_ID NUMBER, SESSION_ID VARCHAR2(128), "
      "CREDENTIAL_OWNER VARCHAR2(128), CREDENTIAL_NAME VARCHAR2(128), ADDITIONAL_INFO VARCHAR2(4000), "
      "ERRORS VARCHAR2(4000), OUTPUT VARCHAR2(4000)")
def _run_details(src: Source) -> list[Row]:
    return [(e["log_id"], ts(e.get("log_date")), e.get("owner"), e.get("job_name"), None, e.get("status"),
             e.get("error#", 0), ts(e.get("actual_start_date")), ts(e.get("actual_start_date")),
             duration(e.get("run_duration")), 1, "1,1", e.get("credential_owner"), e.get("credential_name"),
             e.get("additional_info"), e.get("errors"), e.get("output"))
            for e in src.sidecar.get("job_log", []) if e.get("operation") == "RUN"]


@view("DBA_OBJECTS", "open", "OWNER VARCHAR2(128), OBJECT_NAME VARCHAR2(128), OBJECT_TYPE VARCHAR2(23), "
      "CREATED DATE, LAST_DDL_TIME DATE, STATUS VARCHAR2(7)")
def _objects(src: Source) -> list[Row]:
    side = src.sidecar
    rows = [(p["owner"], p["name"], p.get("type", "PROCEDURE"), date(p.get("created")), date(p.get("created")),
             p.get("status", "VALID")) for p in side.get("procedures", [])]
    rows += [(j["owner"], j["job_name"], "JOB", date(j.get("created")), date(j.get("created")), "VALID")
             for j in side.get("jobs", [])]
    rows += [(p["owner"], p["program_name"], "PROGRAM", date(p.get("created")), date(p.get("created")), "VALID")
             for p in side.get("programs", [])]
    rows += [(s["owner"], s["schedule_name"], "SCHEDULE", date(s.get("created")), date(s.get("created")), "VALID")
             for s in side.get("schedules", [])]
    rows += [("SYS", c["job_class_name"], "JOB CLASS", date(c.get("created")), date(c.get("created")), "VALID")
             for c in side.get("job_classes", [])]
    for key in side.get("tables", {}):
        owner, _, name = key.partition(".")
        rows.append((owner, name, "TABLE", None, None, "VALID"))
    for key in side.get("sequences", {}):
        owner, _, name = key.partition(".")
        rows.append((owner, name, "SEQUENCE", None, None, "VALID"))
    return rows


@view("DBA_SOURCE", "open", "OWNER VARCHAR2(128), NAME VARCHAR2(128), TYPE VARCHAR2(12), LINE NUMBER, "
      "TEXT VARCHAR2(4000)")
def _source(src: Source) -> list[Row]:
    return [(p["owner"], p["name"], p.get("type", "PROCEDURE"), i, line + "\n")
            for p in src.sidecar.get("procedures", []) for i, line in
            enumerate(p.get("source", "").splitlines(), start=1)]


@view("DBA_ERRORS", "open", "OWNER VARCHAR2(128), NAME VARCHAR2(128), TYPE VARCHAR2(12), SEQUENCE NUMBER, "
      "LINE NUMBER, POSITION NUMBER, TEXT VARCHAR2(4000)")
def _errors(src: Source) -> list[Row]:
    return [(p["owner"], p["name"], p.get("type", "PROCEDURE"), i, e["line"], e["col"], e["text"])
            for p in src.sidecar.get("procedures", []) for i, e in enumerate(p.get("errors", []), start=1)]


@view("RC_DATABASE", "open", "DB_KEY NUMBER, DBINC_KEY NUMBER, DBID NUMBER, NAME VARCHAR2(8), "
      "RESETLOGS_CHANGE# NUMBER, RESETLOGS_TIME DATE")
def _rc_database(src: Source) -> list[Row]:
    catalog = src.sidecar.get("rman_catalog")
    if catalog is None:
        raise OraError("ORA-00942", "table or view does not exist")
    return [(d.get("db_key"), d.get("dbinc_key", d.get("db_key")), d.get("dbid"), str(d.get("name", "")).upper(),
             d.get("resetlogs_change", 1), date(d.get("registered"))) for d in catalog.get("databases", [])]
