"""The storage driver interface and the logic shared above every driver.

A driver (``storage.localfs.LocalFS``, later ``zfssa``, ``netapp`` …) subclasses
``SnapHandler`` and implements the storage primitives: list, create and drop
snapshots, clone a snapshot, drop and list clones, describe a filesystem, give
its mount string and create the backup volume.  The method names are the old
toolset's, so a driver written against it keeps its shape (its constructor
now takes ``(config, dbname)``; returning the old dicts from ``getsnapinfo``
and ``listclones`` still works, they are converted here).

Everything that is policy rather than storage lives here, once: retention
(``clean``, over the pure ``storage.retention.plan``), picking the snapshot to
clone for a restore test (``autoclone``), the snapshot that covers a point in
time (``search_recovery_snapid``), the snapshot age check for monitoring and
the one-line renderings used by zsnapper.py and the backup log.
"""
from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError, UsageError
from imagecopy.layout import backup_area, validate_name
from imagecopy.units import size2str

from .retention import HAS_CLONE, VERIFIED, Decision, Pin, apply_pins, as_utc, gfs_plan, parse_gfs, plan

log = logging.getLogger(__name__)

__all__ = ["SnapHandler", "SnapHandlerWithoutClones", "ClonesNotSupported", "SnapshotInfo", "CloneInfo",
           "CleanResult", "AgeCheck", "size2str", "backup_area", "validate_name", "as_utc", "format_age"]


class ClonesNotSupported(UsageError):
    """The one answer of a driver whose storage cannot clone, to every clone request.

    A usage error (exit 2): asking again will not help, the configuration names a
    storage that cannot do what was asked (zsnapper.py clone, the restore tests).
    """


def format_age(age: timedelta) -> str:
    """An age as ``[N day(s), ]H:MM:SS`` (the old output, without the microseconds)."""
    return str(timedelta(seconds=max(int(age.total_seconds()), 0)))


@dataclass(frozen=True)
class SnapshotInfo:
    """One snapshot as every driver reports it.

    ``creation`` is tz-aware UTC; ``space_total`` is the space the snapshot's data
    takes, ``space_unique`` what only this snapshot holds (what dropping it frees).
    Either is None when the storage cannot tell (btrfs without quotas): unknown,
    never a guess.
    """

    id: str
    creation: datetime
    numclones: int
    space_total: int | None
    space_unique: int | None

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> SnapshotInfo:
        """Build from an old-style driver dict (naive creation taken as UTC)."""
        return cls(id=str(m["id"]), creation=as_utc(m["creation"]), numclones=int(m["numclones"]),
                   space_total=int(m["space_total"]), space_unique=int(m["space_unique"]))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "creation": self.creation.isoformat(), "numclones": self.numclones,
                "space_total": self.space_total, "space_unique": self.space_unique}


@dataclass(frozen=True)
class CloneInfo:
    """A clone (or, from ``filesystem_info()``, the database's own filesystem: origin None)."""

    clonename: str
    origin: str | None
    mountpoint: str

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> CloneInfo:
        origin = m.get("origin")
        return cls(clonename=str(m["clonename"]), origin=None if origin is None else str(origin),
                   mountpoint=str(m["mountpoint"]))

    def to_dict(self) -> dict[str, Any]:
        return {"clonename": self.clonename, "origin": self.origin, "mountpoint": self.mountpoint}


