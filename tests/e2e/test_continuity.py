"""Archivelog continuity end to end: the daily job's manifest, its own check, and backup.py verifysnapshots."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from . import siteconfig, test_autorestore, test_rac
from .conftest import ok
from .sandbox import build_sandbox
from .storagesite import StorageSite

pytestmark = pytest.mark.slow

MANIFEST = "snapshot_manifest.json"
sandbox = test_autorestore.sandbox
site = test_autorestore.site


@pytest.fixture(scope="module")
def storage_sandbox():
    """The test user's sandbox for the local zfs and btrfs sites (no SSH here)."""
    box = build_sandbox()
    yield box
    subprocess.run(["rm", "-rf", str(box.base)], check=False)


@pytest.fixture
def rac_site_factory(site):
    """A two-instance database (two redo threads with the same sequence numbers), configured."""
    return lambda: test_rac.rac_site(site)


def switch(benv) -> None:
    ok(benv.sim.sqlplus("conn /@orcl as sysdba\nalter system archive log current;\nexit\n"))


def cycle(benv, switches: int = 1) -> str:
    """Workload with log switches between, then the daily job."""
    for _ in range(switches):
        benv.workload(4)
        switch(benv)
    benv.workload(4)
    return ok(benv.backup("imagecopywithsnap"))


def snapshots(benv) -> list[Path]:
    return sorted(p for p in (benv.root / "snapshots" / benv.db).iterdir() if p.is_dir() and p.name[0] != ".")


def with_metrics(benv) -> Path:
    prom = benv.root / "backup.prom"
    benv.config.write_text(siteconfig.render(benv.root, benv.sim.home, {benv.db: benv.database().cf.doc["dbid"]},
                                             generic={"maxlockwait": 0.05, "backupmetricsfile": prom},
                                             autorestore={"autorestoremountmethod": None}))
    return prom


def verify(benv, *args: str) -> subprocess.CompletedProcess:
    return benv.script("backup.py", benv.db, "verifysnapshots", *args)


def needed_log(snap: Path, index: int = 1) -> tuple[dict, Path]:
    """A log recovery of ``snap`` reads (the ``index``-th from the copies' checkpoint), and its file there."""
    doc = json.loads((snap / MANIFEST).read_text())
    start = min(doc["copies"].values())
    logs = [g for g in doc["archivelogs"] if g["next_change"] > start and g["first_change"] <= doc["target"]["scn"]]
    return logs[index], snap / logs[index]["path"]


def test_every_snapshot_holds_its_manifest_and_verifies(configured):
    prom = with_metrics(configured)
    for _ in range(3):
        cycle(configured, switches=2)
    result = verify(configured)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("OK: archivelogs complete from the copies to the target in 3 of 3 snapshots | ")
    snaps = snapshots(configured)
    assert lines[1] == f"{snaps[0].name} EMPTY: no image copies yet: nothing to recover"
    for snap, line in zip(snaps[1:], lines[2:]):
        assert re.fullmatch(rf"{snap.name} OK: thread 1 sequences \d+-\d+ \(SCN \d+ to \d+\)", line), line
        doc = json.loads((snap / MANIFEST).read_text())
        cfg = (snap / "autorestore.cfg").read_text()
        assert f"lastscn: {doc['target']['scn']}" in cfg and f"lasttime: {doc['target']['time']}" in cfg
        for g in doc["archivelogs"]:
            assert (snap / g["path"]).stat().st_size == g["bytes"]
    data = json.loads(ok(verify(configured, "--json")))
    assert data["status"] == "OK" and data["exit_code"] == 0
    assert [s["status"] for s in data["snapshots"]] == ["EMPTY", "OK", "OK"]
    assert data["snapshots"][-1]["threads"][0]["first_missing_sequence"] is None
    assert 'oib_backup_archivelog_gaps{database="orcl"} 0' in prom.read_text()


def test_a_log_lost_damaged_or_resized_in_a_snapshot_is_critical(configured):
    for _ in range(3):
        cycle(configured, switches=2)
    middle, newest = snapshots(configured)[1:]
    gone, path = needed_log(middle)
    path.unlink()
    resized, path2 = needed_log(newest, 0)
    with open(path2, "ab") as fh:
        fh.write(b"\0" * 512)
    result = verify(configured)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"CRITICAL: 2 of 3 snapshots cannot recover to their target; first: {middle.name}: "
                               f"thread 1: sequence {gone['sequence']} missing: {gone['path']} is not in the snapshot")
    assert f"{middle.name} GAP: thread 1: sequence {gone['sequence']} missing" in lines[2]
    assert lines[3] == (f"{newest.name} GAP: thread 1: sequence {resized['sequence']} has the wrong size: "
                        f"{resized['path']} is {resized['bytes'] + 512} bytes, {resized['bytes']} recorded")
    data = json.loads(verify(configured, "--json").stdout)
    assert data["exit_code"] == 2
    assert data["snapshots"][1]["first_missing"] == {"thread": 1, "sequence": gone["sequence"]}


