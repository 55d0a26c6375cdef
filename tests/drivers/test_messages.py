"""What zsnapper.py says: each warning once, reasons in proper English, refusals that name the real cause."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from storage.retention import plan

from .storage_testlib import Layout, write_config

SCRIPT = Path(__file__).resolve().parents[2] / "zsnapper.py"


def zs(layout: Layout, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, BACKUPCONFIG=str(layout.config_path))
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          timeout=60, cwd=str(layout.root))


def snapshot_id(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stderr
    m = re.fullmatch(r"Snapshot created: (orcl-\d{8}T\d{6})\n", proc.stdout)
    assert m, proc.stdout
    return m.group(1)


def test_clean_warns_once_per_snapshot_without_metadata(layout: Layout) -> None:
    ids = [snapshot_id(zs(layout, "orcl", "create")) for _ in range(2)]
    for snapid in ids:
        (layout.root / "snapshots" / "orcl" / ".meta" / f"{snapid}.json").unlink()
    proc = zs(layout, "orcl", "clean")
    assert proc.returncode == 0, proc.stderr
    for snapid in ids:
        assert proc.stderr.count(f"Snapshot {snapid} has no creation metadata") == 1, proc.stderr


class Snap:
    def __init__(self, snapid: str, creation: datetime):
        self.id, self.creation, self.numclones = snapid, creation, 0


def test_retention_reasons_are_pluralised() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    snaps = [Snap("old", now - timedelta(days=76)), Snap("new", now - timedelta(hours=5))]
    reasons = [d.reason for d in plan(snaps, now, 1, 1)]
    assert reasons == ["expired: 76 days old, older than 1 month (31 days)", "within 1 day"]
    assert [d.reason for d in plan(snaps[1:], now, 0, 0)] == ["newest snapshot, never dropped (0 days old)"]


def test_dropclone_of_a_symlink_says_it_is_not_a_clone(layout: Layout) -> None:
    snapid = snapshot_id(zs(layout, "orcl", "create"))
    target = layout.root / "snapshots" / "orcl" / snapid
    link = layout.root / "clones" / "sneaky"
    link.symlink_to(target)
    proc = zs(layout, "orcl", "dropclone", "sneaky")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "not a clone of orcl" in proc.stderr, proc.stderr
    assert "not found" not in proc.stderr
    assert link.is_symlink() and target.is_dir()


def test_dropclone_of_a_missing_clone_still_says_not_found(layout: Layout) -> None:
    write_config(layout.root)
    proc = zs(layout, "orcl", "dropclone", "nothere")
    assert proc.returncode == 1 and "not found" in proc.stderr
