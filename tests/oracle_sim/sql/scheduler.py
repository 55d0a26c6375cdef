"""DBMS_SCHEDULER (and DBMS_CREDENTIAL) recorded in the database's sidecar.

Objects are checked the way the scheduler checks them: owners must exist,
names are unique per schema (ORA-27477), references must exist (ORA-27476),
drops of missing objects fail (ORA-27475 for jobs, ORA-27476 for the rest),
a program can only be enabled once all its arguments are defined (ORA-27456),
calendars must parse (ORA-27418).  Credentials keep a salted hash, never the
password.  No job coordinator runs: a job runs only through RUN_JOB, in the
calling session, an EXECUTABLE as a real process with a bare environment.
"""
from __future__ import annotations

import hashlib
import secrets
import subprocess
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..instance import OraError
from . import privileges
from . import values as V

if TYPE_CHECKING:
    from ..plsql.interpreter import Interpreter

CONSTANTS = {"LOGGING_OFF": 32, "LOGGING_RUNS": 64, "LOGGING_FAILED_RUNS": 128, "LOGGING_FULL": 256}
LOGGING_NAMES = {32: "OFF", 64: "RUNS", 128: "FAILED RUNS", 256: "FULL"}

SIGNATURES: dict[str, list[str]] = {
    "CREATE_JOB_CLASS": ["job_class_name", "resource_consumer_group", "service", "logging_level", "log_history",
                         "comments"],
    "CREATE_CREDENTIAL": ["credential_name", "username", "password", "database_role", "windows_domain",
                          "comments", "enabled"],
    "CREATE_PROGRAM": ["program_name", "program_type", "program_action", "number_of_arguments", "enabled",
                       "comments"],
    "DEFINE_PROGRAM_ARGUMENT": ["program_name", "argument_position", "argument_name", "argument_type",
                                "default_value", "out_argument"],
    "ENABLE": ["name", "commit_semantics"],
    "DISABLE": ["name", "force", "commit_semantics"],
    "CREATE_SCHEDULE": ["schedule_name", "start_date", "repeat_interval", "end_date", "comments"],
    "CREATE_JOB": ["job_name", "job_type", "job_action", "number_of_arguments", "start_date", "repeat_interval",
                   "end_date", "job_class", "enabled", "auto_drop", "comments", "credential_name",
                   "destination_name"],
    "CREATE_JOB#PROGRAM": ["job_name", "program_name", "start_date", "repeat_interval", "end_date", "job_class",
                           "enabled", "auto_drop", "comments", "job_style", "credential_name", "destination_name"],
    "CREATE_JOB#SCHEDULE": ["job_name", "program_name", "schedule_name", "job_class", "enabled", "auto_drop",
                            "comments", "job_style", "credential_name", "destination_name"],
    "SET_ATTRIBUTE": ["name", "attribute", "value", "value2"],
    "SET_ATTRIBUTE_NULL": ["name", "attribute"],
    "SET_JOB_ARGUMENT_VALUE": ["job_name", "argument_position", "argument_value"],
    "DROP_JOB": ["job_name", "force", "defer", "commit_semantics"],
    "DROP_PROGRAM": ["program_name", "force"],
    "DROP_SCHEDULE": ["schedule_name", "force"],
    "DROP_CREDENTIAL": ["credential_name", "force"],
    "DROP_JOB_CLASS": ["job_class_name", "force"],
    "RUN_JOB": ["job_name", "use_current_session"],
    "STOP_JOB": ["job_name", "force", "commit_semantics"],
    "GENERATE_JOB_NAME": ["prefix"],
}
MEMBERS = {k.split("#")[0] for k in SIGNATURES} | set(CONSTANTS)
KINDS = {"jobs": "job_name", "programs": "program_name", "schedules": "schedule_name",
         "credentials": "credential_name"}