def test_a_gap_at_backup_time_is_a_warning_and_a_metric_not_a_failure(configured):
    prom = with_metrics(configured)
    cycle(configured)
    cycle(configured)
    configured.workload(3)
    switch(configured)
    configured.workload(3)
    switch(configured)
    # One log lost from both destinations, and RMAN told so: nothing can copy it back.
    doomed = max(((configured.area / "archivelog").iterdir()), key=lambda p: int(p.name.split("_")[1]))
    seq = int(doomed.name.split("_")[1]) - 1
    for path in [*(configured.area / "archivelog").glob(f"1_{seq}_*"),
                 *(configured.root / "fra").rglob(f"o1_mf_1_{seq}_*")]:
        path.unlink()
    ok(configured.sim.rman("connect target /@orcl\ncrosscheck archivelog all;\nexit\n"))
    out = cycle(configured)
    newest = snapshots(configured)[-1]
    log = sorted((configured.area / "backup_logs").glob("*_imagecopywithsnap.log"))[-1].read_text()
    assert re.search(rf"WARNING .*Archivelog gap in snapshot {newest.name}: thread 1: sequence {seq} missing", log)
    assert "Log file for this session" in out
    assert 'oib_backup_archivelog_gaps{database="orcl"} 1' in prom.read_text()
    assert 'oib_backup_last_run_success{database="orcl"} 1' in prom.read_text()
    result = verify(configured)
    assert result.returncode == 2
    assert f"{newest.name} GAP: thread 1: sequence {seq} missing" in result.stdout
    shown = ok(configured.script("report.py", "orcl"))
    assert f"  Archivelog gap: {newest.name}: thread 1: sequence {seq} missing" in shown.splitlines()


def test_snapshots_without_a_manifest(configured):
    for _ in range(3):
        cycle(configured)
    oldest, middle, newest = snapshots(configured)
    (middle / MANIFEST).unlink()
    result = verify(configured)
    assert result.returncode == 0, result.stdout
    assert f"{middle.name} UNKNOWN: no manifest (taken before this version)" in result.stdout.splitlines()
    (newest / MANIFEST).unlink()
    result = verify(configured)
    assert result.returncode == 1
    assert result.stdout.startswith(f"WARNING: the archivelogs of {newest.name} cannot be checked: no manifest")
    (oldest / MANIFEST).write_text('{"version": 7}')
    result = verify(configured)
    assert result.returncode == 1
    assert f"{oldest.name} UNKNOWN: {oldest / MANIFEST}: not a manifest this version understands" in result.stdout


def test_no_snapshot_is_critical_and_a_broken_setup_unknown(configured):
    result = verify(configured)
    assert (result.returncode, result.stdout.strip()) == (2, "CRITICAL: no snapshot exists | snapshots=0 gaps=0 "
                                                              "unknown=0")
    configured.config.write_text(configured.config.read_text().replace("snapshotdir", "snapshotdirx"))
    result = verify(configured, "--json")
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert data["status"] == "UNKNOWN" and "snapshotdir" in data["message"]
    assert verify(configured, "--dry-run").returncode == 2
    assert configured.backup("report", "--json").returncode == 2


@pytest.mark.parametrize("kind", ["btrfs-local", "zfs-local"])
def test_verifysnapshots_on_snapshot_storage(storage_sandbox, kind):
    site = StorageSite(storage_sandbox, kind, f"cont-{kind}-{len(list(storage_sandbox.base.iterdir()))}")
    try:
        site.setup()
        site.ok(site.backup("config"))
        for _ in range(2):
            site.simctl("workload", "--sid", "orcl", "-n", "4")
            site.ok(site.backup("imagecopywithsnap"))
        result = site.script("backup.py", "orcl", "verifysnapshots")
        if kind == "zfs-local" and not (site.area / ".zfs").is_dir():
            # zfs-fuse shows no .zfs/snapshot directory: the check cannot judge, and says why
            assert result.returncode == 3, result.stdout + result.stderr
            assert result.stdout.startswith("UNKNOWN: the ZFS storage does not show snapshot contents")
        else:
            assert result.returncode == 0, result.stdout + result.stderr
            assert "OK: archivelogs complete from the copies to the target in 2 of 2 snapshots" in result.stdout
    finally:
        site.close()


def test_rac_threads_are_judged_each_on_its_own(rac_site_factory):
    site = rac_site_factory()
    for _ in range(2):
        for sid in ("orcl1", "orcl2"):
            site.simctl("workload", "--sid", sid, "-n", "3")
        site.ok(site.backup("imagecopywithsnap"))
    result = site.script("backup.py", "orcl", "verifysnapshots")
    assert result.returncode == 0, result.stdout + result.stderr
    newest = site.snapshots("orcl")[-1]
    line = [x for x in result.stdout.splitlines() if x.startswith(newest.name)][0]
    assert re.fullmatch(rf"{newest.name} OK: thread 1 sequences \d+-\d+, thread 2 sequences \d+-\d+ "
                        r"\(SCN \d+ to \d+\)", line), line
    # thread 2 loses a log the newest snapshot needs; the same sequence of thread 1 stays
    doc = json.loads((newest / MANIFEST).read_text())
    start = min(doc["copies"].values())
    lost = [g for g in doc["archivelogs"] if g["thread"] == 2 and g["next_change"] > start][-1]
    (newest / lost["path"]).unlink()
    assert any(g["thread"] == 1 and g["sequence"] == lost["sequence"] for g in doc["archivelogs"])
    result = site.script("backup.py", "orcl", "verifysnapshots", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 2
    threads = {t["thread"]: t for t in data["snapshots"][-1]["threads"]}
    assert threads[1]["ok"] and threads[2]["first_missing_sequence"] == lost["sequence"]
