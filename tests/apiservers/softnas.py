"""A test SoftNAS server: its web API over HTTPS, with real filesystems behind it.

Written from the API's description, not from any driver:

* ``POST <prefix>/login.php`` with form ``username`` and ``password``: 302 to
  the application and, on that same answer, the session cookie ``PHPSESSID``
  (a client that does not follow redirects must keep it from the 302).  A
  wrong login: 302 back to ``login.php``, no cookie.  ``GET <prefix>/logout.php``
  kills the session.  ``expire_sessions()`` kills every session at once, and
  ``accept_sessions = False`` refuses every session (a login that "works" but
  gives no access);
* ``POST <prefix>/snserver/snserv.php``: without a live session cookie, 302 to
  ``login.php`` with an HTML page (never JSON).  The body is a form or a raw
  JSON object, holding ``opcode`` and its operands; every answer is
  ``{"success", "msg", "records", "total"}``, and a refusal ``success: false``
  with the reason in ``msg`` (HTTP 200);
* opcodes ``snapshotlist`` (``pool_name`` = ``<pool>/<volume>``; records with
  ``snapshot_name``, ``pool_name``, ``volume_name``, ``creation``, ``datesort``,
  ``refer``), ``snapcommand`` (``command`` ``create`` with ``pool_name`` and
  ``volume_name``: the server names the snapshot and says ``Snapshot
  '<pool>/<vol>@<name>' created``; ``delete`` with ``snapshots``, a JSON list
  in a form field), ``volumes`` (every pool's volumes, whatever ``pool`` says:
  ``vol_name``, ``pool``, ``vol_path``), ``createvolume`` and ``deletevolume``.
  Listings honour ``start`` and ``limit``; without ``limit`` a page is
  ``default_limit`` records, and ``page_cap`` (when set) caps any page, as a
  server may give fewer records than asked.

Behind the API a volume is a btrfs subvolume at ``<root>/<pool>/<volume>`` (its
``vol_path`` is ``/<pool>/<volume>``, ZFS's default mount point), and a snapshot
a read-only snapshot of it in ``<root>/.snapshots/<pool>/<volume>/<name>``.
``refer`` is the snapshot's bytes in ZFS's human form (``298K``).  How
``creation`` is given is ``creation_style``: ``datesort`` (text ``creation``
and ``datesort``, as the documentation shows), ``numeric`` (epoch seconds in
``creation``, no ``datesort``) or ``text`` (only the text).  Snapshot names are
``<volume>-YYYYmmddTHHMMSS`` (``names="volume"``, local time, ``-1``, ``-2`` …
within one second) or ``auto-YYYYmmdd-HHMMSS`` (``names="auto"``).

Faults: those of ``ApiServer``, in the ``success: false`` shape, and limited to
one ``opcode`` if asked (``fail(..., opcode="snapcommand")``).
"""
from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .base import ApiServer, Fault, Reply, Request

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,200}")
COOKIE = "PHPSESSID"
LOGIN_PAGE = b"<html><head><title>SoftNAS</title></head><body><form action=\"login.php\" method=\"post\">" \
             b"<input name=\"username\"><input name=\"password\" type=\"password\"></form></body></html>"


@dataclass
class Snapshot:
    name: str
    creation: datetime
    path: Path
    refer: int | None = None        # bytes, computed once (a snapshot never changes)


@dataclass
class Volume:
    pool: str
    name: str
    path: Path
    snapshots: dict[str, Snapshot] = field(default_factory=dict)


@dataclass
class OpcodeFault(Fault):
    opcode: str | None = None

    def matches(self, req: Request) -> bool:
        body = req.body if isinstance(req.body, dict) else {}
        return super().matches(req) and (self.opcode is None or body.get("opcode") == self.opcode)


def nicenum(n: int) -> str:
    """Bytes as ZFS prints them: ``512B``, ``298K``, ``1.21M``, ``12.1G``."""
    value, unit = float(n), 0
    while value >= 1024 and unit < 6:
        value, unit = value / 1024, unit + 1
    if unit == 0:
        return f"{n}B"
    digits = 2 if value < 10 else 1 if value < 100 else 0
    return f"{value:.{digits}f}{'BKMGTPE'[unit]}"