def bind(member: str, values: list[tuple[str | None, Any]]) -> dict[str, Any]:
    """Positional and named arguments onto the procedure's parameter names (PLS-00306 otherwise)."""
    key = member
    named = {n.lower() for n, _v in values if n}
    if member == "CREATE_JOB" and "program_name" in named:
        key = "CREATE_JOB#SCHEDULE" if "schedule_name" in named else "CREATE_JOB#PROGRAM"
    params = SIGNATURES[key]
    args: dict[str, Any] = {}
    for i, (name, value) in enumerate(values):
        pname = name.lower() if name else (params[i] if i < len(params) else None)
        if pname is None or pname not in params and pname not in SIGNATURES["CREATE_JOB#SCHEDULE"] + \
                SIGNATURES["CREATE_JOB"]:
            raise OraError("ORA-06550", f"PLS-00306: wrong number or types of arguments in call to '{member}'")
        args[pname] = value
    return args


def split_name(name: Any, default_owner: str) -> tuple[str, str]:
    text = str(name or "").strip().strip('"')
    if not text:
        raise OraError("ORA-27452", f'"{text}" is an invalid name for a database object.')
    owner, _, obj = text.rpartition(".")
    return (owner.upper().strip('"') or default_owner), obj.upper().strip('"')


def password_hash(password: str) -> str:
    salt = secrets.token_hex(8)
    return salt + "$" + hashlib.sha256((salt + password).encode()).hexdigest()


def call(interp: Interpreter, member: str, values: list[tuple[str | None, Any]]) -> Any:
    if member in CONSTANTS:
        return CONSTANTS[member]
    args = bind(member, values)
    if member == "GENERATE_JOB_NAME":
        return Scheduler(interp).generate_job_name(args.get("prefix") or "JOB$_")
    if member == "RUN_JOB":
        return Scheduler(interp).run_job(args)
    return Scheduler(interp).change(member, args)


