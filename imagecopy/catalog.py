"""The restore results catalog: one row per autorestore run of a database.

Every nightly restore test records what happened (database, start, finish,
success, how far the verified time was from the target, the snapshot, the
target time, whether blocks were validated, and the whole session log);
``report.py`` summarises it.  One small interface, :class:`Catalog`, with two
implementations chosen by ``[autorestore] autorestorecatalog``
(:func:`open_catalog`):

* empty (the default): :class:`SqliteCatalog`, the file ``autorestore.db``
  in ``autorestorelogdir``.  WAL journal and a busy timeout, so restores
  running in parallel can all write; the schema is created when missing.
* anything else: :class:`OracleCatalog`, the old toolset's ``restoreaction``
  table in an Oracle schema, through python-oracledb.  An existing catalog of
  the old toolset keeps working (same table, same columns; its
  ``restorelob`` staging table is no longer needed because the log is bound
  as a string).

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

Timestamps are the restore host's local wall-clock time without a zone, as
the old catalog's Oracle ``DATE`` columns held them (zone-aware datetimes
are converted to local time first), at one-second precision.  Rows older
than ``[autorestore] autorestorecatalogretention`` days are deleted when a new
one is recorded: 365 by default for SQLite (a year of nightly results, a
few hundred kilobytes of log each); an Oracle catalog keeps the old catalog's
daily ``LOG_RETENTION`` job's :data:`HISTORY_DAYS` days unless the key is set.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote

from .config import Configuration
from .errors import BackupError, ConfigError
from .layout import tns_admin
from .logs import redact

log = logging.getLogger(__name__)

CATALOG_FILE = "autorestore.db"
HISTORY_DAYS = 100          # the old catalog kept (and the old report averaged over) 100 days
SQLITE_RETENTION_DAYS = 365  # default of [autorestore] autorestorecatalogretention for the SQLite catalog
RETENTION_KEY = "autorestorecatalogretention"
SQLITE_TIMEOUT = 60.0       # seconds a writer waits for another restore's transaction


class CatalogError(BackupError):
    """The catalog cannot be opened, created, written or read."""


@dataclass
class RestoreResult:
    """One restore test, with the old catalog's columns."""

    db_unique_name: str
    start_time: datetime
    finish_time: datetime
    success: bool
    verification_diff_seconds: float | None = None   # target time minus verified time
    snapid: str | None = None
    restore_target: datetime | None = None
    validated: bool = False
    logfile: str | None = None                        # the session log's name
    log_contents: str | None = None                   # the session log itself

    @property
    def duration_seconds(self) -> float:
        return (self.finish_time - self.start_time).total_seconds()


def local_naive(value: datetime | None) -> datetime | None:
    """``value`` as local wall-clock time without a zone, whole seconds (what the catalog stores)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone().replace(tzinfo=None)
    return value.replace(microsecond=0)


def summarize(results: Iterable[RestoreResult], now: datetime | None = None,
              days: int = HISTORY_DAYS) -> dict[str, Any]:
    """The report's figures for one database's results of the last ``days`` days.

    ``last_success``/``last_fail``/``last_validated`` are start times (a
    validation counts only on a successful restore); ``avg_diff_seconds``
    averages the verification difference of successful restores;
    ``avg_restore_minutes`` averages successful restores *without*
    validation, so the occasional hours-long validation does not hide a
    slowly growing restore time.  Values are None when nothing qualifies.
    """
    cutoff = local_naive(now or datetime.now()) - timedelta(days=days)
    recent = [r for r in results if local_naive(r.start_time) >= cutoff]

    def latest(rows: list[RestoreResult]) -> datetime | None:
        return max((local_naive(r.start_time) for r in rows), default=None)

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    good = [r for r in recent if r.success]
    return {
        "last_success": latest(good),
        "last_fail": latest([r for r in recent if not r.success]),
        "last_validated": latest([r for r in good if r.validated]),
        "avg_diff_seconds": mean([r.verification_diff_seconds for r in good
                                  if r.verification_diff_seconds is not None]),
        "avg_restore_minutes": mean([r.duration_seconds / 60 for r in good if not r.validated]),
    }


class Catalog(ABC):
    """Where restore results are kept.  Usable as a context manager (closes on exit)."""

    retention_days: int | None = HISTORY_DAYS

    @abstractmethod
    def create(self) -> None:
        """Create the schema; doing it again changes nothing."""

    @abstractmethod
    def record(self, result: RestoreResult) -> None:
        """Store one result (recording the same run twice keeps one row) and drop expired rows."""

    @abstractmethod
    def history(self, db: str | None = None, *, since: datetime | None = None,
                with_log: bool = True) -> list[RestoreResult]:
        """Results oldest first, of ``db`` (or all) started at or after ``since``.

        ``with_log=False`` leaves ``log_contents`` out (None): summaries need
        no multi-megabyte logs.
        """

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def describe(self) -> str:
        """Where the catalog is, for messages (never with a password)."""
        return type(self).__name__

    def summary(self, db: str, now: datetime | None = None) -> dict[str, Any]:
        """:func:`summarize` over ``db``'s results of the last :data:`HISTORY_DAYS` days."""
        now = local_naive(now or datetime.now())
        rows = self.history(db, since=now - timedelta(days=HISTORY_DAYS), with_log=False)
        return summarize(rows, now)

    def _cutoff(self) -> datetime | None:
        if self.retention_days is None:
            return None
        return local_naive(datetime.now()) - timedelta(days=self.retention_days)

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- SQLite

