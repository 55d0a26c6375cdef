"""The ``localfs`` storage driver: snapshots and clones as reflink copies of directories.

The embedded default driver, and the one the demo and the tests use.  It needs
no appliance: the backup area ``<backupdest>/<db>`` is an ordinary directory,
and

* a snapshot is a copy of it, ``<snapshotdir>/<db>/<db>-YYYYmmddTHHMMSS/``
  (local time in the id, like the ZFSSA driver);
* a clone is a copy of a snapshot, ``<clonedir>/<clonename>/``, used directly
  as its "mount point" (``local_path``), no NFS involved.

Copies are made with ``cp --reflink=auto -a``: on XFS (reflink=1) and btrfs a
copy shares every block with its source and costs almost nothing, like a real
storage snapshot; elsewhere (ext4, tmpfs) it is a full copy, which works but
costs the full size.  Each copy is made under a temporary name and renamed into
place only when complete, so a killed run never leaves a half snapshot under a
valid id; its leftovers are removed by the next run that changes something.

Metadata (the owning database, UTC creation time, a clone's origin snapshot)
lives beside the trees, never inside them, in one JSON file per snapshot or
clone: ``<snapshotdir>/<db>/.meta/<snapid>.json`` and
``<clonedir>/.meta/<clonename>.json``.  Snapshots are ordered by that creation
time, not by their local-time ids (which repeat an hour at the end of DST).

How space is measured (``space_total``, ``space_unique``):

* ``space_total`` is what the snapshot's files have allocated: ``st_blocks`` × 512;
* ``space_unique`` is the part of it that no other file references: the
  ``FS_IOC_FIEMAP`` ioctl lists each file's extents with their physical
  addresses and a ``FIEMAP_EXTENT_SHARED`` flag (btrfs, XFS).  Flagged extents
  are compared by physical range with the extents of the backup area, the
  other snapshots and the clones (btrfs flags a whole extent even when only a
  part of it is still shared), and the bytes found elsewhere are subtracted;
* where FIEMAP is not supported, or nothing can be shared (ext4, tmpfs:
  ``cp --reflink=auto`` made a full copy), ``space_unique`` equals
  ``space_total``, which is then simply true.

Configuration, section ``[localfs]`` (a database section may override a key as
``localfs<key>``): ``snapshotdir`` and ``clonedir``, both absolute, both
required, neither inside the backup area nor the other way round.
``snapshotdir`` and ``clonedir`` must exist (like a mounted storage
filesystem: a missing one is reported, never silently created on the wrong
disk); ``zvolume.py <db> create`` (``createvolume``) creates everything.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from imagecopy import commands
from imagecopy.atomicfile import write_atomic
from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError
from imagecopy.keys import Key

from .base import CloneInfo, SnapHandler, SnapshotInfo, as_utc, backup_area, validate_name
from .retention import Pin
from .space import Usage, tree_usage

log = logging.getLogger(__name__)

SECTION = "localfs"
CONFIG_KEYS = {SECTION: (Key(SECTION, "snapshotdir", help="where snapshots are kept"),
                         Key(SECTION, "clonedir", help="where clones are kept"))}
META = ".meta"          # metadata directory name, hidden so it never looks like a snapshot or clone
TMP = ".tmp-"           # prefix of copies in progress (and of drops in progress)
LOCK = ".lock"


@dataclass(frozen=True)
class LocalSnapshot:
    """A ``listsnapshots`` record: cheap to build (no space figures)."""

    id: str
    creation: datetime
    path: Path


def _copy_tree(src: Path, dest: Path) -> None:
    """``cp --reflink=auto -a src dest`` (dest must not exist); StorageError with cp's words on failure."""
    result = commands.run(["cp", "--reflink=auto", "-a", "--", str(src), str(dest)], check=False,
                          error_class=StorageError, describe="cp")
    if result.returncode != 0:
        detail = " ".join(result.output.strip().splitlines()[:3]) or f"exit code {result.returncode}"
        raise StorageError(f"copying {src} to {dest} failed: {detail}")


