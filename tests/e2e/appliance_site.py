"""End-to-end harness for the storage appliances (REST drivers against the HTTPS test servers).

Any appliance (ZFSSA, NetApp …) plugs in through an :class:`Appliance`: its
test server, the driver's configuration sections, where this host sees a clone
and the database's snapshots.  :class:`ApplianceSite` then runs the real
scripts as the unprivileged test user (the sandbox of ``sandbox.py``, with
``requests`` and its dependencies importable): a simulated database, its
backups on the appliance, zsnapper and zvolume, and the nightly restore test.

The restore test mounts its clone the way a restore host does, with
``autorestoremountmethod: fstab``: autorestore.py runs ``mount <mountpoint>``
as the test user, and the real mount(8) finds a ``user`` line in an fstab.
That fstab is the site's own: the run happens in a private mount namespace
(``unshare -m``) where the site's file is bind-mounted over ``/etc/fstab`` and
``/run/mount`` is a tmpfs of its own, so nothing of the host changes, and a line binds the clone's directory (where the
appliance's export of the clone is seen here) onto the mount point, as an NFS
line would.  A clone's name is fixed (``autorestoreclonename``), so its line
is known before the clone exists.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from apiservers.base import ApiServer
from apiservers.tls import session_pki

from . import siteconfig
from .harness import DBID, SandboxSite
from .sandbox import Sandbox, build_sandbox

# requests and what it imports, for the scripts run as the test user
HTTP_MODULES = ("requests", "urllib3", "idna", "charset_normalizer", "certifi")


def build_http_sandbox() -> Sandbox:
    """The sandbox of ``sandbox.py``, with ``requests`` importable by the test user."""
    box = build_sandbox()
    site_packages = Path(__import__("requests").__file__).parents[1]
    for name in HTTP_MODULES:
        for src in [*site_packages.glob(f"{name}"), *site_packages.glob(f"{name}-*.dist-info")]:
            shutil.copytree(src, box.site / src.name, ignore=shutil.ignore_patterns("__pycache__"),
                            dirs_exist_ok=True)
    for p in [box.site, *box.site.rglob("*")]:
        p.chmod(0o755 if p.is_dir() or os.access(p, os.X_OK) else 0o644)
    probe = box.py("-c", "import requests")
    assert probe.returncode == 0, f"requests not importable by the test user: {probe.stderr}"
    return box


def sandbox_fixture(credentials: str, write: Callable[[Path], object]) -> Any:
    """A module's ``sandbox`` fixture: the sandbox with ``requests``, and the old toolset's credentials
    file ``credentials`` (written by ``write``) beside the scripts, private to the user that runs them."""
    @pytest.fixture(scope="module")
    def sandbox():
        box = build_http_sandbox()
        write(box.app / credentials)
        box.give(box.app / credentials)
        yield box
        subprocess.run(["rm", "-rf", str(box.base)], check=False)
    return sandbox


def site_fixture(prefix: str, appliance: Callable[[ApplianceSite], Appliance]) -> Any:
    """A module's ``site`` fixture: an :class:`ApplianceSite` on a fresh ``appliance`` in that module's
    sandbox, closed after the test."""
    @pytest.fixture
    def site(sandbox, request):
        s = ApplianceSite(sandbox, f"{prefix}-{request.node.name[:40]}-{len(list(sandbox.base.iterdir()))}",
                          appliance)
        yield s
        s.close()
    return site


def method_and_path(call: tuple) -> tuple:
    """(method, path) of a server call (method, path, query, body)."""
    return call[0], call[1]


@dataclass
class Appliance:
    """What a site needs to know of the appliance under test (made by the appliance's own factory)."""

    server: ApiServer
    sections: dict[str, dict[str, Any]]     # the driver's sections of backup.cfg
    generic: dict[str, Any]                 # snappermodule, snapperclass, backupdest
    clone_dir: Callable[[str], Path]        # where this host sees clone <name> (it need not exist yet)
    snapshot_root: Path                     # where this host sees the database's snapshots (invariants)
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    call: Callable[[tuple], tuple] = method_and_path    # what the tests see of a server call


class ApplianceSite(SandboxSite):
    """A simulated database ``orcl`` backed up onto an appliance, run as the test user."""

    def __init__(self, box: Sandbox, name: str, appliance: Callable[[ApplianceSite], Appliance]):
        super().__init__(box, name)
        self.fstab = self.w / "fstab"
        self.autorestore: dict[str, object] = {"autorestoresid": "ar", "autorestoremountmethod": "fstab"}
        self.database: dict[str, dict[str, object]] = {}
        self.appliance = appliance(self)
        self.cleanups = self.appliance.cleanups

    # -- files the test user reads ----------------------------------------------------------
    def private_copy(self, src: Path, name: str, mode: int = 0o600) -> Path:
        """A copy of ``src`` in the work directory, owned by the test user."""
        dest = self.w / name
        shutil.copy(src, dest)
        dest.chmod(mode)
        self.box.give(dest)
        return dest

    def ca_file(self) -> Path:
        """The test CA, where the test user can read it (the session's copy is private to root)."""
        return self.private_copy(session_pki().ca_file, "appliance-ca.pem", 0o644)

    @property
    def server(self) -> ApiServer:
        return self.appliance.server

    @property
    def backupdest(self) -> Path:
        return Path(str(self.appliance.generic["backupdest"]))

    def snapshot_root(self, db: str) -> Path:
        return self.appliance.snapshot_root

    # -- running ----------------------------------------------------------------------------
    def write_config(self, text: str | None = None) -> None:
        """backup.cfg from the appliance's sections (or ``text`` as it is), readable by the test user."""
        if text is None:
            text = siteconfig.render(self.w, self.w / "oh", {"orcl": DBID}, generic=self.appliance.generic,
                                     storage=self.appliance.sections, autorestore=self.autorestore,
                                     database=self.database)
        self.save_config(text)

    def create_database(self) -> None:
        self.simctl("create", "--name", "orcl", "--dbid", str(DBID), "--oradata", str(self.w / "oradata"),
                    "--fra", str(self.w / "fra"))

    def setup(self, verify: str | None = None) -> str:
        """The database, the configuration, the backup share (``zvolume.py create``; its output).
        ``verify`` replaces the restore test's verification query."""
        self.create_database()
        if verify:
            self.autorestore["autorestoremodulus"] = 1
            self.database["orcl"] = {"customverifydate": verify}
        self.write_config()
        out = self.ok(self.script("zvolume.py", "orcl", "create"))
        self.give_area()
        return out

    def give_area(self) -> None:
        """The DBA gives the new backup area to the database's OS user; the invariants start anew."""
        if self.box.user is not None:
            os.chown(self.area, self.box.user.pw_uid, self.box.user.pw_gid)
        self.invariants.pop(self.db, None)

    def daily_backups(self, n: int) -> None:
        """Workload, then the daily job, ``n`` times; a second between them, so that the recovery
        target (a time, one-second resolution) falls between transactions, never in their second."""
        for _ in range(n):
            self.simctl("workload", "--sid", "orcl", "-n", "8")
            time.sleep(1.1)
            self.ok(self.backup("imagecopywithsnap"))
            time.sleep(1.1)

    def storage_calls(self) -> list[tuple]:
        """Every call the appliance's test server answered: (method, path), or what the appliance's
        ``call`` says of it."""
        return [self.appliance.call(c) for c in self.server.calls]

    def snapshots(self) -> list[dict]:
        return json.loads(self.ok(self.zsnapper("list", "--json")))

    # -- the nightly restore test -----------------------------------------------------------
    def write_fstab(self, clonename: str = "autorestore") -> None:
        """The restore host's fstab: the clone's export, seen here, as a user mount at the mount point."""
        mountpoint = self.w / "autorestore" / "mnt"
        self.fstab.write_text(f"{self.appliance.clone_dir(clonename)} {mountpoint} none bind,user,noauto 0 0\n")
        self.fstab.chmod(0o644)

    def autorestore_run(self, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
        """autorestore.py as the test user, in a mount namespace whose /etc/fstab is the site's."""
        if not self.fstab.exists():
            self.write_fstab(str(self.autorestore.get("autorestoreclonename", "autorestore")))
        inner = self.box.argv(self.box.python, self.box.script("autorestore.py"), str(self.cfg), *args)
        # /run/mount (libmount's record of user mounts) is the namespace's own too: a run that dies
        # with the clone mounted leaves no stale record on the host.
        argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /etc/fstab && mount -t tmpfs -o size=1m,mode=755 oib-utab /run/mount '
                '&& exec "$@"', str(self.fstab), *inner]
        return subprocess.run(argv, capture_output=True, text=True, env=self.env(**env), timeout=timeout,
                              cwd=self.box.base)

    def clone_files(self, clone: dict) -> Path:
        return self.appliance.clone_dir(clone["clonename"])

