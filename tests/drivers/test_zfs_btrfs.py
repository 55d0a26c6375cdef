"""What is particular to the zfs and btrfs drivers and their SSH transport (the shared
behaviour is in test_contract.py)."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from imagecopy.errors import ConfigError, StorageError
from storage import remote
from storage.zfs import parse_listing

from .backends import Backend, make_backend
from .facilities import need

# Captured from zfs-fuse 0.7 (`zfs get -Hp -r -o name,property,value ...`); OpenZFS prints the same
# three columns.  A local command's stderr is merged into the output: the parser skips it.
ZFS_FUSE_LISTING = """\
tank/backup\ttype\tfilesystem
tank/backup\tcreation\t1796136765
tank/backup\tused\t593920
tank/backup\treferenced\t122880
tank/backup\torigin\t-
tank/backup\tmountpoint\t/srv/backup
tank/backup/orcl\ttype\tfilesystem
tank/backup/orcl\tcreation\t1796136765
tank/backup/orcl\tused\t114688
tank/backup/orcl\treferenced\t114688
tank/backup/orcl\torigin\t-
tank/backup/orcl\tmountpoint\t/srv/backup/orcl
tank/backup/orcl@orcl-20261201T145245\ttype\tsnapshot
tank/backup/orcl@orcl-20261201T145245\tcreation\t1796136765
tank/backup/orcl@orcl-20261201T145245\tused\t0
tank/backup/orcl@orcl-20261201T145245\treferenced\t114688
tank/backup/orcl@orcl-20261201T145245\torigin\t-
tank/backup/orcl@orcl-20261201T145245\tmountpoint\t-
tank/backup/autorestore\ttype\tfilesystem
tank/backup/autorestore\tcreation\t1796136770
tank/backup/autorestore\tused\t0
tank/backup/autorestore\treferenced\t114688
tank/backup/autorestore\torigin\ttank/backup/orcl@orcl-20261201T145245
tank/backup/autorestore\tmountpoint\t/srv/backup/autorestore
internal error: /usr/lib/zfs/pyzfs.py not found
"""


def test_the_zfs_listing_is_parsed_in_exact_bytes_and_utc():
    listing = parse_listing(ZFS_FUSE_LISTING)
    snap = listing["tank/backup/orcl@orcl-20261201T145245"]
    assert (snap.type, snap.used, snap.referenced, snap.mountpoint) == ("snapshot", 0, 114688, None)
    assert snap.creation.isoformat() == "2026-12-01T14:52:45+00:00"
    clone = listing["tank/backup/autorestore"]
    assert clone.origin == "tank/backup/orcl@orcl-20261201T145245"
    assert clone.mountpoint == "/srv/backup/autorestore"
    assert set(listing) == {"tank/backup", "tank/backup/orcl", "tank/backup/orcl@orcl-20261201T145245",
                            "tank/backup/autorestore"}


def test_a_listing_with_sizes_not_in_bytes_is_refused():
    text = ZFS_FUSE_LISTING.replace("\tused\t114688", "\tused\t112K")
    with pytest.raises(StorageError, match="not understood"):
        parse_listing(text)


@pytest.fixture
def zfs(tmp_path: Path):
    remote.close_all()
    backend = make_backend("zfs-local", tmp_path)
    yield backend
    backend.close()


def _zfs_get(prop: str, dataset: str) -> str:
    return subprocess.run(["zfs", "get", "-H", "-o", "value", prop, dataset], check=True, capture_output=True,
                          text=True).stdout.strip()


def test_createvolume_compresses_and_takes_the_recordsize(zfs: Backend):
    zfs.rewrite_config("zfs", recordsize="64K")
    zfs.rewrite_config("third", snapexpirationdays="7")
    d = zfs.driver("third")
    d.createvolume()
    # lz4 where the pool has it, else the default algorithm (zfs-fuse has no lz4)
    assert _zfs_get("compression", d.dataset) in ("lz4", "on")
    assert _zfs_get("recordsize", d.dataset) in ("64K", "65536")
    assert Path(_zfs_get("mountpoint", d.dataset)) == zfs.backupdest / "third"
    assert d.mountstring("third") == f"localhost:{zfs.backupdest / 'third'}"
    with pytest.raises(StorageError, match="exit code"):
        d.createvolume()


@pytest.mark.parametrize("value", ["lots", "64K; rm -rf /"])
def test_a_bad_recordsize_is_refused(zfs: Backend, value: str):
    zfs.rewrite_config("zfs", recordsize=value)
    zfs.rewrite_config("third", snapexpirationdays="7")
    with pytest.raises(ConfigError, match="recordsize"):
        zfs.driver("third").createvolume()


def test_a_parent_that_is_not_a_dataset_name_is_refused(zfs: Backend):
    zfs.rewrite_config("zfs", parent="tank/$(reboot)")
    with pytest.raises(ConfigError, match="parent"):
        zfs.driver()


def test_the_database_section_overrides_the_parent(zfs: Backend):
    parent = zfs.config().get("parent", "zfs")
    zfs.rewrite_config("orcl", zfsparent=f"{parent}/nested")
    assert zfs.driver().dataset == f"{parent}/nested/orcl"
    assert zfs.driver("other").dataset == f"{parent}/other"


def test_btrfs_without_quotas_reports_space_as_unknown(tmp_path: Path):
    facts = need("BTRFS")
    remote.close_all()
    backend = make_backend("btrfs-local", tmp_path)
    mount = facts["OIB_BTRFS_MOUNT"]
    try:
        d = backend.driver()
        d.snap()
        [info] = d.snapshots()
        assert isinstance(info.space_total, int) and info.space_total > 0
        subprocess.run(["btrfs", "quota", "disable", mount], check=True, capture_output=True)
        [info] = backend.driver().snapshots()
        assert (info.space_total, info.space_unique) == (None, None)
        assert "total=unknown unique=unknown" in d.snap2str(info)
    finally:
        subprocess.run(["btrfs", "quota", "enable", mount], check=True, capture_output=True)
        subprocess.run(["btrfs", "quota", "rescan", "-w", mount], capture_output=True)
        backend.close()


def test_btrfs_dirs_with_the_same_name_are_refused(tmp_path: Path):
    remote.close_all()
    backend = make_backend("btrfs-local", tmp_path)
    try:
        backend.rewrite_config("btrfs", clonedir=str(backend.root / "x" / "snapshots"))
        with pytest.raises(ConfigError, match="different names"):
            backend.driver()
    finally:
        backend.close()


def _ssh_runner(timeout: float = 30) -> remote.SSHRunner:
    facts = need("SSH")
    return remote.SSHRunner(facts["OIB_SSH_HOST"], int(facts["OIB_SSH_PORT"]), facts["OIB_SSH_USER"],
                            Path(facts["OIB_SSH_KEY"]), Path(facts["OIB_SSH_KNOWNHOSTS"]), timeout=timeout)


def test_ssh_arguments_reach_the_remote_command_literally():
    runner = _ssh_runner()
    try:
        tricky = ["a b", "it's", '"q"', "$(touch /tmp/oib-pwned)", "`id`", "x;y", "*", "~"]
        out = runner.run(["printf", "%s\\n", *tricky]).stdout
        assert out.splitlines() == tricky
        assert not Path("/tmp/oib-pwned").exists()
    finally:
        runner.close()


def test_ssh_failure_carries_stderr_and_exit_status():
    runner = _ssh_runner()
    try:
        with pytest.raises(StorageError) as err:
            runner.run(["ls", "/nonexistent-oib"])
        text = str(err.value)
        assert "\n" not in text
        assert "'ls /nonexistent-oib' failed with exit code 2" in text and "No such file" in text
        assert text.startswith(runner.where)
    finally:
        runner.close()


def test_ssh_commands_time_out():
    runner = _ssh_runner(timeout=1)
    try:
        start = time.monotonic()
        with pytest.raises(StorageError, match="did not finish within 1 seconds"):
            runner.run(["sleep", "10"])
        assert time.monotonic() - start < 5
    finally:
        runner.close()


def test_one_ssh_connection_serves_a_whole_run(tmp_path: Path, monkeypatch):
    need("ZFS", "SSH")
    import paramiko

    remote.close_all()
    backend = make_backend("zfs-ssh", tmp_path)
    # The connections this process opens (the sshd's own log would also count other test runs').
    logins: list[object] = []
    real_connect = paramiko.SSHClient.connect

    def connect(self, *args, **kwargs):
        logins.append(args[0] if args else kwargs.get("hostname"))
        return real_connect(self, *args, **kwargs)

    try:
        remote.close_all()
        monkeypatch.setattr(paramiko.SSHClient, "connect", connect)
        d = backend.driver()
        snapid = d.snap()
        d.snapshots()
        d.clone(snapid, "c1")
        backend.driver().listclones()        # another driver object of the same run
        d.dropclone("c1")
        d.dropsnap(snapid)
        assert len(logins) == 1, logins
    finally:
        remote.close_all()
        backend.close()
