"""The softnas storage under test: the driver against its HTTPS API test server (tests/apiservers/softnas.py).

Each backend starts its own server (a thread; faults and call logs stay the
test's own) whose "/" is a fresh directory of the session's btrfs image, with
one pool ``pool1``.  Its directory stands for the NFS mounts of the pool's
volumes on the database host: ``backupdest`` is ``<server root>/pool1``, so
``<backupdest>/<db>`` is the database's volume, as on a real installation.
The driver trusts the server only through ``cacert`` (the test CA) and logs
in with an old-style ``softnascredentials.cfg``.

Kind: ``softnas``.  SoftNAS cannot clone: the contract checks its one answer.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, Callable

from apiservers.softnas import SoftnasServer
from apiservers.tls import session_pki

from .backend_base import Backend, _render
from .facilities import need

POOL = "pool1"
USER, PASSWORD = "softnas", "Soft-n4s:secret"
_counter = itertools.count()


def server_root() -> Path:
    """A fresh directory on the session's btrfs image, the server's "/"."""
    top = Path(need("BTRFS")["OIB_BTRFS_MOUNT"]) / f"softnas{os.getpid()}x{next(_counter)}"
    top.mkdir()
    return top


def write_credentials(path: Path, user: str = USER, password: str = PASSWORD) -> Path:
    """The old toolset's credentials file (its sample's ``=`` form), private to its owner."""
    path.write_text(f"[credentials]\nuser={user}\npassword={password}\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def softnas_section(server: SoftnasServer, credentials: Path | None) -> dict[str, str]:
    """``[softnas]`` for the test server; quick retries so fault tests stay short."""
    section = {"serveraddress": f"127.0.0.1:{server.port}", "pool": POOL, "cacert": str(session_pki().ca_file),
               "timeout": "10", "retries": "2", "retrybackoff": "0.01"}
    if credentials is not None:
        section["credentialsfile"] = str(credentials)
    return section


def start_server(root: Path | None = None, **kw: Any) -> SoftnasServer:
    server = SoftnasServer(root or server_root(), users={USER: PASSWORD}, **kw).start()
    server.add_pool(POOL)
    return server


def make(kind: str, root: Path, **server_kw: Any) -> Backend:
    server = start_server(**server_kw)
    backupdest = server.root / POOL
    credentials = write_credentials(root / "softnascredentials.cfg")
    sections: dict[str, dict[str, str]] = {
        "generic": {"backupdest": str(backupdest), "warningsnapage": "24", "criticalsnapage": "48",
                    "maxlockwait": "1", "logretention": "7", "snappermodule": "softnas", "snapperclass": "SoftNAS"},
        "softnas": softnas_section(server, credentials),
    }
    if server.prefix != "/softnas":
        sections["softnas"]["apipath"] = server.prefix.strip("/")
    for db in ("orcl", "other"):
        sections[db] = {"snapexpirationdays": "7", "snapexpirationmonths": "0"}
    cfg = root / "backup.cfg"
    cfg.write_text(_render(sections), encoding="utf-8")
    backend = Backend(kind, root, cfg, backupdest, [server.wipe, server.stop], appliance_root=server.root)
    backend.server = server         # type: ignore[attr-defined]  # for the tests that arm faults
    try:
        for db in ("orcl", "other"):
            backend.driver(db).createvolume()
    except BaseException:
        backend.close()
        raise
    return backend


BACKENDS: dict[str, Callable[[Path], Backend]] = {"softnas": lambda root: make("softnas", root)}
