"""The storage driver contract, the same tests over every driver and transport.

localfs on a temp directory; zfs on the session's real zfs-fuse pool, run here
and over SSH through the private sshd; btrfs on the session's loop-mounted
image, here and over SSH (scripts/test-facilities.sh sets them up).  A driver
whose storage cannot clone (SoftNAS) must answer every clone request with the
one error of storage.base (ClonesNotSupported): the clone tests check that instead.
"""
from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from imagecopy.errors import StorageError, UsageError
from storage import remote
from storage.base import ClonesNotSupported, SnapHandler

from .backends import BASE_KINDS, KINDS, Backend, make_backend

# Drivers that run zfs/btrfs commands (here or over SSH); the appliances' calls are checked
# against their test servers in their own test modules.
COMMAND_DRIVERS = [k for k in BASE_KINDS if k != "localfs"]
SSH_KINDS = [k for k in KINDS if k.endswith("-ssh")]


def _backend(kind: str, tmp_path: Path):
    remote.close_all()
    backend = make_backend(kind, tmp_path)
    write(backend.area / "data_D-ORCL_I-1_TS-SYSTEM_FNO-1_01", os.urandom(300_000))
    write(backend.area / "archivelog" / "1_10_123.arc", os.urandom(5000))
    write(backend.area / "autorestore.cfg", b"[dbparams]\ndb_name: ORCL\n")
    return backend


def _serve(kind: str, tmp_path: Path):
    """One backend for a test, closed (with every SSH connection) after it."""
    backend = _backend(kind, tmp_path)
    yield backend
    remote.close_all()
    backend.close()


@pytest.fixture(params=KINDS)
def storage(request, tmp_path: Path):
    yield from _serve(request.param, tmp_path)


@pytest.fixture(params=COMMAND_DRIVERS)
def command_storage(request, tmp_path: Path):
    yield from _serve(request.param, tmp_path)


@pytest.fixture(params=SSH_KINDS)
def ssh_storage(request, tmp_path: Path):
    yield from _serve(request.param, tmp_path)


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def clone_path(driver: SnapHandler, name: str, storage: Backend | None = None) -> Path:
    """Where this host reads clone ``name``: the driver's local path, else (appliances) the
    test's mount of the clone's mount point (``Backend.local``)."""
    path = driver.local_path(name)
    if path is None and storage is not None:
        path = storage.local(driver.filesystem(name).mountpoint)
    assert path is not None, "every backend under test has its clones reachable here"
    return path


def no_clones(d: SnapHandler, snapid: str) -> bool:
    """True for a driver whose storage cannot clone (SoftNAS), after checking that every clone request
    gets the one answer of such a driver (storage.base.ClonesNotSupported: a usage error, exit 2)."""
    if d.supports_clones:
        return False
    name = d.storage_name or type(d).__name__
    for call in (lambda: d.clone(snapid, "c1"), lambda: d.dropclone("c1"), d.clones, d.listclones,
                 lambda: d.autoclone("autorestore", 0), d.require_clones):
        with pytest.raises(ClonesNotSupported, match=f"^{name} does not support clones: ") as err:
            call()
        assert err.value.exit_code == 2 and "\n" not in str(err.value)
    assert snapid in [s.id for s in d.snapshots()], "the snapshot is untouched"
    return True


def test_create_list_and_drop_a_snapshot(storage: Backend):
    d = storage.driver()
    assert d.snapshots() == []
    snapid = d.snap()
    # NetApp keeps the old toolset's names (<db>_<time>): ONTAP volume names, hence clone names, have no "-"
    assert snapid.startswith("orcl_" if storage.kind.startswith("netapp") else "orcl-")
    [info] = d.snapshots()
    assert info.id == snapid and info.numclones == 0
    assert storage.driver("other").snapshots() == [], "another database's snapshots are its own"
    d.dropsnap(snapid)
    assert d.snapshots() == []
    with pytest.raises(StorageError):
        d.dropsnap(snapid)


