"""DDL kept in the sidecar: users, grants, stored procedures, tables and sequences.

Users follow the CDB rule (a user created in CDB$ROOT must start with
COMMON_USER_PREFIX, ORA-65096) and keep only a password hash.  CREATE
PROCEDURE compiles the body with the PL/SQL checker and, like Oracle, stores
it even when it does not compile (``Warning: Procedure created with
compilation errors.``, status INVALID).  Tables created here hold their rows
in the sidecar (``tables``: ``{"OWNER.NAME": {"cols": [[name, type]], "rows": []}}``)
so queries, DML and sqlldr can use them.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..database import Database
from ..instance import OraError
from ..plsql import parser as P
from . import privileges
from .context import DbSession
from .query import PositionedError
from .scheduler import password_hash

if TYPE_CHECKING:
    from .statements import Result

ROLES = {"DBA", "CONNECT", "RESOURCE", "PUBLIC", "SELECT_CATALOG_ROLE", "EXECUTE_CATALOG_ROLE",
         "RECOVERY_CATALOG_OWNER", "SCHEDULER_ADMIN", "EXP_FULL_DATABASE", "IMP_FULL_DATABASE"}
PRIV_WORDS = ("CREATE", "ALTER", "DROP", "SELECT", "INSERT", "UPDATE", "DELETE", "EXECUTE", "MANAGE", "GRANT",
              "BACKUP", "RESTRICTED", "UNLIMITED", "BECOME", "ANALYZE", "AUDIT", "COMMENT", "DEBUG", "EXEMPT",
              "FLASHBACK", "LOCK", "SYSDBA", "SYSOPER", "SYSBACKUP", "SET", "ADMINISTER", "RESUMABLE", "FORCE",
              "READ", "REFERENCES", "INDEX", "ALL")
IDENT = r'"[^"]+"|[A-Za-z][\w$#]*'


def _name(raw: str) -> str:
    return raw[1:-1] if raw.startswith('"') else raw.upper()


def _qualified(raw: str, default_owner: str) -> tuple[str, str]:
    parts = [_name(p) for p in re.findall(IDENT, raw)]
    return (parts[0], parts[1]) if len(parts) > 1 else (default_owner, parts[0])


def writable(s: DbSession) -> Database:
    from .statements import writable as w
    return w(s)


def _result(message: str, warning: str | None = None) -> Result:
    from .statements import Result
    return Result(message, warning=warning)


def _owned(side: dict, owner: str) -> bool:
    return any(o.get("owner") == owner for kind in ("jobs", "programs", "schedules", "credentials", "procedures")
               for o in side.get(kind, [])) or any(k.startswith(owner + ".") for k in side.get("tables", {})) \
        or any(k.startswith(owner + ".") for k in side.get("sequences", {}))


def _object_exists(side: dict, owner: str, name: str) -> bool:
    key = f"{owner}.{name}"
    return (key in side.get("tables", {}) or key in side.get("sequences", {})
            or any(p["owner"] == owner and p["name"] == name for p in side.get("procedures", [])))


def execute(s: DbSession, sql: str, n: str) -> Result:
    if n.startswith("CREATE USER "):
        return create_user(s, sql)
    if n.startswith("ALTER USER "):
        return alter_user(s, sql)
    if n.startswith("DROP USER "):
        return drop_user(s, sql, n)
    if n.startswith("GRANT "):
        return grant(s, sql, n)
    if n.startswith("REVOKE "):
        return revoke(s, sql, n)
    m = re.match(r"CREATE (OR REPLACE )?(?:(?:NON)?EDITIONABLE )?(PROCEDURE|FUNCTION) ", n)
    if m:
        return create_procedure(s, sql, bool(m.group(1)), m.group(2))
    if re.match(r"CREATE (OR REPLACE )?(?:(?:NON)?EDITIONABLE )?(PACKAGE|TRIGGER|TYPE|VIEW|SYNONYM|INDEX|"
                r"TABLESPACE|ROLE|DIRECTORY|DATABASE LINK|PUBLIC|MATERIALIZED|PROFILE)", n):
        s.running_instance()
        raise PositionedError("ORA-03001", "unimplemented feature")
    if n.startswith("CREATE TABLE "):
        return create_table(s, sql)
    if n.startswith("CREATE SEQUENCE "):
        return create_sequence(s, sql, n)
    m = re.match(r"(DROP|TRUNCATE) (TABLE|SEQUENCE|PROCEDURE|FUNCTION) (\S+)", n)
    if m:
        return drop_object(s, sql, m.group(1), m.group(2))
    s.running_instance()
    head = n.split(" ", 1)[0]
    code = {"CREATE": ("ORA-00901", "invalid CREATE command"), "DROP": ("ORA-00950", "invalid DROP option"),
            "ALTER": ("ORA-00940", "invalid ALTER command")}.get(head, ("ORA-00900", "invalid SQL statement"))
    raise PositionedError(*code, pos=len(head) + 1)


# -- users ----------------------------------------------------------------------------

def create_user(s: DbSession, sql: str) -> Result:
    m = re.match(rf"\s*create\s+user\s+({IDENT})\s+identified\s+(?:by\s+(\"[^\"]*\"|\S+)|externally)(.*)$",
                 sql, re.I | re.S)
    if not m:
        raise PositionedError("ORA-00922", "missing or invalid option", pos=len(sql))
    name, password, rest = _name(m.group(1)), (m.group(2) or "").strip('"'), m.group(3).upper()
    db = writable(s)
    inst = db.instance
    with db.changing() as cf:
        side = db.sidecar()
        if not privileges.has(side, s.user, s.sysdba, "CREATE USER"):
            raise OraError("ORA-01031", "insufficient privileges")
        prefix = str(inst.param("common_user_prefix") or "C##").upper()
        if cf.doc.get("cdb"):
            if "CONTAINER=CURRENT" in rest.replace(" ", ""):
                raise OraError("ORA-65049", "creation of local user or role is not allowed in CDB$ROOT")
            if not name.startswith(prefix):
                raise PositionedError("ORA-65096", "invalid common user or role name",
                                      pos=sql.upper().find(name))
        if any(u["username"] == name for u in side.get("users", [])) or name in ROLES:
            raise PositionedError("ORA-01920", f"user name '{name}' conflicts with another user or role name",
                                  pos=sql.upper().find(name))
        ts = re.search(r"DEFAULT\s+TABLESPACE\s+(\w+)", rest)
        if ts and ts.group(1) not in cf.doc.get("tablespaces", []):
            raise OraError("ORA-00959", f"tablespace '{ts.group(1)}' does not exist")
        locked = re.search(r"ACCOUNT\s+LOCK", rest) is not None
        side.setdefault("users", []).append({
            "username": name, "account_status": "LOCKED" if locked else "OPEN",
            "common": "YES" if cf.doc.get("cdb") else "NO", "created": s.now(),
            "lock_date": s.now() if locked else None, "password_hash": password_hash(password),
            "default_tablespace": ts.group(1) if ts else "USERS"})
        db.save_sidecar(side)
    return _result("User created.")


def _user(side: dict, name: str, sql: str) -> dict:
    user = next((u for u in side.get("users", []) if u["username"] == name), None)
    if user is None:
        raise PositionedError("ORA-01918", f"user '{name}' does not exist", pos=sql.upper().find(name))
    return user


def alter_user(s: DbSession, sql: str) -> Result:
    m = re.match(rf"\s*alter\s+user\s+({IDENT})\s+(.*)$", sql, re.I | re.S)
    if not m:
        raise PositionedError("ORA-00922", "missing or invalid option", pos=len(sql))
    name, rest = _name(m.group(1)), m.group(2)
    db = writable(s)
    with db.changing():
        side = db.sidecar()
        user = _user(side, name, sql)
        if name != s.user and not privileges.has(side, s.user, s.sysdba, "ALTER USER"):
            raise OraError("ORA-01031", "insufficient privileges")
        pw = re.search(r"identified\s+by\s+(\"[^\"]*\"|\S+)", rest, re.I)
        if pw:
            user["password_hash"] = password_hash(pw.group(1).strip('"'))
        if re.search(r"account\s+lock", rest, re.I):
            user["account_status"], user["lock_date"] = "LOCKED", s.now()
        elif re.search(r"account\s+unlock", rest, re.I):
            user["account_status"] = "OPEN"
        db.save_sidecar(side)
    return _result("User altered.")


def drop_user(s: DbSession, sql: str, n: str) -> Result:
    m = re.match(rf"\s*drop\s+user\s+({IDENT})(\s+cascade)?\s*$", sql, re.I)
    if not m:
        raise PositionedError("ORA-00922", "missing or invalid option", pos=len(sql))
    name = _name(m.group(1))
    db = writable(s)
    with db.changing():
        side = db.sidecar()
        user = _user(side, name, sql)
        if name in ("SYS", "SYSTEM") or not privileges.has(side, s.user, s.sysdba, "DROP USER"):
            raise OraError("ORA-01031", "insufficient privileges")
        if _owned(side, name):
            if not m.group(2):
                raise OraError("ORA-01922", f"CASCADE must be specified to drop '{name}'")
            for kind in ("jobs", "programs", "schedules", "credentials", "procedures"):
                side[kind] = [o for o in side.get(kind, []) if o.get("owner") != name]
            for kind in ("tables", "sequences"):
                side[kind] = {k: v for k, v in side.get(kind, {}).items() if not k.startswith(name + ".")}
        side["users"].remove(user)
        side["grants"] = [g for g in side.get("grants", []) if g["grantee"] != name]
        db.save_sidecar(side)
    return _result("User dropped.")


# -- grants ---------------------------------------------------------------------------

def _split_grant(sql: str, word: str) -> tuple[list[str], str | None, list[str], bool]:
    m = re.match(rf"\s*(?:grant|revoke)\s+(.+?)(?:\s+on\s+(\S+))?\s+{word}\s+(.+?)(\s+with\s+(?:admin|grant)\s+"
                 rf"option)?\s*$", sql, re.I | re.S)
    if not m:
        raise PositionedError("ORA-00990", "missing or invalid privilege", pos=6)
    privs = [" ".join(p.split()).upper() for p in m.group(1).split(",")]
    grantees = [_name(g.strip()) for g in m.group(3).split(",")]
    return privs, m.group(2), grantees, bool(m.group(4))


def _grant_object(s: DbSession, side: dict, raw: str) -> tuple[str, str]:
    owner, name = _qualified(raw, s.user)
    if any(c["job_class_name"] == name for c in side.get("job_classes", [])) or name == "DEFAULT_JOB_CLASS":
        return f"SYS.{name}", "JOB CLASS"
    for kind, key, label in (("programs", "program_name", "PROGRAM"), ("jobs", "job_name", "JOB"),
                             ("credentials", "credential_name", "CREDENTIAL"),
                             ("schedules", "schedule_name", "SCHEDULE")):
        if any(o["owner"] == owner and o[key] == name for o in side.get(kind, [])):
            return f"{owner}.{name}", label
    if any(p["owner"] == owner and p["name"] == name for p in side.get("procedures", [])):
        return f"{owner}.{name}", "PROCEDURE"
    if f"{owner}.{name}" in side.get("tables", {}):
        return f"{owner}.{name}", "TABLE"
    raise OraError("ORA-00942", "table or view does not exist")


def grant(s: DbSession, sql: str, n: str) -> Result:
    privs, obj, grantees, admin = _split_grant(sql, "to")
    db = writable(s)
    with db.changing():
        side = db.sidecar()
        if not privileges.has(side, s.user, s.sysdba, "GRANT ANY PRIVILEGE"):
            raise OraError("ORA-01031", "insufficient privileges")
        users = {u["username"] for u in side.get("users", [])}
        for g in grantees:
            if g not in users and g not in ROLES:
                raise PositionedError("ORA-01917", f"user or role '{g}' does not exist", pos=sql.upper().rfind(g))
        target = _grant_object(s, side, obj) if obj else None
        for p in privs:
            if p not in ROLES and not p.startswith(PRIV_WORDS):
                raise PositionedError("ORA-00990", "missing or invalid privilege", pos=sql.upper().find(p))
        grants = side.setdefault("grants", [])
        for g in grantees:
            for p in privs:
                row = {"grantee": g, "privilege": p, "admin_option": admin}
                if target:
                    row.update(object=target[0], object_type=target[1])
                if not any(x["grantee"] == g and x["privilege"] == p and x.get("object") == row.get("object")
                           for x in grants):
                    grants.append(row)
        db.save_sidecar(side)
    return _result("Grant succeeded.")


def revoke(s: DbSession, sql: str, n: str) -> Result:
    privs, obj, grantees, _ = _split_grant(sql, "from")
    db = writable(s)
    with db.changing():
        side = db.sidecar()
        if not privileges.has(side, s.user, s.sysdba, "GRANT ANY PRIVILEGE"):
            raise OraError("ORA-01031", "insufficient privileges")
        target = _grant_object(s, side, obj)[0] if obj else None
        grants = side.setdefault("grants", [])
        for g in grantees:
            for p in privs:
                match = [x for x in grants if x["grantee"] == g and x["privilege"] == p and x.get("object") == target]
                if not match:
                    raise OraError("ORA-01952" if not obj else "ORA-01927",
                                   f"system privileges not granted to '{g}'" if not obj
                                   else "cannot REVOKE privileges you did not grant")
                grants.remove(match[0])
        db.save_sidecar(side)
    return _result("Revoke succeeded.")


# -- stored procedures -------------------------------------------------------------------

def create_procedure(s: DbSession, sql: str, replace: bool, kind: str) -> Result:
    from ..plsql.check import Checker, CompileError
    start = re.search(rf"\b{kind}\b", sql, re.I)
    source = sql[start.start():]
    header = re.match(rf"{kind}\s+((?:{IDENT})(?:\s*\.\s*(?:{IDENT}))?)", source, re.I)
    if header is None:
        raise PositionedError("ORA-00900", "invalid SQL statement")
    owner, name = _qualified(header.group(1), s.user)
    db = writable(s)
    errors: list[dict[str, Any]] = []
    try:
        decl = P.parse_subprogram(source)
        outer = {p.name: "var" for p in decl.params}
        if decl.block is not None:
            Checker(s).check_block(decl.block, outer)
    except P.PlsqlSyntaxError as exc:
        errors.append({"line": exc.line, "col": exc.col, "text": exc.lines[0]})
    except CompileError as exc:
        errors.append({"line": exc.line, "col": exc.col, "text": exc.lines[1]})
    with db.changing():
        side = db.sidecar()
        _user(side, owner, sql)
        privileges.require(side, s.user, s.sysdba, owner, "CREATE PROCEDURE", "CREATE ANY PROCEDURE")
        procs = side.setdefault("procedures", [])
        old = next((p for p in procs if p["owner"] == owner and p["name"] == name), None)
        if old is not None and not replace:
            raise OraError("ORA-00955", "name is already used by an existing object")
        if old is None and f"{owner}.{name}" in side.get("tables", {}):
            raise OraError("ORA-00955", "name is already used by an existing object")
        if old is not None:
            procs.remove(old)
        procs.append({"owner": owner, "name": name, "type": kind, "source": source.rstrip().rstrip("/"),
                      "status": "INVALID" if errors else "VALID", "errors": errors, "created": s.now()})
        db.save_sidecar(side)
    label = kind.capitalize()
    if errors:
        return _result(None, f"Warning: {label} created with compilation errors.")
    return _result(f"{label} created.")


# -- tables and sequences ------------------------------------------------------------------

def _columns(body: str) -> list[list[str]]:
    items, depth, cur = [], 0, ""
    for ch in body:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    cols = []
    for item in items:
        words = item.split()
        if not words or words[0].upper() in ("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
            continue
        m = re.match(r"\s*(\"[^\"]+\"|[A-Za-z][\w$#]*)\s+([A-Za-z][\w ]*?(?:\([^)]*\))?)(?=\s|$)", item)
        if not m:
            raise OraError("ORA-00902", "invalid datatype")
        ctype = " ".join(m.group(2).upper().split())
        base = ctype.split("(")[0].strip()
        if base not in ("NUMBER", "INTEGER", "INT", "FLOAT", "VARCHAR2", "VARCHAR", "CHAR", "NVARCHAR2", "DATE",
                        "CLOB", "BLOB", "TIMESTAMP", "RAW", "LONG", "NCLOB"):
            raise OraError("ORA-00902", "invalid datatype")
        cols.append([_name(m.group(1)), ctype])
    return cols


def create_table(s: DbSession, sql: str) -> Result:
    m = re.match(rf"\s*create\s+table\s+((?:{IDENT})(?:\s*\.\s*(?:{IDENT}))?)\s*\((.*)\)[^)]*$", sql, re.I | re.S)
    if not m:
        raise PositionedError("ORA-00922", "missing or invalid option", pos=len(sql))
    owner, name = _qualified(m.group(1), s.user)
    cols = _columns(m.group(2))
    db = writable(s)
    with db.changing():
        side = db.sidecar()
        _user(side, owner, sql)
        privileges.require(side, s.user, s.sysdba, owner, "CREATE TABLE", "CREATE ANY TABLE")
        if _object_exists(side, owner, name) or f"{owner}.{name}" in db.dictionary()["tables"]:
            raise OraError("ORA-00955", "name is already used by an existing object")
        side.setdefault("tables", {})[f"{owner}.{name}"] = {"cols": cols, "rows": []}
        db.save_sidecar(side)
    return _result("Table created.")


def create_sequence(s: DbSession, sql: str, n: str) -> Result:
    m = re.match(rf"\s*create\s+sequence\s+((?:{IDENT})(?:\s*\.\s*(?:{IDENT}))?)(.*)$", sql, re.I | re.S)
    if not m:
        raise PositionedError("ORA-00922", "missing or invalid option", pos=len(sql))
    owner, name = _qualified(m.group(1), s.user)
    start = re.search(r"START\s+WITH\s+(-?\d+)", m.group(2), re.I)
    inc = re.search(r"INCREMENT\s+BY\s+(-?\d+)", m.group(2), re.I)
    db = writable(s)
    with db.changing():
        side = db.sidecar()
        _user(side, owner, sql)
        privileges.require(side, s.user, s.sysdba, owner, "CREATE SEQUENCE", "CREATE ANY SEQUENCE")
        if _object_exists(side, owner, name):
            raise OraError("ORA-00955", "name is already used by an existing object")
        side.setdefault("sequences", {})[f"{owner}.{name}"] = {
            "next": int(start.group(1)) if start else 1, "increment": int(inc.group(1)) if inc else 1}
        db.save_sidecar(side)
    return _result("Sequence created.")


def drop_object(s: DbSession, sql: str, verb: str, kind: str) -> Result:
    m = re.match(rf"\s*(?:drop|truncate)\s+{kind}\s+((?:{IDENT})(?:\s*\.\s*(?:{IDENT}))?)", sql, re.I)
    owner, name = _qualified(m.group(1), s.user) if m else (s.user, "")
    db = writable(s)
    key = f"{owner}.{name}"
    with db.changing():
        side = db.sidecar()
        if kind == "TABLE":
            if key not in side.get("tables", {}):
                raise PositionedError("ORA-00942", "table or view does not exist", pos=sql.upper().find(name))
            if verb == "TRUNCATE":
                side["tables"][key]["rows"] = []
            else:
                del side["tables"][key]
        elif kind == "SEQUENCE":
            if key not in side.get("sequences", {}):
                raise OraError("ORA-02289", "sequence does not exist")
            del side["sequences"][key]
        else:
            procs = side.get("procedures", [])
            found = next((p for p in procs if p["owner"] == owner and p["name"] == name), None)
            if found is None:
                raise OraError("ORA-04043", f"object {name} does not exist")
            procs.remove(found)
        db.save_sidecar(side)
    noun = kind.capitalize()
    return _result(f"{noun} truncated." if verb == "TRUNCATE" else f"{noun} dropped.")
