"""A database session: who is connected to which instance, NLS settings, DBMS_OUTPUT.

The instance is re-read from the state directory for every statement, since
other simulated processes (rman, other sqlplus sessions) change it.
"""
from __future__ import annotations

import getpass
import socket
from pathlib import Path

from .. import clock
from ..database import Database
from ..home import state_dir
from ..instance import Instance, OraError
from ..standby import deliver_due
from . import values as V
from . import views


class SP2Error(Exception):
    """A SQL*Plus client error (SP2-nnnn); ``whenever sqlerror`` ignores these."""

    def __init__(self, *lines: str):
        super().__init__(lines[0])
        self.lines = list(lines)


def not_connected() -> SP2Error:
    return SP2Error("SP2-0640: Not connected")


class DbSession:
    """The connection and session state SQL and PL/SQL run in."""

    def __init__(self, home: Path, env: dict[str, str]):
        self.home = Path(home)
        self.state = state_dir(self.home)
        self.env = env
        self.sid: str | None = None
        self.user = ""
        self.sysdba = False
        self.nls = {"NLS_DATE_FORMAT": env.get("NLS_DATE_FORMAT") or V.DEFAULT_DATE_FORMAT,
                    "NLS_TIMESTAMP_FORMAT": env.get("NLS_TIMESTAMP_FORMAT") or V.DEFAULT_TS_FORMAT}
        self.dbms_output: list[str] = []
        self.dbms_output_partial = ""
        self.dbms_output_enabled = False
        self.seq_current: dict[str, int] = {}
        self._now: float | None = None

    # -- connection ---------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.sid is not None

    def connect(self, sid: str, user: str, sysdba: bool) -> None:
        self.sid, self.user, self.sysdba = sid, user.upper(), sysdba
        self.seq_current = {}

    def disconnect(self) -> None:
        self.sid, self.user, self.sysdba = None, "", False

    def instance(self) -> Instance:
        if self.sid is None:
            raise not_connected()
        return Instance(self.state, self.sid)

    def running_instance(self) -> Instance:
        inst = self.instance()
        if inst.status == "idle":
            raise OraError("ORA-01034", "ORACLE not available", "ORA-27101: shared memory realm does not exist")
        return inst

    def database(self) -> Database:
        return Database(self.running_instance())

    def source(self) -> views.Source:
        return views.Source(self.running_instance(), self.user, self.sysdba)

    # -- what SQL functions ask for ---------------------------------------------------
    @property
    def fn(self) -> DbSession:
        return self

    @property
    def date_format(self) -> str:
        return self.nls["NLS_DATE_FORMAT"]

    @property
    def ts_format(self) -> str:
        return self.nls["NLS_TIMESTAMP_FORMAT"]

    def begin_statement(self) -> None:
        """SYSDATE is fixed for the length of one statement; redo shipped to a standby arrives between statements."""
        self._now = None
        if self.sid is not None:
            deliver_due(self.state, self.sid)

    def now(self) -> float:
        if self._now is None:
            self._now = clock.now(self.state)
        return self._now

    def sysdate(self) -> str:
        return V.from_epoch(self.now())

    def systimestamp(self) -> str:
        return V.from_epoch(self.now(), timestamp=True)

    def sys_context(self, namespace: str, key: str) -> str | None:
        if namespace != "USERENV":
            return None
        inst = self.running_instance()
        cdb = str(inst.param("enable_pluggable_database") or "FALSE").upper() == "TRUE"
        db_name = str(inst.param("db_name") or "")
        host = inst.doc.get("host") or socket.gethostname().split(".")[0]
        known = {
            "CURRENT_USER": self.user, "SESSION_USER": self.user, "CURRENT_SCHEMA": self.user,
            "DB_NAME": db_name, "DB_UNIQUE_NAME": str(inst.param("db_unique_name") or db_name),
            "INSTANCE_NAME": inst.sid, "INSTANCE": str(int(inst.param("instance_number") or 0) or 1),
            "SERVER_HOST": host, "HOST": host, "CDB_NAME": db_name if cdb else None,
            "CON_NAME": "CDB$ROOT" if cdb else db_name.upper(), "CON_ID": "1" if cdb else "0",
            "ISDBA": "TRUE" if self.sysdba else "FALSE", "OS_USER": getpass.getuser(), "TERMINAL": "pts/0",
            "MODULE": "SQL*Plus", "LANGUAGE": "AMERICAN_AMERICA.AL32UTF8", "SID": "1",
            "NLS_DATE_FORMAT": self.date_format, "DATABASE_ROLE": "PRIMARY", "DB_DOMAIN": None,
            "SERVICE_NAME": str(inst.param("db_unique_name") or db_name), "IP_ADDRESS": None,
            "AUTHENTICATED_IDENTITY": self.user, "AUTHENTICATION_METHOD": "OS" if self.sysdba else "PASSWORD",
        }
        if key not in known:
            raise OraError("ORA-02003", "invalid USERENV parameter")
        return known[key]

    def sequence(self, key: str, op: str, src: views.Source) -> int:
        """NEXTVAL / CURRVAL of a sequence kept in the sidecar; the caller saves the sidecar."""
        seqs = src.sidecar.get("sequences", {})
        if key not in seqs:
            raise OraError("ORA-02289", "sequence does not exist")
        if op == "CURRVAL":
            if key not in self.seq_current:
                raise OraError("ORA-08002", f"sequence {key.split('.')[-1]}.CURRVAL is not yet defined in this "
                                            "session")
            return self.seq_current[key]
        seq = seqs[key]
        value = seq["next"]
        seq["next"] = value + seq.get("increment", 1)
        self.seq_current[key] = value
        return value