def test_clone_holds_the_snapshot_not_later_changes_and_is_dropped(storage: Backend):
    d = storage.driver()
    before = (storage.area / "autorestore.cfg").read_bytes()
    snapid = d.snap()
    write(storage.area / "autorestore.cfg", b"changed after the snapshot\n")
    if no_clones(d, snapid):
        return
    d.clone(snapid, "autorestore")
    [c] = d.clones()
    assert (c.clonename, c.origin) == ("autorestore", snapid)
    assert storage.local(c.mountpoint) == clone_path(d, "autorestore", storage)
    assert (clone_path(d, "autorestore", storage) / "autorestore.cfg").read_bytes() == before
    assert (clone_path(d, "autorestore", storage) / "archivelog" / "1_10_123.arc").stat().st_size == 5000
    assert d.filesystem("autorestore").origin == snapid
    assert d.mountstring("autorestore").endswith(":" + c.mountpoint)
    [info] = d.snapshots()
    assert info.numclones == 1
    assert storage.driver("other").clones() == []
    d.dropclone("autorestore")
    assert d.clones() == []
    assert d.snapshots()[0].numclones == 0
    with pytest.raises(StorageError, match="not found"):
        d.dropclone("autorestore")


def test_a_snapshot_with_a_clone_is_not_dropped(storage: Backend):
    d = storage.driver()
    snapid = d.snap()
    if no_clones(d, snapid):
        return
    d.clone(snapid, "keep")
    with pytest.raises(StorageError, match="clone"):
        d.dropsnap(snapid)
    assert [s.id for s in d.snapshots()] == [snapid]
    time.sleep(1.1)
    newer = d.snap()
    results = {r.snapid: r.status for r in d.clean(now=datetime.now(timezone.utc) + timedelta(days=30))}
    assert results[snapid] == "has a clone"
    assert snapid in [s.id for s in d.snapshots()]
    d.dropclone("keep")
    d.dropsnap(snapid)
    assert newer in results


def test_a_foreign_clone_is_refused(storage: Backend):
    other = storage.driver("other")
    write(storage.backupdest / "other" / "f", b"other's data")
    snapid = other.snap()
    if no_clones(other, snapid):
        return
    other.clone(snapid, "foreign")
    d = storage.driver()
    with pytest.raises(StorageError, match="not a clone of orcl"):
        d.dropclone("foreign")
    assert [c.clonename for c in other.clones()] == ["foreign"]
    # the database's own filesystem is no clone either
    with pytest.raises((StorageError, UsageError)):
        d.dropclone("orcl")
    assert storage.area.is_dir()
    other.dropclone("foreign")


BAD_NAMES = ["a/b", "..", "x..y", "-rf", ".hidden", ".meta", "../orcl-20260101T000000", ""]
BAD_FOR_SHELLS = ["a b", "a'b", 'a"b', "$(touch x)", "`id`", "a;b"]


class Recorder:
    """Wraps a driver's runner: the commands that reached the storage."""

    def __init__(self, runner):
        self.runner, self.seen = runner, []

    def __getattr__(self, name):
        return getattr(self.runner, name)

    def run(self, argv, check=True, **kw):
        self.seen.append(list(argv))
        return self.runner.run(argv, check=check, **kw)


def test_bad_names_are_refused(storage: Backend):
    d = storage.driver()
    snapid = d.snap()
    for name in BAD_NAMES:
        for method, args in ((d.clone, (snapid, name)), (d.dropclone, (name,)), (d.dropsnap, (name,)),
                             (d.clone, (name, "c1"))):
            with pytest.raises(UsageError):
                method(*args)
    assert (not d.supports_clones or d.clones() == []) and [s.id for s in d.snapshots()] == [snapid]


