"""The ``btrfs`` storage driver: subvolumes and snapshots, here or on a server over SSH.

Layout (all absolute paths on the storage host, configured in ``[btrfs]``; a
database section may override them as ``btrfs<key>``):

* ``<base>/<db>`` is the database's subvolume: the backup area (locally,
  ``base`` is ``[generic] backupdest``; remotely it is exported over NFS);
* snapshots are read-only snapshots ``<snapshotdir>/<db>-YYYYmmddTHHMMSS``
  (local time in the id, like the other drivers);
* a clone is a writable snapshot of a snapshot, ``<clonedir>/<clonename>``.

What belongs to whom comes from btrfs itself: ``btrfs subvolume show`` gives
the database subvolume's UUID and ``btrfs subvolume list -s -q -u`` every
snapshot's UUID, parent UUID and creation time (``otime``, the subvolume's own
metadata, printed in UTC as the command runs with ``TZ=UTC``).  A snapshot is
ours when its parent is the database's subvolume; a clone is ours when its
parent is one of our snapshots (anything else in ``clonedir`` is refused).
Paths in that listing are relative to the filesystem, so ``base``,
``snapshotdir`` and ``clonedir`` must have different directory names (checked).

Space comes from qgroups (``btrfs qgroup show --raw``: referenced and exclusive
bytes) when quotas are enabled on the filesystem, else it is unknown (None),
never estimated.

So a listing is three commands whatever the number of snapshots (the
subvolume, the snapshots, the qgroups); a retention run then issues one delete
per dropped snapshot.  btrfs itself would delete a snapshot that has clones
(they are independent subvolumes); this driver refuses, as ZFS does.

Pins (``zsnapper.py pin``, the restore test's "last verified" pin) are the
driver's own metadata: a snapshot is a read-only subvolume, so a pin lives
beside it as a one-line JSON sidecar ``<snapshotdir>/<snapid>.<kind>.pin``,
one file per pin so that pinning never reads, modifies and rewrites another
process's pin.  A sidecar is written to a hidden temporary name and renamed
into place (atomic); the sidecars are read with the listing (one ``find``), a
snapshot's sidecars are removed after the snapshot is dropped, and a sidecar
whose snapshot is gone (deleted by hand) is ignored and removed at the next
drop.  Unlike ``zfs hold``, nothing stops root from deleting a pinned
snapshot with ``btrfs subvolume delete``.  Sidecars are written without
``sudo``: the user the commands run as must be able to write in
``snapshotdir``.

A new snapshot or clone never lands inside an existing directory of the same
name (btrfs would put it there): its path is checked first with ``test -e``,
run without sudo, so with ``sudo`` the three directories must still be
searchable by the user running the scripts.

Other keys: ``sudo``, ``host``, ``port``, ``user``, ``keyfile``,
``knownhosts``, ``timeout`` (storage.remote) and ``sharedpaths`` (true when the
server's paths are the same on this host, for the ``clonepath`` mount method).
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath

from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError, UsageError
from imagecopy.keys import Key

from .base import CloneInfo, SnapHandler, SnapshotInfo
from .remote import Runner, failure, new_snapshot, remote_keys, runner_for, safe_name, snapshot_id_ok
from .retention import Pin

log = logging.getLogger(__name__)

SECTION = "btrfs"
CONFIG_KEYS = {SECTION: (
    Key(SECTION, "base", help="directory of the databases' subvolumes"),
    Key(SECTION, "snapshotdir", help="directory of the read-only snapshots"),
    Key(SECTION, "clonedir", help="directory of the writable clones"),
    *remote_keys(SECTION))}
_LIST_LINE = re.compile(r"ID (\d+) .*?otime (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) +"
                        r"parent_uuid (\S+) +uuid (\S+) +path (.+)$")
_QGROUP_LINE = re.compile(r"0/(\d+)\s+(\d+)\s+(\d+)")
PIN_SUFFIX = ".pin"
# The runner passes no stdin, so a sidecar's text travels as a positional parameter of this fixed
# script (never inside it): written to a temporary name, then renamed over the sidecar (atomic).
_WRITE_PIN = 'printf "%s\\n" "$1" > "$2" && mv -f -- "$2" "$3"'


@dataclass(frozen=True)
class Subvolume:
    id: int
    created: datetime
    parent_uuid: str | None
    uuid: str
    path: str           # relative to the filesystem's top level, as btrfs prints it


@dataclass(frozen=True)
class BtrfsSnapshot:
    """A ``listsnapshots`` record."""

    id: str
    creation: datetime


@dataclass
class Listing:
    """What one listing found: the database's subvolume, its snapshots and their clones."""

    own: str                             # UUID of the database's subvolume
    snapshots: dict[str, Subvolume]      # snapshot id → subvolume
    clones: dict[str, Subvolume]         # every snapshot subvolume in clonedir, by name
    space: dict[int, tuple[int, int]] | None   # subvolume id → (referenced, exclusive); None: no quotas
    pins: dict[str, dict[str, Pin]]      # snapshot id → kind → pin, as the sidecars say (gone snapshots too)


