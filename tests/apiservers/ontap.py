"""An ONTAP REST API test server: volumes, snapshots and FlexClones as real directories.

Written from the ONTAP REST documentation's behaviour, for the ``netapp`` driver's
tests: Basic auth on every call (401 and ONTAP's error body otherwise), collections
as ``{"records", "num_records", "_links"}`` with only the key fields unless
``fields=`` names more (an unknown field is a 400), filters on any field with ONTAP's
``|`` and ``*``, small pages (``page_size``) linked by ``_links.next``, and every
change answered with 202 and a job that runs a moment later in the background
(``GET /api/cluster/jobs/{uuid}`` says how it went; a failed job carries
``error.message`` and ``error.code``, a string).

Storage is real: each volume is a directory under ``store`` (a reflink-capable
filesystem: the btrfs image of the tests), a snapshot a ``cp --reflink=always``
copy of it and a FlexClone a writable copy of a snapshot, so a clone holds the
snapshot's bytes.  The SVM's namespace is the directory ``namespace``: a volume
mounted at junction ``/a/b`` is the symlink ``namespace/a/b`` to its directory
(inside the parent volume's directory when ``/a`` is a volume), standing for the
NFS mount.  Snapshot times are written with a non-UTC offset, as a cluster in
another zone does.  ``reclaimable_space`` is the bytes, in 4 KiB blocks, that
neither neighbour (the previous snapshot, the next one or the active volume)
holds at the same place of the same file.

Faults besides the base's: ``fail_job`` makes the nth matching change's job end
in failure with a message, ``stall_job`` leaves it running for ever.
"""
from __future__ import annotations

import fnmatch
import itertools
import os
import re
import shutil
import subprocess
import threading
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from .base import ApiServer, Fault, Reply, Request

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,202}")
SNAPNAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:+-]{0,254}")
CONTROL = {"fields", "max_records", "return_records", "return_timeout", "start.uuid", "order_by"}
BLOCK = 4096


def err(status: int, message: str, code: str, target: str | None = None) -> Reply:
    body: dict[str, Any] = {"message": message, "code": code}
    if target:
        body["target"] = target
    return status, {"error": body}, {}