class Scheduler:
    def __init__(self, interp: Interpreter):
        self.interp = interp
        self.s = interp.s

    def _db(self) -> Any:
        inst = self.s.running_instance()
        if inst.status != "open":
            raise OraError("ORA-01219", "database or pluggable database not open: queries allowed on fixed "
                                        "tables or views only")
        if inst.open_mode != "READ WRITE":
            raise OraError("ORA-16000", "database or pluggable database open for read-only access")
        return self.s.database()

    def generate_job_name(self, prefix: str) -> str:
        db = self._db()
        with db.changing():
            side = db.sidecar()
            n = side.get("job_name_seq", 0) + 1
            side["job_name_seq"] = n
            db.save_sidecar(side)
        return f"{str(prefix).upper()}{n}"

    def change(self, member: str, args: dict[str, Any]) -> None:
        db = self._db()
        with db.changing():
            side = db.sidecar()
            for kind in ("jobs", "programs", "schedules", "credentials", "job_classes", "job_log"):
                side.setdefault(kind, [])
            getattr(self, member.lower())(side, args)
            db.save_sidecar(side)

    # -- lookups ----------------------------------------------------------------------
    def _users(self, side: dict) -> set[str]:
        return {u["username"] for u in side.get("users", [])}

    def _find(self, side: dict, kind: str, owner: str, name: str) -> dict | None:
        key = KINDS[kind]
        return next((o for o in side[kind] if o["owner"] == owner and o[key] == name), None)

    def _find_any(self, side: dict, owner: str, name: str) -> tuple[str, dict] | None:
        for kind in ("jobs", "programs", "schedules", "credentials"):
            obj = self._find(side, kind, owner, name)
            if obj is not None:
                return kind, obj
        return None

    def _new_object(self, side: dict, name: Any) -> tuple[str, str]:
        owner, obj = split_name(name, self.s.user)
        if owner not in self._users(side):
            raise OraError("ORA-01435", "user does not exist")
        privileges.require(side, self.s.user, self.s.sysdba, owner, "CREATE JOB", "CREATE ANY JOB", "ORA-27486")
        if self._find_any(side, owner, obj) is not None:
            raise OraError("ORA-27477", f'"{owner}"."{obj}" already exists')
        return owner, obj

    def _class(self, side: dict, name: Any) -> dict | None:
        _owner, cls = split_name(name, "SYS")
        if cls == "DEFAULT_JOB_CLASS":
            return {"job_class_name": cls, "logging_level": "RUNS"}
        return next((c for c in side["job_classes"] if c["job_class_name"] == cls), None)

    def _log(self, side: dict, job: dict, operation: str, **extra: Any) -> None:
        cls = self._class(side, job.get("job_class", "DEFAULT_JOB_CLASS")) or {}
        if operation != "RUN" and cls.get("logging_level") != "FULL":
            return
        log_id = side.get("log_seq", 0) + 1
        side["log_seq"] = log_id
        side["job_log"].append({"log_id": log_id, "log_date": self.s.now(), "owner": job["owner"],
                                "job_name": job["job_name"], "job_class": job.get("job_class"),
                                "operation": operation, "status": extra.pop("status", None),
                                "user_name": self.s.user, "credential_owner": job.get("credential_owner"),
                                "credential_name": job.get("credential_name"), **extra})

    # -- creation -------------------------------------------------------------------------
    def create_job_class(self, side: dict, a: dict) -> None:
        _owner, name = split_name(a["job_class_name"], "SYS")
        if not privileges.has(side, self.s.user, self.s.sysdba, "MANAGE SCHEDULER"):
            raise OraError("ORA-27486", "insufficient privileges")
        if self._class(side, name) is not None:
            raise OraError("ORA-27477", f'"SYS"."{name}" already exists')
        level = a.get("logging_level", CONSTANTS["LOGGING_RUNS"])
        side["job_classes"].append({"job_class_name": name, "resource_consumer_group": a.get(
            "resource_consumer_group"), "service": a.get("service"), "logging_level": LOGGING_NAMES.get(
            int(V.to_number(level) or 64), "RUNS"), "log_history": a.get("log_history"),
            "comments": a.get("comments"), "created": self.s.now()})

    def create_credential(self, side: dict, a: dict) -> None:
        owner, name = self._new_object(side, a["credential_name"])
        if not a.get("username"):
            raise OraError("ORA-27486", "insufficient privileges")
        side["credentials"].append({"owner": owner, "credential_name": name, "username": a["username"],
                                    "password_hash": password_hash(str(a.get("password") or "")),
                                    "windows_domain": a.get("windows_domain"), "comments": a.get("comments"),
                                    "enabled": a.get("enabled", True) is not False, "created": self.s.now()})

    def create_program(self, side: dict, a: dict) -> None:
        owner, name = self._new_object(side, a["program_name"])
        ptype = str(a.get("program_type") or "").upper()
        if ptype not in ("PLSQL_BLOCK", "STORED_PROCEDURE", "EXECUTABLE"):
            raise OraError("ORA-27465", f"invalid value {ptype} for attribute PROGRAM_TYPE")
        program = {"owner": owner, "program_name": name, "program_type": ptype,
                   "program_action": a.get("program_action"),
                   "number_of_arguments": int(V.to_number(a.get("number_of_arguments")) or 0),
                   "enabled": False, "comments": a.get("comments"), "arguments": [], "created": self.s.now()}
        side["programs"].append(program)
        if a.get("enabled") is True:
            self._enable_program(program)

    def define_program_argument(self, side: dict, a: dict) -> None:
        owner, name = split_name(a["program_name"], self.s.user)
        program = self._find(side, "programs", owner, name)
        if program is None:
            raise OraError("ORA-27476", f'"{owner}"."{name}" does not exist')
        pos = int(V.to_number(a["argument_position"]))
        program["arguments"] = [x for x in program["arguments"] if x["argument_position"] != pos]
        program["arguments"].append({"argument_position": pos, "argument_name": str(a.get("argument_name") or "")
                                     .upper() or None, "argument_type": a.get("argument_type", "VARCHAR2"),
                                     "default_value": a.get("default_value"), "out_argument": bool(a.get(
                                         "out_argument"))})
        program["arguments"].sort(key=lambda x: x["argument_position"])

    def _enable_program(self, program: dict) -> None:
        defined = {x["argument_position"] for x in program["arguments"]}
        if any(n not in defined for n in range(1, program["number_of_arguments"] + 1)):
            raise OraError("ORA-27456", f'not all arguments of program "{program["owner"]}.'
                                        f'{program["program_name"]}" have been defined')
        program["enabled"] = True

    def create_schedule(self, side: dict, a: dict) -> None:
        owner, name = self._new_object(side, a["schedule_name"])
        interval = a.get("repeat_interval")
        start = _epoch(a.get("start_date")) or self.s.now()
        next_run(interval, start, self.s.now())
        side["schedules"].append({"owner": owner, "schedule_name": name, "repeat_interval": interval,
                                  "start_date": start, "end_date": _epoch(a.get("end_date")),
                                  "comments": a.get("comments"), "created": self.s.now()})

    def create_job(self, side: dict, a: dict) -> None:
        owner, name = self._new_object(side, a["job_name"])
        job: dict[str, Any] = {"owner": owner, "job_name": name, "creator": self.s.user, "created": self.s.now(),
                               "comments": a.get("comments"), "auto_drop": a.get("auto_drop", True) is not False,
                               "run_count": 0, "failure_count": 0, "arguments": {}, "enabled": False}
        if a.get("program_name"):
            powner, pname = split_name(a["program_name"], owner)
            program = self._find(side, "programs", powner, pname)
            if program is None:
                raise OraError("ORA-27476", f'"{powner}"."{pname}" does not exist')
            job.update(program_owner=powner, program_name=pname, job_type=None,
                       number_of_arguments=program["number_of_arguments"])
        else:
            jtype = str(a.get("job_type") or "").upper()
            if jtype not in ("PLSQL_BLOCK", "STORED_PROCEDURE", "EXECUTABLE", "CHAIN"):
                raise OraError("ORA-27465", f"invalid value {jtype} for attribute JOB_TYPE")
            job.update(job_type=jtype, job_action=a.get("job_action"),
                       number_of_arguments=int(V.to_number(a.get("number_of_arguments")) or 0))
        start = _epoch(a.get("start_date"))
        if a.get("schedule_name"):
            sowner, sname = split_name(a["schedule_name"], owner)
            schedule = self._find(side, "schedules", sowner, sname)
            if schedule is None:
                raise OraError("ORA-27476", f'"{sowner}"."{sname}" does not exist')
            job.update(schedule_owner=sowner, schedule_name=sname)
            interval, start = schedule.get("repeat_interval"), schedule.get("start_date")
        else:
            interval = a.get("repeat_interval")
            job.update(repeat_interval=interval, start_date=start, end_date=_epoch(a.get("end_date")))
        cls = self._class(side, a.get("job_class") or "DEFAULT_JOB_CLASS")
        if cls is None:
            raise OraError("ORA-27476", f'"SYS"."{split_name(a["job_class"], "SYS")[1]}" does not exist')
        job["job_class"] = cls["job_class_name"]
        if a.get("credential_name"):
            job["credential_owner"], job["credential_name"] = split_name(a["credential_name"], owner)
        job["next_run_date"] = next_run(interval, start or self.s.now(), self.s.now()) if interval else start
        side["jobs"].append(job)
        self._log(side, job, "CREATE")
        if a.get("enabled") is True:
            self._enable_job(side, job)
        job["state"] = "SCHEDULED" if job["enabled"] else "DISABLED"

    def _enable_job(self, side: dict, job: dict) -> None:
        if job.get("program_name"):
            program = self._find(side, "programs", job["program_owner"], job["program_name"])
            if program is None or not program["enabled"]:
                raise OraError("ORA-27479", f'Cannot enable "{job["owner"]}.{job["job_name"]}" because '
                                            f'its program is disabled')
        job["enabled"], job["state"] = True, "SCHEDULED"
        self._log(side, job, "ENABLE")

    # -- enable / disable / attributes ---------------------------------------------------
    def _each(self, side: dict, names: Any) -> list[tuple[str, dict]]:
        out = []
        for item in str(names or "").split(","):
            owner, name = split_name(item, self.s.user)
            found = self._find_any(side, owner, name)
            if found is None:
                raise OraError("ORA-27476", f'"{owner}"."{name}" does not exist')
            out.append(found)
        return out

    def enable(self, side: dict, a: dict) -> None:
        for kind, obj in self._each(side, a["name"]):
            if kind == "programs":
                self._enable_program(obj)
            elif kind == "jobs":
                self._enable_job(side, obj)
            elif kind == "credentials":
                obj["enabled"] = True

    def disable(self, side: dict, a: dict) -> None:
        for kind, obj in self._each(side, a["name"]):
            obj["enabled"] = False
            if kind == "jobs":
                obj["state"] = "DISABLED"

    def set_attribute(self, side: dict, a: dict) -> None:
        (kind, obj), = self._each(side, a["name"])
        attr = str(a["attribute"]).lower()
        value = a.get("value")
        if attr in ("start_date", "end_date"):
            value = _epoch(value)
        if attr == "repeat_interval":
            next_run(value, self.s.now(), self.s.now())
        if attr == "job_class" and self._class(side, value) is None:
            raise OraError("ORA-27476", f'"SYS"."{split_name(value, "SYS")[1]}" does not exist')
        if attr == "credential_name":
            obj["credential_owner"], value = split_name(value, obj["owner"])
        obj[attr] = value
        if kind == "jobs" and attr in ("repeat_interval", "start_date"):
            obj["next_run_date"] = next_run(obj.get("repeat_interval"), obj.get("start_date") or self.s.now(),
                                            self.s.now())

    def set_attribute_null(self, side: dict, a: dict) -> None:
        (_kind, obj), = self._each(side, a["name"])
        obj[str(a["attribute"]).lower()] = None

    def set_job_argument_value(self, side: dict, a: dict) -> None:
        owner, name = split_name(a["job_name"], self.s.user)
        job = self._find(side, "jobs", owner, name)
        if job is None:
            raise OraError("ORA-27475", f'"{owner}.{name}" must be a job')
        job["arguments"][str(int(V.to_number(a["argument_position"])))] = a.get("argument_value")

    # -- drops ----------------------------------------------------------------------------
    def _drop(self, side: dict, kind: str, names: Any, force: Any, absorb: bool = False) -> None:
        missing = None
        for item in str(names or "").split(","):
            owner, name = split_name(item, self.s.user if kind != "job_classes" else "SYS")
            if kind == "job_classes":
                obj = next((c for c in side[kind] if c["job_class_name"] == name), None)
                owner = "SYS"
            else:
                obj = self._find(side, kind, owner, name)
            if obj is None:
                err = OraError("ORA-27475", f'"{owner}.{name}" must be a job') if kind == "jobs" else \
                    OraError("ORA-27476", f'"{owner}.{name}" does not exist')
                if not absorb:
                    raise err
                missing = err
                continue
            users = self._dependents(side, kind, owner, name)
            if users and force is not True:
                raise OraError("ORA-27479", f'Cannot drop "{owner}.{name}" because other objects depend on it')
            for job in users:
                job["enabled"], job["state"] = False, "DISABLED"
            side[kind].remove(obj)
            if kind == "jobs":
                self._log(side, obj, "DROP")
        if missing is not None:
            raise OraError("ORA-27362", "batch API call completed with errors")

    def _dependents(self, side: dict, kind: str, owner: str, name: str) -> list[dict]:
        field = {"programs": ("program_owner", "program_name"), "schedules": ("schedule_owner", "schedule_name"),
                 "credentials": ("credential_owner", "credential_name")}.get(kind)
        if kind == "job_classes":
            return [j for j in side["jobs"] if j.get("job_class") == name]
        if field is None:
            return []
        return [j for j in side["jobs"] if j.get(field[0]) == owner and j.get(field[1]) == name]

    def drop_job(self, side: dict, a: dict) -> None:
        absorb = str(a.get("commit_semantics") or "").upper() == "ABSORB_ERRORS"
        self._drop(side, "jobs", a["job_name"], True, absorb)

    def drop_program(self, side: dict, a: dict) -> None:
        self._drop(side, "programs", a["program_name"], a.get("force"))

    def drop_schedule(self, side: dict, a: dict) -> None:
        self._drop(side, "schedules", a["schedule_name"], a.get("force"))

    def drop_credential(self, side: dict, a: dict) -> None:
        self._drop(side, "credentials", a["credential_name"], a.get("force"))

    def drop_job_class(self, side: dict, a: dict) -> None:
        self._drop(side, "job_classes", a["job_class_name"], a.get("force"))

    def stop_job(self, side: dict, a: dict) -> None:
        raise OraError("ORA-27366", f'job "{split_name(a["job_name"], self.s.user)[1]}" is not running')

    # -- running --------------------------------------------------------------------------
    def run_job(self, a: dict) -> None:
        db = self._db()
        owner, name = split_name(a["job_name"], self.s.user)
        side = db.sidecar()
        job = self._find({**side, "jobs": side.get("jobs", [])}, "jobs", owner, name)
        if job is None:
            raise OraError("ORA-27475", f'"{owner}.{name}" must be a job')
        start = time.time()
        error: OraError | None = None
        output = ""
        try:
            output = self._execute(side, job)
        except OraError as exc:
            error = exc
        with db.changing():
            side = db.sidecar()
            job = self._find({**side, "jobs": side.get("jobs", [])}, "jobs", owner, name)
            if job is not None:
                side.setdefault("job_log", [])
                job["run_count"] = job.get("run_count", 0) + 1
                job["failure_count"] = job.get("failure_count", 0) + (1 if error else 0)
                job["last_start_date"] = self.s.now()
                job["last_run_duration"] = round(time.time() - start, 6)
                self._log(side, job, "RUN", status="FAILED" if error else "SUCCEEDED",
                          **{"error#": int(error.code.split("-")[1]) if error else 0,
                             "actual_start_date": self.s.now(), "run_duration": round(time.time() - start, 6),
                             "additional_info": "\n".join(error.lines) if error else None, "output": output})
                db.save_sidecar(side)
        if error is not None:
            raise error

    def _execute(self, side: dict, job: dict) -> str:
        from ..plsql.interpreter import Interpreter
        jtype, action, args = job.get("job_type"), job.get("job_action"), []
        if job.get("program_name"):
            program = self._find({**side, "programs": side.get("programs", [])}, "programs",
                                 job["program_owner"], job["program_name"])
            if program is None:
                raise OraError("ORA-27476", f'"{job["program_owner"]}"."{job["program_name"]}" does not exist')
            jtype, action = program["program_type"], program["program_action"]
            args = [job.get("arguments", {}).get(str(x["argument_position"]), x.get("default_value"))
                    for x in program["arguments"]]
        if jtype == "PLSQL_BLOCK":
            Interpreter(self.s, self.interp.execute_sql).run_source(str(action))
            return ""
        if jtype == "STORED_PROCEDURE":
            Interpreter(self.s, self.interp.execute_sql).run_source(f"begin {action}; end;")
            return ""
        if jtype != "EXECUTABLE":
            raise OraError("ORA-27465", f"invalid value {jtype} for attribute JOB_TYPE")
        return self._executable(side, job, str(action), args)

    def _executable(self, side: dict, job: dict, action: str, args: list[Any]) -> str:
        privileges = {g["privilege"] for g in side.get("grants", []) if g["grantee"] == job["owner"]}
        if job["owner"] != "SYS" and "CREATE EXTERNAL JOB" not in privileges:
            raise OraError("ORA-27486", "insufficient privileges")
        if job.get("credential_name"):
            cred = self._find({**side, "credentials": side.get("credentials", [])}, "credentials",
                              job["credential_owner"], job["credential_name"])
            if cred is None:
                raise OraError("ORA-27476", f'"{job["credential_owner"]}"."{job["credential_name"]}" does not '
                                            'exist')
        # external jobs get an almost empty environment, as they do from extjob
        env = {"PATH": "/usr/bin:/bin"}
        try:
            proc = subprocess.run([action, *[str(x) for x in args if x is not None]], capture_output=True,
                                  text=True, env=env, cwd="/", timeout=3600)
        except OSError as exc:
            raise OraError("ORA-27369", f"job of type EXECUTABLE failed with exit code: {exc.strerror}") from None
        if proc.returncode != 0:
            raise OraError("ORA-27369", f"job of type EXECUTABLE failed with exit code: {proc.returncode}",
                           *(f"STANDARD_ERROR=\"{proc.stderr.strip()[:400]}\"",) if proc.stderr.strip() else ())
        return proc.stdout