def test_bad_names_never_reach_the_storage_command(command_storage: Backend):
    d = command_storage.driver()
    snapid = d.snap()
    d.runner = Recorder(d.runner)
    for name in BAD_NAMES + BAD_FOR_SHELLS:
        for method, args in ((d.clone, (snapid, name)), (d.dropclone, (name,)), (d.dropsnap, (name,)),
                             (d.clone, (name, "c1")), (d.local_path, (name,))):
            with pytest.raises(UsageError, match="invalid"):
                method(*args)
    assert d.runner.seen == []
    assert not Path("x").exists()


def test_an_unknown_host_key_is_refused(ssh_storage: Backend, tmp_path: Path):
    remote.close_all()
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    ssh_storage.rewrite_config(ssh_storage.kind.split("-")[0], knownhosts=str(empty))
    with pytest.raises(StorageError, match=f"unknown host key.*{empty}"):
        ssh_storage.driver().snapshots()


def test_a_changed_host_key_is_refused(ssh_storage: Backend, tmp_path: Path):
    remote.close_all()
    section = ssh_storage.kind.split("-")[0]
    port = ssh_storage.config().get("port", section)
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{port} " + " ".join(Path(f"{key}.pub").read_text().split()[:2]) + "\n")
    ssh_storage.rewrite_config(section, knownhosts=str(wrong))
    with pytest.raises(StorageError, match=f"host key changed.*{wrong}"):
        ssh_storage.driver().snapshots()


def test_a_failing_storage_command_is_one_line_naming_it(command_storage: Backend):
    d = command_storage.driver()
    missing = "orcl-20000101T000000"
    with pytest.raises(StorageError) as err:
        d.dropsnap(missing)
    text = str(err.value)
    assert "\n" not in text
    assert missing in text and ("zfs destroy" in text or "btrfs subvolume" in text or "not found" in text)
    # a parent that does not exist: the listing command fails, and says so
    section = command_storage.kind.split("-")[0]
    key = "parent" if section == "zfs" else "base"
    bogus = "nosuchpool/x" if section == "zfs" else str(command_storage.root / "nosuchdir")
    command_storage.rewrite_config(section, **{key: bogus})
    with pytest.raises(StorageError) as err:
        command_storage.driver().snapshots()
    text = str(err.value)
    assert "\n" not in text and ("exit code" in text or "does not exist" in text or "not found" in text)
    assert bogus.split("/")[0] in text


def test_creation_times_are_utc_and_ordered(storage: Backend):
    d = storage.driver()
    start = datetime.now(timezone.utc).replace(microsecond=0)
    first = d.snap()
    time.sleep(1.1)
    second = d.snap()
    end = datetime.now(timezone.utc)
    infos = d.snapshots()
    assert [i.id for i in infos] == [first, second]
    for i in infos:
        assert i.creation.utcoffset() == timedelta(0)
        assert start - timedelta(seconds=1) <= i.creation <= end + timedelta(seconds=1)
    assert infos[0].creation < infos[1].creation
    assert [i.id for i in d.snapshots(sortreverse=True)] == [second, first]
    assert d.latest_snapshot()[0] == second


def test_space_figures_are_exact_bytes_or_unknown(storage: Backend):
    d = storage.driver()
    first = d.snap()
    # change 1 MiB of incompressible data, then snapshot again: the first one now holds it alone
    write(storage.area / "changed.dbf", os.urandom(1 << 20))
    d.snap()
    write(storage.area / "changed.dbf", os.urandom(1 << 20))
    os.sync()
    time.sleep(1.1)
    third = d.snap()  # a snapshot commits a transaction: ZFS and btrfs then account the space
    deadline = time.monotonic() + 30
    while True:
        infos = {i.id: i for i in d.snapshots() if i.id != third}
        newer = [i for i in infos.values() if i.id != first][0]
        if storage.kind == "localfs" or newer.space_unique is None or newer.space_unique >= 1 << 20 \
                or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for info in infos.values():
        for value in (info.space_total, info.space_unique):
            assert value is None or (isinstance(value, int) and value >= 0)
    total = infos[first].space_total
    if total is not None:
        assert total >= 300_000, "the snapshot holds the 300 kB data file"
    if newer.space_unique is not None and storage.kind != "localfs":
        assert newer.space_unique >= 1 << 20, "the second snapshot alone holds the replaced 1 MiB"
        assert newer.space_unique < 4 << 20


