"""``backup.py <db> verifysnapshots``: every snapshot's archivelogs against its manifest, for monitoring.

Each snapshot is read where the storage driver shows it on this host
(``snapshot_path``): its manifest (see :mod:`imagecopy.continuity`), then,
per redo thread, the archivelogs recovery from the copies' checkpoint to
the snapshot's recovery target reads: present, readable (the first and last
64 KiB are read: a cheap check, not a validation of the contents, which the
nightly restore test does) and of the recorded size.

Per snapshot: ``OK``, ``GAP`` (the first missing or unusable sequence),
``EMPTY`` (no image copies yet: nothing to recover, nothing can be missing)
or ``UNKNOWN`` (no manifest: taken before this version; or one that cannot
be read).  The Nagios state of the whole check:

* CRITICAL (2) when a snapshot has a gap, or there is no snapshot at all;
* WARNING (1) when the newest snapshot has no manifest (the daily job does
  not write them: an older version runs) or a manifest cannot be read;
  older snapshots without one are listed but change nothing, or the check
  would stay WARNING for the months retention keeps them;
* UNKNOWN (3) when the storage cannot be asked or cannot show snapshot
  contents to this host;
* OK (0) otherwise.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import continuity
from .continuity import Continuity, FileState, LogRecord, Manifest, ManifestError, Target

OK, GAP, EMPTY, UNKNOWN = "OK", "GAP", "EMPTY", "UNKNOWN"
NO_MANIFEST = "no manifest (taken before this version)"
PROBE_BYTES = 64 * 1024
NAGIOS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


@dataclass(frozen=True)
class SnapshotCheck:
    """One snapshot's verdict."""

    snapid: str
    status: str
    detail: str
    target_scn: int | None = None
    checkpoint_scn: int | None = None
    result: Continuity | None = None

    @property
    def line(self) -> str:
        return f"{self.snapid} {self.status}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {"snapshot": self.snapid, "status": self.status, "detail": self.detail,
                "target_scn": self.target_scn, "checkpoint_scn": self.checkpoint_scn,
                "threads": [t.to_dict() for t in self.result.threads] if self.result else [],
                "first_missing": first_missing(self.result)}


@dataclass
class Report:
    """The whole check: the Nagios state and every snapshot's line."""

    db: str
    exit_code: int = 0
    summary: str = ""
    snapshots: list[SnapshotCheck] = field(default_factory=list)

    @property
    def status(self) -> str:
        return NAGIOS[self.exit_code]

    @property
    def message(self) -> str:
        gaps = sum(1 for s in self.snapshots if s.status == GAP)
        unknown = sum(1 for s in self.snapshots if s.status == UNKNOWN)
        return (f"{self.status}: {self.summary} | snapshots={len(self.snapshots)} gaps={gaps} "
                f"unknown={unknown}")

    def text(self) -> str:
        return "\n".join([self.message, *(s.line for s in self.snapshots)])

    def to_dict(self) -> dict[str, Any]:
        return {"database": self.db, "status": self.status, "exit_code": self.exit_code, "message": self.message,
                "snapshots": [s.to_dict() for s in self.snapshots]}


def first_missing(result: Continuity | None) -> dict[str, int] | None:
    bad = next((t for t in result.threads if not t.ok and t.missing is not None), None) if result else None
    return None if bad is None else {"thread": bad.thread, "sequence": bad.missing}


def probe_in(base: Path):
    """A probe of the log files under ``base`` (a snapshot's directory on this host)."""
    def probe(log: LogRecord) -> FileState:
        if os.path.isabs(log.path):
            return FileState(error="recorded outside the backup area")
        path = base / log.path
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            return FileState()
        except OSError as exc:
            return FileState(error=exc.strerror or str(exc))
        try:
            with open(path, "rb") as fh:
                fh.read(PROBE_BYTES)
                fh.seek(max(size - PROBE_BYTES, 0))
                fh.read(PROBE_BYTES)
        except OSError as exc:
            return FileState(error=exc.strerror or str(exc))
        return FileState(size=size)
    return probe


def check_snapshot(snapid: str, base: Path) -> SnapshotCheck:
    """One snapshot, read at ``base``: its manifest against its archivelog files."""
    try:
        manifest = continuity.read_manifest(base / continuity.MANIFEST)
    except ManifestError as exc:
        return SnapshotCheck(snapid, UNKNOWN, str(exc))
    if manifest is None:
        return SnapshotCheck(snapid, UNKNOWN, NO_MANIFEST)
    return judge(snapid, manifest, probe_in(base))


def judge(snapid: str, manifest: Manifest, probe: continuity.Probe) -> SnapshotCheck:
    """The verdict on a manifest, its logs looked at through ``probe``."""
    checkpoint = manifest.checkpoint_scn
    if checkpoint is None:
        return SnapshotCheck(snapid, EMPTY, "no image copies yet: nothing to recover", manifest.target_scn)
    if manifest.target_scn is None:
        return SnapshotCheck(snapid, UNKNOWN, "the manifest records no recovery target", None, checkpoint)
    # The snapshot's target: every change up to the recorded SCN (until SCN target + 1).
    result = continuity.check(manifest.logs, checkpoint, Target(scn=manifest.target_scn + 1), probe)
    if result.ok:
        detail = ", ".join(f"thread {t.thread} sequences {t.first}-{t.last}" for t in result.threads)
        return SnapshotCheck(snapid, OK, f"{detail} (SCN {checkpoint} to {manifest.target_scn})",
                             manifest.target_scn, checkpoint, result)
    return SnapshotCheck(snapid, GAP, result.first_problem or "", manifest.target_scn, checkpoint, result)


def verify(snapper: Any, db: str) -> Report:
    """Every snapshot of ``db`` on the storage, oldest first; the Nagios verdict of them all."""
    report = Report(db)
    # The plain listing: no space figures, which some drivers measure at a cost.
    snapids = [snapper._snapid(s) for s in snapper.listsnapshots(sortbycreation=True, sortreverse=True)][::-1]
    if not snapids:
        report.exit_code, report.summary = 2, "no snapshot exists"
        return report
    for snapid in snapids:
        base = snapper.snapshot_path(snapid)
        if base is None:
            report.exit_code = 3
            report.summary = (f"the {type(snapper).__name__} storage does not show snapshot contents to this "
                              "host (a remote server without sharedpaths, or zfs-fuse)")
            return report
        report.snapshots.append(check_snapshot(snapid, Path(base)))
    judge_report(report)
    return report


def judge_report(report: Report) -> None:
    """The Nagios state and summary from the snapshots' verdicts."""
    checks = report.snapshots
    gaps = [s for s in checks if s.status == GAP]
    unreadable = [s for s in checks if s.status == UNKNOWN and s.detail != NO_MANIFEST]
    if gaps:
        report.exit_code = 2
        report.summary = (f"{len(gaps)} of {len(checks)} snapshots cannot recover to their target; first: "
                          f"{gaps[0].snapid}: {gaps[0].detail}")
    elif checks[-1].status == UNKNOWN or unreadable:
        report.exit_code = 1
        bad = checks[-1] if checks[-1].status == UNKNOWN else unreadable[0]
        report.summary = f"the archivelogs of {bad.snapid} cannot be checked: {bad.detail}"
    else:
        checked = sum(1 for s in checks if s.status in (OK, EMPTY))
        report.summary = f"archivelogs complete from the copies to the target in {checked} of {len(checks)} snapshots"