SQLITE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS restoreaction (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        db_unique_name TEXT NOT NULL,
        start_time TEXT NOT NULL,
        finish_time TEXT NOT NULL,
        success INTEGER NOT NULL CHECK (success IN (0, 1)),
        logfile TEXT,
        logfilecontents TEXT,
        verificationtimediffseconds REAL,
        snapid TEXT,
        restore_target TEXT,
        validated_corruption INTEGER NOT NULL CHECK (validated_corruption IN (0, 1)),
        UNIQUE (db_unique_name, start_time, success))""",
)

COLUMNS = ("db_unique_name", "start_time", "finish_time", "success", "verificationtimediffseconds", "snapid",
           "restore_target", "validated_corruption", "logfile")


def _iso(value: datetime | None) -> str | None:
    value = local_naive(value)
    return value.isoformat(timespec="seconds") if value is not None else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _text(value: Any) -> str | None:
    """A CLOB as a string (python-oracledb returns LOB objects unless told otherwise)."""
    if value is None or isinstance(value, str):
        return value
    return value.read() if hasattr(value, "read") else str(value)


class SqliteCatalog(Catalog):
    """The embedded catalog: one SQLite file shared by every restore on the host.

    ``readonly`` (for report.py) never creates the file or the schema, and
    fails with :class:`CatalogError` when the file does not exist.
    """

    def __init__(self, path: Path | str, *, readonly: bool = False, timeout: float = SQLITE_TIMEOUT,
                 retention_days: int | None = HISTORY_DAYS):
        self.path = Path(path)
        self.readonly = readonly
        self.retention_days = retention_days
        try:
            if readonly:
                if not self.path.is_file():
                    raise CatalogError(f"Restore catalog {self.path} does not exist (no restore test recorded here)")
                self._db = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True, timeout=timeout,
                                           isolation_level=None)
            else:
                self._db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            # The connect timeout is SQLite's busy timeout; say so explicitly for readers of the schema.
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if not readonly:
                # WAL: readers never block the writer, and a writer waits (busy timeout) instead of failing.
                # Switching a new file to WAL takes an exclusive lock for which SQLite does not always
                # call the busy handler (two parallel restores opening a fresh catalog): retry it.
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        self._db.execute("PRAGMA journal_mode = WAL")
                        break
                    except sqlite3.OperationalError as exc:
                        if "locked" not in str(exc) or time.monotonic() > deadline:
                            raise
                        time.sleep(0.05)
                self.create()
        except sqlite3.Error as exc:
            raise CatalogError(f"Restore catalog {self.path}: {exc}") from exc

    def describe(self) -> str:
        return f"SQLite catalog {self.path}"

    def create(self) -> None:
        try:
            for statement in SQLITE_SCHEMA:
                self._db.execute(statement)
            self._db.execute("CREATE INDEX IF NOT EXISTS restoreaction_db_start "
                             "ON restoreaction (db_unique_name, start_time)")
        except sqlite3.Error as exc:
            raise CatalogError(f"Restore catalog {self.path}: cannot create the schema: {exc}") from exc

    def record(self, result: RestoreResult) -> None:
        row = (result.db_unique_name, _iso(result.start_time), _iso(result.finish_time), int(bool(result.success)),
               result.verification_diff_seconds, result.snapid, _iso(result.restore_target),
               int(bool(result.validated)), result.logfile, result.log_contents)
        cutoff = self._cutoff()
        try:
            # IMMEDIATE takes the write lock up front, so two restores finishing together queue
            # on the busy timeout instead of one failing with "database is locked" mid-transaction.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    f"INSERT INTO restoreaction ({', '.join(COLUMNS)}, logfilecontents) "
                    f"VALUES ({', '.join('?' * (len(COLUMNS) + 1))}) "
                    "ON CONFLICT (db_unique_name, start_time, success) DO NOTHING", row)
                if cutoff is not None:
                    self._db.execute("DELETE FROM restoreaction WHERE start_time < ?", (_iso(cutoff),))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise CatalogError(f"Restore catalog {self.path}: cannot record the result: {exc}") from exc

    def history(self, db: str | None = None, *, since: datetime | None = None,
                with_log: bool = True) -> list[RestoreResult]:
        where, args = [], []
        if db is not None:
            where.append("db_unique_name = ?")
            args.append(db)
        if since is not None:
            where.append("start_time >= ?")
            args.append(_iso(since))
        sql = (f"SELECT {', '.join(COLUMNS)}, {'logfilecontents' if with_log else 'NULL'} FROM restoreaction"
               + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY start_time, id")
        try:
            rows = self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise CatalogError(f"Restore catalog {self.path}: cannot read: {exc}") from exc
        return [RestoreResult(db_unique_name=r[0], start_time=_from_iso(r[1]), finish_time=_from_iso(r[2]),
                              success=bool(r[3]), verification_diff_seconds=r[4], snapid=r[5],
                              restore_target=_from_iso(r[6]), validated=bool(r[7]), logfile=r[8],
                              log_contents=r[9])
                for r in rows]

    def close(self) -> None:
        self._db.close()


# --------------------------------------------------------------------------- Oracle

ORACLE_TABLE = "RESTOREACTION"
ORACLE_SEQUENCE = "RESTOREACTION_SEQ"
ORACLE_EXISTS = {
    "table": "SELECT count(*) FROM user_tables WHERE table_name = :name",
    "sequence": "SELECT count(*) FROM user_sequences WHERE sequence_name = :name",
}
ORACLE_CREATE = {
    "sequence": "CREATE SEQUENCE restoreaction_seq",
    # The old toolset's table, unchanged, so an existing catalog keeps working.
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
    UNIQUE (db_unique_name, start_time, success)
)""",
}
ORACLE_INSERT = (
    "INSERT INTO restoreaction (id, db_unique_name, start_time, finish_time, success, logfile, logfilecontents, "
    "verificationtimediffseconds, snapid, restore_target, validated_corruption) "
    "VALUES (restoreaction_seq.nextval, :db_unique_name, :start_time, :finish_time, :success, :logfile, "
    ":logfilecontents, :diff, :snapid, :restore_target, :validated)"
)
ORACLE_PURGE = "DELETE FROM restoreaction WHERE start_time < :cutoff"
ORA_NAME_IN_USE = 955        # ORA-00955: another creator won the race
ORA_UNIQUE_VIOLATED = 1      # ORA-00001: this run is already recorded


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
        except CatalogError:
            raise
        except Exception as exc:
            raise self._fail("cannot create the catalog", exc) from exc

    def record(self, result: RestoreResult) -> None:
        binds = {
            "db_unique_name": result.db_unique_name,
            "start_time": local_naive(result.start_time),
            "finish_time": local_naive(result.finish_time),
            "success": int(bool(result.success)),
            "logfile": result.logfile,
            # A str binds straight into the CLOB column (python-oracledb handles up to 1 GB this way).
            "logfilecontents": result.log_contents,
            "diff": result.verification_diff_seconds,
            "snapid": result.snapid,
            "restore_target": local_naive(result.restore_target),
            "validated": int(bool(result.validated)),
        }
        try:
            try:
                self._execute(ORACLE_INSERT, binds).close()
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
        sql = (f"SELECT {', '.join(COLUMNS)}, {'logfilecontents' if with_log else 'NULL'} FROM restoreaction"
               + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY start_time, id")
        try:
            cursor = self._execute(sql, binds)
            rows = cursor.fetchall()
            cursor.close()
        except Exception as exc:
            raise self._fail("cannot read", exc) from exc
        return [RestoreResult(db_unique_name=r[0], start_time=r[1], finish_time=r[2], success=bool(r[3]),
                              verification_diff_seconds=None if r[4] is None else float(r[4]), snapid=r[5],
                              restore_target=r[6], validated=bool(r[7]), logfile=r[8], log_contents=_text(r[9]))
                for r in rows]

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


# --------------------------------------------------------------------------- factory

def open_catalog(config: Configuration, *, readonly: bool = False) -> Catalog:
    """The catalog ``[autorestore] autorestorecatalog`` names (empty: SQLite in ``autorestorelogdir``).

    ``readonly`` (report.py) does not create a missing SQLite file.  An Oracle
    catalog connects on first use.

    :raises ConfigError: a missing log directory setting or a malformed connect string.
    :raises CatalogError: the SQLite file cannot be opened.
    """
    value = config.get("autorestorecatalog", "autorestore", default="").strip()
    if not value:
        logdir = Path(config.get("autorestorelogdir", "autorestore"))
        days = config.getint(RETENTION_KEY, "autorestore", default=SQLITE_RETENTION_DAYS, minimum=1)
        return SqliteCatalog(logdir / CATALOG_FILE, readonly=readonly, retention_days=days)
    home = config.get("oraclehome", "generic", default="")
    days = config.getint(RETENTION_KEY, "autorestore", default=HISTORY_DAYS, minimum=1)
    try:
        return OracleCatalog(value, tnsadmin=tns_admin(config), oraclehome=Path(home) if home else None,
                             retention_days=days)
    except ConfigError as exc:
        raise ConfigError(f"{config.path}: {exc}") from None
