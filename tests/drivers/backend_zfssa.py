"""The zfssa storage under test: the driver against its HTTPS API test server (tests/apiservers/zfssa.py).

Each backend starts its own server (a thread; faults and call logs stay the
test's own) whose appliance "/" is a fresh directory of the session's btrfs
image, with one project ``backup`` in pool ``pool1`` mounted at
``/export/backup``.  That directory stands for the NFS mount of the project
on the database host: ``backupdest`` is ``<appliance>/export/backup``, so
``<backupdest>/<db>`` is the database's share, as on a real installation.
The driver trusts the server only through ``cacert`` (the test CA) and logs
in with an old-style ``zfscredentials.cfg``.

Kinds: ``zfssa`` (Basic auth on every call, the old driver's way) and
``zfssa-session`` (``auth: session``).
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Callable

from apiservers.tls import session_pki
from apiservers.zfssa import ZfssaServer

from .backend_base import Backend, _render
from .facilities import need

POOL, PROJECT = "pool1", "backup"
USER, PASSWORD = "oibadmin", "Zfs-s3cret:pw"
_counter = itertools.count()


def appliance_root() -> Path:
    """A fresh directory on the session's btrfs image, the appliance's "/"."""
    top = Path(need("BTRFS")["OIB_BTRFS_MOUNT"]) / f"zfssa{os.getpid()}x{next(_counter)}"
    top.mkdir()
    return top


def write_credentials(path: Path, user: str = USER, password: str = PASSWORD) -> Path:
    """The old toolset's credentials file, private to its owner."""
    path.write_text(f"[zfscredentials]\nzfsuser: {user}\nzfspassword: {password}\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def zfssa_section(server: ZfssaServer, credentials: Path | None, auth: str = "basic") -> dict[str, str]:
    """``[zfssa]`` for the test server; quick retries so fault tests stay short."""
    section = {"url": server.url, "pool": POOL, "project": PROJECT, "cacert": str(session_pki().ca_file),
               "timeout": "10", "retries": "2", "retrybackoff": "0.01"}
    if credentials is not None:
        section["credentialsfile"] = str(credentials)
    if auth != "basic":
        section["auth"] = auth
    return section


def start_server(root: Path) -> ZfssaServer:
    server = ZfssaServer(root, users={USER: PASSWORD}).start()
    server.add_project(POOL, PROJECT)
    return server


def make(kind: str, root: Path) -> Backend:
    auth = "session" if kind.endswith("-session") else "basic"
    server = start_server(appliance_root())
    backupdest = server.local(server.projects[(POOL, PROJECT)])
    credentials = write_credentials(root / "zfscredentials.cfg")
    sections: dict[str, dict[str, str]] = {
        "generic": {"backupdest": str(backupdest), "warningsnapage": "24", "criticalsnapage": "48",
                    "maxlockwait": "1", "logretention": "7", "snappermodule": "zfssa", "snapperclass": "ZFSSA"},
        "zfssa": zfssa_section(server, credentials, auth),
    }
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


def _factory(kind: str) -> Callable[[Path], Backend]:
    return lambda root: make(kind, root)


BACKENDS: dict[str, Callable[[Path], Backend]] = {kind: _factory(kind) for kind in ("zfssa", "zfssa-session")}
