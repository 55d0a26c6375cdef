"""The localfs driver against a temp dir, the factory, size2str, the space sweep, and real btrfs."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError
from storage import create_snapper, space
from storage.base import backup_area, size2str
from storage.localfs import LocalFS

from .storage_testlib import Layout, set_snapshot_age, write_config

MiB = 1 << 20


@pytest.fixture
def fs(layout: Layout) -> LocalFS:
    driver = create_snapper(layout.config(), "orcl")
    assert isinstance(driver, LocalFS)
    return driver


def tree(root: Path) -> dict[str, bytes]:
    """Relative path → content of every file under root."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- size2str --------------------------------------------------------------------------
@pytest.mark.parametrize("size,text", [
    (0, "0B"), (1023, "1023B"), (1024, "1kB"), (1535, "1kB"), (1536, "2kB"), (282_624, "276kB"),
    (173_015_040, "165MB"), (MiB - 1, "1024kB"), (5 << 30, "5GB"), ((3 << 40) + (1 << 39), "4TB"),
    (2 << 50, "2048TB"), (-5, "0B"),
])
def test_size2str(size: int, text: str) -> None:
    assert size2str(size) == text


# -- factory ---------------------------------------------------------------------------
@pytest.mark.parametrize("module,klass", [("localfs", "LocalFS"), ("storage.localfs", "LocalFS"),
                                          ("localfs", None)])
def test_factory_accepts_old_and_new_names(layout: Layout, module: str, klass: str | None) -> None:
    write_config(layout.root, {"generic": {"snappermodule": module, "snapperclass": klass}})
    assert isinstance(create_snapper(layout.config(), "orcl"), LocalFS)


@pytest.mark.parametrize("module,klass,words", [
    ("foo", "Foo", ["[generic] snappermodule 'foo': no such storage driver"]),
    ("nosuchdriver", "NoSuchDriver", ["[generic] snappermodule 'nosuchdriver': no such storage driver"]),
    ("localfs", "Nope", ["[generic] snapperclass 'Nope'", "no such class"]),
    ("localfs", "StorageError", ["[generic] snapperclass 'StorageError'", "not a storage driver"]),
    ("..x", "X", ["snappermodule '..x'"]),
])
def test_factory_errors_name_file_section_and_key(layout: Layout, module: str, klass: str, words: list[str]) -> None:
    write_config(layout.root, {"generic": {"snappermodule": module, "snapperclass": klass}})
    with pytest.raises(ConfigError) as err:
        create_snapper(layout.config(), "orcl")
    assert str(err.value).startswith(f"{layout.config_path}: ")
    for w in words:
        assert w in str(err.value)


