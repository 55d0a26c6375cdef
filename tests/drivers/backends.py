"""One storage under test per driver and transport, each behind the same small interface.

A ``Backend`` is a configuration file naming one driver, the backup area of
database ``orcl`` (created by the driver's own ``createvolume``), and its
clean-up.  The zfs and btrfs ones get a fresh dataset or directory of the
session's real pool or image per test, so tests never see each other's
snapshots.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import time
from pathlib import Path
from typing import Callable

from storage.zfs import PIN_PROPERTIES

from .api_backends import API_BACKENDS
from .backend_base import Backend, _render
from .facilities import need

BASE_KINDS = ("localfs", "zfs-local", "zfs-ssh", "btrfs-local", "btrfs-ssh")
# The appliance drivers (REST APIs) run against the HTTPS test servers of tests/apiservers.
KINDS = BASE_KINDS + tuple(API_BACKENDS)
_counter = itertools.count()


def ssh_keys(facts: dict[str, str]) -> dict[str, str]:
    return {"host": facts.get("OIB_SSH_HOST", "127.0.0.1"), "port": facts["OIB_SSH_PORT"],
            "user": facts.get("OIB_SSH_USER", "root"), "keyfile": facts["OIB_SSH_KEY"],
            "knownhosts": facts["OIB_SSH_KNOWNHOSTS"]}


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def make_backend(kind: str, root: Path) -> Backend:
    """A fresh storage of ``kind`` for database ``orcl`` (and ``other``), its volume created."""
    generic = {"backupdest": f"{root}/backup", "warningsnapage": "24", "criticalsnapage": "48",
               "maxlockwait": "1", "logretention": "7"}
    sections: dict[str, dict[str, str]] = {"generic": generic}
    cleanups: list[Callable[[], None]] = []
    tag = f"t{os.getpid()}x{next(_counter)}"
    if kind == "localfs":
        generic.update(snappermodule="localfs", snapperclass="LocalFS")
        sections["localfs"] = {"snapshotdir": f"{root}/snapshots", "clonedir": f"{root}/clones"}
        for d in ("snapshots", "clones"):
            (root / d).mkdir()
    elif kind.startswith("zfs"):
        facts = need("ZFS", "SSH") if kind == "zfs-ssh" else need("ZFS")
        parent = f"{facts['OIB_ZFS_PARENT']}/{tag}"
        _run("zfs", "create", parent)
        cleanups.append(lambda: zfs_destroy_tree(parent))
        mountpoint = _run("zfs", "get", "-H", "-o", "value", "mountpoint", parent).strip()
        generic.update(snappermodule="zfs", backupdest=mountpoint)
        sections["zfs"] = {"parent": parent, **(ssh_keys(facts) if kind == "zfs-ssh" else {})}
        if kind == "zfs-ssh":
            sections["zfs"]["sharedpaths"] = "true"
    elif kind.startswith("btrfs"):
        facts = need("BTRFS", "SSH") if kind == "btrfs-ssh" else need("BTRFS")
        top = Path(facts["OIB_BTRFS_MOUNT"]) / tag
        top.mkdir()
        cleanups.append(lambda: btrfs_wipe(top))
        for d in ("backup", "snapshots", "clones"):
            (top / d).mkdir()
        generic.update(snappermodule="btrfs", backupdest=str(top / "backup"))
        sections["btrfs"] = {"base": str(top / "backup"), "snapshotdir": str(top / "snapshots"),
                             "clonedir": str(top / "clones"), **(ssh_keys(facts) if kind == "btrfs-ssh" else {})}
        if kind == "btrfs-ssh":
            sections["btrfs"]["sharedpaths"] = "true"
    elif kind in API_BACKENDS:
        return API_BACKENDS[kind](root)
    else:
        raise ValueError(kind)
    for db in ("orcl", "other"):
        sections[db] = {"snapexpirationdays": "7", "snapexpirationmonths": "0"}
    cfg = root / "backup.cfg"
    cfg.write_text(_render(sections), encoding="utf-8")
    backend = Backend(kind, root, cfg, Path(generic["backupdest"]), cleanups)
    try:
        for db in ("orcl", "other"):
            backend.driver(db).createvolume()
    except BaseException:
        backend.close()
        raise
    return backend


def zfs_destroy_tree(name: str) -> None:
    """Destroy a test dataset with everything under it; zfs-fuse reports "busy" for a
    moment after unmounting, so retry a little.  Pins hold snapshots (``zfs hold``): released first."""
    listed = subprocess.run(["zfs", "list", "-H", "-o", "name", "-t", "snapshot", "-r", name],
                            capture_output=True, text=True)
    for snapshot in listed.stdout.split():
        # The driver's own tags (zfs-fuse's `zfs holds` cannot list them: it needs a missing pyzfs).
        for kind in PIN_PROPERTIES:
            subprocess.run(["zfs", "release", f"oib-{kind}", snapshot], capture_output=True)
    for _ in range(20):
        done = subprocess.run(["zfs", "destroy", "-R", "-f", name], capture_output=True, text=True)
        if done.returncode == 0 or "does not exist" in done.stderr:
            return
        time.sleep(0.5)
    raise AssertionError(f"cannot destroy test dataset {name}: {done.stderr.strip()}")


def btrfs_wipe(top: Path) -> None:
    """Delete every subvolume under ``top`` (deepest first), then the directory."""
    out = subprocess.run(["btrfs", "subvolume", "list", "-o", str(top.parent)], capture_output=True, text=True)
    mount = top.parent
    paths = [mount / line.split(" path ", 1)[1] for line in out.stdout.splitlines() if " path " in line]
    for p in sorted((p for p in paths if top in p.parents), key=lambda p: len(p.parts), reverse=True):
        subprocess.run(["btrfs", "subvolume", "delete", str(p)], capture_output=True)
    subprocess.run(["rm", "-rf", str(top)], check=False)