class Failed(Exception):
    """A job's failure: message and ONTAP error code."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass
class Volume:
    uuid: str
    name: str
    svm: str
    aggregate: str
    size: int
    data: Path
    created: datetime
    comment: str = ""
    path: str | None = None                 # junction path, None when unmounted
    export_policy: str = "default"
    snapshot_policy: str = "default"
    clone_of: tuple[str, str] | None = None  # (parent volume uuid, parent snapshot uuid)


@dataclass
class Snapshot:
    uuid: str
    name: str
    volume: str                             # uuid
    data: Path
    created: datetime
    size: int
    comment: str = ""


@dataclass
class Job:
    uuid: str
    description: str
    state: str = "queued"
    message: str = ""
    code: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    ended: datetime | None = None


@dataclass
class JobFault:
    fault: Fault
    stall: bool
    message: str
    code: str


class OntapServer(ApiServer):
    """See the module docstring."""

    name = "ontap"

    def __init__(self, store: Path, namespace: Path, svm: str = "svm1", aggregates: tuple[str, ...] = ("aggr1",),
                 page_size: int = 3, users: dict[str, str] | None = None, utc_offset_hours: int = -4):
        super().__init__(users=users)
        self.store, self.namespace, self.svm, self.aggregates = store, namespace, svm, aggregates
        self.page_size = page_size
        self.zone = timezone(timedelta(hours=utc_offset_hours))
        self.job_delay = 0.02
        self.volumes: dict[str, Volume] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self.jobs: dict[str, Job] = {}
        self.job_faults: list[JobFault] = []
        self.missing_fields: set[str] = set()      # fields this "ONTAP version" does not know
        self._seq = itertools.count(1)
        for d in (store / "volumes", store / "snapshots", namespace):
            d.mkdir(parents=True, exist_ok=True)
        vol = r"/api/storage/volumes/(?P<vol>[^/?]+)"
        self.route("GET", r"/api/storage/volumes", self.list_volumes)
        self.route("POST", r"/api/storage/volumes", self.post_volume)
        self.route("GET", vol, self.get_volume)
        self.route("PATCH", vol, self.patch_volume)
        self.route("DELETE", vol, self.delete_volume)
        self.route("GET", vol + r"/snapshots", self.list_snapshots)
        self.route("POST", vol + r"/snapshots", self.post_snapshot)
        self.route("GET", vol + r"/snapshots/(?P<snap>[^/?]+)", self.get_snapshot)
        self.route("PATCH", vol + r"/snapshots/(?P<snap>[^/?]+)", self.patch_snapshot)
        self.route("DELETE", vol + r"/snapshots/(?P<snap>[^/?]+)", self.delete_snapshot)
        self.route("GET", r"/api/cluster/jobs/(?P<job>[^/?]+)", self.get_job)

    # -- the protocol ------------------------------------------------------------------------
    def fault_body(self, status: int) -> Any:
        return {"error": {"message": f"HTTP {status} from the test server", "code": str(900000 + status)}}

    def dispatch(self, req: Request) -> Reply:
        if self.basic_user(req) is None:
            return err(401, "not authorized for that command", "6")
        return super().dispatch(req)

    def fail_job(self, nth: int = 1, method: str | None = None, path: str | None = None,
                 message: str = "injected job failure", code: str = "13001") -> None:
        with self.lock:
            self.job_faults.append(JobFault(Fault(nth=nth, method=method, path=path), False, message, code))

    def stall_job(self, nth: int = 1, method: str | None = None, path: str | None = None) -> None:
        with self.lock:
            self.job_faults.append(JobFault(Fault(nth=nth, method=method, path=path), True, "", ""))

    def _job(self, req: Request, description: str, action: Callable[[], None],
             extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Reply:
        """202 and a job that runs ``action`` a moment later (or fails, or stalls, as armed)."""
        job = Job(str(uuidlib.uuid4()), description)
        self.jobs[job.uuid] = job
        armed = None
        for jf in list(self.job_faults):
            if jf.fault.matches(req):
                jf.fault.seen += 1
                if jf.fault.seen == jf.fault.nth:
                    self.job_faults.remove(jf)
                    armed = jf
                    break

        def run() -> None:
            with self.lock:
                job.state = "running"
                if armed is not None and armed.stall:
                    return
                try:
                    if armed is not None:
                        raise Failed(armed.message, armed.code)
                    action()
                    job.state, job.message = "success", "success"
                except Failed as exc:
                    job.state, job.message, job.code = "failure", exc.message, exc.code
                except Exception as exc:     # noqa: BLE001 - e.g. the data removed under a late job
                    job.state, job.message, job.code = "failure", f"internal error: {exc}", "1"
                job.ended = datetime.now(timezone.utc)

        timer = threading.Timer(self.job_delay, run)
        timer.daemon = True
        timer.start()
        body = {"job": {"uuid": job.uuid, "_links": {"self": {"href": f"/api/cluster/jobs/{job.uuid}"}}},
                **(extra or {})}
        return 202, body, headers or {}

    def get_job(self, req: Request) -> Reply:
        job = self.jobs.get(req.params["job"])
        if job is None:
            return err(404, "entry doesn't exist", "4", "uuid")
        doc: dict[str, Any] = {"uuid": job.uuid, "description": job.description, "state": job.state,
                               "message": job.message, "code": int(job.code or 0),
                               "start_time": self._time(job.started),
                               "_links": {"self": {"href": f"/api/cluster/jobs/{job.uuid}"}}}
        if job.ended:
            doc["end_time"] = self._time(job.ended)
        if job.state == "failure":
            doc["error"] = {"message": job.message, "code": job.code}
        return 200, doc, {}

    def _time(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).replace(microsecond=0).isoformat()

    def _collection(self, req: Request, objects: list[dict[str, Any]], base: str, keys: tuple[str, ...],
                    cheap: set[str], known: set[str]) -> Reply:
        """Filter, page and project ``objects`` (whole documents) as ONTAP does."""
        wanted = [f for f in req.query.get("fields", "").split(",") if f]
        for f in wanted:
            if f not in ("*", "**") and (f in self.missing_fields or not any(k == f or k.startswith(f + ".")
                                                                           for k in known)):
                return err(400, f'The value "{f}" is invalid for field "fields"', "262197", "fields")
        chosen = [o for o in objects if all(_matches(o, k, v) for k, v in req.query.items() if k not in CONTROL)]
        chosen.sort(key=lambda o: o["uuid"])
        if "start.uuid" in req.query:
            chosen = [o for o in chosen if o["uuid"] > req.query["start.uuid"]]
        try:
            size = int(req.query.get("max_records") or self.page_size)
        except ValueError:
            return err(400, "max_records must be a number", "262179", "max_records")
        page, rest = chosen[:size], chosen[size:]
        fields = set(keys) | {k for f in wanted for k in known if f in ("*", "**") and k in cheap
                              or k == f or k.startswith(f + ".")}
        records = [_project(o, fields) | {"_links": {"self": {"href": f"{base}/{o['uuid']}"}}} for o in page]
        links: dict[str, Any] = {"self": {"href": req.raw_path}}
        if rest:
            query = {k: v for k, v in req.query.items() if k not in ("start.uuid", "max_records")}
            query.update({"start.uuid": page[-1]["uuid"], "max_records": str(size)})
            links["next"] = {"href": f"{req.raw_path}?{urlencode(query)}"}
        return 200, {"records": records, "num_records": len(records), "_links": links}, {}

    # -- volumes --------------------------------------------------------------------------------
    def _vdoc(self, v: Volume) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "uuid": v.uuid, "name": v.name, "svm": {"name": v.svm, "uuid": f"svm-{v.svm}"},
            "aggregates": [{"name": v.aggregate, "uuid": f"aggr-{v.aggregate}"}], "state": "online",
            "type": "rw", "style": "flexvol", "create_time": self._time(v.created), "size": v.size,
            "snapshot_policy": {"name": v.snapshot_policy},
            "space": {"size": v.size, "used": _used(v.data)},
            "nas": {"export_policy": {"name": v.export_policy}, "path": v.path or ""}}
        if v.comment:
            doc["comment"] = v.comment
        parent = self.volumes.get(v.clone_of[0]) if v.clone_of else None
        snap = self.snapshots.get(v.clone_of[1]) if v.clone_of else None
        doc["clone"] = {"is_flexclone": v.clone_of is not None}
        if parent is not None:
            doc["clone"].update(parent_volume={"name": parent.name, "uuid": parent.uuid},
                                parent_svm={"name": parent.svm},
                                parent_snapshot={"name": snap.name if snap else "", "uuid": v.clone_of[1]})
        return doc

    VOLUME_CHEAP = {"uuid", "name", "svm.name", "svm.uuid", "aggregates.name", "aggregates.uuid", "state", "type",
                    "style", "create_time", "size", "comment", "snapshot_policy.name", "space.size", "space.used"}
    VOLUME_KNOWN = VOLUME_CHEAP | {"nas.path", "nas.export_policy.name", "clone.is_flexclone",
                                   "clone.parent_volume.name", "clone.parent_volume.uuid", "clone.parent_svm.name",
                                   "clone.parent_snapshot.name", "clone.parent_snapshot.uuid"}

    def list_volumes(self, req: Request) -> Reply:
        return self._collection(req, [self._vdoc(v) for v in self.volumes.values()], "/api/storage/volumes",
                                ("uuid", "name"), self.VOLUME_CHEAP, self.VOLUME_KNOWN)

    def _vol(self, req: Request) -> Volume | None:
        return self.volumes.get(req.params["vol"])

    def get_volume(self, req: Request) -> Reply:
        v = self._vol(req)
        if v is None:
            return err(404, "entry doesn't exist", "4", "uuid")
        return 200, self._vdoc(v), {}

    def post_volume(self, req: Request) -> Reply:
        b = req.body if isinstance(req.body, dict) else {}
        name, svm = b.get("name"), (b.get("svm") or {}).get("name")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            return err(400, f'Invalid volume name "{name}"', "917888", "name")
        if svm != self.svm:
            return err(404, f'SVM "{svm}" does not exist', "2621462", "svm.name")
        if any(v.name == name and v.svm == svm for v in self.volumes.values()):
            return err(409, f'Duplicate volume name "{name}"', "917831", "name")
        clone, nas = b.get("clone") or {}, b.get("nas") or {}
        path = nas.get("path")
        if clone:
            parent = next((v for v in self.volumes.values()
                           if v.name == (clone.get("parent_volume") or {}).get("name") and v.svm == svm), None)
            if parent is None or not clone.get("is_flexclone", True):
                return err(404, "the parent volume of the clone does not exist", "917505", "clone.parent_volume")
            snap = next((s for s in self.snapshots.values() if s.volume == parent.uuid
                         and s.name == (clone.get("parent_snapshot") or {}).get("name")), None)
            if snap is None:
                return err(404, "the parent snapshot of the clone does not exist", "1638618", "clone.parent_snapshot")

            def make() -> None:
                vol = self._new_volume(name, parent.aggregate, parent.size, lambda d: _copy(snap.data, d))
                vol.clone_of, vol.export_policy = (parent.uuid, snap.uuid), parent.export_policy
                if path:
                    self._mount(vol, path)
        else:
            aggr = ((b.get("aggregates") or [{}])[0] or {}).get("name")
            if aggr not in self.aggregates:
                return err(400, f'Aggregate "{aggr}" does not exist', "917927", "aggregates")
            if not isinstance(b.get("size"), int) or b["size"] < 20 << 20:
                return err(400, "size must be at least 20MB", "917534", "size")

            def make() -> None:
                def setup(d: Path) -> None:
                    d.mkdir()
                    os.chown(d, int(nas.get("uid", 0)), int(nas.get("gid", 0)))
                    os.chmod(d, int(str(nas.get("unix_permissions", 755)), 8))
                vol = self._new_volume(name, aggr, b["size"], setup)
                vol.comment = str(b.get("comment") or "")
                vol.export_policy = (nas.get("export_policy") or {}).get("name") or "default"
                vol.snapshot_policy = (b.get("snapshot_policy") or {}).get("name") or "default"
                if path:
                    self._mount(vol, path)
        return self._job(req, f"POST /api/storage/volumes/{name}", make,
                         headers={"Location": f"/api/storage/volumes/?name={name}"})

    def _new_volume(self, name: str, aggregate: str, size: int, fill: Callable[[Path], None]) -> Volume:
        if any(v.name == name for v in self.volumes.values()):
            raise Failed(f'Duplicate volume name "{name}"', "917831")
        uid = str(uuidlib.uuid4())
        data = self.store / "volumes" / uid
        fill(data)
        vol = Volume(uid, name, self.svm, aggregate, size, data, datetime.now(timezone.utc))
        self.volumes[uid] = vol
        return vol

    def _junction(self, path: str) -> Path:
        parts = [p for p in path.split("/") if p]
        if not path.startswith("/") or not parts or any(p in (".", "..") for p in parts):
            raise Failed(f'Invalid junction path "{path}"', "917536")
        return self.namespace.joinpath(*parts)

    def _mount(self, vol: Volume, path: str) -> None:
        link = self._junction(path)
        if not link.parent.is_dir():
            raise Failed(f'Junction path "{path}": its parent does not exist', "917536")
        if link.exists() or link.is_symlink():
            raise Failed(f'Junction path "{path}" is in use', "917536")
        link.symlink_to(vol.data)
        vol.path = "/" + "/".join(p for p in path.split("/") if p)

    def _unmount(self, vol: Volume) -> None:
        if vol.path is None:
            return
        if any(o.path and o.path.startswith(vol.path + "/") for o in self.volumes.values()):
            raise Failed(f"Volume {vol.name} has other volumes mounted under it", "917535")
        link = self._junction(vol.path)
        if link.is_symlink():
            link.unlink()
        vol.path = None

    def patch_volume(self, req: Request) -> Reply:
        v, b = self._vol(req), req.body if isinstance(req.body, dict) else {}
        if v is None:
            return err(404, "entry doesn't exist", "4", "uuid")
        unknown = set(b) - {"nas", "comment", "state"}
        if unknown:
            return err(400, f'Field "{sorted(unknown)[0]}" cannot be set in this operation', "262196")

        def change() -> None:
            if "nas" in b and "path" in (b["nas"] or {}):
                self._unmount(v)
                if b["nas"]["path"]:
                    self._mount(v, b["nas"]["path"])
            if "comment" in b:
                v.comment = str(b["comment"] or "")
        return self._job(req, f"PATCH /api/storage/volumes/{v.uuid}", change)

    def delete_volume(self, req: Request) -> Reply:
        v = self._vol(req)
        if v is None:
            return err(404, "entry doesn't exist", "4", "uuid")

        def drop() -> None:
            if v.path:
                raise Failed(f'Volume "{v.name}" must be unmounted before it can be deleted', "917537")
            if any(o.clone_of and o.clone_of[0] == v.uuid for o in self.volumes.values()):
                raise Failed(f'Volume "{v.name}" has FlexClones: delete them first', "524615")
            shutil.rmtree(v.data)
            for s in [s for s in self.snapshots.values() if s.volume == v.uuid]:
                self._forget(s)
            del self.volumes[v.uuid]
        return self._job(req, f"DELETE /api/storage/volumes/{v.uuid}", drop)

    # -- snapshots ------------------------------------------------------------------------------
    SNAP_CHEAP = {"uuid", "name", "create_time", "comment", "owners", "state", "volume.uuid", "volume.name",
                  "svm.name", "size"}
    SNAP_KNOWN = SNAP_CHEAP | {"reclaimable_space"}

    def _sdoc(self, s: Snapshot, expensive: bool) -> dict[str, Any]:
        vol = self.volumes[s.volume]
        doc: dict[str, Any] = {"uuid": s.uuid, "name": s.name, "create_time": self._time(s.created),
                               "state": "valid", "volume": {"uuid": vol.uuid, "name": vol.name},
                               "svm": {"name": vol.svm}, "size": s.size}
        if s.comment:
            doc["comment"] = s.comment
        if any(v.clone_of and v.clone_of[1] == s.uuid for v in self.volumes.values()):
            doc["owners"] = ["volume_clone"]       # absent when there are none, as ONTAP does
        if expensive:
            doc["reclaimable_space"] = self._reclaimable(s)
        return doc

    def _reclaimable(self, s: Snapshot) -> int:
        ordered = sorted((o for o in self.snapshots.values() if o.volume == s.volume), key=lambda o: o.created)
        i = ordered.index(s)
        neighbours = [ordered[i - 1].data] if i > 0 else []
        neighbours.append(ordered[i + 1].data if i + 1 < len(ordered) else self.volumes[s.volume].data)
        return _unique_bytes(s.data, neighbours)

    def list_snapshots(self, req: Request) -> Reply:
        v = self._vol(req)
        if v is None:
            return err(404, "entry doesn't exist", "4", "volume.uuid")
        expensive = "reclaimable_space" in req.query.get("fields", "").split(",")
        docs = [self._sdoc(s, expensive) for s in self.snapshots.values() if s.volume == v.uuid]
        return self._collection(req, docs, f"/api/storage/volumes/{v.uuid}/snapshots", ("uuid", "name"),
                                self.SNAP_CHEAP, self.SNAP_KNOWN)

    def _snap(self, req: Request) -> tuple[Volume | None, Snapshot | None]:
        v = self._vol(req)
        s = self.snapshots.get(req.params.get("snap", ""))
        return v, (s if s is not None and v is not None and s.volume == v.uuid else None)

    def get_snapshot(self, req: Request) -> Reply:
        _, s = self._snap(req)
        if s is None:
            return err(404, "entry doesn't exist", "4", "uuid")
        return 200, self._sdoc(s, "reclaimable_space" in req.query.get("fields", "")), {}

    def post_snapshot(self, req: Request) -> Reply:
        v, b = self._vol(req), req.body if isinstance(req.body, dict) else {}
        if v is None:
            return err(404, "entry doesn't exist", "4", "volume.uuid")
        name = b.get("name")
        if not isinstance(name, str) or not SNAPNAME.fullmatch(name):
            return err(400, f'Invalid snapshot name "{name}"', "1638413", "name")

        def make() -> None:
            if any(s.volume == v.uuid and s.name == name for s in self.snapshots.values()):
                raise Failed(f'Snapshot "{name}" already exists', "1638402")
            uid = str(uuidlib.uuid4())
            data = self.store / "snapshots" / uid
            _copy(v.data, data)
            created = datetime.now(timezone.utc)
            self.snapshots[uid] = Snapshot(uid, name, v.uuid, data, created, _used(data), str(b.get("comment") or ""))
            self._by_name(v.name).mkdir(parents=True, exist_ok=True)
            (self._by_name(v.name) / name).symlink_to(data)
        return self._job(req, f"POST snapshot {name}", make, extra={"num_records": 1, "records": [{"name": name}]},
                         headers={"Location": f"/api/storage/volumes/{v.uuid}/snapshots/?name={name}"})

    def patch_snapshot(self, req: Request) -> Reply:
        _, s = self._snap(req)
        b = req.body if isinstance(req.body, dict) else {}
        if s is None:
            return err(404, "entry doesn't exist", "4", "uuid")
        if set(b) - {"comment"}:
            return err(400, "only the comment can be changed here", "262196")
        if len(str(b.get("comment") or "")) > 255:
            return err(400, "comment: the maximum length is 255 characters", "262179", "comment")

        def change() -> None:
            s.comment = str(b.get("comment") or "")
        return self._job(req, f"PATCH snapshot {s.name}", change)

    def delete_snapshot(self, req: Request) -> Reply:
        _, s = self._snap(req)
        if s is None:
            return err(404, "entry doesn't exist", "4", "uuid")

        def drop() -> None:
            if any(v.clone_of and v.clone_of[1] == s.uuid for v in self.volumes.values()):
                raise Failed(f'Snapshot "{s.name}" is busy: it backs a FlexClone volume', "1638555")
            self._forget(s)
        return self._job(req, f"DELETE snapshot {s.name}", drop)

    def _by_name(self, volume: str) -> Path:
        return self.store / "by-name" / volume

    def _forget(self, s: Snapshot) -> None:
        shutil.rmtree(s.data)
        (self._by_name(self.volumes[s.volume].name) / s.name).unlink(missing_ok=True)
        del self.snapshots[s.uuid]

    # -- for the tests -------------------------------------------------------------------------
    def volume_named(self, name: str) -> Volume | None:
        with self.lock:
            return next((v for v in self.volumes.values() if v.name == name), None)

    def snapshot_names(self, volume: str) -> list[str]:
        with self.lock:
            v = self.volume_named(volume)
            return sorted(s.name for s in self.snapshots.values() if v is not None and s.volume == v.uuid)

    def snapshot_dir(self, volume: str) -> Path:
        """A directory of the volume's snapshots by name (what ``.snapshot`` would show over NFS)."""
        return self._by_name(volume)

    def idle(self) -> bool:
        """No job queued or running (a stalled one counts)."""
        with self.lock:
            return all(j.state in ("success", "failure") for j in self.jobs.values())