def _hand_made_snapshots(backend: Backend, start: int, stop: int) -> list[str]:
    """Snapshots made directly with the storage's command (fast: no one-second ids)."""
    d = backend.driver()
    ids = [f"orcl-2020{1 + i // 28:02d}{1 + i % 28:02d}T000000" for i in range(start, stop)]
    for snapid in ids:
        if backend.kind.startswith("zfs"):
            argv = ["zfs", "snapshot", f"{d.dataset}@{snapid}"]
        else:
            argv = ["btrfs", "subvolume", "snapshot", "-r", str(d.volume), str(d.snapshotdir / snapid)]
        subprocess.run(argv, check=True, capture_output=True)
    return ids


def _listing_commands(seen: list[list[str]]) -> list[list[str]]:
    return [argv for argv in seen if not ({"destroy", "delete"} & set(argv))]


def test_listing_and_retention_issue_a_fixed_number_of_commands(command_storage: Backend):
    """zsnapper list and clean: the listing costs the same commands for 3 snapshots as for 40,
    then retention issues one drop per dropped snapshot."""
    counts = []
    _hand_made_snapshots(command_storage, 0, 3)
    for count in (3, 40):
        if count == 40:
            _hand_made_snapshots(command_storage, 3, 40)
        d = command_storage.driver()
        d.runner = Recorder(d.runner)
        assert len(d.snapshots()) == count
        counts.append(len(d.runner.seen))
    assert counts[0] == counts[1], counts
    if command_storage.kind.startswith("zfs"):
        assert counts[0] == 1, "ZFS: one zfs get for every snapshot, clone and space figure"
    d = command_storage.driver()
    d.runner = Recorder(d.runner)
    results = d.clean(now=datetime.now(timezone.utc) + timedelta(days=400))
    dropped = [r.snapid for r in results if r.status == "dropped"]
    assert len(dropped) >= 30
    drops = [argv for argv in d.runner.seen if {"destroy", "delete"} & set(argv)]
    assert len(drops) == len(dropped)
    assert len(_listing_commands(d.runner.seen)) == counts[0]
    assert len(d.snapshots()) == 40 - len(dropped)


def test_snapshots_in_the_same_second_do_not_collide(storage: Backend):
    d = storage.driver()
    ids = [d.snap(), d.snap(), d.snap()]
    assert len(set(ids)) == 3
    assert [s.id for s in d.listsnapshots(sortbycreation=True)] == ids
    assert [s.id for s in d.listsnapshots(sortbycreation=True, sortreverse=True)] == ids[::-1]


def test_a_clone_is_writable_apart_from_its_snapshot(storage: Backend):
    d = storage.driver()
    snapid = d.snap()
    if no_clones(d, snapid):
        return
    d.clone(snapid, "c1")
    path = clone_path(d, "c1", storage)
    (path / "written-by-restore").write_text("x")
    d.clone(snapid, "c2")
    assert not (clone_path(d, "c2", storage) / "written-by-restore").exists(), "the snapshot did not change"
    with pytest.raises(StorageError, match="exists"):
        d.clone(snapid, "c1")
    assert d.clone2str(d.filesystem("c1")) == f"c1 [{snapid}] [mount point: {d.filesystem('c1').mountpoint}]"
    assert d.filesystem().origin is None and d.filesystem().clonename == "orcl"
    with pytest.raises(StorageError, match="not found"):
        d.dropclone(snapid)                                  # a snapshot is never dropped as a clone
    with pytest.raises(StorageError, match="not found"):
        d.dropclone("nothing")
    d.dropclone("c1")
    d.dropclone("c2")
    assert [s.id for s in d.snapshots()] == [snapid]


