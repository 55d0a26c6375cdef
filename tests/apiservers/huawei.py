"""A test Huawei OceanStor Dorado: the DeviceManager REST API over HTTPS, with real file systems behind it.

Written from the API's published behaviour, not from any driver:

* ``POST /deviceManager/rest/<anything>/sessions`` logs in (``username``,
  ``password``, ``scope``): ``data.deviceid`` and ``data.iBaseToken``, and a
  session cookie.  A bad password is HTTP 200 with a non-zero code and no
  ``data``.  Every other call needs the ``iBaseToken`` header of a live session
  and the device id in its path; a missing or stale token is HTTP 200 with
  ``code: -401``.  A token lives ``token_lifetime`` seconds from its login
  (settable; ``expire_tokens()`` ends them all at once, ``expire_after`` once a
  given call is answered);
* every answer is the envelope ``{"data": …, "error": {"code", "description"
  [, "suggestion"]}}``, values as strings; business errors are HTTP 200 with a
  non-zero code.  A list with no match has no ``data`` at all;
* lists take ``filter=F::v`` (exact) or ``F:v`` (substring), plain field
  parameters (``PARENTID=``), ``sortby=TIMESTAMP,d``, ``range=[a-b]`` (end
  excluded, at most ``max_range`` records) and, without ``range``, give only the
  first ``list_cap`` records; ``<obj>/count`` counts.  ``vstoreId`` (or
  ``vstoreid``) in the query or the JSON body scopes a call to a vstore
  (default ``0``, the system vstore); object names in paths are case-insensitive;
* state rules: a clone file system carries ``ISCLONEFS: "true"`` and its parent's
  and snapshot's IDs and names; a snapshot with clones is not deleted, nor a file
  system that still has a share or snapshots with clones; deleting a share drops
  its clients; a share's path must be ``/<file system>/``.

Behind the API each file system is a btrfs subvolume ``<root>/<name>`` (what an
NFS mount of its share ``/<name>/`` shows), snapshots are read-only snapshots in
``<root>/.snapshots/<fs>/<name>`` and a clone is a writable snapshot of one, so it
holds the snapshot's files.  Faults: the base's (``fail``: an HTTP status, a
stall, a dropped connection) and ``fail_code``: HTTP 200 with an error code.
"""
from __future__ import annotations

import itertools
import re
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import ApiServer, Fault, Reply, Request

REST = "/deviceManager/rest"
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}")
RANGE = re.compile(r"\[(\d+)-(\d+)\]")
# Error codes (the array's numbers where clients know them, else in the same style).
BAD_LOGIN, BAD_PARAM, NO_OBJECT, EXISTS = 1077949061, 50331651, 1077948996, 1077948993
SNAP_MISSING, FS_MISSING, SHARE_MISSING, SHARE_EXISTS = 1073754118, 1073752065, 1077939717, 1077939724
SNAP_HAS_CLONES, FS_BUSY = 1073754142, 1073844277


class Refused(Exception):
    """An error envelope, raised from deep inside a handler."""

    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code, self.description = code, description


def envelope(data: Any = None, code: int = 0, description: str = "0") -> dict[str, Any]:
    out: dict[str, Any] = {"error": {"code": code, "description": description}}
    if code:
        out["error"]["suggestion"] = "Check the parameters and try again."
    if data is not None:
        out["data"] = data
    return out


def btrfs(*args: str) -> None:
    subprocess.run(["btrfs", *args], check=True, capture_output=True, text=True)


@dataclass
class Fs:
    id: str
    name: str
    vstore: str
    path: Path
    props: dict[str, str]
    parent: tuple[str, str, str, str] | None = None     # clones: fs id, fs name, snapshot id, snapshot name


@dataclass
class Snap:
    id: str
    name: str
    fs: str
    path: Path
    created: int


@dataclass
class Share:
    id: str
    path: str
    fs: str
    vstore: str
    clients: dict[str, dict[str, str]] = field(default_factory=dict)


