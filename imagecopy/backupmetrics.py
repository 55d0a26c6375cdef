"""The daily backup's results as Prometheus metrics (``[generic] backupmetricsfile``).

A textfile for node_exporter, written atomically and merged per database
through :mod:`imagecopy.promfile`, as the restore test's.  Every
``imagecopywithsnap`` run updates its database's series, successful or not:
monitoring alerts on a backup that failed, stopped running, or ran but left
a backup that would not restore (``check_failures``), and sees the snapshot
history the storage reports.

Series (label ``database``), all gauges:

* ``oib_backup_last_success_timestamp_seconds`` end of the last successful run
  (kept from the file when this run failed);
* ``oib_backup_last_run_timestamp_seconds`` end of the last run;
* ``oib_backup_last_run_success`` 1 or 0;
* ``oib_backup_duration_seconds`` of the last run;
* ``oib_backup_check_failures`` problems the run's own checks found (see
  :mod:`imagecopy.invariants`; absent when the run did not get that far);
* ``oib_backup_archivelog_gaps`` redo threads of the snapshot the run took
  whose archivelogs do not reach from the copies' checkpoint to the
  recovery target (a gap, a file missing, unreadable or resized; see
  :mod:`imagecopy.continuity`); absent when it could not be checked;
* ``oib_backup_snapshots``, ``oib_backup_newest_snapshot_timestamp_seconds``,
  ``oib_backup_oldest_snapshot_timestamp_seconds``,
  ``oib_backup_newest_snapshot_unique_bytes``: from the storage's listing
  after retention (absent when the storage could not be asked, or cannot
  tell the unique space).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from . import promfile
from .promfile import Labels, Series

PREFIX = "oib_backup_"
LAST_SUCCESS = PREFIX + "last_success_timestamp_seconds"
LAST_RUN = PREFIX + "last_run_timestamp_seconds"
RUN_SUCCESS = PREFIX + "last_run_success"
DURATION = PREFIX + "duration_seconds"
CHECK_FAILURES = PREFIX + "check_failures"
ARCHIVELOG_GAPS = PREFIX + "archivelog_gaps"
SNAPSHOTS = PREFIX + "snapshots"
NEWEST = PREFIX + "newest_snapshot_timestamp_seconds"
OLDEST = PREFIX + "oldest_snapshot_timestamp_seconds"
NEWEST_UNIQUE = PREFIX + "newest_snapshot_unique_bytes"

FAMILIES: dict[str, str] = {
    LAST_SUCCESS: "Unix time the last successful daily backup of the database finished.",
    LAST_RUN: "Unix time the last daily backup of the database finished, successful or not.",
    RUN_SUCCESS: "1 if the last daily backup of the database succeeded, else 0.",
    DURATION: "Duration of the last daily backup of the database in seconds.",
    CHECK_FAILURES: "Problems the last daily backup found in what it left (copies not rolled forward, "
                    "recovery target not covered, snapshot missing); 0 when all held.",
    ARCHIVELOG_GAPS: "Redo threads of the snapshot the last daily backup took whose archivelogs have a gap "
                     "between the copies' checkpoint and the recovery target; 0 when complete.",
    SNAPSHOTS: "Snapshots of the database's backup area on the storage.",
    NEWEST: "Unix creation time of the newest snapshot.",
    OLDEST: "Unix creation time of the oldest snapshot.",
    NEWEST_UNIQUE: "Bytes only the newest snapshot holds (what the last day changed), as the storage reports.",
}
# Families a run replaces for its database even when it has no value for them.
PER_RUN = tuple(name for name in FAMILIES if name != LAST_SUCCESS)


@dataclass
class BackupRun:
    """One daily run of one database, as far as it got."""

    db: str
    started: datetime
    finished: datetime
    success: bool
    check_failures: int | None = None
    snapshots: Sequence[Any] | None = None       # storage.base.SnapshotInfo, after retention
    archivelog_gaps: int | None = None           # of the new snapshot; None: not checked


def merge(existing: Series, run: BackupRun) -> Series:
    """``existing`` with ``run``'s database replaced by this run's values."""
    merged: Series = {name: dict(samples) for name, samples in existing.items()}
    key: Labels = (("database", run.db),)
    for name in PER_RUN:
        merged.setdefault(name, {}).pop(key, None)
    finished = float(int(run.finished.timestamp()))
    merged[LAST_RUN][key] = finished
    merged[RUN_SUCCESS][key] = 1.0 if run.success else 0.0
    merged[DURATION][key] = round((run.finished - run.started).total_seconds(), 3)
    if run.success:
        merged.setdefault(LAST_SUCCESS, {})[key] = finished
    if run.check_failures is not None:
        merged[CHECK_FAILURES][key] = float(run.check_failures)
    if run.archivelog_gaps is not None:
        merged[ARCHIVELOG_GAPS][key] = float(run.archivelog_gaps)
    if run.snapshots is not None:
        merged[SNAPSHOTS][key] = float(len(run.snapshots))
        if run.snapshots:
            ordered = sorted(run.snapshots, key=lambda s: s.creation)
            merged[NEWEST][key] = float(int(ordered[-1].creation.timestamp()))
            merged[OLDEST][key] = float(int(ordered[0].creation.timestamp()))
            if ordered[-1].space_unique is not None:
                merged[NEWEST_UNIQUE][key] = float(ordered[-1].space_unique)
    return merged


def write_textfile(path: Path | str, run: BackupRun) -> None:
    """Merge ``run`` into the textfile at ``path`` (created when missing), atomically, under a lock."""
    promfile.update(path, FAMILIES, lambda existing: merge(existing, run))