def test_autoclone_search_and_age_use_the_storage_creation_times(storage: Backend):
    d = storage.driver()
    assert d.check_age(24, 48).status == "CRITICAL" and d.check_age(24, 48).age is None
    first = d.snap()
    time.sleep(1.1)
    second = d.snap()
    infos = d.snapshots()
    created = [i.creation for i in infos]
    assert d.search_recovery_snapid(created[0] - timedelta(hours=5)) == first
    assert d.search_recovery_snapid(created[0]) == first                      # "at or after"
    assert d.search_recovery_snapid(created[0] + timedelta(seconds=1)) == second
    assert d.search_recovery_snapid(created[1] + timedelta(seconds=1)) is None
    ok = d.check_age(24, 48)
    assert (ok.status, ok.exit_code, ok.snapid) == ("OK", 0, second)
    assert d.check_age(24, 48, now=created[1] + timedelta(hours=30)).status == "WARNING"
    assert d.check_age(24, 48, now=created[1] + timedelta(hours=50)).status == "CRITICAL"
    if no_clones(d, second):
        return
    with pytest.raises(StorageError, match="Suitable snapshot not found"):
        d.autoclone("autorestore", 100)
    assert d.autoclone("autorestore", 0) == second
    assert d.filesystem("autorestore").origin == second
    d.dropclone("autorestore")
    assert d.autoclone("later", 100, now=created[1] + timedelta(days=5)) == second
    d.dropclone("later")


def test_pins_keep_a_snapshot_from_retention_until_they_expire(storage: Backend):
    """Pins where the driver stores them (localfs metadata, ZFS user properties and holds, btrfs
    sidecar files beside the snapshot); a driver that cannot store them (the ZFSSA API keeps no
    user data on snapshots) says so, as the base does, and retention then works without pins."""
    from datetime import date

    from storage.retention import VERIFIED
    snapper = storage.driver()
    old, new = snapper.snap(), snapper.snap()
    if type(snapper).pin is SnapHandler.pin:
        with pytest.raises(StorageError, match="cannot pin"):
            snapper.pin_verified(new)
        assert snapper.pins() == [] and snapper.unpin(old) is False
        results = snapper.clean(now=datetime.now(timezone.utc) + timedelta(days=400))
        assert {r.snapid: r.status for r in results} == {old: "dropped", new: "valid"}
        return
    snapper.pin(old, "audit 2026", date(2099, 6, 30))
    snapper.pin_verified(new)
    assert {(p.snapid, p.kind, p.until) for p in snapper.pins()} == {(old, "manual", date(2099, 6, 30)),
                                                                     (new, VERIFIED, None)}
    assert {r.snapid: r.reason for r in snapper.clean(now=datetime.now(timezone.utc) + timedelta(days=400),
                                                      dry_run=True)}[old] == "pinned until 2099-06-30: audit 2026"
    if storage.kind.startswith("zfs"):     # a hold: not even a manual destroy removes it
        dataset = snapper.dataset          # type: ignore[attr-defined]
        refused = snapper.runner.run(["zfs", "destroy", f"{dataset}@{old}"], check=False)  # type: ignore[attr-defined]
        assert refused.returncode != 0
    assert snapper.unpin(old) is True and snapper.unpin(old) is False
    results = snapper.clean(now=datetime.now(timezone.utc) + timedelta(days=400))
    assert {r.snapid: r.status for r in results} == {old: "dropped", new: "valid"}
    snapper.pin(new, "expired already", date(2000, 1, 1))      # expired pins no longer protect ...
    newest = snapper.snap()
    snapper.unpin(new, VERIFIED)
    results = snapper.clean(now=datetime.now(timezone.utc) + timedelta(days=400))
    assert {r.snapid: r.status for r in results} == {new: "dropped", newest: "valid"}   # ... and holds go too
