"""The ``netapp`` storage driver: ONTAP volumes, snapshots and FlexClones over the ONTAP REST API.

Settings, in the old toolset's order: ``[netapp]`` keys are read first from
``netappcredentials.cfg`` (beside the scripts; installed: beside backup.cfg;
or ``credentialsfile``), then from the main file.  The login is
``NETAPP_USER``/``NETAPP_PASSWORD`` when both are set, else ``[netappcredentials]
user, password`` of that file, else that section pasted into the main file.  A
relative ``cacert`` is a file in ``certs/`` there, as before.  HTTP (TLS
verified, timeouts, retries, quoting, no password in a message) is ``storage.http``.

The database's volume is ``<volumeprefix><db>``; ``additionalvolumesuffixes:
_redo,_arch`` (database section) adds ``<volumeprefix><db>_redo`` …, and every
operation covers all the volumes:

* a snapshot ``<db>_YYYYmmddTHHMMSS`` (the old names: its snapshots stay under
  retention; ONTAP volume names, so clone names, allow no ``-``) is taken on
  every volume; a failure on one removes it from the others.  A drop ends with
  the first volume, so a failed drop is still listed and retried;
* the listing reads the first volume's snapshots and FlexClones; space
  (``size``, ``reclaimable_space``, costly on ONTAP) is read only when asked,
  summed over the volumes;
* a clone of one volume is the FlexClone ``<clone>`` at junction ``/<clone>``; of
  several, a namespace volume ``<clone>`` at ``/<clone>`` (its comment says whose)
  holding the FlexClones ``<clone>0``, ``<clone>1`` … at ``/<clone>/<clone>N``:
  one NFS mount shows them all and the restore catalogues each.  A failure part
  way drops what was made; a drop unmounts (``nas.path: ""``), then deletes.

Every change is an ONTAP job, polled to its end (``jobtimeout``); a failed job's
message is the error.  Collections are read page by page (``_links.next``).
Names are checked before they reach a URL (ONTAP volume names: letters, digits,
``_``, which keeps the ``|`` and ``*`` of ONTAP queries out of every filter) and
quoted.  Pins are ``oib:`` + JSON in the first volume's snapshot ``comment``
(255 characters at most).
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import PurePosixPath
from typing import Any

from imagecopy import config as _config
from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError, UsageError
from imagecopy.keys import DB, Key
from imagecopy.layout import validate_name

from .base import CloneInfo, SnapHandler, SnapshotInfo
from .http import ApiClient, http_keys, url_path
from .netapp_settings import CRED_FILE, SECTION, Layered, credentials_file, http_settings, login, parse_size
from .retention import Pin

log = logging.getLogger(__name__)

CONFIG_KEYS = {
    SECTION: (Key(SECTION, "filer", help="ONTAP management address (cluster or SVM), host[:port]"),
              Key(SECTION, "svm", default="", help="the SVM of the volumes (default: the first volume's)"),
              Key(SECTION, "volumeprefix", default="", help="a database's volume is <volumeprefix><db>"),
              Key(SECTION, "mounthost", default="", help="NFS host in printed mount commands (default: filer)"),
              Key(SECTION, "credentialsfile", default=CRED_FILE, help="the login file, beside the scripts "
                  "(installed: beside backup.cfg) unless absolute"),
              Key(SECTION, "jobtimeout", "number", "300", "seconds an ONTAP job may take", minimum=1),
              Key(SECTION, "aggregate", help="zvolume.py create: aggregate of new volumes"),
              Key(SECTION, "volumesize", help="zvolume.py create: size of new volumes, e.g. 500G"),
              Key(SECTION, "exportpolicy", default="default", help="zvolume.py create: export policy"),
              Key(SECTION, "junctionparent", default="/", help="zvolume.py create: new volumes are mounted "
                  "at <junctionparent>/<db>"),
              *http_keys(SECTION)),
    # A key of the database's own section: its further volumes.
    DB: (Key(DB, "additionalvolumesuffixes", default="",
             help="netapp: further volumes <volumeprefix><db><suffix>, comma-separated"),),
}
_VOLUME_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,202}")
_DONE = frozenset({"success"})
_FAILED = frozenset({"failure", "cancelled", "expired"})
PIN_PREFIX = "oib:"
COMMENT_LIMIT = 255
NAMESPACE_COMMENT = "oracle-imagecopy-backup clone namespace of {volume}"
NAMESPACE_SIZE = 1 << 30
_VOLUME_FIELDS = "name,svm.name,nas.path,nas.export_policy.name,aggregates.name,comment,clone.parent_volume.name," \
                 "clone.parent_snapshot.name"


@dataclass(frozen=True)
class NetappSnapshot:
    """A ``listsnapshots`` record."""

    id: str
    creation: datetime


@dataclass
class Listing:
    """One read of the first volume: its snapshots (name → record) and its FlexClones."""

    snaps: dict[str, dict[str, Any]]
    clones: list[dict[str, Any]]
    space: dict[str, tuple[int | None, int | None]] | None = field(default=None)


def error_text(response: Any) -> str:
    """ONTAP's error body ``{"error": {"message", "code", "target"}}`` in words."""
    err = response.json().get("error") or {}
    target = f", target {err['target']}" if err.get("target") else ""
    return f"{err.get('message') or 'no message'} (error {err.get('code')}{target})"


