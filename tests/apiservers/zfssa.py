"""A test Oracle ZFS Storage Appliance: its REST API v1 over HTTPS, with real filesystems behind it.

Written from the appliance's API description (paths, status codes, body shapes,
``fault`` error bodies), not from any driver:

* ``/api/access/v1``: POST with Basic auth (or ``X-Auth-User``/``X-Auth-Key``)
  logs in: 201 and an ``X-Auth-Session`` token; DELETE logs out (204).  Every
  other call needs Basic auth, the user/key headers or a live session, else
  401 ``ERR_UNAUTHORIZED``.  A session expires after ``session_timeout``
  seconds without calls (15 minutes on the appliance), or at once with
  ``expire_sessions()``;
* ``/api/storage/v1``: pools, projects, filesystems (shares), their
  snapshots, ``PUT …/snapshots/<s>/clone`` and ``…/dependents``; lists are
  wrapped (``{"filesystems": […]}``), single objects too (``{"filesystem": {…}}``);
  201 on create and clone, 202 on PUT, 204 with no body on DELETE.  A
  snapshot's ``numclones`` follows the clones whose ``origin`` names it, and
  one with clones is not deleted (the appliance's status for that is not
  documented: 409 here, so a driver must look at ``numclones`` first).

Behind the API every share is a btrfs subvolume at ``<root>/<mountpoint>`` (the
appliance's "/" is ``root``; mount points default to ``/export/<project>/<share>``),
snapshots are read-only snapshots of it in ``<root>/.snapshots/<pool>/<project>/<share>/<snap>``
(``snapshot_dir``), and a clone is a writable snapshot of a snapshot: a clone
holds the snapshot's real files, so a restore can run from it.  Space figures
are computed the way ZFS accounts them, on 128 KiB records compared by
content: a snapshot's ``space_data`` is what it references, ``space_unique``
what neither its older neighbour nor its newer one (or the live share) holds.

The faults of ``ApiServer`` (``fail(nth, 500|503|401, "status"|"stall"|"drop")``)
answer in the appliance's ``fault`` shape.
"""
from __future__ import annotations

import grp
import hashlib
import os
import pwd
import re
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .base import ApiServer, Reply, Request

V1 = "/api/storage/v1"
SEG = r"[^/]+"
PROJECT = rf"{V1}/pools/(?P<pool>{SEG})/projects/(?P<project>{SEG})"
FS = rf"{PROJECT}/filesystems/(?P<fs>{SEG})"
SNAP = rf"{FS}/snapshots/(?P<snap>{SEG})"
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}")
FAULT_NAMES = {400: "ERR_INVALID_ARG", 401: "ERR_UNAUTHORIZED", 403: "ERR_DENIED", 404: "ERR_NOT_FOUND",
               409: "ERR_OBJECT_EXISTS", 413: "ERR_OVER_LIMIT", 500: "ERR_INTERNAL", 501: "ERR_NOT_IMPLEMENTED",
               503: "ERR_BUSY"}
SHARE_PROPERTIES = {"quota", "reservation", "compression", "recordsize", "logbias", "sharenfs", "readonly",
                    "root_user", "root_group", "root_permissions", "dedup", "mountpoint"}
RECORD = 128 * 1024


class Refused(Exception):
    """An error answer, raised from deep inside a handler."""

    def __init__(self, reply: Reply):
        super().__init__(reply[1])
        self.reply = reply


def fault(status: int, details: str, message: str | None = None) -> Reply:
    return status, {"fault": {"message": message or FAULT_NAMES.get(status, f"ERR_{status}"),
                              "details": details, "code": status}}, {}


def stamp(when: datetime) -> str:
    """The v1 time format, UTC."""
    return when.strftime("%Y%m%dT%H:%M:%S")


def btrfs(*args: str) -> None:
    subprocess.run(["btrfs", *args], check=True, capture_output=True, text=True)


@dataclass
class Snapshot:
    name: str
    creation: datetime
    path: Path


@dataclass
class Share:
    pool: str
    project: str
    name: str
    mountpoint: str
    creation: datetime
    props: dict[str, Any]
    origin: dict[str, str] | None = None
    snapshots: dict[str, Snapshot] = field(default_factory=dict)


