"""The netapp storage under test: the driver against its HTTPS API test server (tests/apiservers).

Each backend starts its own ONTAP test server (a thread; the session's test CA),
whose volumes are directories on the session's btrfs image (reflink copies make
snapshots and FlexClones share blocks) and whose SVM namespace is a directory:
``appliance_root``.  The databases' volumes are made by the driver's own
``createvolume`` at ``/backup/<db>``, so ``backupdest`` is ``<appliance_root>/backup``,
as an NFS mount of ``/backup`` would show it.

Kinds: ``netapp`` (one volume per database) and ``netapp-3vol`` (three:
``additionalvolumesuffixes: _redo,_arch``).
"""
from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from apiservers.ontap import OntapServer
from apiservers.tls import session_pki

from .backend_base import Backend, _render
from .facilities import need

USER, PASSWORD = "oibadmin", "Ontap-s3cret-Pw"
PREFIX = "oib_"
SUFFIXES = "_redo,_arch"
_counter = itertools.count()


@dataclass
class NetappBackend(Backend):
    server: OntapServer | None = None

    def local(self, mountpoint: str) -> Path:
        """Where this host reads what the filer shows at ``mountpoint``; for a multi-volume clone
        (a namespace volume holding ``<clone>0``, ``<clone>1`` …) its first volume, where the
        database's own files are (the restore finds the others beside it)."""
        path = super().local(mountpoint)
        first = path / f"{path.name}0"
        return first if first.is_dir() else path

    def volume_config(self) -> dict[str, str]:
        return netapp_section(self.server)


def netapp_section(server: OntapServer | None) -> dict[str, str]:
    assert server is not None
    return {"filer": f"127.0.0.1:{server.port}", "svm": server.svm, "volumeprefix": PREFIX,
            "cacert": str(session_pki().ca_file), "aggregate": server.aggregates[0], "volumesize": "1G",
            "junctionparent": "/backup", "timeout": "10", "retries": "2", "retrybackoff": "0.01",
            "jobtimeout": "20"}


def start_server(top: Path) -> OntapServer:
    """An ONTAP test server keeping its data in ``top`` (on btrfs), its namespace in ``top/ns``."""
    server = OntapServer(top / "store", top / "ns", users={USER: PASSWORD})
    (top / "ns" / "backup").mkdir(parents=True, exist_ok=True)
    return server.start()


def make(kind: str, root: Path) -> NetappBackend:
    facts = need("BTRFS")
    top = Path(facts["OIB_BTRFS_MOUNT"]) / f"ontap{os.getpid()}x{next(_counter)}"
    top.mkdir()
    os.chmod(top, 0o755)
    server = start_server(top)
    cleanups: list[Callable[[], None]] = [lambda: shutil.rmtree(top, ignore_errors=True), server.stop]
    generic = {"backupdest": str(top / "ns" / "backup"), "warningsnapage": "24", "criticalsnapage": "48",
               "maxlockwait": "1", "logretention": "7", "snappermodule": "netapp", "snapperclass": "Netapp"}
    sections: dict[str, dict[str, str]] = {"generic": generic, "netapp": netapp_section(server),
                                           "netappcredentials": {"user": USER, "password": PASSWORD}}
    for db in ("orcl", "other"):
        sections[db] = {"snapexpirationdays": "7", "snapexpirationmonths": "0"}
        if kind == "netapp-3vol":
            sections[db]["additionalvolumesuffixes"] = SUFFIXES
    cfg = root / "backup.cfg"
    cfg.write_text(_render(sections), encoding="utf-8")
    backend = NetappBackend(kind, root, cfg, top / "ns" / "backup", cleanups, appliance_root=top / "ns",
                            server=server)
    try:
        for db in ("orcl", "other"):
            backend.driver(db).createvolume()
    except BaseException:
        backend.close()
        raise
    return backend


BACKENDS: dict[str, Callable[[Path], Backend]] = {
    "netapp": lambda root: make("netapp", root),
    "netapp-3vol": lambda root: make("netapp-3vol", root),
}