def _json(response: Any) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        doc = response.json()
    except ValueError:
        raise StorageError(f"{SECTION}: {response.request.method} {response.url}: the answer is not JSON") from None
    return doc if isinstance(doc, dict) else {}


def _volume_name(name: str, what: str) -> str:
    validate_name(name, what)
    if not _VOLUME_NAME.fullmatch(name):
        raise UsageError(f"invalid {what} {name!r}: ONTAP volume names are letters, digits and _ "
                         "(not starting with a digit)")
    return name


class Netapp(SnapHandler):
    """See the module docstring."""

    def __init__(self, config: Configuration, dbname: str):
        super().__init__(config, dbname)
        creds, cred_path = credentials_file(config)
        self.settings = settings = Layered(config, creds)
        filer = settings.get("filer", SECTION).strip()
        host = re.sub(r"^https?://", "", filer).rstrip("/")
        if not host or "/" in host:
            raise ConfigError(f"{config.path}: [{SECTION}] filer must be a host name or address, not '{filer}'")
        self.mounthost = settings.get("mounthost", SECTION, "").strip() or host.rsplit(":", 1)[0].strip("[]")
        self.svm = settings.get("svm", SECTION, "").strip() or None
        prefix = settings.get("volumeprefix", SECTION, "").strip()
        suffixes = [s.strip() for s in config.get("additionalvolumesuffixes", default="").split(",") if s.strip()]
        self.volumes = [prefix + self.dbname] + [prefix + self.dbname + s for s in suffixes]
        for vol in self.volumes:
            try:
                _volume_name(vol, "volume name")
            except UsageError as exc:
                raise ConfigError(f"{config.path}: [{SECTION}] volumeprefix / additionalvolumesuffixes: {exc}") \
                    from None
        self.jobtimeout = settings.getfloat("jobtimeout", SECTION, 300.0, minimum=1)
        user, password = login(settings, creds, cred_path)
        self.api = ApiClient(http_settings(settings, _config.files_dir(config.path), f"https://{host}"),
                             auth=(user, password), secrets=[password], error_text=error_text)
        self._snap_re = re.compile(re.escape(self.dbname) + r"_\d{8}T\d{6}")
        self._vol_cache: dict[str, dict[str, Any]] = {}
        self._listing: Listing | None = None
        self._space_fields = ["size", "reclaimable_space"]

    @property
    def multivolume(self) -> bool:
        return len(self.volumes) > 1

    # -- REST plumbing --------------------------------------------------------------------
    def _records(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every record of a collection, following ``_links.next`` page by page."""
        doc = _json(self.api.get(path, params=params))
        records = list(doc.get("records") or [])
        for _ in range(100_000):
            href = ((doc.get("_links") or {}).get("next") or {}).get("href")
            if not href:
                return records
            if not str(href).startswith("/api/"):
                raise StorageError(f"{SECTION}: GET {path}: unexpected next-page link {str(href)[:100]!r}")
            doc = _json(self.api.request("GET", str(href), absolute=True))
            records.extend(doc.get("records") or [])
        raise StorageError(f"{SECTION}: GET {path}: the pages never end")

    def _write(self, method: str, path: str, what: str, body: Any = None) -> dict[str, Any]:
        """One change, its job followed to the end; errors say ``what`` was being done."""
        try:
            doc = _json(self.api.request(method, path, json=body, ok=(200, 201, 202)))
            job = doc.get("job")
            if isinstance(job, dict) and job.get("uuid"):
                self._wait(str(job["uuid"]), what)
        except StorageError as exc:
            raise StorageError(f"{what} failed: {exc}") from None
        return doc

    def _wait(self, job: str, what: str) -> None:
        deadline = time.monotonic() + self.jobtimeout
        delay = 0.05
        while True:
            doc = _json(self.api.get("/api" + url_path("cluster", "jobs", job),
                                     params={"fields": "state,message,code,error"}))
            state = str(doc.get("state") or "unknown")
            if state in _DONE:
                return
            if state in _FAILED:
                err = doc.get("error") or {}
                said = err.get("message") or doc.get("message") or "no message"
                code = err.get("code") or doc.get("code")
                raise StorageError(f"{SECTION}: job {job} ended in {state}: {' '.join(str(said).split())[:300]}"
                                   + (f" (error {code})" if code not in (None, "", 0) else ""))
            left = deadline - time.monotonic()
            if left <= 0:
                raise StorageError(f"{SECTION}: job {job} still {state} after {self.jobtimeout:g} s "
                                   f"([{SECTION}] jobtimeout); it may still finish on the filer")
            time.sleep(min(delay, left))
            delay = min(delay * 2, 2.0)

    def _volume_records(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """The volumes of these names that exist (one query), by name, in the database's SVM."""
        if self.svm is None and self.volumes[0] not in names:
            self._volume(self.volumes[0])           # the SVM is the first volume's: another's names are not ours
        params = {"name": "|".join(names), "fields": _VOLUME_FIELDS}
        if self.svm:
            params["svm.name"] = self.svm
        return {str(r.get("name")): r for r in self._records("/api/storage/volumes", params)}

    def _volume(self, name: str) -> dict[str, Any]:
        """One of the database's volumes (looked up once per run: uuids do not change)."""
        if name not in self._vol_cache:
            self._vol_cache.update(self._volume_records([v for v in self.volumes if v not in self._vol_cache]))
        rec = self._vol_cache.get(name)
        if rec is None:
            where = f" in SVM {self.svm}" if self.svm else ""
            raise StorageError(f"{SECTION}: volume {name} of {self.dbname} not found{where} "
                               f"(zvolume.py {self.dbname} create makes it)")
        if self.svm is None and (rec.get("svm") or {}).get("name"):
            self.svm = str(rec["svm"]["name"])
        return rec

    def _snapshots_path(self, volume: str, *more: str) -> str:
        return "/api" + url_path("storage", "volumes", str(self._volume(volume)["uuid"]), "snapshots", *more)

    # -- the listing ----------------------------------------------------------------------------
    def _list(self, fresh: bool = False) -> Listing:
        if self._listing is not None and not fresh:
            return self._listing
        vol = self.volumes[0]
        snaps = self._records(self._snapshots_path(vol), {"name": f"{self.dbname}_*",
                                                          "fields": "name,create_time,comment"})
        params = {"clone.parent_volume.name": vol, "fields": _VOLUME_FIELDS}
        if self.svm:
            params["svm.name"] = self.svm
        clones = self._records("/api/storage/volumes", params)
        self._listing = Listing({str(s["name"]): s for s in snaps if self._snap_re.fullmatch(str(s.get("name")))},
                                [c for c in clones if (c.get("clone") or {}).get("parent_volume", {}).get("name")
                                 == vol])
        return self._listing

    def _space(self, listing: Listing) -> dict[str, tuple[int | None, int | None]]:
        """Each snapshot's size and reclaimable space, summed over the volumes (None: not reported)."""
        if listing.space is None:
            sums: dict[str, list[int | None]] = {}
            for vol in self.volumes:
                for rec in self._space_records(vol):
                    name = str(rec.get("name"))
                    if name in listing.snaps:
                        acc = sums.setdefault(name, [0, 0])
                        for i, key in enumerate(("size", "reclaimable_space")):
                            value = rec.get(key)
                            acc[i] = None if acc[i] is None or not isinstance(value, int) else acc[i] + value
            listing.space = {k: (v[0], v[1]) for k, v in sums.items()}
        return listing.space

    def _space_records(self, vol: str) -> list[dict[str, Any]]:
        """The snapshots' space fields; an ONTAP too old for a field (400: ``size`` is 9.9+,
        ``reclaimable_space`` 9.10+) is asked without it, and that figure is unknown."""
        while True:
            try:
                return self._records(self._snapshots_path(vol), {"name": f"{self.dbname}_*",
                                                                 "fields": ",".join(["name", *self._space_fields])})
            except StorageError as exc:
                if "HTTP 400" not in str(exc) or not self._space_fields:
                    raise
                log.debug("ONTAP refused the snapshot fields %s: %s", self._space_fields, exc)
                self._space_fields.pop()

    def _creation(self, rec: dict[str, Any]) -> datetime:
        try:
            return datetime.fromisoformat(str(rec["create_time"]).replace("Z", "+00:00")).astimezone(timezone.utc)
        except (KeyError, ValueError):
            raise StorageError(f"{SECTION}: snapshot {rec.get('name')} has no readable create_time") from None

    def _clone_name(self, rec: dict[str, Any]) -> tuple[str, str]:
        """A clone of the first volume as the user knows it: (name, mount point); see the module docstring."""
        name, path = str(rec.get("name")), str((rec.get("nas") or {}).get("path") or "")
        if self.multivolume and name.endswith("0") and len(name) > 1:
            parent = PurePosixPath(path).parent
            if path and parent.name == name[:-1] and PurePosixPath(path).name == name:
                return name[:-1], str(parent)
        return name, path

    def _origin(self, rec: dict[str, Any]) -> str | None:
        return (rec.get("clone") or {}).get("parent_snapshot", {}).get("name")

    # -- snapshots ----------------------------------------------------------------------------
    def _snapid_ok(self, snapid: str) -> str:
        _volume_name(snapid, "snapshot id")
        if not self._snap_re.fullmatch(snapid):
            raise UsageError(f"invalid snapshot id {snapid!r}: {self.dbname}'s snapshots are named "
                             f"{self.dbname}_YYYYmmddTHHMMSS")
        return snapid

    def listsnapshots(self, sortbycreation: bool = False, sortreverse: bool = False) -> list[NetappSnapshot]:
        listing = self._list(fresh=True)
        records = [NetappSnapshot(name, self._creation(rec)) for name, rec in listing.snaps.items()]
        key = (lambda r: (r.creation, r.id)) if sortbycreation else (lambda r: r.id)
        return sorted(records, key=key, reverse=sortreverse)

    def getsnapcreation(self, s: NetappSnapshot | str) -> datetime:
        return s.creation if isinstance(s, NetappSnapshot) else self.getsnapinfo(s).creation

    def getsnapinfo(self, s: NetappSnapshot | str) -> SnapshotInfo:
        snapid = s.id if isinstance(s, NetappSnapshot) else self._snapid_ok(s)
        listing = self._list()
        rec = listing.snaps.get(snapid)
        if rec is None:
            raise StorageError(f"snapshot {snapid} of {self.dbname} not found on volume {self.volumes[0]}")
        numclones = sum(1 for c in listing.clones if self._origin(c) == snapid)
        total, unique = self._space(listing).get(snapid, (None, None))
        return SnapshotInfo(snapid, self._creation(rec), numclones, total, unique)

    def snap(self) -> str:
        for _ in range(3):
            now = datetime.now(timezone.utc)
            snapid = f"{self.dbname}_{now.astimezone():%Y%m%dT%H%M%S}"
            if snapid not in self._list(fresh=True).snaps:
                self._snap_all(snapid)
                log.info("Snapshot %s created", snapid)
                return snapid
            time.sleep(1.05 - now.microsecond / 1e6)     # ids have one-second resolution
        raise StorageError(f"snapshot {snapid} already exists")

    def _snap_all(self, snapid: str) -> None:
        """The snapshot on every volume, or (after a failure) on none."""
        done: list[str] = []
        for vol in self.volumes:
            try:
                self._write("POST", self._snapshots_path(vol), f"creating snapshot {snapid} of volume {vol}",
                            {"name": snapid})
            except StorageError as exc:
                problems = []
                for other in [*done, vol]:
                    try:
                        self._drop_snapshot_on(other, snapid, required=False)
                    except StorageError as undo:
                        problems.append(f"{other} ({undo})")
                self._listing = None
                left = f"; left on {'; '.join(problems)}" if problems else \
                    (f"; removed again from {', '.join(done)}" if done else "")
                raise StorageError(f"{exc}{left}") from None
            done.append(vol)
        self._listing = None

    def _drop_snapshot_on(self, vol: str, snapid: str, required: bool) -> bool:
        """Delete ``snapid`` on ``vol``; False when it is not there (an error when ``required``)."""
        found = self._records(self._snapshots_path(vol), {"name": snapid, "fields": "name"})
        if not found:
            if required:
                raise StorageError(f"snapshot {snapid} of {self.dbname} not found on volume {vol}")
            return False
        self._write("DELETE", self._snapshots_path(vol, str(found[0]["uuid"])),
                    f"dropping snapshot {snapid} of volume {vol}")
        return True

    def dropsnap(self, snapid: str) -> None:
        self._snapid_ok(snapid)
        listing = self._list()
        if snapid not in listing.snaps:
            listing = self._list(fresh=True)
        rec = listing.snaps.get(snapid)
        if rec is None:
            raise StorageError(f"snapshot {snapid} of {self.dbname} not found on volume {self.volumes[0]}")
        clones = sorted(self._clone_name(c)[0] for c in listing.clones if self._origin(c) == snapid)
        if clones:
            raise StorageError(f"snapshot {snapid} has a clone ({', '.join(clones)}): not dropped")
        # The first volume last: after a failure the snapshot is still listed and retention tries again.
        # Volumes added later lack the older snapshots, as in the old toolset: no error for those.
        for vol in reversed(self.volumes[1:]):
            self._drop_snapshot_on(vol, snapid, required=False)
        self._write("DELETE", self._snapshots_path(self.volumes[0], str(rec["uuid"])),
                    f"dropping snapshot {snapid} of volume {self.volumes[0]}")
        del listing.snaps[snapid]
        log.info("Snapshot %s dropped", snapid)

    # -- pins: JSON in the first volume's snapshot comment --------------------------------------
    def _pins_of(self, rec: dict[str, Any]) -> dict[str, Pin]:
        comment = str(rec.get("comment") or "")
        if not comment.startswith(PIN_PREFIX):
            return {}
        try:
            doc = json.loads(comment[len(PIN_PREFIX):])
            return {str(kind): Pin(str(rec["name"]), str(v[0]), date.fromisoformat(v[1]) if v[1] else None,
                                   str(kind)) for kind, v in doc.items()}
        except (ValueError, TypeError, IndexError, AttributeError):
            log.warning("Snapshot %s: ignoring an unreadable pin comment %r", rec.get("name"), comment[:100])
            return {}

    def pins(self) -> list[Pin]:
        return [pin for _, rec in sorted(self._list().snaps.items())
                for _, pin in sorted(self._pins_of(rec).items())]

    def _set_pins(self, snapid: str, change: Any) -> bool:
        """Apply ``change(pins) -> bool`` to the snapshot's pins and store them; its answer is returned."""
        self._snapid_ok(snapid)
        rec = self._list(fresh=True).snaps.get(snapid)
        if rec is None:
            raise StorageError(f"snapshot {snapid} of {self.dbname} not found on volume {self.volumes[0]}")
        pins = self._pins_of(rec)
        if not change(pins):
            return False
        comment = PIN_PREFIX + json.dumps({k: [p.reason, p.until.isoformat() if p.until else None]
                                           for k, p in sorted(pins.items())}, separators=(",", ":"))
        if len(comment) > COMMENT_LIMIT:
            raise UsageError(f"the pins of {snapid} do not fit the {COMMENT_LIMIT} characters of an ONTAP "
                             "snapshot comment: give a shorter reason")
        self._write("PATCH", self._snapshots_path(self.volumes[0], str(rec["uuid"])), f"pinning {snapid}",
                    {"comment": comment if pins else ""})
        self._listing = None
        return True

    def pin(self, snapid: str, reason: str, until: date | None = None, kind: str = "manual") -> Pin:
        _volume_name(kind, "pin kind")
        if any(ord(ch) < 32 for ch in reason):
            raise UsageError("the pin's reason must be one line")
        pin = Pin(snapid, reason, until, kind)
        self._set_pins(snapid, lambda pins: pins.update({kind: pin}) is None)
        return pin

    def unpin(self, snapid: str, kind: str = "manual") -> bool:
        return self._set_pins(snapid, lambda pins: pins.pop(kind, None) is not None)

    # -- clones ---------------------------------------------------------------------------------
    def _parts(self, clonename: str) -> list[str]:
        """The volumes of a clone: itself, or its namespace volume and one FlexClone per volume."""
        if not self.multivolume:
            return [clonename]
        return [clonename] + [f"{clonename}{i}" for i in range(len(self.volumes))]

    def clone(self, snapid: str, clonename: str) -> None:
        self._snapid_ok(snapid)
        _volume_name(clonename, "clone name")
        parts = self._parts(clonename)
        for name in parts:
            _volume_name(name, "clone name")
        existing = self._volume_records(parts)
        if existing:
            raise StorageError(f"clone {clonename} already exists (volume {', '.join(sorted(existing))})")
        if snapid not in self._list(fresh=True).snaps:
            raise StorageError(f"snapshot {snapid} of {self.dbname} not found on volume {self.volumes[0]}")
        try:
            if self.multivolume:
                self._create_namespace(clonename)
            for i, vol in enumerate(self.volumes):
                name = parts[i + 1] if self.multivolume else clonename
                path = f"/{clonename}/{name}" if self.multivolume else f"/{clonename}"
                self._write("POST", "/api/storage/volumes", f"cloning volume {vol} from snapshot {snapid} as {name}",
                            {"name": name, "svm": {"name": self.svm},
                             "clone": {"is_flexclone": True, "parent_volume": {"name": vol},
                                       "parent_snapshot": {"name": snapid}},
                             "nas": {"path": path}})
        except StorageError as exc:
            left = self._undo_clone(clonename)
            raise StorageError(f"{exc}; {left}") from None
        finally:
            self._listing = None
        log.info("Clone %s of snapshot %s created", clonename, snapid)

    def _create_namespace(self, clonename: str) -> None:
        """The small volume the FlexClones of a multi-volume clone are mounted in, like the first volume."""
        vol = self._volume(self.volumes[0])
        aggregates = [{"name": a["name"]} for a in vol.get("aggregates") or [] if a.get("name")][:1]
        nas = {"path": f"/{clonename}", "uid": os.getuid(), "gid": os.getgid(), "unix_permissions": 770}
        policy = ((vol.get("nas") or {}).get("export_policy") or {}).get("name")
        if policy:
            nas["export_policy"] = {"name": policy}
        self._write("POST", "/api/storage/volumes", f"creating the namespace volume {clonename}",
                    {"name": clonename, "svm": {"name": self.svm}, "aggregates": aggregates, "size": NAMESPACE_SIZE,
                     "guarantee": {"type": "none"},
                     "comment": NAMESPACE_COMMENT.format(volume=self.volumes[0]), "nas": nas})

    def _undo_clone(self, clonename: str) -> str:
        """Drop whatever a failed clone left; the words for the error message."""
        try:
            found = self._volume_records(self._parts(clonename))
            self._drop_volumes([n for n in self._parts(clonename)[::-1] if n in found], found)
        except StorageError as exc:
            return f"what was made of clone {clonename} may be left: {exc}"
        return f"nothing of clone {clonename} is left"

    def _drop_volumes(self, names: list[str], records: dict[str, dict[str, Any]]) -> None:
        """Unmount, then delete, each volume (children before the namespace volume)."""
        for name in names:
            uuid = str(records[name]["uuid"])
            path = "/api" + url_path("storage", "volumes", uuid)
            if (records[name].get("nas") or {}).get("path"):
                self._write("PATCH", path, f"unmounting volume {name}", {"nas": {"path": ""}})
            self._write("DELETE", path, f"deleting volume {name}")

    def _ours(self, clonename: str) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """The clone's volumes, after checking they are clones of this database's volumes (or its namespace)."""
        _volume_name(clonename, "clone name")
        parts = self._parts(clonename)
        for name in parts:
            _volume_name(name, "clone name")
        found = self._volume_records(parts)
        if not found:
            raise StorageError(f"clone {clonename} not found")
        mine: list[str] = []
        for i, vol in enumerate(self.volumes):
            name = parts[i + 1] if self.multivolume else clonename
            rec = found.get(name)
            if rec is None:
                continue
            if (rec.get("clone") or {}).get("parent_volume", {}).get("name") != vol:
                raise StorageError(f"{clonename} is not a clone of {self.dbname}'s snapshots: refusing to drop it")
            mine.append(name)
        root = found.get(clonename) if self.multivolume else None
        if root is not None:
            if root.get("comment") != NAMESPACE_COMMENT.format(volume=self.volumes[0]):
                raise StorageError(f"{clonename} is not a clone of {self.dbname}'s snapshots: refusing to drop it")
            mine.append(clonename)
        return found, mine

    def dropclone(self, clonename: str) -> None:
        found, mine = self._ours(clonename)
        try:
            self._drop_volumes(mine, found)
        finally:
            self._listing = None
        log.info("Clone %s dropped", clonename)

    def listclones(self) -> list[CloneInfo]:
        clones = [(*self._clone_name(c), self._origin(c)) for c in self._list(fresh=True).clones]
        return sorted((CloneInfo(name, origin, mount) for name, mount, origin in clones), key=lambda c: c.clonename)

    def filesystem_info(self, name: str | None = None) -> CloneInfo:
        if name is None or name == self.dbname:
            vol = self._volume(self.volumes[0])
            return CloneInfo(self.dbname, None, str((vol.get("nas") or {}).get("path") or ""))
        _volume_name(name, "filesystem name")
        parts = self._parts(name)
        found = self._volume_records(parts)
        first = found.get(parts[1] if self.multivolume else name)
        top = found.get(name)
        if top is None:
            raise StorageError(f"filesystem {name} not found: neither {self.dbname}'s volume nor a clone")
        return CloneInfo(name, self._origin(first) if first else None, str((top.get("nas") or {}).get("path") or ""))

    def mountstring(self, name: str) -> str:
        return f"{self.mounthost}:{self.filesystem_info(name).mountpoint}"

    def createvolume(self) -> None:
        """Every volume of the database, mounted at ``<junctionparent>/<db><suffix>`` (zvolume.py create)."""
        if not self.svm:
            raise ConfigError(f"{self.config.path}: [{SECTION}] svm is needed to create volumes")
        aggregate = self.settings.get("aggregate", SECTION).strip()
        size = parse_size(self.settings, self.settings.get("volumesize", SECTION))
        policy = self.settings.get("exportpolicy", SECTION, "default").strip()
        parent = self.settings.get("junctionparent", SECTION, "/").strip()
        if not parent.startswith("/") or ".." in parent.split("/"):
            raise ConfigError(f"{self.config.path}: [{SECTION}] junctionparent must be an absolute path, "
                              f"not '{parent}'")
        for vol in self.volumes:
            path = str(PurePosixPath(parent) / (self.dbname + vol[len(self.volumes[0]):]))
            self._write("POST", "/api/storage/volumes", f"creating volume {vol}",
                        {"name": vol, "svm": {"name": self.svm}, "aggregates": [{"name": aggregate}], "size": size,
                         "snapshot_policy": {"name": "none"}, "space": {"snapshot": {"reserve_percent": 0}},
                         "nas": {"path": path, "export_policy": {"name": policy}, "uid": os.getuid(),
                                 "gid": os.getgid(), "unix_permissions": 770}})
            log.info("Volume %s created, mounted at %s", vol, path)
        self._vol_cache.clear()
