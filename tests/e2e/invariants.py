"""Backup invariants, checked on the files after every successful ``imagecopywithsnap``.

A daily job that "succeeds" while its snapshots would not restore is the
worst failure a backup tool can have, and a restore test weeks later is too
late to find it.  After each backup the end-to-end tests read the image
copies' headers and the archivelog headers inside the backup area and its
snapshots (independently of the toolset and of the simulator's recovery code)
and assert:

1. the copies are rolled forward: each copy in the live area (what the next
   snapshot will hold) has a checkpoint SCN above the same file's copy in the
   newest snapshot, and at least that snapshot's recovery target (``lastscn``);
   the same holds between every pair of consecutive snapshots;
2. each snapshot covers its own recovery target: for every redo thread whose
   logs it holds, the highest ``next_change#`` of those logs is above
   ``lastscn``;
3. the newest snapshot holds the copies exactly as they were before the
   refresh that followed it (as the previous backup left them).
"""
from __future__ import annotations

import configparser
import subprocess
from dataclasses import dataclass
from pathlib import Path

from oracle_sim import redo, simfile
from oracle_sim.datafile import DatafileError, read_header

Copies = dict[int, int]   # file# -> checkpoint SCN


def copies_in(area: Path) -> Copies:
    """The image copies in a backup area (or a snapshot of one), by file number."""
    out: Copies = {}
    for path in area.glob("data_*"):
        try:
            header = read_header(path)
        except DatafileError:
            continue
        out[header["file"]] = header["checkpoint_scn"]
    return out


def log_coverage(area: Path) -> dict[int, int]:
    """Per redo thread, the highest ``next_change#`` of the archivelogs in ``archivelog/``."""
    out: dict[int, int] = {}
    for path in (area / "archivelog").glob("*"):
        try:
            header = redo.read_archivelog_header(path)
        except (simfile.SimFileError, OSError):
            continue
        out[header["thread"]] = max(out.get(header["thread"], 0), header["next_change"])
    return out


def recovery_target(area: Path) -> int | None:
    """``lastscn`` of the area's ``autorestore.cfg`` (the first snapshot has none)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(area / "autorestore.cfg")
    value = parser.get("dbparams", "lastscn", fallback=None)
    return int(value) if value else None


def rolled_forward(older: Copies, older_target: int | None, newer: Copies, what: str) -> list[str]:
    problems = []
    for file_no, scn in sorted(newer.items()):
        if file_no in older and scn <= older[file_no]:
            problems.append(f"{what}: copy of file {file_no} not rolled forward (checkpoint {scn}, "
                            f"before {older[file_no]})")
        if older_target is not None and scn < older_target:
            problems.append(f"{what}: copy of file {file_no} at checkpoint {scn}, below the recovery "
                            f"target {older_target}")
    return problems


def target_covered(snapshot: Path) -> list[str]:
    target = recovery_target(snapshot)
    if target is None:
        return []
    coverage = log_coverage(snapshot)
    if not coverage:
        return [f"{snapshot.name}: no archivelog for the recovery target {target}"]
    return [f"{snapshot.name}: thread {thread} archivelogs end at {next_change}, not past the recovery "
            f"target {target}" for thread, next_change in sorted(coverage.items()) if next_change <= target]


@dataclass
class BackupInvariants:
    """Checks one database's backup area and newest snapshot after each backup.

    It remembers what the previous successful backup left (the live copies and
    the snapshot it took), so a snapshot is compared with its predecessor only
    when a checked backup lies between them: a killed run's snapshot rightly
    holds the same copies as the one before it.
    """

    area: Path
    snapshot_root: Path
    live_before: Copies | None = None
    previous_snapshot: Path | None = None

    def snapshots(self) -> list[Path]:
        if not self.snapshot_root.exists():
            return []
        return sorted(p for p in self.snapshot_root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def problems(self) -> list[str]:
        snaps = self.snapshots()
        live = copies_in(self.area)
        found: list[str] = []
        newest = snaps[-1] if snaps else None
        if newest is not None and newest != self.previous_snapshot:
            found += target_covered(newest)
            if self.previous_snapshot is not None and self.previous_snapshot.exists():
                older = self.previous_snapshot
                found += rolled_forward(copies_in(older), recovery_target(older), copies_in(newest), newest.name)
            if self.live_before is not None and copies_in(newest) != self.live_before:
                found.append(f"{newest.name}: holds copies {copies_in(newest)}, but before the refresh "
                             f"the backup area had {self.live_before}")
        if newest is not None:
            found += rolled_forward(copies_in(newest), recovery_target(newest), live, "backup area")
        self.live_before = live
        self.previous_snapshot = newest
        return found

    def check(self) -> None:
        problems = self.problems()
        assert not problems, "backup invariants violated:\n" + "\n".join(problems)

    def forget(self) -> None:
        """The copies or snapshots changed in a way not checked here (another action, a failed run)."""
        self.live_before = None
        self.previous_snapshot = None


def check_after_backup(checker: BackupInvariants, action: str, args: tuple[str, ...],
                       result: subprocess.CompletedProcess) -> None:
    """Assert the backup invariants after a successful daily job; forget what another run changed."""
    if "--dry-run" in args:
        return
    if action == "imagecopywithsnap" and result.returncode == 0:
        checker.check()
    elif action in ("imagecopywithsnap", "backupimagecopy"):
        checker.forget()