@dataclass(frozen=True)
class CleanResult:
    """The fate of one snapshot in a retention run.

    ``status`` is ``valid``, ``dropped``, ``has a clone``, ``DROP FAILED`` or, under
    dry run, ``would drop``; ``infostring`` is the old log line (snapshot + status);
    ``reason`` says why, in words.
    """

    snapid: str
    dropped: bool
    status: str
    infostring: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"snapid": self.snapid, "dropped": self.dropped, "status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class AgeCheck:
    """The monitoring verdict on a snapshot's age (Nagios plugin states): the newest, or the last verified.

    The message is the old toolset's line followed by Nagios performance data
    (``| age=123s;93600;115200``: the age and the warning and critical thresholds).
    """

    status: str                 # OK, WARNING or CRITICAL
    exit_code: int              # 0, 1, 2
    age: timedelta | None       # None when there is no such snapshot
    snapid: str | None
    warning_hours: float | None = None
    critical_hours: float | None = None
    what: str = "latest snapshot"

    @property
    def message(self) -> str:
        if self.age is None:
            missing = "no snapshot exists" if self.what == "latest snapshot" else "no snapshot is verified"
            return f"{self.status}: The {self.what} age None ({missing})"
        return f"{self.status}: The {self.what} age {format_age(self.age)}{self.perfdata}"

    def text(self) -> str:
        """The Nagios line (imagecopy.output.emit)."""
        return self.message

    @property
    def perfdata(self) -> str:
        if self.age is None or self.warning_hours is None or self.critical_hours is None:
            return ""
        seconds = max(int(self.age.total_seconds()), 0)
        return f" | age={seconds}s;{int(self.warning_hours * 3600)};{int(self.critical_hours * 3600)}"

    def to_dict(self) -> dict[str, Any]:
        key = "latest_snapshot" if self.what == "latest snapshot" else "verified_snapshot"
        return {"status": self.status, "exit_code": self.exit_code, key: self.snapid,
                "age_seconds": None if self.age is None else max(int(self.age.total_seconds()), 0),
                "message": self.message}


def judge_age(created: datetime | None, snapid: str | None, warning_hours: float, critical_hours: float,
              now: datetime, what: str = "latest snapshot") -> AgeCheck:
    """The Nagios state of a snapshot created at ``created``; no snapshot at all is CRITICAL."""
    if created is None:
        return AgeCheck("CRITICAL", 2, None, None, warning_hours, critical_hours, what)
    # A snapshot "in the future" (clock skew) counts as brand new, not as negative age.
    age = max(now - created, timedelta(0))
    if age >= timedelta(hours=critical_hours):
        status, code = "CRITICAL", 2
    elif age >= timedelta(hours=warning_hours):
        status, code = "WARNING", 1
    else:
        status, code = "OK", 0
    return AgeCheck(status, code, age, snapid, warning_hours, critical_hours, what)


def retention_zone(config: Configuration) -> tzinfo:
    """``[generic] retentiontimezone``, else the host's zone (the one snapshot names are written in)."""
    name = config.get("retentiontimezone", "generic", default="").strip()
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{config.path}: [generic] key 'retentiontimezone': unknown time zone '{name}'") \
                from None
    if os.environ.get("TZ"):
        try:
            return ZoneInfo(os.environ["TZ"].lstrip(":"))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as fh:
            return ZoneInfo.from_file(fh, key="localtime")
    except (OSError, ValueError):
        # Without tz data: the current offset (right except across a DST change).
        return datetime.now().astimezone().tzinfo or timezone.utc


def _now(now: datetime | None) -> datetime:
    return datetime.now(timezone.utc) if now is None else as_utc(now)


