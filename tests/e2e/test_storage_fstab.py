"""The nightly restore test on ZFS and btrfs with the fstab mount method (the default).

autorestore.py clones the newest snapshot as ``autorestoreclonename``, then runs
``mount <autorestoremountpoint>`` and, at the end, ``umount``: the DBA's fstab
entry decides what is mounted there.  On a restore host that is the storage
server itself that entry bind-mounts the clone's path, known in advance since
the clone's name is fixed; that is what runs here, with the real setuid
``mount`` and ``umount`` run by the unprivileged test user (a ``user`` entry).

The machine's /etc/fstab is not touched.  libmount reads another fstab named by
``LIBMOUNT_FSTAB`` only for root (a setuid ``mount`` run by a user ignores it),
so each site gets a private mount namespace in which our fstab file is
bind-mounted over /etc/fstab and /run/mount (libmount's record of user mounts)
is a tmpfs of its own; the scripts run in it through ``nsenter``.  ZFS mounts
clones through its daemon and unmounts them from the ``zfs`` command's own
namespace, so the site's dataset is a shared mount whose copy in the namespace
stays its peer: clones appear on both sides and go from both when dropped.
Everything else in the namespace is private, so its /etc/fstab, /run/mount and
the bind mount of the clone never show outside.
"""
from __future__ import annotations

import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import faults
from .storagesite import StorageSite, build_ssh_sandbox

pytestmark = pytest.mark.slow

KINDS = ("zfs-local", "btrfs-local")
CLONE = "autorestore"


