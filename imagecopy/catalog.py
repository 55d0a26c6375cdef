"""The restore results catalog: one row per autorestore run of a database.

Every nightly restore test records what happened (database, start, finish,
success, how far the verified time was from the target, the snapshot, the
target time, whether blocks were validated, and the whole session log);
``report.py`` summarises it.  One small interface, :class:`Catalog`
(restorerecord.py), with two
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

The Oracle catalog's connect strings: see :mod:`imagecopy.catalog_oracle`.

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
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from .config import Configuration
from .errors import ConfigError
from .layout import tns_admin
from .restorerecord import (
    HISTORY_DAYS,
    LOG_COLUMN,
    ROW,
    Catalog,
    CatalogError,
    RestoreResult,
    from_row,
    local_naive,
    summarize,
    to_row,
)

log = logging.getLogger(__name__)

__all__ = ["Catalog", "CatalogError", "SqliteCatalog", "RestoreResult", "open_catalog", "summarize",
           "local_naive", "HISTORY_DAYS"]

CATALOG_FILE = "autorestore.db"
SQLITE_RETENTION_DAYS = 365  # default of [autorestore] autorestorecatalogretention for the SQLite catalog
RETENTION_KEY = "autorestorecatalogretention"
SQLITE_TIMEOUT = 60.0       # seconds a writer waits for another restore's transaction


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
        failed_step TEXT,
        UNIQUE (db_unique_name, start_time, success))""",
)
# Columns added since the first schema: a catalog file made before gets them in create().
SQLITE_ADDED = {"failed_step": "TEXT"}


def _iso(value: datetime | None) -> str | None:
    value = local_naive(value)
    return value.isoformat(timespec="seconds") if value is not None else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


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
            have = self._columns()
            for name, kind in SQLITE_ADDED.items():
                if name not in have:
                    self._db.execute(f"ALTER TABLE restoreaction ADD COLUMN {name} {kind}")
        except sqlite3.Error as exc:
            raise CatalogError(f"Restore catalog {self.path}: cannot create the schema: {exc}") from exc

    def _columns(self) -> set[str]:
        """The columns the file's table has (a read-only catalog of an older version may lack some)."""
        return {r[1] for r in self._db.execute("PRAGMA table_info(restoreaction)").fetchall()}

    def record(self, result: RestoreResult) -> None:
        row = {**to_row(result, _iso), LOG_COLUMN: result.log_contents}
        cutoff = self._cutoff()
        try:
            # IMMEDIATE takes the write lock up front, so two restores finishing together queue
            # on the busy timeout instead of one failing with "database is locked" mid-transaction.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    f"INSERT INTO restoreaction ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)}) "
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
        try:
            names = [c.name for c in ROW if c.name in self._columns()]
            sql = (f"SELECT {', '.join(names)}, {LOG_COLUMN if with_log else 'NULL'} FROM restoreaction"
                   + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY start_time, id")
            rows = self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise CatalogError(f"Restore catalog {self.path}: cannot read: {exc}") from exc
        return [from_row(dict(zip(names, r)), _from_iso, log_contents=r[-1]) for r in rows]

    def close(self) -> None:
        self._db.close()


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
    from .catalog_oracle import OracleCatalog  # python-oracledb only for an Oracle catalog

    home = config.get("oraclehome", "generic", default="")
    days = config.getint(RETENTION_KEY, "autorestore", default=HISTORY_DAYS, minimum=1)
    try:
        return OracleCatalog(value, tnsadmin=tns_admin(config), oraclehome=Path(home) if home else None,
                             retention_days=days)
    except ConfigError as exc:
        raise ConfigError(f"{config.path}: {exc}") from None
