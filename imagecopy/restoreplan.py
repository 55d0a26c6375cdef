"""``restore.py <cfg> <db> --plan --target TIME | --scn N``: what a restore would do, without cloning.

The plan names the snapshot the restore would clone and why (the restore's
own choice, :func:`choose_snapshot`, used by the restore itself too), the
recovery target, the archivelogs recovery would read per redo thread (from
the snapshot's manifest, checked against the snapshot's files as
``verifysnapshots`` does, with the same pure rules of
:mod:`imagecopy.continuity`) and whether they are all there, the expected
duration from the results catalog's history, and how the clone would be
mounted.  Nothing is written: no clone, no log, no catalog row.

A restore to an SCN picks the oldest snapshot whose recorded recovery target
(the manifest's, else ``lastscn`` of its autorestore.cfg) is at or past that
SCN, so it needs the snapshots' contents on this host (``snapshot_path``);
a storage that cannot show them makes that restore an error, not a guess.
"""
from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from . import continuity, dbparams, layout, snapcheck
from .catalog import HISTORY_DAYS, Catalog, RestoreResult
from .continuity import Target, ThreadVerdict
from .errors import BackupError, RestoreError

log = logging.getLogger(__name__)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class Plan:
    """Everything the planner found out; ``problem`` says why the restore would fail."""

    db: str
    target: str
    until: str
    snapid: str | None = None
    why: str = ""
    snapshot_target: str | None = None
    checkpoint_scn: int | None = None
    threads: list[ThreadVerdict] = field(default_factory=list)
    archivelogs: str = ""
    expected: str = "unknown"
    mount: str = ""
    problem: str | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.problem else 0

    def text(self) -> str:
        rows = [("Target", self.target), ("Snapshot", f"{self.snapid or 'none'}" + (f", {self.why}" if self.why
                                                                                      else ""))]
        if self.snapshot_target:
            rows.append(("Snapshot target", self.snapshot_target))
        if self.checkpoint_scn is not None:
            rows.append(("Image copies", f"checkpoint SCN {self.checkpoint_scn}"))
        logs = [t.describe() + ("" if t.problem else ", all there") for t in self.threads] or [self.archivelogs]
        rows += [("Archivelogs", line) for line in logs]
        rows += [("Recovery", f"set until {self.until}"), ("Expected duration", self.expected),
                 ("Mount", self.mount),
                 ("Verdict", f"WOULD FAIL: {self.problem}" if self.problem else "the restore can reach the target")]
        lines = [f"Restore plan for {self.db} (nothing was cloned)"]
        previous = None
        for label, value in rows:
            lines.append(f"{(label + ':') if label != previous else '':<19}{value}")
            previous = label
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"database": self.db, "target": self.target, "recovery": f"set until {self.until}",
                "snapshot": self.snapid, "why": self.why, "snapshot_target": self.snapshot_target,
                "checkpoint_scn": self.checkpoint_scn, "archivelogs": [t.to_dict() for t in self.threads],
                "archivelogs_complete": None if not self.threads else all(t.ok for t in self.threads),
                "archivelogs_note": self.archivelogs or None, "expected_duration": self.expected,
                "mount": self.mount, "problem": self.problem, "ok": self.problem is None}


def snapshot_target_scn(snapper: Any, snapid: str) -> int | None:
    """The recovery target SCN a snapshot records (manifest, else autorestore.cfg); None when it records none.

    :raises RestoreError: when the storage cannot show the snapshot's contents to this host.
    """
    base = snapper.snapshot_path(snapid)
    if base is None:
        raise RestoreError(f"a restore to an SCN needs the snapshots' recorded targets, and the "
                           f"{type(snapper).__name__} storage does not show snapshot contents to this host: "
                           "restore to a time (--target) instead")
    try:
        manifest = continuity.read_manifest(Path(base) / continuity.MANIFEST)
        if manifest is not None and manifest.target_scn is not None:
            return manifest.target_scn
    except continuity.ManifestError as exc:
        log.warning("Snapshot %s: %s", snapid, exc)
    try:
        lastscn = dbparams.load(Path(base) / layout.AUTORESTORE_CFG).get("lastscn")
    except BackupError as exc:
        log.warning("Snapshot %s: %s", snapid, exc)
        return None
    return int(lastscn) if lastscn else None


def choose_snapshot(snapper: Any, target_utc: datetime | None, scn: int | None) -> tuple[str | None, str]:
    """The snapshot a restore clones, and why: for a time, the oldest created at or after it; for an SCN,
    the oldest whose recorded recovery target reaches it."""
    if scn is None:
        return snapper.search_recovery_snapid(target_utc), "the oldest snapshot created at or after the target"
    found: dict[str, int] = {}

    def covers(snapid: str) -> bool:
        recorded = snapshot_target_scn(snapper, snapid)
        if recorded is not None:
            found[snapid] = recorded
        return recorded is not None and recorded >= scn

    snapid = snapper.search_recovery_snapid(None, covers)
    why = f"the oldest snapshot whose recovery target (SCN {found[snapid]}) is at or past SCN {scn}" if snapid \
        else ""
    return snapid, why


def expected_duration(results: list[RestoreResult], db: str) -> str:
    """The median time of the database's successful restore tests without block validation (as the report's
    average leaves out the long validation nights)."""
    times = [r.duration_seconds for r in results if r.success and not r.validated]
    if not times:
        return f"unknown (no successful restore test of {db} in the catalog's last {HISTORY_DAYS} days)"
    median = timedelta(seconds=round(statistics.median(times)))
    return f"{median} (median of {len(times)} successful restore tests of {db}, last {HISTORY_DAYS} days)"


def catalog_duration(open_catalog: Callable[[], Catalog], db: str) -> str:
    try:
        with open_catalog() as catalog:
            rows = catalog.history(db, since=datetime.now() - timedelta(days=HISTORY_DAYS), with_log=False)
    except (BackupError, OSError) as exc:
        return f"unknown ({exc})"
    return expected_duration(rows, db)


def check_logs(plan: Plan, snapper: Any, target: Target) -> None:
    """The archivelogs recovery of the chosen snapshot to ``target`` reads, from its manifest and files."""
    assert plan.snapid is not None
    base = snapper.snapshot_path(plan.snapid)
    if base is None:
        plan.archivelogs = "unknown: the storage does not show snapshot contents to this host"
        return
    try:
        manifest = continuity.read_manifest(Path(base) / continuity.MANIFEST)
    except continuity.ManifestError as exc:
        plan.archivelogs = f"unknown: {exc}"
        return
    if manifest is None:
        plan.archivelogs = f"unknown: {snapcheck.NO_MANIFEST}"
        return
    when = f", {manifest.target_time:{TIME_FORMAT}}" if manifest.target_time else ""
    plan.snapshot_target = f"SCN {manifest.target_scn}{when}"
    plan.checkpoint_scn = manifest.checkpoint_scn
    if plan.checkpoint_scn is None:
        plan.problem = "the snapshot holds no image copies"
        plan.archivelogs = "not checked: nothing to recover"
        return
    result = continuity.check(manifest.logs, plan.checkpoint_scn, target, snapcheck.probe_in(Path(base)))
    plan.threads = list(result.threads)
    if not result.ok:
        plan.problem = result.first_problem