def _drop_tree(path: Path, meta: Path, what: str) -> None:
    """Rename first so the name disappears at once, drop the metadata, then the slow delete.

    A delete that fails half way leaves a temporary name the next run cleans up.
    """
    doomed = path.parent / f"{TMP}drop-{path.name}"
    try:
        os.rename(path, doomed)
    except OSError as exc:
        raise StorageError(f"cannot drop {what}: {exc}") from exc
    meta.unlink(missing_ok=True)
    try:
        shutil.rmtree(doomed)
    except OSError as exc:
        log.warning("%s dropped, but removing its files failed (retried next run): %s", what.capitalize(), exc)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write metadata atomically (the temp file's name starts with TMP, which listings skip)."""
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True) + "\n", tmp_prefix=f"{TMP}{path.name}.")


def _read_json(path: Path) -> dict[str, Any] | None:
    """Metadata, or None when the file is missing or unreadable (logged)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("Ignoring unreadable metadata %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _remove_tree(path: Path) -> None:
    """Delete a directory tree, or a stray file of the same name."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _inside(a: Path, b: Path) -> bool:
    """True when ``a`` is ``b`` or lies under it."""
    return a == b or b in a.parents


class LocalFS(SnapHandler):
    """Snapshots and clones of the backup area as reflink copies in local directories."""

    def __init__(self, config: Configuration, dbname: str):
        super().__init__(config, dbname)
        self.area = backup_area(config, dbname)
        self.snapshot_root = self._dir_setting("snapshotdir")
        self.clone_root = self._dir_setting("clonedir")
        self.snapdir = self.snapshot_root / self.dbname
        self._snap_re = re.compile(re.escape(self.dbname) + r"-\d{8}T\d{6}")
        self._usage: dict[str, Usage] | None = None
        # Snapshots already warned about: one run lists the snapshots several times.
        self._warned_no_meta: set[str] = set()
        self._check_layout()

    # -- configuration ----------------------------------------------------------------
    def _dir_setting(self, key: str) -> Path:
        raw = self.config.get(key, SECTION).strip()
        path = Path(raw).expanduser()
        if not raw or not path.is_absolute():
            raise ConfigError(f"{self.config.path}: [{SECTION}] key '{key}' must be an absolute path, not '{raw}'")
        return path

    def _check_layout(self) -> None:
        """Refuse layouts where a copy would contain itself or another tree's copies."""
        area, snaps, clones = (p.resolve() for p in (self.area, self.snapdir, self.clone_root))
        pairs = [("snapshotdir", snaps, "the backup area", area), ("clonedir", clones, "the backup area", area),
                 ("clonedir", clones, f"snapshotdir/{self.dbname}", snaps)]
        for key, path, other_name, other in pairs:
            if _inside(path, other) or _inside(other, path):
                raise ConfigError(f"{self.config.path}: [{SECTION}] key '{key}': {path} and {other_name} "
                                  f"({other}) must not lie inside one another")

    # -- plumbing ---------------------------------------------------------------------
    def _require_roots(self, *keys: str) -> None:
        """Fail unless the configured directories exist (both when no key is named)."""
        roots = {"snapshotdir": self.snapshot_root, "clonedir": self.clone_root}
        for key in keys or tuple(roots):
            path = roots[key]
            if not path.is_dir():
                raise StorageError(f"[{SECTION}] {key} {path} does not exist or is not a directory "
                                   f"(is the storage mounted? 'zvolume.py {self.dbname} create' creates it)")

    @contextlib.contextmanager
    def _locked(self, directory: Path) -> Iterator[None]:
        """Exclusive lock of one directory's changes, held across processes (flock)."""
        # Never parents=True: a missing root is an unmounted storage, reported by the caller.
        try:
            (directory / META).mkdir(exist_ok=True)
            fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError(f"cannot lock {directory}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._remove_leftovers(directory)
            yield
        finally:
            os.close(fd)
            self._usage = None

    def _remove_leftovers(self, directory: Path) -> None:
        """Temp copies of killed runs and metadata whose tree is gone.

        Called with the lock held: every run that creates or drops holds it, so
        whatever is in progress here belongs to a run that no longer exists.
        """
        for entry in list(directory.iterdir()) + list((directory / META).iterdir()):
            if entry.name.startswith(TMP):
                log.warning("Removing %s left by an interrupted run", entry)
                try:
                    _remove_tree(entry)
                except OSError as exc:
                    log.warning("Cannot remove %s: %s", entry, exc)
        for meta in (directory / META).glob("*.json"):
            if not (directory / meta.stem).exists():
                log.info("Removing metadata of vanished %s", directory / meta.stem)
                meta.unlink(missing_ok=True)

    def _snap_meta(self, snapid: str) -> Path:
        return self.snapdir / META / f"{snapid}.json"

    def _clone_meta(self, clonename: str) -> Path:
        return self.clone_root / META / f"{clonename}.json"

    def _is_snapshot(self, snapid: str) -> bool:
        path = self.snapdir / snapid
        return bool(self._snap_re.fullmatch(snapid)) and path.is_dir() and not path.is_symlink()

    def _clone_records(self, own_only: bool = True) -> dict[str, dict[str, Any]]:
        """Clone name → metadata, for clones whose directory exists (this database's by default)."""
        metadir = self.clone_root / META
        out: dict[str, dict[str, Any]] = {}
        if not metadir.is_dir():
            return out
        for meta in sorted(metadir.glob("*.json")):
            data = _read_json(meta)
            path = self.clone_root / meta.stem
            if data is None or not path.is_dir() or path.is_symlink():
                continue
            if own_only and data.get("db") != self.dbname:
                continue
            out[meta.stem] = data
        return out

    def _creation(self, snapid: str) -> datetime:
        data = _read_json(self._snap_meta(snapid)) or {}
        try:
            return as_utc(datetime.fromisoformat(str(data["created"])))
        except (KeyError, ValueError):
            # No usable metadata (made by hand, or lost): the id holds the local creation time.
            if snapid not in self._warned_no_meta:
                self._warned_no_meta.add(snapid)
                log.warning("Snapshot %s has no creation metadata; using the time in its name", snapid)
            stamp = datetime.strptime(snapid[len(self.dbname) + 1:], "%Y%m%dT%H%M%S")
            return stamp.astimezone(timezone.utc)

    # -- snapshots --------------------------------------------------------------------
    def listsnapshots(self, sortbycreation: bool = False, sortreverse: bool = False) -> list[LocalSnapshot]:
        if not self.snapshot_root.is_dir():
            raise StorageError(f"[{SECTION}] snapshotdir {self.snapshot_root} does not exist or is not a directory "
                               "(is the storage mounted?)")
        try:
            if not self.snapdir.exists():
                return []  # nothing snapshotted yet
            records = [LocalSnapshot(e.name, self._creation(e.name), Path(e.path))
                       for e in os.scandir(self.snapdir)
                       if self._snap_re.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]
        except OSError as exc:
            raise StorageError(f"cannot list snapshots in {self.snapdir}: {exc}") from exc
        if sortbycreation:
            return sorted(records, key=lambda r: (r.creation, r.id), reverse=sortreverse)
        return sorted(records, key=lambda r: r.id, reverse=sortreverse)

    def getsnapcreation(self, s: LocalSnapshot | str) -> datetime:
        return self._record(s).creation

    def getsnapinfo(self, s: LocalSnapshot | str) -> SnapshotInfo:
        rec = self._record(s)
        numclones = sum(1 for c in self._clone_records().values() if c.get("origin") == rec.id)
        usage = self._space().get(f"snap:{rec.id}", Usage(0, 0))
        return SnapshotInfo(rec.id, rec.creation, numclones, usage.total, usage.unique)

    def _record(self, s: LocalSnapshot | str) -> LocalSnapshot:
        if isinstance(s, LocalSnapshot):
            return s
        validate_name(s, "snapshot id")
        if not self._is_snapshot(s):
            raise StorageError(f"snapshot {s} of {self.dbname} not found in {self.snapdir}")
        return LocalSnapshot(s, self._creation(s), self.snapdir / s)

    def _space(self) -> dict[str, Usage]:
        """Space of every tree of this database, measured once per change."""
        if self._usage is None:
            trees = {"area": self.area}
            trees.update({f"snap:{r.id}": r.path for r in self.listsnapshots()})
            trees.update({f"clone:{name}": self.clone_root / name for name in self._clone_records()})
            try:
                self._usage = tree_usage(trees)
            except OSError as exc:
                raise StorageError(f"cannot measure snapshot space: {exc}") from exc
        return self._usage

    def snap(self) -> str:
        self._require_roots()
        if not self.area.is_dir():
            raise StorageError(f"backup area {self.area} does not exist "
                               f"('zvolume.py {self.dbname} create' creates it)")
        self.snapdir.mkdir(exist_ok=True)
        with self._locked(self.snapdir):
            snapid, created = self._new_snapid()
            tmp = self.snapdir / f"{TMP}{snapid}"
            _copy_tree(self.area, tmp)
            # Metadata first, then the rename: a run killed in between leaves metadata
            # without a tree, which the next run removes; never a tree without metadata.
            _write_json(self._snap_meta(snapid), {"id": snapid, "db": self.dbname, "created": created.isoformat(),
                                                  "source": str(self.area)})
            os.rename(tmp, self.snapdir / snapid)
        log.info("Snapshot %s created", snapid)
        return snapid

    def _new_snapid(self) -> tuple[str, datetime]:
        """A free id, and the creation time (UTC) it stands for.

        Ids have one-second resolution; a second snapshot within the same second
        waits for the next one rather than overwrite or fail.
        """
        for _ in range(3):
            created = datetime.now(timezone.utc)
            snapid = f"{self.dbname}-{created.astimezone():%Y%m%dT%H%M%S}"
            if not (self.snapdir / snapid).exists() and not self._snap_meta(snapid).exists():
                return snapid, created
            time.sleep(1.05 - created.microsecond / 1e6)
        raise StorageError(f"snapshot {snapid} already exists")

    def dropsnap(self, snapid: str) -> None:
        validate_name(snapid, "snapshot id")
        self._require_roots()
        if not self._is_snapshot(snapid):  # checked again under the lock; this one spares a lock dir
            raise StorageError(f"snapshot {snapid} of {self.dbname} not found in {self.snapdir}")
        with self._locked(self.snapdir), self._locked(self.clone_root):
            if not self._is_snapshot(snapid):
                raise StorageError(f"snapshot {snapid} of {self.dbname} not found in {self.snapdir}")
            clones = sorted(n for n, c in self._clone_records().items() if c.get("origin") == snapid)
            if clones:
                raise StorageError(f"snapshot {snapid} has clones: {', '.join(clones)}")
            _drop_tree(self.snapdir / snapid, self._snap_meta(snapid), f"snapshot {snapid}")
        log.info("Snapshot %s dropped", snapid)

    # -- pins: kept in the snapshot's metadata, so they go with it ----------------------
    def pins(self) -> list[Pin]:
        out = []
        for rec in self.listsnapshots():
            for p in (_read_json(self._snap_meta(rec.id)) or {}).get("pins", []):
                until = date.fromisoformat(p["until"]) if p.get("until") else None
                out.append(Pin(rec.id, str(p.get("reason", "")), until, str(p.get("kind", "manual"))))
        return out

    def pin(self, snapid: str, reason: str, until: date | None = None, kind: str = "manual") -> Pin:
        pin = Pin(snapid, reason, until, kind)
        self._change_pins(snapid, lambda pins: [p for p in pins if p.get("kind", "manual") != kind]
                          + [{k: v for k, v in pin.to_dict().items() if k != "snapid"}])
        return pin

    def unpin(self, snapid: str, kind: str = "manual") -> bool:
        found = [False]

        def without(pins: list[dict[str, Any]]) -> list[dict[str, Any]]:
            kept = [p for p in pins if p.get("kind", "manual") != kind]
            found[0] = len(kept) != len(pins)
            return kept
        self._change_pins(snapid, without)
        return found[0]

    def _change_pins(self, snapid: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
        validate_name(snapid, "snapshot id")
        self._require_roots()
        if not self._is_snapshot(snapid):  # checked again under the lock; this one spares a lock dir
            raise StorageError(f"snapshot {snapid} of {self.dbname} not found in {self.snapdir}")
        with self._locked(self.snapdir):
            if not self._is_snapshot(snapid):
                raise StorageError(f"snapshot {snapid} of {self.dbname} not found in {self.snapdir}")
            meta = self._snap_meta(snapid)
            data = _read_json(meta) or {"id": snapid, "db": self.dbname,
                                        "created": self._creation(snapid).isoformat()}
            data["pins"] = change(list(data.get("pins", [])))
            meta.parent.mkdir(exist_ok=True)
            _write_json(meta, data)

    # -- clones -----------------------------------------------------------------------
    def clone(self, snapid: str, clonename: str) -> None:
        validate_name(snapid, "snapshot id")
        validate_name(clonename, "clone name")
        self._require_roots()
        self.snapdir.mkdir(exist_ok=True)
        with self._locked(self.snapdir), self._locked(self.clone_root):
            if not self._is_snapshot(snapid):
                raise StorageError(f"snapshot {snapid} of {self.dbname} not found in {self.snapdir}")
            dest = self.clone_root / clonename
            if dest.exists() or dest.is_symlink() or self._clone_meta(clonename).exists():
                raise StorageError(f"clone {clonename} already exists in {self.clone_root}")
            tmp = self.clone_root / f"{TMP}{clonename}"
            _copy_tree(self.snapdir / snapid, tmp)
            _write_json(self._clone_meta(clonename), {
                "clone": clonename, "db": self.dbname, "origin": snapid,
                "created": datetime.now(timezone.utc).isoformat()})
            os.rename(tmp, dest)
        log.info("Clone %s of snapshot %s created", clonename, snapid)

    def dropclone(self, clonename: str) -> None:
        validate_name(clonename, "clone name")
        self._require_roots("clonedir")
        with self._locked(self.clone_root):
            path = self.clone_root / clonename
            data = _read_json(self._clone_meta(clonename))
            if path.is_symlink():
                # Checked before existence: a link to a snapshot "exists" and must be refused as what it is.
                raise StorageError(f"{clonename} is not a clone of {self.dbname}'s snapshots ({path} is a "
                                   "symbolic link): refusing to drop it")
            if not path.is_dir():
                raise StorageError(f"clone {clonename} not found in {self.clone_root}")
            if data is None:
                raise StorageError(f"{path} is not a clone (no clone metadata): refusing to drop it")
            if data.get("db") != self.dbname:
                raise StorageError(f"{clonename} is not a clone of {self.dbname}'s snapshots "
                                   f"(it belongs to {data.get('db')!r}): refusing to drop it")
            origin = str(data.get("origin", ""))
            if not self._snap_re.fullmatch(origin):
                raise StorageError(f"{clonename} does not name a snapshot of {self.dbname} as its origin: "
                                   "refusing to drop it")
            # Never a snapshot by another path: the clone must be a plain directory of clonedir.
            if path.resolve().parent != self.clone_root.resolve() or _inside(path.resolve(), self.snapdir.resolve()):
                raise StorageError(f"{path} is not inside {self.clone_root}: refusing to drop it")
            _drop_tree(path, self._clone_meta(clonename), f"clone {clonename}")
        log.info("Clone %s dropped", clonename)

    def listclones(self) -> list[CloneInfo]:
        return [CloneInfo(name, str(data.get("origin")), str(self.clone_root / name))
                for name, data in self._clone_records().items()]

    def filesystem_info(self, name: str | None = None) -> CloneInfo:
        if name is None or name == self.dbname:
            return CloneInfo(self.dbname, None, str(self.area))
        validate_name(name, "filesystem name")
        data = self._clone_records(own_only=False).get(name)
        if data is None:
            raise StorageError(f"filesystem {name} not found: neither {self.dbname}'s backup area "
                               f"nor a clone in {self.clone_root}")
        return CloneInfo(name, str(data.get("origin")), str(self.clone_root / name))

    def mountstring(self, name: str) -> str:
        return f"localhost:{self.filesystem_info(name).mountpoint}"

    def local_path(self, clonename: str) -> Path | None:
        return self.clone_root / validate_name(clonename, "clone name")

    def snapshot_path(self, snapid: str) -> Path | None:
        return self._record(snapid).path

    def createvolume(self) -> None:
        for path in (self.area, self.snapdir / META, self.clone_root / META):
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create {path}: {exc}") from exc
        log.info("Backup area %s, snapshot directory %s and clone directory %s ready",
                 self.area, self.snapdir, self.clone_root)
