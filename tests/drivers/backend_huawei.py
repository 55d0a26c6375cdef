"""The huawei storage under test: the driver against its HTTPS Dorado test server (tests/apiservers/huawei.py).

Each backend starts its own server (a thread; faults and call logs stay the
test's own) whose NAS root is a fresh directory of the session's btrfs image:
a file system ``<name>`` shared as ``/<name>/`` is the directory ``<root>/<name>``,
so ``backupdest`` is that root, as an NFS mount of each share at
``<backupdest>/<db>`` would show it.  The file systems live in a vstore
``oibvstore``; the driver trusts the server only through ``cacert`` (the test
CA) and logs in with an old-style ``huaweidoradocredentials.cfg``.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Callable

from apiservers.huawei import DoradoServer
from apiservers.tls import session_pki

from .backend_base import Backend, _render
from .facilities import need

VSTORE = "oibvstore"
USER, PASSWORD = "oibadmin", "Dorado-s3cret#pw"
_counter = itertools.count()


def dorado_root() -> Path:
    """A fresh directory on the session's btrfs image, the array's NAS root."""
    top = Path(need("BTRFS")["OIB_BTRFS_MOUNT"]) / f"dorado{os.getpid()}x{next(_counter)}"
    top.mkdir()
    top.chmod(0o755)
    return top


def write_credentials(path: Path, user: str = USER, password: str = PASSWORD) -> Path:
    """The old toolset's credentials file, private to its owner."""
    path.write_text(f"[credentials]\nuser: {user}\npassword: {password}\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def dorado_section(server: DoradoServer, credentials: Path | None) -> dict[str, str]:
    """``[huaweidorado]`` for the test server; quick retries so fault tests stay short."""
    section = {"url": server.url, "vstore": VSTORE, "mounthost": "127.0.0.1", "restorenfsclient": "*",
               "cacert": str(session_pki().ca_file), "volumesize": "1G", "timeout": "10", "retries": "2",
               "retrybackoff": "0.01"}
    if credentials is not None:
        section["credentialsfile"] = str(credentials)
    return section


def start_server(root: Path, **kw) -> DoradoServer:
    server = DoradoServer(root, users={USER: PASSWORD}, **kw).start()
    server.add_vstore(VSTORE)
    return server


def make(kind: str, root: Path) -> Backend:
    server = start_server(dorado_root())
    credentials = write_credentials(root / "huaweidoradocredentials.cfg")
    sections: dict[str, dict[str, str]] = {
        "generic": {"backupdest": str(server.root), "warningsnapage": "24", "criticalsnapage": "48",
                    "maxlockwait": "1", "logretention": "7", "snappermodule": "huawei",
                    "snapperclass": "HuaweiDorado"},
        "huaweidorado": dorado_section(server, credentials),
    }
    for db in ("orcl", "other"):
        sections[db] = {"snapexpirationdays": "7", "snapexpirationmonths": "0"}
    cfg = root / "backup.cfg"
    cfg.write_text(_render(sections), encoding="utf-8")
    backend = Backend(kind, root, cfg, server.root, [server.wipe, server.stop], appliance_root=server.root)
    backend.server = server         # type: ignore[attr-defined]  # for the tests that arm faults
    try:
        for db in ("orcl", "other"):
            backend.driver(db).createvolume()
    except BaseException:
        backend.close()
        raise
    return backend


BACKENDS: dict[str, Callable[[Path], Backend]] = {"huawei": lambda root: make("huawei", root)}
