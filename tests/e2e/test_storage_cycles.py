"""The whole cycle on real snapshot storage: ZFS here, ZFS over SSH, btrfs here.

Configuration, the first backup, three daily backups with workload between
them, zsnapper list and clean, the nightly restore test checked byte for byte
against the simulator's history, and restore.py to a point in time between two
transactions.  The scripts run as the unprivileged test user; the storage
commands run through ``sudo -n`` (a sudoers drop-in written by
scripts/test-facilities.sh) or, over SSH, as root on the private sshd.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from drivers.backends import btrfs_wipe, zfs_destroy_tree
from drivers.facilities import need
from oracle_sim import clock, truth
from oracle_sim.database import Database
from oracle_sim.instance import Instance

from . import siteconfig
from .invariants import BackupInvariants, check_after_backup
from .sandbox import Sandbox, build_sandbox

pytestmark = pytest.mark.slow

KINDS = ("zfs-local", "zfs-ssh", "btrfs-local")
DBID = 1433672784
# paramiko and what it imports, for the scripts run as the test user over SSH
SSH_MODULES = ("paramiko", "cryptography", "bcrypt", "nacl", "cffi", "pycparser", "_cffi_backend")


@pytest.fixture(scope="module")
def sandbox():
    box = build_sandbox()
    site_packages = Path(__import__("paramiko").__file__).parents[1]
    for name in SSH_MODULES:
        # with their .dist-info: paramiko reads its version from its metadata
        for src in [*site_packages.glob(f"{name}*"), *site_packages.glob(f"py{name}*.dist-info")]:
            dest = box.site / src.name
            if src.is_dir():
                shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
            else:
                shutil.copy2(src, dest)
    for p in [box.site, *box.site.rglob("*")]:
        p.chmod(0o755 if p.is_dir() or os.access(p, os.X_OK) else 0o644)
    probe = box.py("-c", "import paramiko")
    assert probe.returncode == 0, f"paramiko not importable by the test user: {probe.stderr}"
    yield box
    subprocess.run(["rm", "-rf", str(box.base)], check=False)


class StorageSite:
    """A work directory whose backups live on real ZFS or btrfs."""

    def __init__(self, box: Sandbox, kind: str, name: str):
        self.box, self.kind = box, kind
        self.w = box.workdir(name)
        siteconfig.make_dirs(self.w)
        box.give(self.w)
        self.cfg = self.w / "backup.cfg"
        self.cleanups: list = []
        self.storage, self.generic = self._storage(name)
        self.invariants: BackupInvariants | None = None

    def _storage(self, name: str) -> tuple[dict, dict]:
        tag = "".join(ch for ch in name if ch.isalnum())[-20:]
        if self.kind.startswith("zfs"):
            facts = need("ZFS", "SSH", "SUDO") if self.kind == "zfs-ssh" else need("ZFS", "SUDO")
            parent = f"{facts['OIB_ZFS_PARENT']}/{tag}"
            subprocess.run(["zfs", "create", parent], check=True, capture_output=True)
            self.cleanups.append(lambda: zfs_destroy_tree(parent))
            mountpoint = subprocess.run(["zfs", "get", "-H", "-o", "value", "mountpoint", parent], check=True,
                                        capture_output=True, text=True).stdout.strip()
            section = {"parent": parent}
            section.update(self._ssh(facts) if self.kind == "zfs-ssh" else {"sudo": "true"})
            return {"zfs": section}, {"snappermodule": "zfs", "snapperclass": "ZFS", "backupdest": mountpoint}
        facts = need("BTRFS", "SUDO")
        top = Path(facts["OIB_BTRFS_MOUNT"]) / tag
        for d in ("backup", "snapshots", "clones"):
            (top / d).mkdir(parents=True)
        self.box.give(top)
        self.cleanups.append(lambda: btrfs_wipe(top))
        section = {"base": top / "backup", "snapshotdir": top / "snapshots", "clonedir": top / "clones",
                   "sudo": "true"}
        return {"btrfs": section}, {"snappermodule": "btrfs", "snapperclass": "Btrfs", "backupdest": top / "backup"}

    def _ssh(self, facts: dict[str, str]) -> dict[str, str]:
        # The test user's own copy of the client key (ssh keys must not be readable by others).
        key = self.w / "id_ed25519"
        shutil.copy(facts["OIB_SSH_KEY"], key)
        key.chmod(0o600)
        self.box.give(key)
        return {"host": facts["OIB_SSH_HOST"], "port": facts["OIB_SSH_PORT"], "user": facts["OIB_SSH_USER"],
                "keyfile": str(key), "knownhosts": facts["OIB_SSH_KNOWNHOSTS"], "sharedpaths": "true"}

    @property
    def area(self) -> Path:
        return Path(self.generic["backupdest"]) / "orcl"

    @property
    def state(self) -> Path:
        return self.w / "oh" / "simstate"

    def ok(self, result: subprocess.CompletedProcess) -> str:
        assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def simctl(self, *args: str) -> str:
        return self.ok(self.box.py("-m", "oracle_sim.cli", "--home", str(self.w / "oh"), *args))

    def env(self, **extra: str) -> dict[str, str]:
        return self.box.env(BACKUPCONFIG=str(self.cfg), **extra)

    def script(self, name: str, *args: str) -> subprocess.CompletedProcess:
        return self.box.py(self.box.script(name), *args, env=self.env())

    def setup(self, verify: str | None = None) -> None:
        """The database, the configuration, the backup volume; ``verify`` replaces the
        restore test's verification query (and makes every night a validation night)."""
        self.simctl("create", "--name", "orcl", "--dbid", str(DBID), "--oradata", str(self.w / "oradata"),
                    "--fra", str(self.w / "fra"))
        autorestore: dict[str, object] = {"autorestoresid": "ar"}
        database: dict[str, dict[str, object]] = {}
        if verify:
            autorestore["autorestoremodulus"] = 1
            database["orcl"] = {"customverifydate": verify}
        self.cfg.write_text(siteconfig.render(self.w, self.w / "oh", {"orcl": DBID}, generic=self.generic,
                                              storage=self.storage, autorestore=autorestore, database=database))
        self.box.give(self.cfg)
        out = self.ok(self.script("zvolume.py", "orcl", "create"))
        assert "created" in out
        # The DBA gives the new backup area to the database's OS user.
        subprocess.run(["chown", "-R", f"{self.box.user.pw_uid}:{self.box.user.pw_gid}", str(self.area)],
                       check=True)
        snaproot = Path(str(self.storage.get("btrfs", {}).get("snapshotdir", self.w / "no-snapshot-dirs")))
        self.invariants = BackupInvariants(self.area, snaproot)

    def backup(self, action: str) -> str:
        result = self.script("backup.py", "orcl", action)
        assert self.invariants is not None
        check_after_backup(self.invariants, action, (), result)
        return self.ok(result)

    def snapshots(self) -> list[dict]:
        return json.loads(self.ok(self.script("zsnapper.py", "orcl", "list", "--json")))

    def clones(self) -> list[dict]:
        return json.loads(self.ok(self.script("zsnapper.py", "orcl", "listclones", "--json")))

    def close(self) -> None:
        for fn in reversed(self.cleanups):
            fn()


