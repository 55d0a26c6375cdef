"""The base of the appliance API test servers: HTTPS on 127.0.0.1, JSON routes, faults on demand.

An appliance server (``zfssa.py``, ``ontap.py`` …) subclasses ``ApiServer``,
declares its routes (``route("GET", r"/api/storage/v1/pools/(?P<pool>[^/]+)", handler)``)
and keeps its objects as real directories on disk.  The base gives it:

* a threaded HTTPS server on a free port, with the session's test certificate
  (``tests.apiservers.tls``), started and stopped by ``start()``/``stop()``;
* Basic auth checked against ``users`` (name → password);
* a log of every call (``calls``: method, path, query, body) for assertions;
* faults the tests arm: ``fail(nth=3, status=503)`` answers the third matching
  call with that status, ``fail(..., action="stall")`` holds the answer for
  ``stall_seconds``, ``action="drop"`` closes the connection without answering.
  A fault may be limited to a method and a path pattern.

Handlers get a ``Request`` and return ``(status, body, headers)``; a body that
is not bytes is sent as JSON.
"""
from __future__ import annotations

import base64
import json
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from .tls import Pki, session_pki

Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Request:
    method: str
    path: str                       # decoded path
    raw_path: str                   # as sent (still percent-quoted)
    query: dict[str, str]           # last value of each parameter
    headers: dict[str, str]         # lower-case names
    body: Any                       # parsed JSON, or None
    params: dict[str, str] = field(default_factory=dict)   # the route's named groups, decoded
    user: str | None = None         # Basic auth user, when it matched


@dataclass
class Fault:
    nth: int                        # the nth matching call (1 = the next one)
    status: int = 500
    action: str = "status"          # status | stall | drop
    method: str | None = None
    path: str | None = None         # regular expression searched in the decoded path
    body: Any = None
    seen: int = 0

    def matches(self, req: Request) -> bool:
        return ((self.method is None or self.method == req.method)
                and (self.path is None or re.search(self.path, req.path) is not None))


class ApiServer:
    """See the module docstring."""

    name = "api"

    def __init__(self, users: dict[str, str] | None = None, pki: Pki | None = None):
        self.users = dict(users or {"admin": "s3cret-Pa55"})
        self.pki = pki or session_pki()
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []
        self.faults: list[Fault] = []
        self.stall_seconds = 5.0
        self.lock = threading.RLock()
        self._routes: list[tuple[str, re.Pattern[str], Callable[[Request], Reply]]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up -------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Callable[[Request], Reply]) -> None:
        self._routes.append((method, re.compile(pattern + r"/?"), handler))

    def start(self) -> ApiServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:    # quiet: the calls are in server.calls
                pass

            def _any(self) -> None:
                server._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.pki.cert_file), str(self.pki.key_file))
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"{self.name}-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    # -- faults ---------------------------------------------------------------------------
    def fail(self, nth: int = 1, status: int = 500, action: str = "status", method: str | None = None,
             path: str | None = None, body: Any = None) -> Fault:
        fault = Fault(nth=nth, status=status, action=action, method=method, path=path, body=body)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _fault_for(self, req: Request) -> Fault | None:
        with self.lock:
            for fault in list(self.faults):
                if fault.matches(req):
                    fault.seen += 1
                    if fault.seen == fault.nth:
                        self.faults.remove(fault)
                        return fault
        return None

    def fault_body(self, status: int) -> Any:
        """The appliance's error body for an injected status (subclasses give their shape)."""
        return {"error": f"injected HTTP {status}"}

    # -- auth -------------------------------------------------------------------------------
    def basic_user(self, req: Request) -> str | None:
        """The user of a valid ``Authorization: Basic`` header, else None."""
        header = req.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except Exception:
            return None
        return user if self.users.get(user) == password else None

    # -- one request --------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            self._send(h, 400, {"error": "body is not JSON"}, {})
            return
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        req = Request(h.command, unquote(split.path), split.path, query,
                      {k.lower(): v for k, v in h.headers.items()}, body)
        with self.lock:
            self.calls.append((req.method, req.path, req.query, req.body))
        fault = self._fault_for(req)
        if fault is not None:
            if fault.action == "drop":
                h.close_connection = True
                h.connection.close()
                return
            if fault.action == "stall":
                time.sleep(self.stall_seconds)
            else:
                self._send(h, fault.status, fault.body if fault.body is not None
                           else self.fault_body(fault.status), {})
                return
        status, out, headers = self.dispatch(req)
        self._send(h, status, out, headers)

    def dispatch(self, req: Request) -> Reply:
        """The route's answer; 404/405 in the appliance's error shape when there is none."""
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(req.raw_path)
            if match is None:
                continue
            allowed = True
            if method != req.method:
                continue
            req.params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
            with self.lock:
                return handler(req)
        status = 405 if allowed else 404
        return status, self.fault_body(status), {}

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str]) -> None:
        data = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
        h.send_response(status)
        if data or status != 204:
            h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        if data:
            h.wfile.write(data)
