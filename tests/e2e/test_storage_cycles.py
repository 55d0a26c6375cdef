"""The whole cycle on real snapshot storage: ZFS here, ZFS over SSH, btrfs here.

Configuration, the first backup, three daily backups with workload between
them, zsnapper list and clean, the nightly restore test checked byte for byte
against the simulator's history, and restore.py to a point in time between two
transactions.  The scripts run as the unprivileged test user; the storage
commands run through ``sudo -n`` (a sudoers drop-in written by
scripts/test-facilities.sh) or, over SSH, as root on the private sshd.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from oracle_sim import clock
from oracle_sim.database import Database
from oracle_sim.instance import Instance

from . import siteconfig
from .storagesite import DBID, StorageSite, build_ssh_sandbox

pytestmark = pytest.mark.slow

KINDS = ("zfs-local", "zfs-ssh", "btrfs-local")
BLOCK = 8192


@pytest.fixture(scope="module")
def sandbox():
    box = build_ssh_sandbox()
    yield box
    subprocess.run(["rm", "-rf", str(box.base)], check=False)


@pytest.fixture(params=KINDS)
def site(request, sandbox):
    s = StorageSite(sandbox, request.param, f"{request.param}-{len(list(sandbox.base.iterdir()))}")
    yield s
    s.close()


def _rows(site: StorageSite) -> list[list]:
    return Database(Instance(site.state, "orcl")).table_rows("APP.TRANSACTIONS")


def test_the_whole_cycle(site: StorageSite):
    site.setup()
    site.ok(site.backup("config"))
    # three daily backups with workload between them; the last workload's transactions a second apart.
    # The second backup's refresh applies 40 transactions of 3 rewritten blocks each to the level-0
    # copies the second snapshot holds: that snapshot alone keeps their old blocks.
    for transactions in ("8", "40"):
        site.simctl("workload", "--sid", "orcl", "-n", transactions)
        site.ok(site.backup("imagecopywithsnap"))
        time.sleep(1.1)
    site.simctl("workload", "--sid", "orcl", "-n", "8", "--sleep", "1.02")
    db_rows = _rows(site)
    target = clock.parse(db_rows[-4][1]) + 1      # between two transactions of the last workload
    time.sleep(1.1)
    site.ok(site.backup("imagecopywithsnap"))
    snaps = site.snapshots()
    lasttime = site.lasttime(snaps[-1]["id"])
    assert len(snaps) == 3
    assert [s["creation"] for s in snaps] == sorted(s["creation"] for s in snaps)
    assert all(s["numclones"] == 0 for s in snaps)
    if site.kind.startswith("zfs"):
        _assert_unique_is_what_the_refresh_changed(site, snaps)
    listing = site.ok(site.script("zsnapper.py", "orcl", "list"))
    assert all(s["id"] in listing for s in snaps) and "unknown" not in listing
    clean = site.ok(site.script("zsnapper.py", "orcl", "clean", "--dry-run"))
    assert clean.count("valid") == 3, clean

    # the nightly restore test: clone of the newest snapshot, restored, checked, clone dropped
    result = site.box.py(site.box.script("autorestore.py"), str(site.cfg), env=site.env(ORASIM_RECORD_OPEN="1"))
    out = site.ok(result)
    assert "Exitstatus is 0" in out
    assert site.clones() == [], "the restore test left its clone"
    _assert_verified_pin(site, snaps[-1]["id"])
    assert len((site.state / "opened" / "ar.jsonl").read_text().splitlines()) == 1
    site.assert_opened_at(lasttime)

    # restore.py to a point in time between two transactions of the last workload
    result = site.script("restore.py", str(site.cfg), "orcl", "--target", clock.fmt(target), "--sid", "pitr1",
                         "--yes")
    out = site.ok(result)
    verified = [line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Verified time:")][0]
    assert verified == db_rows[-4][1]
    assert Instance(site.state, "pitr1").open_mode == "READ ONLY"
    [clone] = site.clones()
    assert clone["clonename"].startswith("restore_orcl_") and clone["origin"] == snaps[-1]["id"]
    oh = site.w / "oh"
    site.ok(site.box.run("bash", "-c", "echo 'shutdown abort' | ORACLE_SID=pitr1 sqlplus -S / as sysdba",
                         env=site.env(ORACLE_HOME=str(oh), PATH=f"{oh}/bin:{os.environ['PATH']}")))
    site.ok(site.script("zsnapper.py", "orcl", "dropclone", clone["clonename"]))
    assert site.clones() == []


def _assert_verified_pin(site: StorageSite, snapid: str) -> None:
    """The restore test pinned the snapshot it proved (btrfs: a sidecar file beside it), and
    checkverified finds it."""
    pins = {s["id"]: s["pins"] for s in site.snapshots()}
    assert [(p["kind"], p["until"]) for p in pins[snapid]] == [("verified", None)], pins
    assert all(not p for s, p in pins.items() if s != snapid), pins
    if site.section == "btrfs":
        assert (Path(str(site.storage["btrfs"]["snapshotdir"])) / f"{snapid}.verified.pin").is_file()
    checked = site.script("zsnapper.py", "orcl", "checkverified")
    assert checked.returncode == 0 and checked.stdout.startswith("OK: The last verified snapshot age"), \
        checked.stdout + checked.stderr
    assert json.loads(site.ok(site.script("zsnapper.py", "orcl", "checkverified", "--json")))[
        "verified_snapshot"] == snapid


def _copy_changes(old: Path, new: Path, record: int) -> tuple[int, int, int]:
    """What changed between two snapshots' files (read through clones of them): the bytes of the
    image copies' 8 KiB blocks that differ, how many ZFS records those blocks lie in, and every
    other file that differs (controlfile backup, autorestore.cfg, the session log) in whole records."""
    copy_bytes, records, other = 0, set(), 0
    for path in sorted(p for p in old.rglob("*") if p.is_file()):
        rel = path.relative_to(old)
        before = path.read_bytes()
        after = (new / rel).read_bytes() if (new / rel).is_file() else b""
        if before == after:
            continue
        if not path.name.startswith("data_"):
            other += -(-len(before) // record) * record
            continue
        for offset in range(0, len(before), BLOCK):
            if before[offset:offset + BLOCK] != after[offset:offset + BLOCK]:
                copy_bytes += BLOCK
                records.add((rel, offset // record))
    return copy_bytes, len(records), other


def _assert_unique_is_what_the_refresh_changed(site: StorageSite, snaps: list[dict]) -> None:
    """zsnapper list's unique space of the second snapshot (the level-0 copies) is what the refresh
    after it rewrote: the third snapshot and the backup area hold the new blocks, the first
    snapshot predates the copies, so only the second still holds the old ones."""
    dataset = f"{site.storage['zfs']['parent']}/orcl"
    record = int(subprocess.run(["zfs", "get", "-Hp", "-o", "value", "recordsize", dataset], check=True,
                                capture_output=True, text=True).stdout)
    for snap in snaps[1:]:
        site.ok(site.script("zsnapper.py", "orcl", "clone", snap["id"]))
    paths = {c["origin"]: Path(c["mountpoint"]) for c in site.clones()}
    changed, records, other = _copy_changes(paths[snaps[1]["id"]], paths[snaps[2]["id"]], record)
    for clone in site.clones():
        site.ok(site.script("zsnapper.py", "orcl", "dropclone", clone["clonename"]))
    unique = snaps[1]["space_unique"]
    assert changed >= 60 * BLOCK, "most of the workload's 120 block rewrites (random, some twice) reached the copies"
    # Each rewritten 8 KiB block leaves its whole old record (128K by default) to the snapshot, and
    # so does every other file the refresh rewrote; on top ZFS keeps the old indirect blocks and
    # dnodes of those files.  Measured on zfs-fuse 0.7 (128K records, compression on): 90 changed
    # blocks in 12 records, unique 1,765,376 bytes = the 12 records + 188 KiB for the other files
    # (under 128K each, and compressed) and the metadata.  The bound counts the other files as
    # whole records and allows 512 KiB of metadata: reporting `referenced` (the whole area) or
    # anything not tied to the changed records fails it, as 0 fails the lower one.
    bound = records * record + other + (512 << 10)
    # Random blocks do not compress: the old records are whole, so unique is at least all of them,
    # which is more than the changed bytes themselves.
    assert changed <= records * record <= unique <= bound, (unique, changed, records, other)


def test_a_failed_restore_test_drops_its_clone(site: StorageSite):
    site.setup(verify="select to_date('2001-01-01 00:00:00', 'yyyy-mm-dd hh24:mi:ss') from dual")
    site.ok(site.backup("config"))
    for _ in range(2):
        site.simctl("workload", "--sid", "orcl", "-n", "8")
        site.ok(site.backup("imagecopywithsnap"))
        time.sleep(1.1)
    result = site.script("autorestore.py", str(site.cfg))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Exitstatus is 1" in result.stdout
    assert site.clones() == [], "the failed restore test left its clone"
    assert [s["numclones"] for s in site.snapshots()] == [0, 0]
    con = sqlite3.connect(site.w / "autorestore" / "log" / "autorestore.db")
    [(success, log)] = list(con.execute("select success, logfilecontents from restoreaction"))
    assert success == 0 and "more than 5 minutes" in log, log


@pytest.mark.parametrize("kind", ["zfs-local", "btrfs-local"])
def test_storage_that_refuses_the_user_is_one_clear_line(sandbox, kind: str):
    """Without sudo the test user may not run the storage command: zsnapper says so in one
    line naming the command, with a non-zero exit and no traceback."""
    site = StorageSite(sandbox, kind, f"refused-{kind}-{len(list(sandbox.base.iterdir()))}")
    try:
        site.setup()
        section = "zfs" if kind.startswith("zfs") else "btrfs"
        site.storage[section]["sudo"] = "false"
        site.cfg.write_text(siteconfig.render(site.w, site.w / "oh", {"orcl": DBID}, generic=site.generic,
                                              storage=site.storage))
        result = site.script("zsnapper.py", "orcl", "list")
        assert result.returncode != 0
        said = (result.stdout + result.stderr).strip()
        assert "Traceback" not in said
        errors = [line for line in said.splitlines() if line.startswith("ERROR")]
        assert len(errors) == 1, said
        assert ("'zfs get" if section == "zfs" else "'btrfs subvolume") in errors[0]
        assert "exit code" in errors[0], errors[0]
    finally:
        site.close()