def test_factory_loads_a_users_driver_from_sys_path(layout: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = layout.root / "mydrivers"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mine.py").write_text("from storage.localfs import LocalFS\n\nclass Mine(LocalFS):\n    pass\n")
    monkeypatch.syspath_prepend(str(layout.root))
    write_config(layout.root, {"generic": {"snappermodule": "mydrivers.mine", "snapperclass": "Mine"}})
    assert type(create_snapper(layout.config(), "orcl")).__name__ == "Mine"


def test_a_database_section_may_choose_its_own_driver(layout: Layout) -> None:
    write_config(layout.root, {"orcl": {"genericsnappermodule": "nosuchdriver"}})
    with pytest.raises(ConfigError, match=r"\[orcl\] genericsnappermodule 'nosuchdriver': no such storage driver"):
        create_snapper(layout.config(), "orcl")


# -- configuration ---------------------------------------------------------------------
@pytest.mark.parametrize("overrides,words", [
    ({"localfs": {"snapshotdir": None}}, ["[localfs] key 'snapshotdir' is missing"]),
    ({"localfs": None}, ["[localfs]", "snapshotdir"]),
    ({"localfs": {"clonedir": "relative/dir"}}, ["[localfs] key 'clonedir' must be an absolute path"]),
    ({"localfs": {"snapshotdir": "{root}/backup/orcl/snaps"}}, ["snapshotdir", "must not lie inside"]),
    ({"localfs": {"clonedir": "{root}/snapshots/orcl"}}, ["clonedir", "must not lie inside"]),
    ({"generic": {"backupdest": "backup"}}, ["[generic] key 'backupdest' must be an absolute path"]),
])
def test_bad_localfs_configuration(layout: Layout, overrides: dict, words: list[str]) -> None:
    write_config(layout.root, overrides)
    with pytest.raises(ConfigError) as err:
        create_snapper(layout.config(), "orcl")
    for w in words:
        assert w in str(err.value)


def test_backup_area_follows_backupdestshared(layout: Layout) -> None:
    assert backup_area(layout.config(), "orcl") == layout.root / "backup" / "orcl"
    write_config(layout.root, {"generic": {"backupdestshared": "false"}})
    assert backup_area(layout.config(), "orcl") == layout.root / "backup"


# -- snapshots -------------------------------------------------------------------------
def test_snap_copies_the_backup_area_and_keeps_metadata_outside(fs: LocalFS, layout: Layout) -> None:
    before = datetime.now(timezone.utc)
    snapid = fs.snap()
    assert snapid.startswith("orcl-") and len(snapid) == len("orcl-20260101T000000")
    snapdir = layout.root / "snapshots" / "orcl" / snapid
    assert tree(snapdir) == tree(layout.area)          # nothing of ours inside the copy
    (info,) = fs.snapshots()
    assert info.id == snapid and info.numclones == 0
    assert before - timedelta(seconds=1) <= info.creation <= datetime.now(timezone.utc)
    assert info.creation.utcoffset() == timedelta(0)
    assert info.space_total >= 300_000 and 0 <= info.space_unique <= info.space_total


def test_list_orders_by_recorded_utc_time_not_by_id(fs: LocalFS, layout: Layout) -> None:
    a, b = fs.snap(), fs.snap()
    set_snapshot_age(layout.root, b, timedelta(days=2))      # b is "older" despite its later id
    assert [s.id for s in fs.snapshots()] == [b, a]


def test_snapshot_without_metadata_takes_the_time_from_its_name(fs: LocalFS, layout: Layout) -> None:
    snapid = fs.snap()
    (layout.root / "snapshots" / "orcl" / ".meta" / f"{snapid}.json").unlink()
    local = datetime.strptime(snapid[5:], "%Y%m%dT%H%M%S").astimezone(timezone.utc)
    assert fs.snapshots()[0].creation == local


def test_failed_copy_leaves_no_snapshot_and_says_why(fs: LocalFS, layout: Layout,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fake = layout.root / "bin"
    fake.mkdir()
    # A cp that dies half way: leaves a partial copy behind and complains.
    (fake / "cp").write_text('#!/bin/sh\nfor last; do :; done\nmkdir -p "$last"\necho "cp: disk full" >&2\nexit 1\n')
    (fake / "cp").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    with pytest.raises(StorageError, match="disk full"):
        fs.snap()
    assert fs.listsnapshots() == []
    leftovers = [p.name for p in (layout.root / "snapshots" / "orcl").iterdir()]
    assert any(n.startswith(".tmp-") for n in leftovers)
    monkeypatch.undo()
    snapid = fs.snap()                                       # the next run cleans up
    names = sorted(p.name for p in (layout.root / "snapshots" / "orcl").iterdir())
    assert names == [".lock", ".meta", snapid]
    assert sorted(p.name for p in (layout.root / "snapshots" / "orcl" / ".meta").iterdir()) == [f"{snapid}.json"]


def test_orphan_metadata_is_removed_and_never_listed(fs: LocalFS, layout: Layout) -> None:
    meta = layout.root / "snapshots" / "orcl" / ".meta"
    meta.mkdir(parents=True)
    (meta / "orcl-20200101T000000.json").write_text('{"created": "2020-01-01T00:00:00+00:00", "db": "orcl"}')
    assert fs.listsnapshots() == []
    fs.snap()
    assert not (meta / "orcl-20200101T000000.json").exists()


def test_missing_storage_is_an_error_not_an_empty_list(fs: LocalFS, layout: Layout) -> None:
    assert fs.listsnapshots() == []                          # mounted, nothing snapshotted yet
    shutil.rmtree(layout.root / "snapshots")
    with pytest.raises(StorageError, match="does not exist"):
        fs.listsnapshots()
    with pytest.raises(StorageError, match="does not exist"):
        fs.snap()
    assert not (layout.root / "snapshots").exists()          # never created on the wrong disk


def test_createvolume_creates_everything(layout: Layout) -> None:
    shutil.rmtree(layout.root / "snapshots")
    shutil.rmtree(layout.root / "clones")
    shutil.rmtree(layout.root / "backup")
    fs = create_snapper(layout.config(), "orcl")
    fs.createvolume()
    assert layout.area.is_dir() and (layout.root / "snapshots" / "orcl").is_dir()
    assert (layout.root / "clones").is_dir()
    assert fs.snap()


# -- clones ----------------------------------------------------------------------------
def test_clone_list_info_and_drop(fs: LocalFS, layout: Layout) -> None:
    snapid = fs.snap()
    fs.clone(snapid, "c1")
    clonedir = layout.root / "clones" / "c1"
    assert tree(clonedir) == tree(layout.area)
    (clone,) = fs.clones()
    assert (clone.clonename, clone.origin, clone.mountpoint) == ("c1", snapid, str(clonedir))
    assert fs.clone2str(clone) == f"c1 [{snapid}] [mount point: {clonedir}]"
    assert fs.snapshots()[0].numclones == 1
    assert fs.filesystem_info("c1") == clone
    assert fs.filesystem_info().mountpoint == str(layout.area)
    assert fs.mountstring("c1") == f"localhost:{clonedir}"
    assert fs.local_path("c1") == clonedir
    (clonedir / "written-by-restore").write_text("x")        # clones are writable copies
    assert "written-by-restore" not in tree(layout.root / "snapshots" / "orcl" / snapid)
    with pytest.raises(StorageError, match="already exists"):
        fs.clone(snapid, "c1")
    fs.dropclone("c1")
    assert not clonedir.exists() and fs.clones() == []
    assert fs.snapshots()[0].numclones == 0


def test_dropclone_refuses_what_is_not_this_databases_clone(fs: LocalFS, layout: Layout) -> None:
    write_config(layout.root, {"other": {"snapexpirationdays": "7"}})
    other_area = layout.root / "backup" / "other"
    other_area.mkdir()
    (other_area / "f").write_text("other")
    other = create_snapper(layout.config("other"), "other")
    other.clone(other.snap(), "theirs")
    plain = layout.root / "clones" / "plain"
    plain.mkdir()
    (plain / "keep").write_text("keep")
    with pytest.raises(StorageError, match="not a clone of orcl's snapshots"):
        fs.dropclone("theirs")
    with pytest.raises(StorageError, match="not a clone"):
        fs.dropclone("plain")
    with pytest.raises(StorageError, match="not found"):
        fs.dropclone("nothing")
    snapid = fs.snap()
    with pytest.raises(StorageError, match="not found"):
        fs.dropclone(snapid)                                 # a snapshot is never dropped as a clone
    assert (layout.root / "clones" / "theirs" / "f").read_text() == "other"
    assert (plain / "keep").exists()
    assert [c.clonename for c in fs.clones()] == []
    assert [c.clonename for c in other.clones()] == ["theirs"]
    assert fs.filesystem_info("theirs").origin is not None   # any clone can be described


# -- shared logic through the driver ---------------------------------------------------
def test_clean_with_a_failing_drop_reports_and_continues(fs: LocalFS, layout: Layout,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [fs.snap() for _ in range(4)]
    for snapid, days in zip(ids, (40, 30, 20, 1)):
        set_snapshot_age(layout.root, snapid, timedelta(days=days))
    real_drop = fs.dropsnap

    def flaky_drop(snapid: str) -> None:
        if snapid == ids[1]:
            raise StorageError("device or resource busy")
        real_drop(snapid)

    monkeypatch.setattr(fs, "dropsnap", flaky_drop)
    results = fs.clean()
    assert [(r.snapid, r.status) for r in results] == [
        (ids[0], "dropped"), (ids[1], "DROP FAILED"), (ids[2], "dropped"), (ids[3], "valid")]
    assert results[1].infostring.startswith(f"{ids[1]} [")
    assert results[1].infostring.endswith(" DROP FAILED")
    assert [s.id for s in fs.listsnapshots()] == [ids[1], ids[3]]


def test_clean_dry_run_and_clone_hold(fs: LocalFS, layout: Layout) -> None:
    ids = [fs.snap() for _ in range(3)]
    for snapid, days in zip(ids, (40, 30, 20)):
        set_snapshot_age(layout.root, snapid, timedelta(days=days))
    fs.clone(ids[0], "held")
    dry = fs.clean(dry_run=True)
    assert [r.status for r in dry] == ["has a clone", "would drop", "valid"]
    assert dry[2].reason.startswith("newest")
    assert len(fs.listsnapshots()) == 3
    assert [r.status for r in fs.clean()] == ["has a clone", "dropped", "valid"]
    assert [s.id for s in fs.listsnapshots(sortbycreation=True)] == [ids[0], ids[2]]


# -- space -----------------------------------------------------------------------------
def test_space_sweep_subtracts_only_what_other_trees_reference(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The btrfs case without btrfs: one extent of the old snapshot, partly still used by the live file."""
    trees = {}
    for name in ("area", "snap:old", "snap:new", "alone"):
        (tmp_path / name).mkdir()
        with open(tmp_path / name / "f", "wb") as fh:
            fh.write(os.urandom(4 * MiB))
            fh.flush()
            os.fsync(fh.fileno())
        trees[name] = tmp_path / name
    base = 100 * MiB
    fake = {
        "area": [(base, base + MiB), (base + 10 * MiB, base + 11 * MiB), (base + 2 * MiB, base + 4 * MiB)],
        "snap:old": [(base, base + 4 * MiB)],                 # one shared extent: 1 MiB of it is only here
        "snap:new": [(base, base + MiB), (base + 10 * MiB, base + 11 * MiB), (base + 2 * MiB, base + 4 * MiB)],
        "alone": [],
    }
    monkeypatch.setattr(space, "shared_extents", lambda path: fake[Path(path).parent.name])
    usage = space.tree_usage(trees)
    total = os.stat(tmp_path / "area" / "f").st_blocks * 512
    assert usage["snap:old"].total == total
    assert usage["snap:old"].unique == total - 3 * MiB
    assert usage["snap:new"].unique == total - 4 * MiB
    assert usage["alone"].unique == usage["alone"].total == total


def test_space_without_fiemap_is_all_unique(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "f").write_bytes(b"x" * 100_000)
    monkeypatch.setattr(space, "shared_extents", lambda path: None)
    usage = space.tree_usage({"t": tmp_path / "t", "missing": tmp_path / "none"})
    assert usage["t"].unique == usage["t"].total > 0
    assert usage["missing"] == space.Usage(0, 0)


def test_space_tolerates_files_vanishing_during_the_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "t" / "sub").mkdir(parents=True)
    (tmp_path / "t" / "stays").write_bytes(b"x" * 10_000)
    (tmp_path / "t" / "goes").write_bytes(b"x" * 10_000)
    real_lstat = os.lstat

    def lstat(path, *args, **kw):
        if str(path).endswith("goes"):
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real_lstat(path, *args, **kw)

    monkeypatch.setattr(space.os, "lstat", lstat)
    usage = space.tree_usage({"t": tmp_path / "t"})
    assert usage["t"].total == real_lstat(tmp_path / "t" / "stays").st_blocks * 512


def test_fiemap_extents_add_up_to_the_allocation(tmp_path: Path) -> None:
    """Checks the ioctl's struct layout on the filesystem the tests run on."""
    f = tmp_path / "f"
    with open(f, "wb") as fh:
        fh.write(os.urandom(3 * MiB + 12345))
        fh.flush()
        os.fsync(fh.fileno())
    found = space.extents(f)
    if found is None:
        pytest.skip(f"FIEMAP not supported on the filesystem of {tmp_path}")
    assert found and all(e.has_address for e in found)
    assert found[0].logical == 0
    assert all(a.logical + a.length <= b.logical for a, b in zip(found, found[1:]))
    assert found[-1].flags & space.FIEMAP_EXTENT_LAST
    assert sum(e.length for e in found) == os.stat(f).st_blocks * 512
    assert space.shared_extents(f) == []                    # a fresh file shares nothing


# -- real btrfs ------------------------------------------------------------------------
@pytest.fixture
def btrfs(tmp_path: Path) -> Path:
    """A 256 MiB btrfs filesystem on a loop-mounted image file, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("btrfs space test: needs root to loop-mount a filesystem")
    mkfs = shutil.which("mkfs.btrfs") or next(
        (p for p in ("/usr/sbin/mkfs.btrfs", "/sbin/mkfs.btrfs") if os.access(p, os.X_OK)), None)
    if mkfs is None:
        pytest.skip("btrfs space test: mkfs.btrfs not installed (package btrfs-progs)")
    image, mnt = tmp_path / "btrfs.img", tmp_path / "mnt"
    with open(image, "wb") as fh:
        fh.truncate(256 * MiB)
    mnt.mkdir()
    subprocess.run([mkfs, "-q", str(image)], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mnt)], check=True, capture_output=True)
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_space_unique_on_real_btrfs(btrfs: Path) -> None:
    write_config(btrfs)
    area = btrfs / "backup" / "orcl"
    (btrfs / "snapshots").mkdir()
    (btrfs / "clones").mkdir()
    fs = create_snapper(Configuration(btrfs / "backup.cfg", section="orcl", env={}), "orcl")
    fs.createvolume()
    datafile = area / "data_D-ORCL_FNO-1"
    with open(datafile, "wb") as fh:
        fh.write(os.urandom(4 * MiB))
        fh.flush()
        os.fsync(fh.fileno())
    old = fs.snap()
    first = {s.id: s for s in fs.snapshots()}[old]
    assert first.space_total == 4 * MiB
    assert first.space_unique == 0                   # a reflink copy: every block shared with the live file
    # The refresh rewrites 1 MiB of the datafile in place (copy on write on btrfs).
    fd = os.open(datafile, os.O_WRONLY)
    try:
        os.pwrite(fd, os.urandom(MiB), MiB)
        os.fsync(fd)
    finally:
        os.close(fd)
    new = fs.snap()
    infos = {s.id: s for s in fs.snapshots()}
    assert infos[old].space_total == 4 * MiB
    assert abs(infos[old].space_unique - MiB) <= 64 * 1024, size2str(infos[old].space_unique)
    assert infos[new].space_unique <= 64 * 1024       # identical to the live file
    # A clone of the old snapshot shares its blocks: nothing is unique to the snapshot any more.
    fs.clone(old, "c1")
    assert {s.id: s for s in fs.snapshots()}[old].space_unique <= 64 * 1024
    fs.dropclone("c1")
    assert {s.id: s for s in fs.snapshots()}[old].space_unique == infos[old].space_unique


def test_unreadable_file_counts_as_unique(fs: LocalFS, layout: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    snapid = fs.snap()

    def refuse(path: str) -> list:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(space, "shared_extents", refuse)
    info = fs.getsnapinfo(snapid)
    assert info.space_unique == info.space_total > 0
    assert stat.S_ISDIR(os.stat(layout.root / "snapshots" / "orcl" / snapid).st_mode)
