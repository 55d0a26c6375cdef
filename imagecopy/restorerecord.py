"""One restore, as the engine fills it in and as the catalog keeps it: :class:`RestoreResult`.

The restore engine (restorecommon.py) creates one record when a restore
starts and fills it in as it goes (snapshot, target, clone, the step running,
the verified time), so a caller that records it in a ``finally`` records what
was known when a step failed, and which step.  autorestore.py and restore.py
record that same object; both catalogs (SQLite, Oracle) turn it into a row
and back through the one column table :data:`ROW`.  Adding a recorded fact is
one field here and one line in :data:`ROW` (and the column in both schemas).

Where it is kept is :class:`Catalog`, the interface both catalogs implement;
it lives here, not in catalog.py, so that catalog_oracle.py implements it
without importing catalog.py, whose :func:`~imagecopy.catalog.open_catalog`
imports catalog_oracle.py (no import cycle).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

from .errors import BackupError

HISTORY_DAYS = 100          # the old catalog kept (and the old report averaged over) 100 days


@dataclass
class RestoreResult:
    """One restore of one database: what the catalog stores, and what the engine knew on the way."""

    db_unique_name: str
    start_time: datetime
    finish_time: datetime | None = None               # None while the restore runs
    success: bool = False
    verification_diff_seconds: float | None = None   # target time minus verified time
    snapid: str | None = None
    restore_target: datetime | None = None
    validated: bool = False
    logfile: str | None = None                        # the session log's name
    log_contents: str | None = None                   # the session log itself
    step: str | None = None                           # the step running, or the one that failed
    # Known on the way, not stored:
    clone: str | None = None
    verified: datetime | None = None
    error: str | None = None
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def duration_seconds(self) -> float:
        return ((self.finish_time or datetime.now()) - self.start_time).total_seconds()

    @property
    def failed_step(self) -> str | None:
        """The step a failed restore stopped at (None for a success)."""
        return None if self.success else self.step

    def fail(self, message: str) -> str:
        """Record a failure of the current step; returns the line that says so."""
        self.success = False
        self.error = message
        return f"Restore failed{f' at step {self.step}' if self.step else ''}: {message}"


@dataclass(frozen=True)
class Column:
    """One catalog column and the record's value it holds."""

    name: str       # the column, the same in both catalogs
    attr: str       # the RestoreResult attribute
    kind: str       # text, time, flag (0/1) or number


# The stored columns, in the old catalog's order; logfilecontents (the whole log, a CLOB) is
# separate because summaries read every column but that one.  failed_step is new: an old
# Oracle catalog without it still works (see catalog_oracle.py).
ROW: tuple[Column, ...] = (
    Column("db_unique_name", "db_unique_name", "text"),
    Column("start_time", "start_time", "time"),
    Column("finish_time", "finish_time", "time"),
    Column("success", "success", "flag"),
    Column("verificationtimediffseconds", "verification_diff_seconds", "number"),
    Column("snapid", "snapid", "text"),
    Column("restore_target", "restore_target", "time"),
    Column("validated_corruption", "validated", "flag"),
    Column("logfile", "logfile", "text"),
    Column("failed_step", "failed_step", "text"),
)
LOG_COLUMN = "logfilecontents"


def to_row(result: RestoreResult, time: Callable[[datetime | None], Any],
           columns: Iterable[Column] = ROW) -> dict[str, Any]:
    """Column → value for ``result``; ``time`` converts datetimes to what the catalog stores."""
    out: dict[str, Any] = {}
    for c in columns:
        value = getattr(result, c.attr)
        if c.name == "finish_time" and value is None:
            value = datetime.now()
        out[c.name] = time(value) if c.kind == "time" else int(bool(value)) if c.kind == "flag" else value
    return out


def from_row(values: Mapping[str, Any], time: Callable[[Any], datetime | None],
             log_contents: str | None = None) -> RestoreResult:
    """The record of one catalog row (``time`` converts the stored times back)."""
    kw: dict[str, Any] = {}
    for c in ROW:
        if c.name not in values:
            continue                # an old catalog without a newer column
        value = values[c.name]
        if c.kind == "time":
            value = time(value)
        elif c.kind == "flag":
            value = bool(value)
        elif c.kind == "number" and value is not None:
            value = float(value)
        kw["step" if c.attr == "failed_step" else c.attr] = value
    return RestoreResult(**kw, log_contents=log_contents)


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


# --------------------------------------------------------------------------- where it is kept

class CatalogError(BackupError):
    """The catalog cannot be opened, created, written or read."""


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