class ZfssaServer(ApiServer):
    """See the module docstring.  ``add_project`` is the administrator's part (the driver never
    creates projects)."""

    name = "zfssa"

    def __init__(self, root: Path, users: dict[str, str] | None = None, session_timeout: float = 900.0, **kw: Any):
        super().__init__(users, **kw)
        self.root = root
        self.session_timeout = session_timeout
        self.sessions: dict[str, list[Any]] = {}        # token -> [user, last use]
        self.projects: dict[tuple[str, str], str] = {}  # (pool, project) -> mount point
        self.shares: dict[tuple[str, str, str], Share] = {}
        self._records: dict[Path, dict[tuple[str, int], tuple[bytes, int]]] = {}
        self.route("POST", r"/api/access/v1", self.login)
        self.route("DELETE", r"/api/access/v1", self.logout)
        self.route("GET", rf"{V1}/pools", self.list_pools)
        self.route("GET", rf"{V1}/pools/(?P<pool>{SEG})", self.get_pool)
        self.route("GET", rf"{V1}/pools/(?P<pool>{SEG})/projects", self.list_projects)
        self.route("GET", PROJECT, self.get_project)
        self.route("GET", rf"{V1}/filesystems", self.list_all_filesystems)
        self.route("GET", rf"{PROJECT}/filesystems", self.list_filesystems)
        self.route("POST", rf"{PROJECT}/filesystems", self.create_filesystem)
        self.route("GET", FS, self.get_filesystem)
        self.route("PUT", FS, self.modify_filesystem)
        self.route("DELETE", FS, self.delete_filesystem)
        self.route("GET", rf"{FS}/snapshots", self.list_snapshots)
        self.route("POST", rf"{FS}/snapshots", self.create_snapshot)
        self.route("GET", SNAP, self.get_snapshot)
        self.route("DELETE", SNAP, self.delete_snapshot)
        self.route("PUT", rf"{SNAP}/clone", self.clone_snapshot)
        self.route("GET", rf"{SNAP}/dependents", self.dependents)

    # -- the administrator's side --------------------------------------------------------
    def add_project(self, pool: str, project: str, mountpoint: str | None = None) -> Path:
        """Create ``pool``/``project`` (mount point ``/export/<project>``); its local directory."""
        mountpoint = mountpoint or f"/export/{project}"
        self.projects[(pool, project)] = mountpoint
        local = self.local(mountpoint)
        local.mkdir(parents=True, exist_ok=True)
        return local

    def local(self, mountpoint: str) -> Path:
        return self.root / mountpoint.lstrip("/")

    def snapshot_dir(self, pool: str, project: str, share: str) -> Path:
        return self.root / ".snapshots" / pool / project / share

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def wipe(self) -> None:
        """Delete every subvolume the server made (clones first, then shares, then snapshots)."""
        with self.lock:
            shares = sorted(self.shares.values(), key=lambda s: s.origin is None)
            for share in shares:
                for snap in share.snapshots.values():
                    subprocess.run(["btrfs", "subvolume", "delete", str(snap.path)], capture_output=True)
            for share in shares:
                subprocess.run(["btrfs", "subvolume", "delete", str(self.local(share.mountpoint))],
                               capture_output=True)
            self.shares.clear()
        subprocess.run(["rm", "-rf", str(self.root)], check=False)

    # -- auth ----------------------------------------------------------------------------
    def fault_body(self, status: int) -> Any:
        return fault(status, f"injected HTTP {status}")[1]

    def _user(self, req: Request) -> str | None:
        user = self.basic_user(req)
        if user is None and self.users.get(req.headers.get("x-auth-user", "")) == req.headers.get("x-auth-key"):
            user = req.headers.get("x-auth-user")
        token = req.headers.get("x-auth-session")
        if user is None and token:
            with self.lock:
                entry = self.sessions.get(token)
                if entry is not None and time.monotonic() - entry[1] > self.session_timeout:
                    del self.sessions[token]
                    entry = None
                if entry is not None:
                    entry[1] = time.monotonic()
                    user = entry[0]
        return user

    def dispatch(self, req: Request) -> Reply:
        if not req.path.startswith("/api/access/") and self._user(req) is None:
            return fault(401, "authentication required")
        try:
            status, body, headers = super().dispatch(req)
        except Refused as refused:
            status, body, headers = refused.reply
        return status, body, {"X-Zfssa-Version": "2013.06.05.8.0", **headers}

    def login(self, req: Request) -> Reply:
        user = self.basic_user(req)
        if user is None and self.users.get(req.headers.get("x-auth-user", "")) == req.headers.get("x-auth-key"):
            user = req.headers.get("x-auth-user")
        if user is None:
            return fault(401, "invalid user name or password")
        token = secrets.token_hex(16)
        self.sessions[token] = [user, time.monotonic()]
        return 201, {"access": {"services": [{"name": "appliance", "version": "1.0",
                                              "uri": f"{self.url}/api/storage/v1"}]}}, \
            {"X-Auth-Session": token, "X-Auth-Name": user}

    def logout(self, req: Request) -> Reply:
        if self.sessions.pop(req.headers.get("x-auth-session", ""), None) is None:
            return fault(401, "no such session")
        return 204, None, {}

    # -- pools and projects ----------------------------------------------------------------
    def _pool(self, name: str) -> dict[str, Any]:
        return {"name": name, "status": "online", "href": f"{V1}/pools/{name}"}

    def list_pools(self, req: Request) -> Reply:
        return 200, {"pools": [self._pool(p) for p in sorted({p for p, _ in self.projects})]}, {}

    def get_pool(self, req: Request) -> Reply:
        if not any(p == req.params["pool"] for p, _ in self.projects):
            return fault(404, f"pool '{req.params['pool']}' not found")
        return 200, {"pool": self._pool(req.params["pool"])}, {}

    def _project(self, pool: str, name: str) -> dict[str, Any]:
        return {"name": name, "pool": pool, "mountpoint": self.projects[(pool, name)],
                "href": f"{V1}/pools/{pool}/projects/{name}"}

    def list_projects(self, req: Request) -> Reply:
        return 200, {"projects": [self._project(p, n) for p, n in sorted(self.projects)
                                  if p == req.params["pool"]]}, {}

    def get_project(self, req: Request) -> Reply:
        key = (req.params["pool"], req.params["project"])
        if key not in self.projects:
            return fault(404, f"project '{key[1]}' not found")
        return 200, {"project": self._project(*key)}, {}

    # -- filesystems ------------------------------------------------------------------------
    def _share(self, req: Request) -> Share:
        key = (req.params["pool"], req.params["project"], req.params["fs"])
        if (key[0], key[1]) not in self.projects:
            raise Refused(fault(404, f"project '{key[1]}' not found"))
        share = self.shares.get(key)
        if share is None:
            raise Refused(fault(404, f"share '{key[2]}' not found"))
        return share

    def _share_json(self, share: Share) -> dict[str, Any]:
        used = sum(size for _, size in self._tree_records(self.local(share.mountpoint)).values())
        out = {"name": share.name, "project": share.project, "pool": share.pool, "mountpoint": share.mountpoint,
               "canonical_name": f"{share.pool}/local/{share.project}/{share.name}",
               "creation": stamp(share.creation), "space_data": used, "space_available": 1 << 40,
               "space_total": used, "space_unused_res": 0, "quota": 0, "reservation": 0, "compression": "off",
               "recordsize": RECORD, "logbias": "latency", "sharenfs": "on", "readonly": False, "dedup": False,
               "root_user": "root", "root_group": "other", "root_permissions": "755", **share.props,
               "href": f"{V1}/pools/{share.pool}/projects/{share.project}/filesystems/{share.name}"}
        if share.origin is not None:
            out["origin"] = dict(share.origin)
        return out

    def list_all_filesystems(self, req: Request) -> Reply:
        return 200, {"filesystems": [self._share_json(s) for s in self.shares.values()]}, {}

    def list_filesystems(self, req: Request) -> Reply:
        key = (req.params["pool"], req.params["project"])
        if key not in self.projects:
            return fault(404, f"project '{key[1]}' not found")
        return 200, {"filesystems": [self._share_json(s) for (p, j, _), s in self.shares.items()
                                     if (p, j) == key]}, {}

    def get_filesystem(self, req: Request) -> Reply:
        return 200, {"filesystem": self._share_json(self._share(req))}, {}

    def _new_share(self, pool: str, project: str, name: Any, props: dict[str, Any]) -> Share:
        if (pool, project) not in self.projects:
            raise Refused(fault(404, f"project '{project}' not found"))
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise Refused(fault(400, f"invalid share name {name!r}"))
        unknown = set(props) - SHARE_PROPERTIES
        if unknown:
            raise Refused(fault(400, f"unknown property {sorted(unknown)[0]!r}", "ERR_UNKNOWN_ARG"))
        if (pool, project, name) in self.shares:
            raise Refused(fault(409, f"share '{name}' already exists"))
        mountpoint = str(props.pop("mountpoint", f"{self.projects[(pool, project)]}/{name}"))
        if any(s.mountpoint == mountpoint for s in self.shares.values()) or self.local(mountpoint).exists():
            raise Refused(fault(409, f"mountpoint {mountpoint} is in use"))
        return Share(pool, project, name, mountpoint, datetime.now(timezone.utc).replace(microsecond=0), props)

    def create_filesystem(self, req: Request) -> Reply:
        body = dict(req.body) if isinstance(req.body, dict) else {}
        share = self._new_share(req.params["pool"], req.params["project"], body.pop("name", None), body)
        path = self.local(share.mountpoint)
        path.parent.mkdir(parents=True, exist_ok=True)
        btrfs("subvolume", "create", str(path))
        self._root_properties(path, share.props)
        self.shares[(share.pool, share.project, share.name)] = share
        return 201, {"filesystem": self._share_json(share)}, {}

    @staticmethod
    def _root_properties(path: Path, props: dict[str, Any]) -> None:
        """``root_user``/``root_group`` (names or ids) and ``root_permissions`` (octal) of a new share."""
        def ident(value: Any, lookup: Any) -> int:
            return int(value) if str(value).isdigit() else lookup(str(value))
        uid = ident(props["root_user"], lambda n: pwd.getpwnam(n).pw_uid) if "root_user" in props else -1
        gid = ident(props["root_group"], lambda n: grp.getgrnam(n).gr_gid) if "root_group" in props else -1
        if uid != -1 or gid != -1:
            os.chown(path, uid, gid)
        if "root_permissions" in props:
            path.chmod(int(str(props["root_permissions"]), 8))

    def modify_filesystem(self, req: Request) -> Reply:
        share = self._share(req)
        props = dict(req.body) if isinstance(req.body, dict) else {}
        if set(props) - SHARE_PROPERTIES or "mountpoint" in props:
            return fault(400, "property cannot be changed here", "ERR_UNKNOWN_ARG")
        share.props.update(props)
        return 202, {"filesystem": self._share_json(share)}, {}

    def delete_filesystem(self, req: Request) -> Reply:
        share = self._share(req)
        if any(self._clones_of(share, s) for s in share.snapshots):
            return fault(409, f"share '{share.name}' has snapshots with dependent clones")
        for snap in share.snapshots.values():
            btrfs("subvolume", "delete", str(snap.path))
            self._records.pop(snap.path, None)
        btrfs("subvolume", "delete", str(self.local(share.mountpoint)))
        del self.shares[(share.pool, share.project, share.name)]
        return 204, None, {}

    # -- snapshots and clones -------------------------------------------------------------------
    def _clones_of(self, share: Share, snap: str) -> list[Share]:
        want = {"pool": share.pool, "project": share.project, "share": share.name, "snapshot": snap}
        return [s for s in self.shares.values() if s.origin == want]

    def _snapshot_json(self, share: Share, snap: Snapshot) -> dict[str, Any]:
        ordered = sorted(share.snapshots.values(), key=lambda s: (s.creation, s.name))
        i = ordered.index(snap)
        mine = self._tree_records(snap.path)
        older = self._tree_records(ordered[i - 1].path) if i > 0 else {}
        newer = self._tree_records(ordered[i + 1].path if i + 1 < len(ordered) else self.local(share.mountpoint))
        unique = sum(size for key, (digest, size) in mine.items()
                     if older.get(key, (None,))[0] != digest and newer.get(key, (None,))[0] != digest)
        base = f"{V1}/pools/{share.pool}/projects/{share.project}/filesystems/{share.name}"
        return {"name": snap.name, "numclones": len(self._clones_of(share, snap.name)),
                "creation": stamp(snap.creation), "collection": "local", "project": share.project,
                "pool": share.pool, "canonical_name": f"{share.pool}/local/{share.project}/{share.name}@{snap.name}",
                "space_data": sum(size for _, size in mine.values()), "space_unique": unique, "type": "snapshot",
                "id": hashlib.sha1(str(snap.path).encode()).hexdigest()[:16],
                "href": f"{base}/snapshots/{snap.name}"}

    def _tree_records(self, tree: Path) -> dict[tuple[str, int], tuple[bytes, int]]:
        """Every 128 KiB record of every file under ``tree``: (file, index) -> (digest, bytes).
        Snapshots never change, so theirs are computed once."""
        cached = self._records.get(tree)
        if cached is not None:
            return cached
        out: dict[tuple[str, int], tuple[bytes, int]] = {}
        for path in sorted(p for p in tree.rglob("*") if p.is_file() and not p.is_symlink()):
            with open(path, "rb") as fh:
                for index, chunk in enumerate(iter(lambda: fh.read(RECORD), b"")):
                    out[(str(path.relative_to(tree)), index)] = (hashlib.sha1(chunk).digest(), len(chunk))
        if self.root / ".snapshots" in tree.parents:
            self._records[tree] = out
        return out

    def list_snapshots(self, req: Request) -> Reply:
        share = self._share(req)
        return 200, {"snapshots": [self._snapshot_json(share, s) for s in share.snapshots.values()]}, {}

    def _snap(self, req: Request) -> tuple[Share, Snapshot]:
        share = self._share(req)
        snap = share.snapshots.get(req.params["snap"])
        if snap is None:
            raise Refused(fault(404, f"snapshot '{req.params['snap']}' not found"))
        return share, snap

    def get_snapshot(self, req: Request) -> Reply:
        share, snap = self._snap(req)
        return 200, {"snapshot": self._snapshot_json(share, snap)}, {}

    def create_snapshot(self, req: Request) -> Reply:
        share = self._share(req)
        name = req.body.get("name") if isinstance(req.body, dict) else None
        if not isinstance(name, str) or not NAME.fullmatch(name):
            return fault(400, f"invalid snapshot name {name!r}", "ERR_MISSING_ARG" if name is None else None)
        if name in share.snapshots:
            return fault(409, f"snapshot '{name}' already exists")
        path = self.snapshot_dir(share.pool, share.project, share.name) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        btrfs("subvolume", "snapshot", "-r", str(self.local(share.mountpoint)), str(path))
        snap = Snapshot(name, datetime.now(timezone.utc).replace(microsecond=0), path)
        share.snapshots[name] = snap
        return 201, {"snapshot": self._snapshot_json(share, snap)}, {}

    def delete_snapshot(self, req: Request) -> Reply:
        share, snap = self._snap(req)
        if self._clones_of(share, snap.name):
            return fault(409, f"snapshot '{snap.name}' has dependent clones")
        btrfs("subvolume", "delete", str(snap.path))
        self._records.pop(snap.path, None)
        del share.snapshots[snap.name]
        return 204, None, {}

    def clone_snapshot(self, req: Request) -> Reply:
        share, snap = self._snap(req)
        body = dict(req.body) if isinstance(req.body, dict) else {}
        project, name = body.pop("project", None), body.pop("share", None)
        pool = body.pop("pool", share.pool)
        if not project or not name:
            return fault(400, "project and share are required", "ERR_MISSING_ARG")
        clone = self._new_share(str(pool), str(project), name, body)
        clone.origin = {"pool": share.pool, "project": share.project, "share": share.name, "snapshot": snap.name}
        path = self.local(clone.mountpoint)
        path.parent.mkdir(parents=True, exist_ok=True)
        btrfs("subvolume", "snapshot", str(snap.path), str(path))
        self.shares[(clone.pool, clone.project, clone.name)] = clone
        return 201, {"filesystem": self._share_json(clone)}, {}

    def dependents(self, req: Request) -> Reply:
        share, snap = self._snap(req)
        return 200, {"dependents": [
            {"project": c.project, "share": c.name,
             "href": f"{V1}/pools/{c.pool}/projects/{c.project}/filesystems/{c.name}"}
            for c in self._clones_of(share, snap.name)]}, {}