def _epoch(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if V.is_date(v):
        return V.to_epoch(v)
    return None


_FREQ = {"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY"}
_DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


def next_run(interval: Any, start: float, now: float) -> float | None:
    """The next time a calendar string fires after ``now`` (the common clauses; ORA-27418 otherwise)."""
    if interval is None:
        return None
    parts: dict[str, str] = {}
    for clause in str(interval).replace(" ", "").split(";"):
        if not clause:
            continue
        key, sep, value = clause.partition("=")
        if not sep or key.upper() not in ("FREQ", "INTERVAL", "BYHOUR", "BYMINUTE", "BYSECOND", "BYDAY",
                                          "BYMONTHDAY", "BYMONTH"):
            raise OraError("ORA-27418", "syntax error in repeat interval or calendar")
        parts[key.upper()] = value.upper()
    freq = parts.get("FREQ")
    if freq not in _FREQ:
        raise OraError("ORA-27418", "syntax error in repeat interval or calendar")
    try:
        step = int(parts.get("INTERVAL", "1"))
        ints = {k: [int(x) for x in parts[k].split(",")] for k in ("BYHOUR", "BYMINUTE", "BYSECOND",
                                                                    "BYMONTHDAY", "BYMONTH") if k in parts}
    except ValueError:
        raise OraError("ORA-27418", "syntax error in repeat interval or calendar") from None
    days = [d[-3:] for d in parts.get("BYDAY", "").split(",") if d]
    if any(d not in _DAYS for d in days) or step < 1:
        raise OraError("ORA-27418", "syntax error in repeat interval or calendar")
    base = datetime.fromtimestamp(start).replace(microsecond=0)
    after = datetime.fromtimestamp(now)
    if freq in ("HOURLY", "MINUTELY", "SECONDLY"):
        unit = {"HOURLY": 3600, "MINUTELY": 60, "SECONDLY": 1}[freq]
        slot = after.replace(microsecond=0)
        slot = slot.replace(minute=0, second=0) if freq == "HOURLY" else \
            slot.replace(second=0) if freq == "MINUTELY" else slot
        for _ in range(4000):
            index = int((slot - base.replace(minute=0 if freq == "HOURLY" else base.minute, second=0)
                         ).total_seconds() // unit)
            if index % step == 0 and (not days or _DAYS[slot.weekday()] in days) \
                    and slot.hour in ints.get("BYHOUR", [slot.hour]):
                minutes = ints.get("BYMINUTE", [base.minute]) if freq == "HOURLY" else [slot.minute]
                secs = ints.get("BYSECOND", [base.second]) if freq != "SECONDLY" else [slot.second]
                for m in sorted(minutes):
                    for sec in sorted(secs):
                        cand = slot.replace(minute=m, second=sec)
                        if cand > after and (freq != "MINUTELY" or m in ints.get("BYMINUTE", [m])):
                            return cand.timestamp()
            slot += timedelta(seconds=unit)
        return None
    hours = ints.get("BYHOUR", [base.hour])
    minutes = ints.get("BYMINUTE", [base.minute])
    seconds = ints.get("BYSECOND", [base.second])
    day = after.replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(800):
        ok = True
        if "BYMONTH" in ints:
            ok = day.month in ints["BYMONTH"]
        if ok and "BYMONTHDAY" in ints:
            ok = day.day in ints["BYMONTHDAY"]
        if ok and days:
            ok = _DAYS[day.weekday()] in days
        if ok and not days and "BYMONTHDAY" not in ints:
            if freq == "WEEKLY":
                ok = day.weekday() == base.weekday()
            elif freq == "MONTHLY":
                ok = day.day == base.day
            elif freq == "YEARLY":
                ok = (day.month, day.day) == (base.month, base.day)
        if ok and freq == "DAILY" and step > 1:
            ok = (day.date() - base.date()).days % step == 0
        if ok:
            for h in sorted(hours):
                for m in sorted(minutes):
                    for s in sorted(seconds):
                        cand = day.replace(hour=h, minute=m, second=s)
                        if cand > after:
                            return cand.timestamp()
        day += timedelta(days=1)
    return None

