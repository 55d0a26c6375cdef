"""System privileges of users created through SQL (SYS and SYSDBA sessions may do anything).

Enough of Oracle's model to fail where the real database would: a user needs
CREATE SESSION to log in, CREATE TABLE / SEQUENCE / PROCEDURE / JOB for its own
objects and the ANY variants for other schemas (ORA-01031, or ORA-27486 for
the scheduler).  Roles expand to the privileges they carry.
"""
from __future__ import annotations

from ..instance import OraError

ROLE_PRIVILEGES = {
    "CONNECT": {"CREATE SESSION"},
    "RESOURCE": {"CREATE TABLE", "CREATE SEQUENCE", "CREATE PROCEDURE", "CREATE TRIGGER", "CREATE TYPE"},
    "RECOVERY_CATALOG_OWNER": {"CREATE SESSION", "CREATE TABLE", "CREATE SEQUENCE", "CREATE PROCEDURE"},
    "SCHEDULER_ADMIN": {"CREATE JOB", "CREATE ANY JOB", "CREATE EXTERNAL JOB", "MANAGE SCHEDULER"},
}


def granted(side: dict, user: str) -> set[str]:
    privs = {g["privilege"].upper() for g in side.get("grants", [])
             if g.get("grantee") == user and not g.get("object")}
    for role in list(privs):
        privs |= ROLE_PRIVILEGES.get(role, set())
    return privs


def has(side: dict, user: str, sysdba: bool, *needed: str) -> bool:
    if sysdba or user == "SYS":
        return True
    privs = granted(side, user)
    return "DBA" in privs or any(p in privs for p in needed)


def require(side: dict, user: str, sysdba: bool, owner: str, own: str, other: str,
            code: str = "ORA-01031") -> None:
    """``own`` privilege for objects in the user's schema, ``other`` for anybody else's."""
    needed = (own, other) if owner == user else (other,)
    if not has(side, user, sysdba, *needed):
        raise OraError(code, "insufficient privileges")


def may_log_in(side: dict, user: dict) -> bool:
    """Users created through SQL need CREATE SESSION; the simulator's built-in users just log in."""
    if "created" not in user:
        return True
    return has(side, user["username"], False, "CREATE SESSION")