@pytest.fixture(params=KINDS)
def site(request, sandbox):
    s = StorageSite(sandbox, request.param, f"{request.param}-{len(list(sandbox.base.iterdir()))}")
    yield s
    s.close()


def _rows(site: StorageSite) -> list[list]:
    return Database(Instance(site.state, "orcl")).table_rows("APP.TRANSACTIONS")


def _lasttime(site: StorageSite, snapid: str) -> str:
    """The recovery target recorded in a snapshot, read from a clone of it made with zsnapper."""
    site.ok(site.script("zsnapper.py", "orcl", "clone", snapid))
    [clone] = site.clones()
    assert clone["origin"] == snapid and clone["clonename"].startswith(f"{snapid}_clone_")
    text = (Path(clone["mountpoint"]) / "autorestore.cfg").read_text()
    site.ok(site.script("zsnapper.py", "orcl", "dropclone", clone["clonename"]))
    return [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("lasttime")][0]


def test_the_whole_cycle(site: StorageSite):
    site.setup()
    site.backup("config")
    # three daily backups with workload between them; the last workload's transactions a second apart
    for _ in range(2):
        site.simctl("workload", "--sid", "orcl", "-n", "8")
        site.backup("imagecopywithsnap")
        time.sleep(1.1)
    site.simctl("workload", "--sid", "orcl", "-n", "8", "--sleep", "1.02")
    db_rows = _rows(site)
    target = clock.parse(db_rows[-4][1]) + 1      # between two transactions of the last workload
    time.sleep(1.1)
    site.backup("imagecopywithsnap")
    snaps = site.snapshots()
    lasttime = _lasttime(site, snaps[-1]["id"])
    assert len(snaps) == 3
    assert [s["creation"] for s in snaps] == sorted(s["creation"] for s in snaps)
    assert all(s["numclones"] == 0 for s in snaps)
    if site.kind.startswith("zfs"):
        # The older snapshots alone hold the blocks the next backups changed.
        assert all(s["space_unique"] > 0 for s in snaps[:-1]), snaps
    listing = site.ok(site.script("zsnapper.py", "orcl", "list"))
    assert all(s["id"] in listing for s in snaps) and "unknown" not in listing
    clean = site.ok(site.script("zsnapper.py", "orcl", "clean", "--dry-run"))
    assert clean.count("valid") == 3, clean

    # the nightly restore test: clone of the newest snapshot, restored, checked, clone dropped
    result = site.box.py(site.box.script("autorestore.py"), str(site.cfg), env=site.env(ORASIM_RECORD_OPEN="1"))
    out = site.ok(result)
    assert "Exitstatus is 0" in out
    assert site.clones() == [], "the restore test left its clone"
    opened = [json.loads(line) for line in (site.state / "opened" / "ar.jsonl").read_text().splitlines()]
    assert len(opened) == 1
    scn = truth.scn_before(site.state, DBID, clock.parse(lasttime))
    assert opened[0]["scn"] == scn
    for file_no, info in opened[0]["files"].items():
        expected = truth.blocks_as_of(site.state, DBID, int(file_no), scn, header=info["header"])
        assert info["blocks"] == [hashlib.sha256(expected[b]).hexdigest() for b in sorted(expected)], file_no

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


def test_a_failed_restore_test_drops_its_clone(site: StorageSite):
    site.setup(verify="select to_date('2001-01-01 00:00:00', 'yyyy-mm-dd hh24:mi:ss') from dual")
    site.backup("config")
    for _ in range(2):
        site.simctl("workload", "--sid", "orcl", "-n", "8")
        site.backup("imagecopywithsnap")
        time.sleep(1.1)
    result = site.box.py(site.box.script("autorestore.py"), str(site.cfg), env=site.env())
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