def _get(doc: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(doc, list):
            doc = [d.get(part) for d in doc if isinstance(d, dict)]
        elif isinstance(doc, dict):
            doc = doc.get(part)
        else:
            return None
    return doc


def _matches(doc: dict[str, Any], key: str, pattern: str) -> bool:
    """ONTAP's query: alternatives with ``|``, wildcards with ``*``, ``!`` to negate."""
    value = _get(doc, key)
    values = [str(v) for v in (value if isinstance(value, list) else [value]) if v is not None]
    for alt in pattern.split("|"):
        negate = alt.startswith("!")
        alt = alt[1:] if negate else alt
        hit = any(fnmatch.fnmatchcase(v, alt) for v in values)
        if hit != negate:
            return True
    return False


def _project(doc: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    """The named (dotted) fields of ``doc``; empty ones are left out, as ONTAP does."""
    groups: dict[str, set[str]] = {}
    for dotted in fields:
        head, _, rest = dotted.partition(".")
        groups.setdefault(head, set()).add(rest)
    out: dict[str, Any] = {}
    for head, rests in groups.items():
        value, subs = doc.get(head), {r for r in rests if r}
        if value is None or value == "":
            continue
        if "" in rests or not isinstance(value, (dict, list)):
            out[head] = value
        elif isinstance(value, dict):
            if part := _project(value, subs):
                out[head] = part
        else:
            out[head] = [_project(v, subs) for v in value if isinstance(v, dict)]
    return out


def _copy(source: Path, target: Path) -> None:
    """A reflink copy (shares every block, as a WAFL snapshot or FlexClone does)."""
    subprocess.run(["cp", "-a", "--reflink=always", str(source), str(target)], check=True, capture_output=True)


def _used(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file() and not p.is_symlink())


def _unique_bytes(tree: Path, others: list[Path]) -> int:
    """Bytes of ``tree``'s files, in 4 KiB blocks, that no tree of ``others`` holds at the same offset."""
    total = 0
    for path in tree.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        rel = path.relative_to(tree)
        peers = [o / rel for o in others if (o / rel).is_file()]
        handles = [open(p, "rb") for p in peers]
        try:
            with open(path, "rb") as fh:
                while block := fh.read(BLOCK):
                    if block not in [h.read(BLOCK) for h in handles]:      # every peer read: they stay in step
                        total += BLOCK
        finally:
            for h in handles:
                h.close()
    return total
