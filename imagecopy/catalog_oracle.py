"""The restore results catalog in an Oracle schema: the old toolset's ``restoreaction`` table.

An existing catalog of the old toolset keeps working (same table, same
columns; its ``restorelob`` staging table is no longer needed because the
log is bound as a string).  The ``failed_step`` column is new: ``autorestore.py
--createcatalog`` adds it to an old table, and a table without it is still
written (without the step).

Accepted Oracle connect strings (``autorestorecatalog``):

``/@alias``
    External authentication with the Secure External Password Store: the
    wallet named in ``<tnsadmin>/sqlnet.ora`` (``[generic] tnsadmin``, the
    same one SQL*Plus and the old toolset's ``conn /@autorestore`` used)
    holds the login for ``alias``.  python-oracledb supports external
    authentication only in Thick mode, so this form loads the Oracle Client
    libraries of ``[generic] oraclehome`` (``<oraclehome>/lib``; else the
    system library path) with ``config_dir=<tnsadmin>`` and connects with
    ``externalauth=True``.  This is the recommended form: no password in
    the configuration file.
``user/password@dsn``
    A database login; ``dsn`` is an Easy Connect string
    (``host:port/service``) or a TNS alias from ``<tnsadmin>/tnsnames.ora``.
    Thin mode (no Oracle Client needed).  The password may be double-quoted
    (``user/"p@ss"@host/svc``); it is registered with the log scrubber and
    never appears in a message or a log.

Thick mode is one-way for a process (python-oracledb cannot go back to
Thin), which is harmless here: the catalog is the only python-oracledb user.

"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import ConfigError
from .logs import redact
from .restorerecord import (
    HISTORY_DAYS,
    LOG_COLUMN,
    ROW,
    Catalog,
    CatalogError,
    Column,
    RestoreResult,
    from_row,
    local_naive,
    to_row,
)

log = logging.getLogger(__name__)


ORACLE_TABLE = "RESTOREACTION"
ORACLE_SEQUENCE = "RESTOREACTION_SEQ"
ORACLE_EXISTS = {
    "table": "SELECT count(*) FROM user_tables WHERE table_name = :name",
    "sequence": "SELECT count(*) FROM user_sequences WHERE sequence_name = :name",
    "column": "SELECT count(*) FROM user_tab_columns WHERE table_name = :name AND column_name = :col",
}
ORACLE_CREATE = {
    "sequence": "CREATE SEQUENCE restoreaction_seq",
    # The old toolset's table and failed_step, so an existing catalog keeps working.
    "table": """CREATE TABLE restoreaction (
    id NUMBER NOT NULL PRIMARY KEY,
    db_unique_name VARCHAR2(100) NOT NULL,
    start_time DATE NOT NULL,
    finish_time DATE NOT NULL,
    success NUMBER(1) CHECK (success IN (0, 1)),
    logfile VARCHAR2(500),
    logfilecontents CLOB,
    verificationtimediffseconds NUMBER,
    snapid VARCHAR2(200),
    restore_target DATE,
    validated_corruption NUMBER(1) CHECK (validated_corruption IN (0, 1)),
    failed_step VARCHAR2(40),
    UNIQUE (db_unique_name, start_time, success)
)""",
}
# Columns newer than the old toolset's table: --createcatalog adds them to an old table.
ORACLE_ADDED = {"FAILED_STEP": "ALTER TABLE restoreaction ADD (failed_step VARCHAR2(40))"}
ORACLE_PURGE = "DELETE FROM restoreaction WHERE start_time < :cutoff"
ORA_NAME_IN_USE = 955        # ORA-00955: another creator won the race
ORA_UNIQUE_VIOLATED = 1      # ORA-00001: this run is already recorded
ORA_COLUMN_EXISTS = 1430     # ORA-01430: another creator added the column first


def _ora_code(exc: BaseException) -> int | None:
    """The ORA- number of a python-oracledb error (its first argument carries ``code``)."""
    first = exc.args[0] if exc.args else None
    code = getattr(first, "code", None)
    return code if isinstance(code, int) else None


@dataclass(frozen=True)
class ConnectSpec:
    """A parsed ``autorestorecatalog`` value (see the module docstring for the forms)."""

    dsn: str
    user: str | None = None
    password: str | None = None

    @property
    def external(self) -> bool:
        return self.user is None

    def describe(self) -> str:
        return f"/@{self.dsn}" if self.external else f"{self.user}@{self.dsn}"


def parse_connect_string(value: str) -> ConnectSpec:
    """Split ``/@alias`` or ``user/password@dsn``.

    :raises ConfigError: for any other shape (the message never repeats the password).
    """
    value = value.strip()
    cred, at, dsn = value.rpartition("@")
    dsn = dsn.strip()
    if not at or not dsn:
        raise ConfigError("[autorestore] autorestorecatalog: expected /@alias or user/password@dsn")
    if cred == "/":
        return ConnectSpec(dsn=dsn)
    user, slash, password = cred.partition("/")
    if len(password) >= 2 and password[0] == password[-1] == '"':
        password = password[1:-1]
    if not slash or not user or not password:
        raise ConfigError(f"[autorestore] autorestorecatalog: '{user or '?'}@{dsn}': expected /@alias "
                          "or user/password@dsn")
    return ConnectSpec(dsn=dsn, user=user, password=password)


def oracledb_connect(spec: ConnectSpec, tnsadmin: Path | None = None, oraclehome: Path | None = None) -> Any:
    """Open a python-oracledb connection for ``spec`` (Thick mode only for external authentication)."""
    try:
        import oracledb
    except ImportError as exc:
        raise CatalogError("The Oracle restore catalog needs python-oracledb (pip install oracledb)") from exc
    config_dir = str(tnsadmin) if tnsadmin else None
    try:
        if spec.external:
            if oracledb.is_thin_mode():
                lib_dir = None
                if oraclehome and any((Path(oraclehome) / "lib").glob("libclntsh.*")):
                    lib_dir = str(Path(oraclehome) / "lib")
                    # The client finds its message files through ORACLE_HOME.
                    os.environ.setdefault("ORACLE_HOME", str(oraclehome))
                oracledb.init_oracle_client(lib_dir=lib_dir, config_dir=config_dir)
            return oracledb.connect(dsn=spec.dsn, externalauth=True)
        return oracledb.connect(user=spec.user, password=spec.password, dsn=spec.dsn, config_dir=config_dir)
    except oracledb.Error as exc:
        hint = (" (external authentication needs the Oracle Client libraries of [generic] oraclehome "
                "and a wallet in <tnsadmin>/sqlnet.ora)") if spec.external else ""
        raise CatalogError(f"Cannot connect to the restore catalog {spec.describe()}: {exc}{hint}") from exc


class OracleCatalog(Catalog):
    """The catalog in an Oracle schema: the old toolset's ``restoreaction`` table.

    ``connect`` (for tests) replaces python-oracledb: a callable returning a
    DB-API connection.  The connection is opened on first use.
    """

    def __init__(self, connect_string: str, *, tnsadmin: Path | None = None, oraclehome: Path | None = None,
                 connect: Callable[[], Any] | None = None, retention_days: int | None = HISTORY_DAYS):
        self.spec = parse_connect_string(connect_string)
        redact(self.spec.password)
        self.retention_days = retention_days
        self._connect = connect or (lambda: oracledb_connect(self.spec, tnsadmin, oraclehome))
        self._conn: Any = None
        self._columns: list[Column] | None = None

    def describe(self) -> str:
        return f"Oracle catalog {self.spec.describe()}"

    def __repr__(self) -> str:
        return f"OracleCatalog({self.spec.describe()!r})"

    @property
    def connection(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _execute(self, sql: str, binds: Mapping[str, Any] | None = None) -> Any:
        cursor = self.connection.cursor()
        try:
            if binds:
                cursor.execute(sql, dict(binds))
            else:
                cursor.execute(sql)
        except Exception:
            cursor.close()
            raise
        return cursor

    def _fail(self, what: str, exc: Exception) -> CatalogError:
        return CatalogError(f"{self.describe()}: {what}: {exc}")

    def create(self) -> None:
        names = {"table": ORACLE_TABLE, "sequence": ORACLE_SEQUENCE}
        try:
            for kind in ("sequence", "table"):
                cursor = self._execute(ORACLE_EXISTS[kind], {"name": names[kind]})
                (count,) = cursor.fetchone()
                cursor.close()
                if count:
                    log.debug("Restore catalog %s %s exists", kind, names[kind])
                    continue
                try:
                    self._execute(ORACLE_CREATE[kind]).close()
                    log.info("Created restore catalog %s %s", kind, names[kind])
                except Exception as exc:
                    if _ora_code(exc) != ORA_NAME_IN_USE:
                        raise
            for column, alter in ORACLE_ADDED.items():
                if self._has_column(column):
                    continue
                try:
                    self._execute(alter).close()
                    log.info("Added column %s to the restore catalog table", column)
                except Exception as exc:
                    if _ora_code(exc) != ORA_COLUMN_EXISTS:
                        raise
            self._columns = None
        except CatalogError:
            raise
        except Exception as exc:
            raise self._fail("cannot create the catalog", exc) from exc

    def _has_column(self, column: str) -> bool:
        cursor = self._execute(ORACLE_EXISTS["column"], {"name": ORACLE_TABLE, "col": column})
        row = cursor.fetchone()
        cursor.close()
        return bool(row and row[0])

    def columns(self) -> list[Column]:
        """The record's columns this catalog's table has (an old table lacks failed_step), asked once."""
        if self._columns is None:
            self._columns = [c for c in ROW if c.name.upper() not in ORACLE_ADDED or self._has_column(c.name.upper())]
        return self._columns

    def record(self, result: RestoreResult) -> None:
        try:
            # A str binds straight into the CLOB column (python-oracledb handles up to 1 GB this way).
            binds = {**to_row(result, local_naive, self.columns()), LOG_COLUMN: result.log_contents}
            insert = (f"INSERT INTO restoreaction (id, {', '.join(binds)}) "
                      f"VALUES (restoreaction_seq.nextval, {', '.join(':' + c for c in binds)})")
            try:
                self._execute(insert, binds).close()
            except Exception as exc:
                if _ora_code(exc) != ORA_UNIQUE_VIOLATED:
                    raise
                log.debug("Restore result of %s at %s is already recorded", result.db_unique_name,
                          binds["start_time"])
            cutoff = self._cutoff()
            if cutoff is not None:
                self._execute(ORACLE_PURGE, {"cutoff": cutoff}).close()
            self.connection.commit()
        except Exception as exc:
            try:
                self.connection.rollback()
            except Exception:
                pass    # the first error is the one worth reporting
            raise self._fail("cannot record the result", exc) from exc

    def history(self, db: str | None = None, *, since: datetime | None = None,
                with_log: bool = True) -> list[RestoreResult]:
        where, binds = [], {}
        if db is not None:
            where.append("db_unique_name = :db")
            binds["db"] = db
        if since is not None:
            where.append("start_time >= :since")
            binds["since"] = local_naive(since)
        try:
            names = [c.name for c in self.columns()]
            sql = (f"SELECT {', '.join(names)}, {LOG_COLUMN if with_log else 'NULL'} FROM restoreaction"
                   + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY start_time, id")
            cursor = self._execute(sql, binds)
            rows = cursor.fetchall()
            cursor.close()
        except Exception as exc:
            raise self._fail("cannot read", exc) from exc
        return [from_row(dict(zip(names, r)), lambda v: v, log_contents=_text(r[-1])) for r in rows]

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None




def _text(value: Any) -> str | None:
    """A CLOB as a string (python-oracledb returns LOB objects unless told otherwise)."""
    if value is None or isinstance(value, str):
        return value
    return value.read() if hasattr(value, "read") else str(value)