def answer(success: bool = True, msg: str = "", records: list[Any] | None = None, total: int | None = None
           ) -> Reply:
    body: dict[str, Any] = {"success": success, "msg": msg}
    if records is not None:
        body.update(records=records, total=len(records) if total is None else total)
    return 200, body, {}


def refuse(msg: str) -> Reply:
    return answer(False, msg)


class SoftnasServer(ApiServer):
    """See the module docstring.  ``add_pool`` is the administrator's part."""

    name = "softnas"

    def __init__(self, root: Path, users: dict[str, str] | None = None, prefix: str = "/softnas",
                 creation_style: str = "datesort", names: str = "volume", default_limit: int = 25,
                 page_cap: int | None = None, **kw: Any):
        super().__init__(users, **kw)
        self.root, self.prefix = root, prefix
        self.creation_style, self.names = creation_style, names
        self.default_limit, self.page_cap = default_limit, page_cap
        self.pools: set[str] = set()
        self.volumes: dict[tuple[str, str], Volume] = {}
        self.sessions: dict[str, str] = {}         # cookie value -> user
        self.accept_sessions = True                # False: snserv.php sends every caller to login.php
        self.route("POST", rf"{prefix}/login\.php", self.login)
        self.route("GET", rf"{prefix}/logout\.php", self.logout)
        self.route("POST", rf"{prefix}/snserver/snserv\.php", self.snserv)

    # -- the administrator's side ---------------------------------------------------------
    def add_pool(self, pool: str) -> Path:
        """A pool; its directory, where the NFS exports of its volumes are seen here."""
        self.pools.add(pool)
        path = self.root / pool
        path.mkdir(parents=True, exist_ok=True)
        return path

    def snapshot_dir(self, pool: str, volume: str) -> Path:
        return self.root / ".snapshots" / pool / volume

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def add_snapshot(self, pool: str, volume: str, name: str, creation: datetime) -> Snapshot:
        """A snapshot made on the server itself (its scheduler, an administrator)."""
        with self.lock:
            return self._snapshot(self.volumes[(pool, volume)], name, creation)

    def wipe(self) -> None:
        """Delete every subvolume the server made, then its directory."""
        with self.lock:
            for vol in self.volumes.values():
                for snap in vol.snapshots.values():
                    subprocess.run(["btrfs", "subvolume", "delete", str(snap.path)], capture_output=True)
                subprocess.run(["btrfs", "subvolume", "delete", str(vol.path)], capture_output=True)
            self.volumes.clear()
        subprocess.run(["rm", "-rf", str(self.root)], check=False)

    # -- requests: form or JSON bodies, cookies ---------------------------------------------
    def fail(self, nth: int = 1, status: int = 500, action: str = "status", method: str | None = None,
             path: str | None = None, body: Any = None, opcode: str | None = None) -> Fault:
        fault = OpcodeFault(nth=nth, status=status, action=action, method=method, path=path, body=body,
                            opcode=opcode)
        with self.lock:
            self.faults.append(fault)
        return fault

    def fault_body(self, status: int) -> Any:
        return {"success": False, "msg": f"injected HTTP {status}"}

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        """As ``ApiServer._handle``, with SoftNAS's bodies: a form, or a raw JSON object."""
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length).decode("utf-8", "replace") if length else ""
        body: dict[str, Any] = {}
        if raw.lstrip().startswith("{"):
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
        elif raw:
            body = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        req = Request(h.command, unquote(split.path), split.path, query,
                      {k.lower(): v for k, v in h.headers.items()}, body)
        shown = {k: ("***" if k == "password" else v) for k, v in body.items()}
        with self.lock:
            self.calls.append((req.method, req.path, req.query, shown))
        fault = self._fault_for(req)
        if fault is not None and fault.action == "drop":
            h.close_connection = True
            h.connection.close()
            return
        if fault is not None and fault.action == "stall":
            time.sleep(self.stall_seconds)
            fault = None
        if fault is not None:
            self._send(h, fault.status, fault.body if fault.body is not None else self.fault_body(fault.status), {})
            return
        status, out, headers = self.dispatch(req)
        self._send(h, status, out, headers)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str]) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    @staticmethod
    def _token(req: Request) -> str | None:
        """The session cookie's value, if the request carries one."""
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(req.headers.get("cookie", ""))
        except Exception:       # a cookie header that does not parse: no session
            return None
        morsel = cookie.get(COOKIE)
        return None if morsel is None else morsel.value

    def _session_user(self, req: Request) -> str | None:
        token = self._token(req)
        return None if token is None else self.sessions.get(token)

    def _to_login(self) -> Reply:
        return 302, LOGIN_PAGE, {"Location": f"{self.prefix}/login.php", "Content-Type": "text/html; charset=UTF-8"}

    # -- login.php, logout.php ----------------------------------------------------------------
    def login(self, req: Request) -> Reply:
        user, password = str(req.body.get("username", "")), str(req.body.get("password", ""))
        if not user or self.users.get(user) != password:
            return self._to_login()
        token = secrets.token_hex(16)
        self.sessions[token] = user
        return 302, b"", {"Location": f"{self.prefix}/applets/storage/index.php", "Content-Type": "text/html",
                          "Set-Cookie": f"{COOKIE}={token}; path=/; secure; HttpOnly"}

    def logout(self, req: Request) -> Reply:
        self.sessions.pop(self._token(req) or "", None)
        status, body, headers = self._to_login()
        headers["Set-Cookie"] = f"{COOKIE}=deleted; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT"
        return status, body, headers

    # -- snserv.php ---------------------------------------------------------------------------
    def snserv(self, req: Request) -> Reply:
        if self._session_user(req) is None or not self.accept_sessions:
            return self._to_login()
        handler = {"snapshotlist": self.snapshot_list, "snapcommand": self.snap_command,
                   "volumes": self.volume_list, "createvolume": self.create_volume,
                   "deletevolume": self.delete_volume}.get(str(req.body.get("opcode", "")))
        if handler is None:
            return refuse(f"Unknown opcode '{req.body.get('opcode', '')}'")
        return handler(req.body)

    def _page(self, body: dict[str, Any], records: list[dict[str, Any]]) -> Reply:
        try:
            start = int(body.get("start", 0))
            limit = int(body.get("limit", self.default_limit))
        except (TypeError, ValueError):
            return refuse("start and limit must be numbers")
        if self.page_cap is not None:
            limit = min(limit, self.page_cap)
        return answer(records=records[start:start + max(limit, 0)], total=len(records))

    def _volume(self, pool: Any, name: Any) -> Volume | None:
        return self.volumes.get((str(pool), str(name)))

    def _snapshot_json(self, vol: Volume, snap: Snapshot) -> dict[str, Any]:
        if snap.refer is None:
            snap.refer = sum(p.stat().st_size for p in snap.path.rglob("*") if p.is_file() and not p.is_symlink())
        out: dict[str, Any] = {"snapshot_name": snap.name, "pool_name": vol.pool, "volume_name": vol.name,
                               "refer": nicenum(snap.refer), "used": "0B"}
        text = snap.creation.strftime("%a %b %d %H:%M %Y ")
        if self.creation_style == "numeric":
            out["creation"] = str(int(snap.creation.timestamp()))
        else:
            out["creation"] = text
        if self.creation_style == "datesort":
            out["datesort"] = int(snap.creation.timestamp())
        return out

    def snapshot_list(self, body: dict[str, Any]) -> Reply:
        pool, _, name = str(body.get("pool_name", "")).partition("/")
        vols = [v for v in self.volumes.values() if v.pool == pool and (not name or v.name == name)]
        if pool not in self.pools or (name and not vols):
            return refuse(f"Dataset {body.get('pool_name')} does not exist")
        return self._page(body, [self._snapshot_json(v, s) for v in vols for s in v.snapshots.values()])

    def _snapshot(self, vol: Volume, name: str, creation: datetime) -> Snapshot:
        path = self.snapshot_dir(vol.pool, vol.name) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["btrfs", "subvolume", "snapshot", "-r", str(vol.path), str(path)], check=True,
                       capture_output=True)
        snap = vol.snapshots[name] = Snapshot(name, creation, path)
        return snap

    def _new_name(self, vol: Volume, now: datetime) -> str:
        base = f"auto-{now.astimezone():%Y%m%d-%H%M%S}" if self.names == "auto" \
            else f"{vol.name}-{now.astimezone():%Y%m%dT%H%M%S}"
        name, n = base, 0
        while name in vol.snapshots:
            n += 1
            name = f"{base}-{n}"
        return name

    def snap_command(self, body: dict[str, Any]) -> Reply:
        command = body.get("command")
        if command == "create":
            vol = self._volume(body.get("pool_name"), body.get("volume_name"))
            if vol is None:
                return refuse(f"Volume {body.get('pool_name')}/{body.get('volume_name')} does not exist")
            now = datetime.now(timezone.utc)
            snap = self._snapshot(vol, self._new_name(vol, now), now)
            return answer(msg=f"Snapshot '{vol.pool}/{vol.name}@{snap.name}' created")
        if command == "delete":
            try:
                wanted = json.loads(str(body.get("snapshots", "")))
                targets = [(self._volume(t["pool_name"], t["volume_name"]), str(t["snapshot_name"])) for t in wanted]
            except (ValueError, TypeError, KeyError):
                return refuse("snapshots must be a JSON list of snapshot_name, pool_name, volume_name")
            for vol, name in targets:
                if vol is None or name not in vol.snapshots:
                    return refuse(f"could not find snapshot to delete: {name}")
            for vol, name in targets:
                subprocess.run(["btrfs", "subvolume", "delete", str(vol.snapshots.pop(name).path)],   # type: ignore
                               check=True, capture_output=True)
            return answer(msg=f"{len(targets)} snapshot(s) deleted")
        return refuse(f"Unknown snapcommand '{command}'")

    def volume_list(self, body: dict[str, Any]) -> Reply:
        # Every pool's volumes, whatever "pool" asked for: clients filter on it.
        return self._page(body, [{"vol_name": v.name, "pool": v.pool, "vol_path": f"/{v.pool}/{v.name}",
                                  "vol_type": "filesystem", "provisioning": "thin", "compression": "on",
                                  "nfs_export": "on"} for v in self.volumes.values()])

    def create_volume(self, body: dict[str, Any]) -> Reply:
        pool, name = str(body.get("pool", "")), str(body.get("vol_name", ""))
        if pool not in self.pools:
            return refuse(f"Pool '{pool}' does not exist")
        if not NAME.fullmatch(name) or body.get("vol_type") != "filesystem":
            return refuse(f"Invalid volume name '{name}' or type '{body.get('vol_type')}'")
        if (pool, name) in self.volumes:
            return refuse(f"Volume '{pool}/{name}' already exists")
        path = self.root / pool / name
        subprocess.run(["btrfs", "subvolume", "create", str(path)], check=True, capture_output=True)
        self.volumes[(pool, name)] = Volume(pool, name, path)
        return answer(msg=f"Volume '{pool}/{name}' created")

    def delete_volume(self, body: dict[str, Any]) -> Reply:
        vol = self._volume(body.get("pool"), body.get("vol_name"))
        if vol is None:
            return refuse(f"Volume '{body.get('pool')}/{body.get('vol_name')}' does not exist")
        if vol.snapshots:
            return refuse(f"cannot destroy '{vol.pool}/{vol.name}': filesystem has children")
        subprocess.run(["btrfs", "subvolume", "delete", str(vol.path)], check=True, capture_output=True)
        del self.volumes[(vol.pool, vol.name)]
        return answer(msg=f"Volume '{vol.pool}/{vol.name}' deleted")