def parse_subvolumes(text: str) -> list[Subvolume]:
    out = []
    for line in text.splitlines():
        m = _LIST_LINE.match(line.strip())
        if m:
            created = datetime.strptime(m.group(2), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
            parent = None if m.group(3) == "-" else m.group(3)
            out.append(Subvolume(int(m.group(1)), created, parent, m.group(4), m.group(5)))
        elif line.strip():
            log.debug("btrfs listing: ignoring %r", line)
    return out


class Btrfs(SnapHandler):
    """Read-only snapshots and writable clones of the subvolume ``<base>/<db>``."""

    def __init__(self, config: Configuration, dbname: str):
        super().__init__(config, dbname)
        safe_name(self.dbname, "database name")
        self.base = self._dir("base")
        self.snapshotdir = self._dir("snapshotdir")
        self.clonedir = self._dir("clonedir")
        names = {self.base.name, self.snapshotdir.name, self.clonedir.name}
        if len(names) < 3:
            raise ConfigError(f"{config.path}: [{SECTION}] base, snapshotdir and clonedir must be directories "
                              f"with different names, not {self.base}, {self.snapshotdir}, {self.clonedir}")
        self.volume = self.base / self.dbname
        self.runner: Runner = runner_for(config, SECTION)
        self.shared_paths = config.getbool("sharedpaths", SECTION, default=False)
        self._snap_re = re.compile(re.escape(self.dbname) + r"-\d{8}T\d{6}")
        self._listing: Listing | None = None

    def _dir(self, key: str) -> PurePosixPath:
        raw = self.config.get(key, SECTION).strip()
        path = PurePosixPath(raw)
        if not path.is_absolute() or ".." in path.parts or any(not _plain(p) for p in path.parts[1:]):
            raise ConfigError(f"{self.config.path}: [{SECTION}] key '{key}' must be an absolute path of "
                              f"plain names (letters, digits, _ . : -), not '{raw}'")
        return path

    # -- the listing -------------------------------------------------------------------
    @staticmethod
    def _in(sub: Subvolume, directory: PurePosixPath) -> str | None:
        """The subvolume's name when it lies directly in ``directory``, else None."""
        parts = sub.path.split("/")
        if len(parts) >= 2 and parts[-2] == directory.name:
            return parts[-1]
        return None

    def _list(self, fresh: bool = False) -> Listing:
        if self._listing is not None and not fresh:
            return self._listing
        own = self._own_uuid()
        # Snapshots only (-s): the only form that prints otime, in the zone of the
        # process, hence TZ=UTC.
        subs = parse_subvolumes(self.runner.run(["btrfs", "subvolume", "list", "-s", "-q", "-u", str(self.base)],
                                                utc=True).stdout)
        snaps: dict[str, Subvolume] = {}
        clones: dict[str, Subvolume] = {}
        for s in subs:
            name = self._in(s, self.snapshotdir)
            if name and s.parent_uuid == own and self._snap_re.fullmatch(name):
                snaps[name] = s
            name = self._in(s, self.clonedir)
            if name:
                clones[name] = s
        listing = Listing(own, snaps, clones, self._qgroups(), self._read_pins())
        self._listing = listing
        return listing

    def _own_uuid(self) -> str:
        """The UUID of the database's subvolume (its snapshots name it as their parent)."""
        out = self.runner.run(["btrfs", "subvolume", "show", str(self.volume)]).stdout
        for line in out.splitlines():
            key, _, value = line.strip().partition(":")
            if key == "UUID" and value.strip():
                return value.strip()
        raise StorageError(f"{self.runner.where}: 'btrfs subvolume show {self.volume}' printed no UUID")

    def _qgroups(self) -> dict[int, tuple[int, int]] | None:
        result = self.runner.run(["btrfs", "qgroup", "show", "--raw", str(self.base)], check=False)
        said = result.stdout + result.stderr
        if result.returncode != 0:
            if "quota" in said.lower():
                return None  # quotas not enabled: space unknown
            raise failure(self.runner.where, result.argv, result.returncode, said)
        return {int(m.group(1)): (int(m.group(2)), int(m.group(3)))
                for m in (_QGROUP_LINE.match(line.strip()) for line in result.stdout.splitlines()) if m}

    def _read_pins(self) -> dict[str, dict[str, Pin]]:
        """Every pin sidecar of this database, one ``find`` whatever their number."""
        out = self.runner.run(["find", str(self.snapshotdir), "-maxdepth", "1", "-type", "f",
                               "-name", f"{self.dbname}-*{PIN_SUFFIX}", "-exec", "cat", "{}", "+"],
                              privileged=False).stdout
        pins: dict[str, dict[str, Pin]] = {}
        for line in out.splitlines():
            try:
                doc = json.loads(line)
                pin = Pin(str(doc["snapid"]), str(doc["reason"]),
                          date.fromisoformat(doc["until"]) if doc.get("until") else None, str(doc["kind"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                # A sidecar is renamed into place whole, so this is a hand-edited or foreign file.
                log.warning("%s: ignoring an unreadable pin file line %r", self.snapshotdir, line[:200])
                continue
            if self._snap_re.fullmatch(pin.snapid):     # "orcl-*" also matches database "orcl-dev"
                pins.setdefault(pin.snapid, {})[pin.kind] = pin
        return pins

    def _own_clones(self, listing: Listing) -> dict[str, Subvolume]:
        origins = {s.uuid for s in listing.snapshots.values()}
        return {name: s for name, s in listing.clones.items() if s.parent_uuid in origins}

    def _origin(self, listing: Listing, clone: Subvolume) -> str | None:
        return next((name for name, s in listing.snapshots.items() if s.uuid == clone.parent_uuid), None)

    # -- snapshots ---------------------------------------------------------------------
    def listsnapshots(self, sortbycreation: bool = False, sortreverse: bool = False) -> list[BtrfsSnapshot]:
        listing = self._list(fresh=True)
        records = [BtrfsSnapshot(name, sub.created) for name, sub in listing.snapshots.items()]
        if sortbycreation:
            return sorted(records, key=lambda r: (r.creation, r.id), reverse=sortreverse)
        return sorted(records, key=lambda r: r.id, reverse=sortreverse)

    def getsnapcreation(self, s: BtrfsSnapshot | str) -> datetime:
        return s.creation if isinstance(s, BtrfsSnapshot) else self.getsnapinfo(s).creation

    def getsnapinfo(self, s: BtrfsSnapshot | str) -> SnapshotInfo:
        snapid = s.id if isinstance(s, BtrfsSnapshot) else self._snapid_ok(s)
        listing = self._list()
        sub = listing.snapshots.get(snapid)
        if sub is None:
            raise StorageError(f"snapshot {snapid} of {self.dbname} not found in {self.snapshotdir}")
        numclones = sum(1 for c in self._own_clones(listing).values() if c.parent_uuid == sub.uuid)
        space = listing.space.get(sub.id) if listing.space is not None else None
        total, unique = space if space else (None, None)
        return SnapshotInfo(snapid, sub.created, numclones, total, unique)

    def _snapid_ok(self, snapid: str) -> str:
        return snapshot_id_ok(self.dbname, snapid)

    def snap(self) -> str:
        def create(snapid: str) -> bool:
            target = str(self.snapshotdir / snapid)
            # btrfs would put the snapshot INSIDE an existing directory of that name:
            # a second snapshot within the same second waits for the next one.
            if self.runner.run(["test", "!", "-e", target], check=False, privileged=False).returncode != 0:
                return False
            self.runner.run(["btrfs", "subvolume", "snapshot", "-r", str(self.volume), target])
            self._listing = None
            return True
        snapid = new_snapshot(self.dbname, create)
        log.info("Snapshot %s created", snapid)
        return snapid

    def dropsnap(self, snapid: str) -> None:
        self._snapid_ok(snapid)
        listing = self._list()
        if snapid not in listing.snapshots:
            listing = self._list(fresh=True)
        sub = listing.snapshots.get(snapid)
        if sub is None:
            raise StorageError(f"snapshot {snapid} of {self.dbname} not found in {self.snapshotdir}")
        clones = sorted(n for n, c in self._own_clones(listing).items() if c.parent_uuid == sub.uuid)
        if clones:
            raise StorageError(f"snapshot {snapid} has a clone ({', '.join(clones)}): not dropped")
        self.runner.run(["btrfs", "subvolume", "delete", str(self.snapshotdir / snapid)])
        # The rest of the listing still holds: a retention run drops many without listing again.
        del listing.snapshots[snapid]
        log.info("Snapshot %s dropped", snapid)
        # Its pins go after it (a pin must never be lost while its snapshot stays), with any pin
        # whose snapshot was deleted by hand; a sidecar left by a failure here is ignored until then.
        stale = [(s, k) for s, kinds in listing.pins.items() if s not in listing.snapshots for k in kinds]
        if stale:
            self.runner.run(["rm", "-f", "--", *(self._pin_path(s, k) for s, k in stale)], privileged=False)
            for s, _ in stale:
                listing.pins.pop(s, None)

    # -- pins: one sidecar per pin beside the snapshot ---------------------------------------
    def _pin_path(self, snapid: str, kind: str) -> str:
        return str(self.snapshotdir / f"{snapid}.{kind}{PIN_SUFFIX}")

    def pins(self) -> list[Pin]:
        # The listing retention just read holds the pins too: no second command.
        listing = self._list()
        return [pin for snapid, kinds in sorted(listing.pins.items()) if snapid in listing.snapshots
                for _, pin in sorted(kinds.items())]

    def pin(self, snapid: str, reason: str, until: date | None = None, kind: str = "manual") -> Pin:
        self._snapid_ok(snapid)
        safe_name(kind, "pin kind")
        if any(ord(ch) < 32 for ch in reason) or len(reason) > 1000:
            raise UsageError("the pin's reason must be one line of at most 1000 characters")
        if snapid not in self._list(fresh=True).snapshots:
            raise StorageError(f"snapshot {snapid} of {self.dbname} not found in {self.snapshotdir}")
        pin = Pin(snapid, reason, until, kind)
        text = json.dumps(pin.to_dict(), sort_keys=True)           # ASCII, one line
        final = self._pin_path(snapid, kind)
        tmp = str(self.snapshotdir / f".{snapid}.{kind}{PIN_SUFFIX}.tmp")   # hidden: never read as a pin
        self.runner.run(["sh", "-c", _WRITE_PIN, "sh", text, tmp, final], privileged=False)
        self._listing = None
        return pin

    def unpin(self, snapid: str, kind: str = "manual") -> bool:
        self._snapid_ok(snapid)
        safe_name(kind, "pin kind")
        if kind not in self._list(fresh=True).pins.get(snapid, {}):
            return False
        self.runner.run(["rm", "-f", "--", self._pin_path(snapid, kind)], privileged=False)
        self._listing = None
        return True

    # -- clones ------------------------------------------------------------------------
    def clone(self, snapid: str, clonename: str) -> None:
        self._snapid_ok(snapid)
        safe_name(clonename, "clone name")
        target = str(self.clonedir / clonename)
        if self.runner.run(["test", "!", "-e", target], check=False, privileged=False).returncode != 0:
            raise StorageError(f"clone {clonename} already exists in {self.clonedir}")
        self.runner.run(["btrfs", "subvolume", "snapshot", str(self.snapshotdir / snapid), target])
        self._listing = None
        log.info("Clone %s of snapshot %s created", clonename, snapid)

    def dropclone(self, clonename: str) -> None:
        safe_name(clonename, "clone name")
        listing = self._list(fresh=True)
        if clonename not in listing.clones:
            raise StorageError(f"clone {clonename} not found in {self.clonedir}")
        if clonename not in self._own_clones(listing):
            raise StorageError(f"{clonename} is not a clone of {self.dbname}'s snapshots: refusing to drop it")
        self.runner.run(["btrfs", "subvolume", "delete", str(self.clonedir / clonename)])
        self._listing = None
        log.info("Clone %s dropped", clonename)

    def listclones(self) -> list[CloneInfo]:
        listing = self._list(fresh=True)
        return [CloneInfo(name, self._origin(listing, sub), str(self.clonedir / name))
                for name, sub in sorted(self._own_clones(listing).items())]

    def filesystem_info(self, name: str | None = None) -> CloneInfo:
        if name is None or name == self.dbname:
            return CloneInfo(self.dbname, None, str(self.volume))
        safe_name(name, "filesystem name")
        listing = self._list(fresh=True)
        sub = listing.clones.get(name)
        if sub is None:
            raise StorageError(f"filesystem {name} not found: neither {self.dbname}'s subvolume "
                               f"nor a clone in {self.clonedir}")
        return CloneInfo(name, self._origin(listing, sub), str(self.clonedir / name))

    def mountstring(self, name: str) -> str:
        host = self.config.get("host", SECTION, default="").strip() or "localhost"
        return f"{host}:{self.filesystem_info(name).mountpoint}"

    def local_path(self, clonename: str) -> Path | None:
        safe_name(clonename, "clone name")
        if not (self.runner.is_local or self.shared_paths):
            return None
        return Path(str(self.clonedir / clonename))

    def snapshot_path(self, snapid: str) -> Path | None:
        self._snapid_ok(snapid)
        if snapid not in self._list(fresh=True).snapshots:
            raise StorageError(f"snapshot {snapid} of {self.dbname} not found in {self.snapshotdir}")
        if not (self.runner.is_local or self.shared_paths):
            return None
        return Path(str(self.snapshotdir / snapid))

    def createvolume(self) -> None:
        self.runner.run(["btrfs", "subvolume", "create", str(self.volume)])
        self._listing = None
        log.info("Subvolume %s created", self.volume)


def _plain(part: str) -> bool:
    try:
        safe_name(part, "path component")
    except UsageError:
        return False
    return True