class SnapHandler(ABC):
    """Base class of storage drivers.

    :param config: the configuration, bound to the database's section.
    :param dbname: the database (its section, its filesystem/volume name).
    """

    # False: the storage cannot clone; clone, dropclone, listclones and autoclone raise
    # ClonesNotSupported (see SnapHandlerWithoutClones), and restores refuse to start.
    supports_clones: bool = True
    # The storage's name in messages (default: the class name).
    storage_name: str | None = None

    def __init__(self, config: Configuration, dbname: str):
        self.config = config
        self.dbname = validate_name(dbname, "database name")

    @property
    def configname(self) -> str:
        """The old toolset's name for the database section."""
        return self.dbname

    # -- storage primitives: every driver implements these ---------------------------
    @abstractmethod
    def listsnapshots(self, sortbycreation: bool = False, sortreverse: bool = False) -> list:
        """The database's snapshots, as driver records that ``getsnapinfo`` understands."""

    @abstractmethod
    def getsnapinfo(self, s: Any) -> SnapshotInfo:
        """A record from ``listsnapshots`` as a ``SnapshotInfo``."""

    @abstractmethod
    def snap(self) -> str:
        """Snapshot the backup area; return the snapshot id."""

    @abstractmethod
    def dropsnap(self, snapid: str) -> None:
        """Drop a snapshot; raise ``StorageError`` when the storage refuses."""

    @abstractmethod
    def clone(self, snapid: str, clonename: str) -> None:
        """Create a writable clone of a snapshot under ``clonename``."""

    @abstractmethod
    def dropclone(self, clonename: str) -> None:
        """Drop a clone; refuse anything that is not a clone of this database."""

    @abstractmethod
    def filesystem_info(self, name: str | None = None) -> CloneInfo:
        """Origin, name and storage mount point of a clone (or of the database's filesystem)."""

    @abstractmethod
    def listclones(self) -> list[CloneInfo]:
        """Clones of this database's snapshots."""

    @abstractmethod
    def mountstring(self, name: str) -> str:
        """How to mount a filesystem, ``host:/path``."""

    @abstractmethod
    def createvolume(self) -> None:
        """Create the database's backup filesystem/volume."""

    # -- optional capabilities --------------------------------------------------------
    def no_clones(self) -> ClonesNotSupported:
        """The error every clone request gets from a driver without clones."""
        name = self.storage_name or type(self).__name__
        return ClonesNotSupported(f"{name} does not support clones: zsnapper.py clone, autoclone, listclones "
                                  "and dropclone, the nightly restore test and restore.py need a storage that clones")

    def require_clones(self) -> None:
        """Refuse, before anything is done, what needs a clone (the restores).

        :raises ClonesNotSupported: when this storage cannot clone.
        """
        if not self.supports_clones:
            raise self.no_clones()

    def local_path(self, clonename: str) -> Path | None:
        """A clone's path usable directly as its mount point (local drivers), else None."""
        return None

    def snapshot_path(self, snapid: str) -> Path | None:
        """A directory on this host where the snapshot's files can be read, or None when the storage
        cannot show a snapshot's contents here (a remote server without ``sharedpaths``, zfs-fuse).

        Read only: nothing may be written there.

        :raises StorageError: when the snapshot does not exist.
        """
        return None

    def getsnapcreation(self, s: Any) -> datetime:
        """Creation time (UTC) of a ``listsnapshots`` record.

        Drivers whose space figures are costly override this so that monitoring
        (``checkage``) stays cheap.
        """
        return self._info(s).creation

    # -- shared logic -----------------------------------------------------------------
    def _info(self, s: Any) -> SnapshotInfo:
        info = self.getsnapinfo(s)
        if info.creation.tzinfo is None or info.creation.utcoffset() != timedelta(0):
            return SnapshotInfo(info.id, as_utc(info.creation), info.numclones, info.space_total,
                                info.space_unique)
        return info

    def snapshots(self, sortreverse: bool = False) -> list[SnapshotInfo]:
        """Every snapshot with its details, oldest first (newest first with ``sortreverse``)."""
        return [self._info(s) for s in self.listsnapshots(sortbycreation=True, sortreverse=sortreverse)]

    def filesystem(self, name: str | None = None) -> CloneInfo:
        """``filesystem_info`` (old drivers' dicts are converted by storage.legacy)."""
        return self.filesystem_info(name)

    def clones(self) -> list[CloneInfo]:
        """``listclones`` (old drivers' dicts are converted by storage.legacy)."""
        return self.listclones()

    @staticmethod
    def snap2str(info: SnapshotInfo) -> str:
        """``<id> [<YYYY-mm-dd HH:MM:SS> UTC] total=<size> unique=<size> clones=<n>``."""
        created = as_utc(info.creation).strftime("%Y-%m-%d %H:%M:%S")
        def size(n: int | None) -> str:
            return "unknown" if n is None else size2str(n)
        return (f"{info.id} [{created} UTC] total={size(info.space_total)} "
                f"unique={size(info.space_unique)} clones={info.numclones}")

    @staticmethod
    def clone2str(c: CloneInfo) -> str:
        """``<clone> [<origin snap>] [mount point: <path>]``."""
        return f"{c.clonename} [{c.origin}] [mount point: {c.mountpoint}]"

    def clean(self, now: datetime | None = None, dry_run: bool = False) -> list[CleanResult]:
        """Apply retention (``snapexpirationdays``/``snapexpirationmonths``) and drop.

        A drop that fails is reported as ``DROP FAILED`` and logged; the remaining
        snapshots are still processed.  Under ``dry_run`` nothing is dropped and the
        snapshots that would go are reported as ``would drop``.

        :raises ConfigError: when the expiration settings are missing or not numbers.
        :raises StorageError: when the snapshots cannot be listed.
        """
        decide = self.retention_rule()
        # Details are read once, before any drop, so every line describes the
        # snapshot as retention saw it.
        infos = {i.id: i for i in self.snapshots()}
        pins = self.pins()
        results: list[CleanResult] = []
        for decision in apply_pins(decide(list(infos.values()), _now(now)), pins, _now(now),
                                   retention_zone(self.config)):
            info = infos[decision.snapid]
            dropped = False
            if decision.drop and dry_run:
                status = "would drop"
            elif decision.drop:
                try:
                    self.dropsnap(decision.snapid)
                    dropped, status = True, "dropped"
                except Exception as exc:  # noqa: BLE001 - one failed drop must not stop retention
                    log.error("Dropping snapshot %s failed: %s", decision.snapid, exc)
                    status = "DROP FAILED"
            elif decision.reason == HAS_CLONE:
                status = HAS_CLONE
            else:
                status = "valid"
            log.debug("Retention: %s %s (%s)", decision.snapid, status, decision.reason)
            results.append(CleanResult(decision.snapid, dropped, status,
                                       f"{self.snap2str(info)} {status}", decision.reason))
        return results

    def retention_rule(self) -> Callable[[list[SnapshotInfo], datetime], list[Decision]]:
        """The configured rule: ``snapretention`` (GFS) when set, else the expiration days and months.

        :raises ConfigError: on a bad value or an unknown ``retentiontimezone``.
        """
        zone = retention_zone(self.config)
        gfs = self.config.get("snapretention", default="").strip()
        if gfs:
            try:
                counts = parse_gfs(gfs)
            except ValueError as exc:
                raise ConfigError(f"{self.config.path}: key 'snapretention': {exc}") from None
            return lambda snaps, now: gfs_plan(snaps, now, counts, zone)
        days = self.config.getint("snapexpirationdays", minimum=0)
        months = self.config.getint("snapexpirationmonths", minimum=0)
        return lambda snaps, now: plan(snaps, now, days, months, zone)

    # -- pins: snapshots retention keeps whatever its rule says -------------------------------
    def pins(self) -> list[Pin]:
        """The pins on this database's snapshots; a driver that cannot store pins has none."""
        return []

    def pin(self, snapid: str, reason: str, until: date | None = None, kind: str = "manual") -> Pin:
        """Pin ``snapid`` (replacing its pin of the same kind).

        :raises StorageError: when the driver cannot store pins, or there is no such snapshot.
        """
        raise StorageError(f"the {type(self).__name__} storage driver cannot pin snapshots")

    def unpin(self, snapid: str, kind: str = "manual") -> bool:
        """Remove ``snapid``'s pin of ``kind``; False when it had none."""
        return False

    def pin_verified(self, snapid: str) -> Pin:
        """Make ``snapid`` the database's last verified snapshot: the one pin of kind VERIFIED."""
        pin = self.pin(snapid, "last verified by a restore test", kind=VERIFIED)
        for old in self.pins():
            if old.kind == VERIFIED and old.snapid != snapid:
                self.unpin(old.snapid, VERIFIED)
        return pin

    def autoclone(self, clonename: str, max_age_hours: float, now: datetime | None = None) -> str:
        """Clone the newest snapshot at least ``max_age_hours`` old as ``clonename``.

        :returns: the id of the snapshot that was cloned.
        :raises StorageError: when no snapshot is old enough (or the clone fails).
        """
        self.require_clones()
        validate_name(clonename, "clone name")
        now = _now(now)
        min_age = timedelta(hours=max_age_hours)
        for s in self.listsnapshots(sortbycreation=True, sortreverse=True):
            created = as_utc(self.getsnapcreation(s))
            if now - created >= min_age:
                snapid = self._snapid(s)
                log.debug("Snapshot for autoclone: %s", snapid)
                self.clone(snapid, clonename)
                return snapid
        raise StorageError(f"Suitable snapshot not found for cloning: no snapshot of {self.dbname} "
                           f"is at least {max_age_hours:g} hours old")

    def search_recovery_snapid(self, target_utc: datetime | None,
                               covers: Callable[[str], bool] | None = None) -> str | None:
        """The oldest snapshot created at or after ``target_utc`` (naive = UTC), or None.

        That snapshot holds every archivelog up to its creation, so it can recover
        the database to the target time.  With ``covers`` (a restore to an SCN: does
        the snapshot's recorded recovery target reach it?) the oldest snapshot for
        which it also holds; ``target_utc`` None then considers every snapshot.
        """
        target = None if target_utc is None else as_utc(target_utc)
        for s in self.listsnapshots(sortbycreation=True):
            if target is not None and as_utc(self.getsnapcreation(s)) < target:
                continue
            snapid = self._snapid(s)
            if covers is None or covers(snapid):
                return snapid
        return None

    def latest_snapshot(self) -> tuple[str, datetime] | None:
        """Id and creation time of the newest snapshot, or None when there is none."""
        newest: tuple[str, datetime] | None = None
        for s in self.listsnapshots():
            created = as_utc(self.getsnapcreation(s))
            if newest is None or created > newest[1]:
                newest = (self._snapid(s), created)
        return newest

    def check_age(self, warning_hours: float, critical_hours: float, now: datetime | None = None) -> AgeCheck:
        """Judge the newest snapshot's age against the thresholds (hours).

        No snapshot at all is CRITICAL; storage errors propagate (the caller
        reports them as UNKNOWN).
        """
        latest = self.latest_snapshot()
        snapid, created = latest if latest is not None else (None, None)
        return judge_age(created, snapid, warning_hours, critical_hours, _now(now))

    def check_verified(self, warning_hours: float, critical_hours: float, now: datetime | None = None) -> AgeCheck:
        """Judge the age of the last snapshot a restore test verified (its pin); none is CRITICAL."""
        verified = {p.snapid for p in self.pins() if p.kind == VERIFIED}
        found = [(as_utc(self.getsnapcreation(s)), self._snapid(s)) for s in self.listsnapshots()
                 if self._snapid(s) in verified]
        created, snapid = max(found) if found else (None, None)
        return judge_age(created, snapid, warning_hours, critical_hours, _now(now), "last verified snapshot")

    def _snapid(self, s: Any) -> str:
        """The id of a ``listsnapshots`` record; read from the record when it has an
        ``id`` attribute, so no space figures are computed just for the id."""
        value = getattr(s, "id", None)
        return value if isinstance(value, str) else self._info(s).id


class SnapHandlerWithoutClones(SnapHandler, ABC):
    """Base of a driver whose storage cannot clone (SoftNAS): every clone request gets the one
    answer, ``ClonesNotSupported`` ("<storage> does not support clones"), exit 2."""

    supports_clones = False

    def clone(self, snapid: str, clonename: str) -> None:
        raise self.no_clones()

    def dropclone(self, clonename: str) -> None:
        raise self.no_clones()

    def listclones(self) -> list[CloneInfo]:
        raise self.no_clones()