class DoradoServer(ApiServer):
    """See the module docstring.  ``add_vstore`` is the administrator's part."""

    name = "dorado"

    def __init__(self, root: Path, users: dict[str, str] | None = None, token_lifetime: float = 1200.0,
                 list_cap: int = 100, max_range: int = 100, **kw: Any):
        super().__init__(users, **kw)
        self.root = root
        self.device = "2102351234"
        self.token_lifetime = token_lifetime
        self.list_cap, self.max_range = list_cap, max_range
        self.tokens: dict[str, tuple[str, float]] = {}         # token -> (user, login time)
        self.vstores: dict[str, str] = {"0": "System_vStore"}
        self.filesystems: dict[str, Fs] = {}
        self.snapshots: dict[str, Snap] = {}
        self.shares: dict[str, Share] = {}
        self.expired_answers = 0                                # -401 answers given, for the tests
        self.expire_after: list[tuple[str, str]] = []   # (method, path regex): tokens end once it is answered
        self.exact_is_fuzzy = False     # a firmware whose F::v filter matches like F:v (clients check again)
        self._ids = itertools.count(11)
        (root / ".snapshots").mkdir(parents=True, exist_ok=True)
        self.route("POST", rf"{REST}/(?P<dev>[^/]+)/(?i:sessions)", self.login)
        self.route("DELETE", rf"{REST}/(?P<dev>[^/]+)/(?i:sessions)", self.logout)
        obj = rf"{REST}/(?P<dev>[^/]+)/(?P<obj>[A-Za-z_]+)(?:/(?P<id>[^/]+))?"
        for method in ("GET", "POST", "DELETE", "PUT"):
            self.route(method, obj, self.objects)

    # -- the administrator's side ---------------------------------------------------------------
    def add_vstore(self, name: str) -> str:
        vid = str(next(self._ids))
        self.vstores[vid] = name
        return vid

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def fail_code(self, code: int, nth: int = 1, method: str | None = None, path: str | None = None,
                  description: str = "injected error") -> Fault:
        """Answer the nth matching call with HTTP 200 and this error code (the array's usual way)."""
        return self.fail(nth=nth, status=200, method=method, path=path, body=envelope(code=code,
                                                                                     description=description))

    def fault_body(self, status: int) -> Any:
        return envelope(code=status, description=f"injected HTTP {status}")

    def wipe(self) -> None:
        """Delete every subvolume made (clones, then file systems, then snapshots) and the root."""
        with self.lock:
            for fs in sorted(self.filesystems.values(), key=lambda f: f.parent is None):
                subprocess.run(["btrfs", "subvolume", "delete", str(fs.path)], capture_output=True)
            for snap in self.snapshots.values():
                subprocess.run(["btrfs", "subvolume", "delete", str(snap.path)], capture_output=True)
            self.filesystems.clear()
            self.snapshots.clear()
        subprocess.run(["rm", "-rf", str(self.root)], check=False)

    def fs_named(self, name: str) -> Fs | None:
        with self.lock:
            return next((f for f in self.filesystems.values() if f.name == name), None)

    def snapshot_dir(self, fs: str) -> Path:
        return self.root / ".snapshots" / fs

    # -- sessions ---------------------------------------------------------------------------------
    def login(self, req: Request) -> Reply:
        body = req.body if isinstance(req.body, dict) else {}
        user, password = body.get("username"), body.get("password")
        if not isinstance(user, str) or self.users.get(user) != password or str(body.get("scope")) not in ("0", "1"):
            return 200, envelope(code=BAD_LOGIN, description="The user name or password is incorrect."), {}
        token = secrets.token_hex(16)
        self.tokens[token] = (user, time.monotonic())
        data = {"deviceid": self.device, "iBaseToken": token, "accountstate": "1", "username": user,
                "userscope": "0", "roleId": "2", "lastlogintime": str(int(time.time()))}
        return 200, envelope(data), {"Set-Cookie": f"session=ismsession={token}; Path=/; Secure; HttpOnly"}

    def logout(self, req: Request) -> Reply:
        self.tokens.pop(req.headers.get("ibasetoken", ""), None)
        return 200, envelope({}), {}

    def _live(self, req: Request) -> bool:
        entry = self.tokens.get(req.headers.get("ibasetoken", ""))
        if entry is None:
            return False
        if time.monotonic() - entry[1] > self.token_lifetime:
            del self.tokens[req.headers["ibasetoken"]]
            return False
        return True

    def dispatch(self, req: Request) -> Reply:
        if not re.fullmatch(rf"{REST}/[^/]+/(?i:sessions)/?", req.path):
            with self.lock:
                if not self._live(req):
                    self.expired_answers += 1
                    return 200, envelope(code=-401, description="The user is offline."), {}
            if not req.path.startswith(f"{REST}/{self.device}/"):
                return 200, envelope(code=NO_OBJECT, description="The device does not exist."), {}
        try:
            reply = super().dispatch(req)
        except Refused as refused:
            reply = 200, envelope(code=refused.code, description=refused.description), {}
        if any(m == req.method and re.search(p, req.path) for m, p in self.expire_after):
            self.expire_tokens()
        return reply

    # -- objects ------------------------------------------------------------------------------------
    def objects(self, req: Request) -> Reply:
        kind = req.params["obj"].lower()
        handlers = {"vstore": (self._vstore_docs, None, None),
                    "filesystem": (self._fs_docs, self.create_fs, self.delete_fs),
                    "fssnapshot": (self._snap_docs, self.create_snap, self.delete_snap),
                    "nfshare": (self._share_docs, self.create_share, self.delete_share),
                    "nfs_share_auth_client": (self._client_docs, self.create_client, self.delete_client)}
        if kind not in handlers:
            raise Refused(NO_OBJECT, f"The object type {req.params['obj']} does not exist.")
        docs, create, delete = handlers[kind]
        oid = req.params.get("id")
        if req.method == "GET":
            items = docs(self._vid(req))
            if oid == "count":
                return 200, envelope({"COUNT": str(len(self._select(req, items)))}), {}
            if oid is not None:
                found = [d for d in items if d["ID"] == oid]
                if not found:
                    raise Refused(NO_OBJECT, "The object does not exist.")
                return 200, envelope(found[0]), {}
            return 200, envelope(self._page(req, self._select(req, items)) or None), {}
        if req.method == "POST" and create is not None and oid is None:
            return 200, envelope(create(req, self._vid(req))), {}
        if req.method == "DELETE" and delete is not None and oid is not None:
            delete(oid, self._vid(req))
            return 200, envelope(), {}
        raise Refused(BAD_PARAM, "The operation is not supported for this object.")

    def _vid(self, req: Request) -> str:
        body = req.body if isinstance(req.body, dict) else {}
        vid = str(req.query.get("vstoreId", req.query.get("vstoreid", body.get("vstoreId", body.get("vstoreid", "0")))))
        if vid not in self.vstores:
            raise Refused(NO_OBJECT, f"The vStore {vid} does not exist.")
        return vid

    def _select(self, req: Request, items: list[dict[str, str]]) -> list[dict[str, str]]:
        control = {"range", "sortby", "filter", "vstoreId", "vstoreid"}
        chosen = [d for d in items if all(d.get(k) == v for k, v in req.query.items() if k not in control)]
        flt = req.query.get("filter")
        if flt and "::" in flt and self.exact_is_fuzzy:
            flt = flt.replace("::", ":", 1)
        if flt and "::" in flt:                     # exact
            fld, value = flt.split("::", 1)
            chosen = [d for d in chosen if d.get(fld) == value]
        elif flt:                                   # fuzzy: a substring, any case
            fld, _, value = flt.partition(":")
            chosen = [d for d in chosen if value.lower() in str(d.get(fld, "")).lower()]
        sortby = req.query.get("sortby", "")
        if sortby:
            fld, _, way = sortby.partition(",")
            chosen.sort(key=lambda d: int(d.get(fld, 0)) if str(d.get(fld, "")).isdigit() else str(d.get(fld)),
                        reverse=way == "d")
        return chosen

    def _page(self, req: Request, items: list[dict[str, str]]) -> list[dict[str, str]]:
        if "range" not in req.query:
            return items[:self.list_cap]
        m = RANGE.fullmatch(req.query["range"])
        if m is None or int(m.group(2)) <= int(m.group(1)) or int(m.group(2)) - int(m.group(1)) > self.max_range:
            raise Refused(BAD_PARAM, f"The range {req.query['range']} is invalid.")
        return items[int(m.group(1)):int(m.group(2))]

    def _new_id(self) -> str:
        return str(next(self._ids))

    # -- vstores and file systems --------------------------------------------------------------------
    def _vstore_docs(self, vid: str) -> list[dict[str, str]]:
        return [{"ID": i, "NAME": n, "TYPE": "16442"} for i, n in self.vstores.items()]

    def _fs_doc(self, fs: Fs) -> dict[str, str]:
        capacity = fs.props.get("CAPACITY", "2097152")
        doc = {"ID": fs.id, "NAME": fs.name, "TYPE": "40", "vstoreId": fs.vstore,
               "PARENTID": fs.props.get("PARENTID", "0"), "PARENTNAME": "StoragePool001", "ISCLONEFS": "false",
               "CAPACITY": capacity, "AVAILABLECAPCITY": capacity,
               "ENABLECOMPRESSION": fs.props.get("ENABLECOMPRESSION", "false"),
               "ENABLEDEDUP": fs.props.get("ENABLEDEDUP", "false"), "HEALTHSTATUS": "1", "RUNNINGSTATUS": "27"}
        if fs.parent is not None:
            doc.update(ISCLONEFS="true", PARENTFILESYSTEMID=fs.parent[0], PARENTFILESYSTEMNAME=fs.parent[1],
                       PARENTSNAPSHOTID=fs.parent[2], PARENTSNAPSHOTNAME=fs.parent[3])
        return doc

    def _fs_docs(self, vid: str) -> list[dict[str, str]]:
        return [self._fs_doc(f) for f in self.filesystems.values() if f.vstore == vid]

    def _fs(self, fsid: Any, vid: str) -> Fs:
        fs = self.filesystems.get(str(fsid))
        if fs is None or fs.vstore != vid:
            raise Refused(FS_MISSING, f"The file system {fsid} does not exist.")
        return fs

    def create_fs(self, req: Request, vid: str) -> dict[str, str]:
        body = {k: str(v) for k, v in (req.body or {}).items()} if isinstance(req.body, dict) else {}
        name = body.get("NAME", "")
        if not NAME.fullmatch(name) or name.startswith("."):
            raise Refused(BAD_PARAM, f"The name {name!r} is invalid.")
        if any(f.name.lower() == name.lower() for f in self.filesystems.values()):
            raise Refused(EXISTS, f"The file system {name} already exists.")
        fs = Fs(self._new_id(), name, vid, self.root / name, body)
        if body.get("ISCLONEFS", "false").lower() == "true":
            parent = self._fs(body.get("PARENTFILESYSTEMID"), vid)
            snap = self.snapshots.get(body.get("PARENTSNAPSHOTID", ""))
            if snap is None or snap.fs != parent.id:
                raise Refused(SNAP_MISSING, "The parent snapshot does not exist.")
            btrfs("subvolume", "snapshot", str(snap.path), str(fs.path))
            fs.parent = (parent.id, parent.name, snap.id, snap.name)
        else:
            if not body.get("CAPACITY", "").isdigit() or "PARENTID" not in body:
                raise Refused(BAD_PARAM, "CAPACITY and PARENTID (the storage pool) are required.")
            btrfs("subvolume", "create", str(fs.path))
            fs.path.chmod(int(body.get("unixPermissions", "755"), 8))
        self.filesystems[fs.id] = fs
        return self._fs_doc(fs)

    def delete_fs(self, fsid: str, vid: str) -> None:
        fs = self._fs(fsid, vid)
        if any(s.fs == fs.id for s in self.shares.values()):
            raise Refused(FS_BUSY, f"The file system {fs.name} has NFS shares: delete them first.")
        snaps = [s for s in self.snapshots.values() if s.fs == fs.id]
        if any(self._clones_of(s) for s in snaps):
            raise Refused(FS_BUSY, f"The file system {fs.name} has snapshots with clones.")
        for s in snaps:
            btrfs("subvolume", "delete", str(s.path))
            del self.snapshots[s.id]
        btrfs("subvolume", "delete", str(fs.path))
        del self.filesystems[fs.id]

    # -- snapshots ------------------------------------------------------------------------------------
    def _clones_of(self, snap: Snap) -> list[Fs]:
        return [f for f in self.filesystems.values() if f.parent is not None and f.parent[2] == snap.id]

    def _snap_docs(self, vid: str) -> list[dict[str, str]]:
        return [{"ID": s.id, "NAME": s.name, "PARENTID": s.fs, "PARENTTYPE": "40", "TYPE": "48",
                 "PARENTNAME": self.filesystems[s.fs].name, "TIMESTAMP": str(s.created),
                 "utcTimeStamp": str(s.created), "CONSUMEDCAPACITY": "0", "vstoreId": vid,
                 "HEALTHSTATUS": "1"} for s in self.snapshots.values() if self.filesystems[s.fs].vstore == vid]

    def create_snap(self, req: Request, vid: str) -> dict[str, str]:
        body = {k: str(v) for k, v in (req.body or {}).items()} if isinstance(req.body, dict) else {}
        fs = self._fs(body.get("PARENTID"), vid)
        name = body.get("NAME", "")
        if not NAME.fullmatch(name) or body.get("PARENTTYPE", "40") != "40":
            raise Refused(BAD_PARAM, f"The snapshot name {name!r} is invalid.")
        if any(s.fs == fs.id and s.name == name for s in self.snapshots.values()):
            raise Refused(EXISTS, f"The snapshot {name} already exists.")
        path = self.snapshot_dir(fs.name) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        btrfs("subvolume", "snapshot", "-r", str(fs.path), str(path))
        snap = Snap(f"{fs.id}@{name}", name, fs.id, path, int(time.time()))
        self.snapshots[snap.id] = snap
        return next(d for d in self._snap_docs(vid) if d["ID"] == snap.id)

    def delete_snap(self, sid: str, vid: str) -> None:
        snap = self.snapshots.get(sid)
        if snap is None or self.filesystems[snap.fs].vstore != vid:
            raise Refused(SNAP_MISSING, f"The snapshot {sid} does not exist.")
        if self._clones_of(snap):
            raise Refused(SNAP_HAS_CLONES, f"The snapshot {snap.name} has clone file systems.")
        btrfs("subvolume", "delete", str(snap.path))
        del self.snapshots[sid]

    # -- NFS shares and their clients ------------------------------------------------------------------
    def _share_docs(self, vid: str) -> list[dict[str, str]]:
        return [{"ID": s.id, "SHAREPATH": s.path, "FSID": s.fs, "vstoreId": vid, "TYPE": "16401",
                 "CHARACTERENCODING": "0"} for s in self.shares.values() if s.vstore == vid]

    def create_share(self, req: Request, vid: str) -> dict[str, str]:
        body = {k: str(v) for k, v in (req.body or {}).items()} if isinstance(req.body, dict) else {}
        fs = self._fs(body.get("FSID"), vid)
        if body.get("SHAREPATH") != f"/{fs.name}/":
            raise Refused(BAD_PARAM, f"The share path must be /{fs.name}/.")
        if any(s.path == body["SHAREPATH"] for s in self.shares.values()):
            raise Refused(SHARE_EXISTS, f"The share {body['SHAREPATH']} already exists.")
        share = Share(self._new_id(), body["SHAREPATH"], fs.id, vid)
        self.shares[share.id] = share
        return next(d for d in self._share_docs(vid) if d["ID"] == share.id)

    def delete_share(self, sid: str, vid: str) -> None:
        share = self.shares.get(sid)
        if share is None or share.vstore != vid:
            raise Refused(SHARE_MISSING, f"The share {sid} does not exist.")
        del self.shares[sid]                    # its clients go with it

    def _client_docs(self, vid: str) -> list[dict[str, str]]:
        return [{**c, "PARENTID": s.id} for s in self.shares.values() if s.vstore == vid for c in s.clients.values()]

    def create_client(self, req: Request, vid: str) -> dict[str, str]:
        body = {k: str(v) for k, v in (req.body or {}).items()} if isinstance(req.body, dict) else {}
        share = self.shares.get(body.get("PARENTID", ""))
        if share is None or share.vstore != vid:
            raise Refused(SHARE_MISSING, "The share does not exist.")
        if not body.get("NAME") or body.get("ACCESSVAL") not in ("0", "1"):
            raise Refused(BAD_PARAM, "NAME and ACCESSVAL (0 or 1) are required.")
        client = {"ID": self._new_id(), "NAME": body["NAME"], "ACCESSVAL": body["ACCESSVAL"],
                  "SYNC": body.get("SYNC", "0"), "ALLSQUASH": body.get("ALLSQUASH", "1"),
                  "ROOTSQUASH": body.get("ROOTSQUASH", "1"), "vstoreId": vid}
        share.clients[client["ID"]] = client
        return {**client, "PARENTID": share.id}

    def delete_client(self, cid: str, vid: str) -> None:
        for share in self.shares.values():
            if cid in share.clients and share.vstore == vid:
                del share.clients[cid]
                return
        raise Refused(NO_OBJECT, f"The client {cid} does not exist.")

    def share_of(self, fs_name: str) -> Share | None:
        fs = self.fs_named(fs_name)
        return next((s for s in self.shares.values() if fs is not None and s.fs == fs.id), None)
