"""The ``zfs`` storage driver: OpenZFS (or zfs-fuse) datasets, here or on a server over SSH.

Layout, under ``[zfs] parent`` (a database section may override it as
``zfsparent``):

* ``<parent>/<db>`` is the database's dataset; its ZFS mountpoint is the backup
  area (locally ``<backupdest>/<db>``, or exported over NFS from the server);
* snapshots are ``<parent>/<db>@<db>-YYYYmmddTHHMMSS`` (local time in the id,
  like the other drivers; creation time and order come from ZFS's own
  ``creation`` property, in UTC).  Snapshots of the dataset with other names
  (made by hand or by another tool) are neither listed nor dropped;
* a clone is ``<parent>/<clonename>``, recognised as this database's by its
  ``origin`` property (``<parent>/<db>@…``); any other dataset is refused.

Everything is read with ONE command, ``zfs get -Hp -r`` over the parent (names,
types, creation, used, referenced, origin, mountpoint, in exact bytes): it is
the only listing form zfs-fuse 0.7 and current OpenZFS both have (zfs-fuse has
no ``zfs list -p``).  A snapshot's clones are counted from the same listing.
``space_total`` is the snapshot's ``referenced``, ``space_unique`` its ``used``
(what destroying it frees).

Drops are ``zfs destroy`` of exactly one snapshot or clone (never ``-r``/``-R``):
ZFS itself refuses a snapshot that has clones, reported as "has a clone".

Configuration ``[zfs]``: ``parent`` (required), ``compression`` (``lz4``,
falling back to ``on`` where lz4 is not supported) and ``recordsize`` (for
``createvolume``), ``sudo``, and for a remote server ``host``, ``port``,
``user``, ``keyfile``, ``knownhosts``, ``timeout`` (see storage.remote), and
``sharedpaths``: true when the server's mountpoints are the same paths on this
host (the server is this host, reached over SSH), which makes clones usable
in place (``clonepath`` mount method).
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError, UsageError
from imagecopy.keys import Key

from .base import CloneInfo, SnapHandler, SnapshotInfo
from .remote import Runner, failure, new_snapshot, remote_keys, runner_for, safe_name, snapshot_id_ok
from .retention import VERIFIED, Pin

log = logging.getLogger(__name__)

SECTION = "zfs"
# Pins are user properties of the snapshot ("<until or ->|<reason>"), read in the same listing, and
# a ``zfs hold`` each, so that not even a manual ``zfs destroy`` removes a pinned snapshot.
PIN_PROPERTIES = {"manual": "oib:pin_manual", VERIFIED: "oib:pin_verified"}
PROPERTIES = ("type", "creation", "used", "referenced", "origin", "mountpoint", *PIN_PROPERTIES.values())
CONFIG_KEYS = {SECTION: (
    Key(SECTION, "parent", help="parent dataset; the database's is <parent>/<db>"),
    Key(SECTION, "compression", default="lz4", help="compression of new datasets"),
    Key(SECTION, "recordsize", default="", help="record size of new datasets"),
    *remote_keys(SECTION))}
BUSY_RETRIES = 12       # waits of 0.1 s, 0.2 s ... about 7 s in all


@dataclass(frozen=True)
class Dataset:
    """One row of the listing: a filesystem, a snapshot or a volume, with its properties."""

    name: str
    type: str
    creation: datetime
    used: int
    referenced: int
    origin: str | None
    mountpoint: str | None
    pins: tuple[tuple[str, str], ...] = ()      # (kind, "<until or ->|<reason>")


@dataclass(frozen=True)
class ZfsSnapshot:
    """A ``listsnapshots`` record."""

    id: str
    creation: datetime


def parse_listing(text: str) -> dict[str, Dataset]:
    """``zfs get -Hp -o name,property,value`` output → datasets by full name.

    Lines that are not ``name<TAB>property<TAB>value`` (a local command's stderr
    is merged into its output) are skipped and logged.
    """
    props: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or parts[1] not in PROPERTIES:
            if line.strip():
                log.debug("zfs listing: ignoring %r", line)
            continue
        props.setdefault(parts[0], {})[parts[1]] = parts[2]
    out: dict[str, Dataset] = {}
    for name, p in props.items():
        try:
            out[name] = Dataset(name, p.get("type", ""),
                                datetime.fromtimestamp(int(p["creation"]), timezone.utc),
                                int(p["used"]), int(p["referenced"]),
                                None if p.get("origin", "-") == "-" else p["origin"],
                                None if p.get("mountpoint", "-") in ("-", "none", "legacy") else p["mountpoint"],
                                tuple((kind, p[prop]) for kind, prop in PIN_PROPERTIES.items()
                                      if p.get(prop, "-") not in ("-", "")))
        except (KeyError, ValueError) as exc:
            raise StorageError(f"zfs listing of {name} is not understood ({exc}): {p}") from None
    return out


class ZFS(SnapHandler):
    """Snapshots and clones of the dataset ``<parent>/<db>`` with the ``zfs`` command."""

    def __init__(self, config: Configuration, dbname: str):
        super().__init__(config, dbname)
        safe_name(self.dbname, "database name")
        self.parent = config.get("parent", SECTION).strip().strip("/")
        if not self.parent or not all(_component_ok(c) for c in self.parent.split("/")):
            raise ConfigError(f"{config.path}: [{SECTION}] key 'parent' must be a dataset name "
                              f"such as tank/backup, not '{self.parent}'")
        self.dataset = f"{self.parent}/{self.dbname}"
        self.runner: Runner = runner_for(config, SECTION)
        self.shared_paths = config.getbool("sharedpaths", SECTION, default=False)
        self._snap_re = re.compile(re.escape(self.dbname) + r"-\d{8}T\d{6}")
        self._listing: dict[str, Dataset] | None = None

    # -- the one listing ---------------------------------------------------------------
    def _list(self, fresh: bool = False) -> dict[str, Dataset]:
        """Every dataset and snapshot under the parent, one ``zfs get`` (kept until a change)."""
        if fresh or self._listing is None:
            result = self.runner.run(["zfs", "get", "-Hp", "-r", "-o", "name,property,value",
                                      ",".join(PROPERTIES), self.parent])
            self._listing = parse_listing(result.stdout)
            if self.parent not in self._listing:
                raise StorageError(f"{self.runner.where}: parent dataset {self.parent} not found")
        return self._listing

    def _changed(self) -> None:
        self._listing = None

    def _snapshots(self, listing: dict[str, Dataset]) -> dict[str, Dataset]:
        prefix = f"{self.dataset}@"
        return {name[len(prefix):]: ds for name, ds in listing.items()
                if name.startswith(prefix) and self._snap_re.fullmatch(name[len(prefix):])}

    def _own_clones(self, listing: dict[str, Dataset]) -> dict[str, Dataset]:
        """Clone name → dataset, for datasets directly under the parent cloned from our snapshots."""
        out = {}
        for name, ds in listing.items():
            short = name[len(self.parent) + 1:]
            if name.startswith(f"{self.parent}/") and "/" not in short and "@" not in short \
                    and ds.origin and ds.origin.startswith(f"{self.dataset}@"):
                out[short] = ds
        return out

    # -- snapshots ---------------------------------------------------------------------
    def listsnapshots(self, sortbycreation: bool = False, sortreverse: bool = False) -> list[ZfsSnapshot]:
        records = [ZfsSnapshot(snapid, ds.creation) for snapid, ds in self._snapshots(self._list(fresh=True)).items()]
        if sortbycreation:
            return sorted(records, key=lambda r: (r.creation, r.id), reverse=sortreverse)
        return sorted(records, key=lambda r: r.id, reverse=sortreverse)

    def getsnapcreation(self, s: ZfsSnapshot | str) -> datetime:
        return s.creation if isinstance(s, ZfsSnapshot) else self.getsnapinfo(s).creation

    def getsnapinfo(self, s: ZfsSnapshot | str) -> SnapshotInfo:
        snapid = s.id if isinstance(s, ZfsSnapshot) else self._snapid_ok(s)
        listing = self._list()
        ds = self._snapshots(listing).get(snapid)
        if ds is None:
            raise StorageError(f"snapshot {snapid} of {self.dataset} not found")
        numclones = sum(1 for c in self._own_clones(listing).values() if c.origin == f"{self.dataset}@{snapid}")
        return SnapshotInfo(snapid, ds.creation, numclones, ds.referenced, ds.used)

    def _snapid_ok(self, snapid: str) -> str:
        return snapshot_id_ok(self.dbname, snapid)

    def snap(self) -> str:
        def create(snapid: str) -> bool:
            result = self.runner.run(["zfs", "snapshot", f"{self.dataset}@{snapid}"], check=False)
            self._changed()
            said = result.stdout + result.stderr
            if result.returncode != 0 and "exists" not in said:
                self._raise(result.argv, result.returncode, said)
            return result.returncode == 0
        snapid = new_snapshot(self.dbname, create)
        log.info("Snapshot %s created", snapid)
        return snapid

    def dropsnap(self, snapid: str) -> None:
        self._snapid_ok(snapid)
        result = self.runner.run(["zfs", "destroy", f"{self.dataset}@{snapid}"], check=False)
        if result.returncode != 0 and "busy" in result.stdout + result.stderr:
            # Held: retention drops a pinned snapshot only once its pin expired, so our holds go
            # (another tool's hold stays, and the destroy fails again saying so).
            for kind in PIN_PROPERTIES:
                self._release(snapid, kind)
            result = self.runner.run(["zfs", "destroy", f"{self.dataset}@{snapid}"], check=False)
        self._changed()
        if result.returncode != 0:
            said = result.stdout + result.stderr
            if "dependent clones" in said:
                raise StorageError(f"snapshot {snapid} has a clone: not dropped")
            self._raise(result.argv, result.returncode, said)
        log.info("Snapshot %s dropped", snapid)

    # -- pins: user properties plus a hold -------------------------------------------------
    def pins(self) -> list[Pin]:
        out = []
        # The listing retention just read holds the pins too: no second command.
        for snapid, ds in self._snapshots(self._list()).items():
            for kind, value in ds.pins:
                until, _, reason = value.partition("|")
                try:
                    day = date.fromisoformat(until) if until not in ("", "-") else None
                except ValueError:
                    log.warning("Snapshot %s: unreadable pin %r", snapid, value)
                    continue
                out.append(Pin(snapid, reason, day, kind))
        return out

    def pin(self, snapid: str, reason: str, until: date | None = None, kind: str = "manual") -> Pin:
        self._snapid_ok(snapid)
        if kind not in PIN_PROPERTIES:
            raise UsageError(f"unknown pin kind {kind!r}")
        if any(ord(ch) < 32 for ch in reason) or len(reason) > 1000:
            raise UsageError("the pin's reason must be one line of at most 1000 characters")
        if snapid not in self._snapshots(self._list(fresh=True)):
            raise StorageError(f"snapshot {snapid} of {self.dataset} not found")
        name = f"{self.dataset}@{snapid}"
        value = f"{until.isoformat() if until else '-'}|{reason}"
        result = self.runner.run(["zfs", "set", f"{PIN_PROPERTIES[kind]}={value}", name], check=False)
        if result.returncode != 0:
            self._raise(result.argv, result.returncode, result.stdout + result.stderr)
        held = self.runner.run(["zfs", "hold", f"oib-{kind}", name], check=False)
        said = held.stdout + held.stderr
        if held.returncode != 0 and "exists" not in said:     # held already by an earlier pin of this kind
            self._raise(held.argv, held.returncode, said)
        self._changed()
        return Pin(snapid, reason, until, kind)

    def unpin(self, snapid: str, kind: str = "manual") -> bool:
        self._snapid_ok(snapid)
        ds = self._snapshots(self._list(fresh=True)).get(snapid)
        if ds is None or kind not in dict(ds.pins):
            return False
        self._release(snapid, kind)
        result = self.runner.run(["zfs", "inherit", PIN_PROPERTIES[kind], f"{self.dataset}@{snapid}"], check=False)
        self._changed()
        if result.returncode != 0:
            self._raise(result.argv, result.returncode, result.stdout + result.stderr)
        return True

    def _release(self, snapid: str, kind: str) -> None:
        result = self.runner.run(["zfs", "release", f"oib-{kind}", f"{self.dataset}@{snapid}"], check=False)
        said = result.stdout + result.stderr
        if result.returncode != 0 and "no such tag" not in said:
            self._raise(result.argv, result.returncode, said)

    def _raise(self, argv: list[str], returncode: int, said: str) -> None:
        raise failure(self.runner.where, argv, returncode, said)

    # -- clones ------------------------------------------------------------------------
    def clone(self, snapid: str, clonename: str) -> None:
        self._snapid_ok(snapid)
        safe_name(clonename, "clone name")
        if clonename == self.dbname:
            raise UsageError(f"invalid clone name {clonename!r}: it is the database's own dataset")
        self.runner.run(["zfs", "clone", f"{self.dataset}@{snapid}", f"{self.parent}/{clonename}"])
        self._changed()
        log.info("Clone %s of snapshot %s created", clonename, snapid)

    def dropclone(self, clonename: str) -> None:
        safe_name(clonename, "clone name")
        listing = self._list(fresh=True)
        full = f"{self.parent}/{clonename}"
        if full not in listing:
            raise StorageError(f"clone {clonename} not found ({full} does not exist)")
        if clonename not in self._own_clones(listing):
            origin = listing[full].origin
            raise StorageError(f"{clonename} is not a clone of {self.dbname}'s snapshots "
                               f"(origin: {origin or 'none'}): refusing to drop it")
        for attempt in range(BUSY_RETRIES):
            result = self.runner.run(["zfs", "destroy", full], check=False)
            said = result.stdout + result.stderr
            if result.returncode == 0:
                break
            # Just after a restore the mount can be busy for a moment (FUSE, NFS): retry briefly.
            if "busy" not in said or attempt == BUSY_RETRIES - 1:
                self._changed()
                self._raise(result.argv, result.returncode, said)
            time.sleep(0.1 * (attempt + 1))
        self._changed()
        log.info("Clone %s dropped", clonename)

    def listclones(self) -> list[CloneInfo]:
        return [CloneInfo(name, ds.origin.split("@", 1)[1] if ds.origin else None, ds.mountpoint or "")
                for name, ds in sorted(self._own_clones(self._list(fresh=True)).items())]

    def filesystem_info(self, name: str | None = None) -> CloneInfo:
        listing = self._list(fresh=True)
        if name is None or name == self.dbname:
            ds = listing.get(self.dataset)
            if ds is None:
                raise StorageError(f"dataset {self.dataset} not found ('zvolume.py {self.dbname} create' "
                                   "creates it)")
            return CloneInfo(self.dbname, None, ds.mountpoint or "")
        safe_name(name, "filesystem name")
        ds = listing.get(f"{self.parent}/{name}")
        if ds is None or ds.type != "filesystem":
            raise StorageError(f"filesystem {name} not found under {self.parent}")
        origin = ds.origin.split("@", 1)[1] if ds.origin and ds.origin.startswith(f"{self.dataset}@") \
            else ds.origin
        return CloneInfo(name, origin, ds.mountpoint or "")

    def mountstring(self, name: str) -> str:
        host = self.config.get("host", SECTION, default="").strip() or "localhost"
        return f"{host}:{self.filesystem_info(name).mountpoint}"

    def local_path(self, clonename: str) -> Path | None:
        if not (self.runner.is_local or self.shared_paths):
            return None
        mountpoint = self.filesystem_info(safe_name(clonename, "clone name")).mountpoint
        return Path(mountpoint) if mountpoint else None

    def snapshot_path(self, snapid: str) -> Path | None:
        self._snapid_ok(snapid)
        listing = self._list(fresh=True)
        if snapid not in self._snapshots(listing):
            raise StorageError(f"snapshot {snapid} of {self.dataset} not found")
        mountpoint = listing[self.dataset].mountpoint if self.dataset in listing else None
        if not (self.runner.is_local or self.shared_paths) or not mountpoint:
            return None
        # OpenZFS shows every snapshot under the hidden .zfs directory; zfs-fuse has none.
        path = Path(mountpoint) / ".zfs" / "snapshot" / snapid
        return path if path.is_dir() else None

    def createvolume(self) -> None:
        options = []
        recordsize = self.config.get("recordsize", SECTION, default="").strip()
        if recordsize:
            if not re.fullmatch(r"\d+[KkMm]?", recordsize):
                raise ConfigError(f"{self.config.path}: [{SECTION}] key 'recordsize' must be a size such as "
                                  f"128K, not '{recordsize}'")
            options += ["-o", f"recordsize={recordsize}"]
        compression = self.config.get("compression", SECTION, default="lz4").strip()
        if not _component_ok(compression):
            raise ConfigError(f"{self.config.path}: [{SECTION}] key 'compression': invalid value '{compression}'")
        result = self.runner.run(["zfs", "create", "-o", f"compression={compression}", *options, self.dataset],
                                 check=False)
        said = result.stdout + result.stderr
        if result.returncode != 0 and compression == "lz4" and "compression" in said:
            # zfs-fuse and old pools know no lz4: the default compression is the next best.
            log.info("lz4 compression not supported here, using compression=on")
            result = self.runner.run(["zfs", "create", "-o", "compression=on", *options, self.dataset],
                                     check=False)
            said = result.stdout + result.stderr
        self._changed()
        if result.returncode != 0:
            self._raise(result.argv, result.returncode, said)
        log.info("Dataset %s created", self.dataset)


def _component_ok(part: str) -> bool:
    try:
        safe_name(part, "dataset name")
    except UsageError:
        return False
    return True