def _root(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


class FstabNamespace:
    """A persistent private mount namespace (an nsfs file) whose /etc/fstab is ``lines``."""

    def __init__(self, work: Path, lines: list[str], shared: list[Path]):
        self.work = work
        self.holder = work / "ns"
        self.holder.mkdir()
        # The namespace file is bind-mounted onto a file in a directory that is not a shared mount.
        _root("mount", "--bind", str(self.holder), str(self.holder))
        _root("mount", "--make-private", str(self.holder))
        self.file = self.holder / "mnt"
        self.file.touch()
        for path in shared:
            _root("mount", "--make-shared", str(path))
        # "unchanged": the shared mounts' copies stay their peers, the private ones stay private
        _root("unshare", f"--mount={self.file}", "--propagation", "unchanged", "true")
        fstab = work / "fstab"
        fstab.write_text("# the restore host's fstab, as the DBA writes it\n" + "".join(f"{x}\n" for x in lines))
        fstab.chmod(0o644)
        _root(*self.argv("mount", "--bind", str(fstab), "/etc/fstab"))
        _root(*self.argv("mount", "-t", "tmpfs", "-o", "size=1m,mode=755", "oib-utab", "/run/mount"))

    def argv(self, *argv: str) -> list[str]:
        return ["nsenter", f"--mount={self.file}", *argv]

    def mounted(self, path: Path) -> bool:
        """Whether something is mounted at ``path`` inside the namespace."""
        return subprocess.run(self.argv("findmnt", "--mountpoint", str(path)), capture_output=True).returncode == 0

    def close(self) -> None:
        subprocess.run(["umount", str(self.file)], capture_output=True)
        subprocess.run(["umount", str(self.holder)], capture_output=True)


@dataclass
class FstabSite:
    """A site whose restore tests mount through fstab, and the namespace they run in."""

    site: StorageSite
    ns: FstabNamespace

    @property
    def mountpoint(self) -> Path:
        return Path(str(self.site.autorestore.get("autorestoremountpoint", self.site.w / "autorestore" / "mnt")))


@pytest.fixture(scope="module")
def sandbox():
    box = build_ssh_sandbox()
    yield box
    subprocess.run(["rm", "-rf", str(box.base)], check=False)


@pytest.fixture(scope="module", params=KINDS)
def fstab_site(request, sandbox):
    """A site backed up twice on ``kind``, restore tests mounting through fstab, in its namespace."""
    site = StorageSite(sandbox, request.param, f"fstab-{request.param}-{len(list(sandbox.base.iterdir()))}")
    namespace = None
    try:
        site.autorestore.update(autorestoremountmethod="fstab", autorestoreclonename=CLONE)
        site.setup()
        site.ok(site.backup("config"))
        for _ in range(2):
            site.simctl("workload", "--sid", "orcl", "-n", "8")
            # The recovery target has one-second resolution: no transaction in the target's second.
            time.sleep(1.1)
            site.ok(site.backup("imagecopywithsnap"))
            time.sleep(1.1)
        faults.wrap_tools(site.w / "oh", sandbox.python)
        sandbox.give(site.w)
        mountpoint = site.w / "autorestore" / "mnt"       # siteconfig's autorestoremountpoint
        entry = f"{site.clone_path(CLONE)} {mountpoint} none bind,noauto,user 0 0"
        shared = [Path(site.generic["backupdest"])] if site.section == "zfs" else []
        namespace = FstabNamespace(site.w, [entry], shared)
        yield FstabSite(site, namespace)
    finally:
        if namespace is not None:
            namespace.close()
        site.close()


def _autorestore(fs: FstabSite, **env: str) -> subprocess.CompletedProcess:
    """autorestore.py as the test user, inside the site's mount namespace."""
    box = fs.site.box
    argv = fs.ns.argv(*box.argv(box.python, box.script("autorestore.py"), str(fs.site.cfg)))
    return subprocess.run(argv, capture_output=True, text=True, env=fs.site.env(**env), timeout=300, cwd=box.base)


def _last_result(site: StorageSite) -> tuple[int, str]:
    con = sqlite3.connect(site.w / "autorestore" / "log" / "autorestore.db")
    return list(con.execute("select success, logfilecontents from restoreaction order by start_time"))[-1]


def _assert_undone(fs: FstabSite) -> None:
    assert not fs.ns.mounted(fs.mountpoint), "the restore test left its mount"
    assert fs.site.clones() == [], "the restore test left its clone"
    clone = fs.site.clone_path(CLONE)
    assert not clone.exists() or not any(clone.iterdir()), "the clone's files are still there"


def test_the_nightly_restore_mounts_the_clone_through_fstab(fstab_site: FstabSite):
    site = fstab_site.site
    lasttime = site.lasttime(site.snapshots()[-1]["id"])
    time.sleep(1.1)         # the catalog keeps one result per database and second
    result = _autorestore(fstab_site, ORASIM_RECORD_OPEN="1")
    assert result.returncode == 0 and "Exitstatus is 0" in result.stdout, result.stdout + result.stderr
    success, log = _last_result(site)
    assert success == 1 and "Restore successful" in log, log
    assert f"mount {fstab_site.mountpoint}" in log, "the restore used the fstab mount"
    site.assert_opened_at(lasttime)
    _assert_undone(fstab_site)


@pytest.mark.parametrize("fault", ["rman:2:fail", "rman:2:sigterm"])
def test_a_failure_after_the_mount_still_unmounts_and_drops_the_clone(fstab_site: FstabSite, fault: str):
    """rman fails in the recovery, or SIGTERM reaches autorestore.py then: both after the mount."""
    site = fstab_site.site
    counters = site.w / f"counters-{fault.replace(':', '-')}"
    counters.mkdir()
    site.box.give(counters)
    time.sleep(1.1)
    result = _autorestore(fstab_site, OIB_ORACLE_FAULT=fault, OIB_FAULT_COUNTER=str(counters))
    assert (counters / "reached").exists(), "the fault was not reached"
    if fault.endswith("sigterm"):       # autorestore.py stopped: 143, as any script stopped by SIGTERM
        assert result.returncode == 143 and "Interrupted" in result.stderr, result.stdout + result.stderr
    else:
        assert result.returncode == 1 and "Exitstatus is 1" in result.stdout, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    success, log = _last_result(site)
    assert success == 0 and "Restore failed at step recover" in log, log
    assert f"mount {fstab_site.mountpoint}" in log, "the failure came after the mount"
    _assert_undone(fstab_site)
