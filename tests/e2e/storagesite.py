"""A work directory whose backups live on real ZFS or btrfs, for the storage cycles, the fstab
mount tests and the restore benchmark.

The scripts run as the unprivileged test user (the restore scripts refuse root);
the storage commands run through ``sudo -n`` (the sudoers drop-in written by
scripts/test-facilities.sh) or, over SSH, as root on the private sshd.  Each
site gets its own dataset under the facility's parent, or its own directories
on the btrfs image, removed by ``close()``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from drivers.backends import btrfs_wipe, zfs_destroy_tree
from drivers.facilities import need

from . import siteconfig
from .harness import DBID, SandboxSite
from .sandbox import Sandbox, build_sandbox

BLOCK = 8192
# paramiko and what it imports, for the scripts run as the test user over SSH
SSH_MODULES = ("paramiko", "cryptography", "bcrypt", "nacl", "cffi", "pycparser", "_cffi_backend")


def build_ssh_sandbox() -> Sandbox:
    """The sandbox of tests/e2e/sandbox.py, with paramiko importable by the test user."""
    box = build_sandbox()
    site_packages = Path(__import__("paramiko").__file__).parents[1]
    for name in SSH_MODULES:
        # with their .dist-info: paramiko reads its version from its metadata
        for src in [*site_packages.glob(f"{name}*"), *site_packages.glob(f"py{name}*.dist-info")]:
            dest = box.site / src.name
            if src.is_dir():
                shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
            else:
                shutil.copy2(src, dest)
    for p in [box.site, *box.site.rglob("*")]:
        p.chmod(0o755 if p.is_dir() or os.access(p, os.X_OK) else 0o644)
    probe = box.py("-c", "import paramiko")
    assert probe.returncode == 0, f"paramiko not importable by the test user: {probe.stderr}"
    return box


class StorageSite(SandboxSite):
    """A simulated database whose backup area is a ZFS dataset or a btrfs subvolume."""

    def __init__(self, box: Sandbox, kind: str, name: str):
        super().__init__(box, name)
        self.kind = kind
        self.storage, self.generic = self._storage(name)
        self.autorestore: dict[str, object] = {"autorestoresid": "ar"}
        self.database: dict[str, dict[str, object]] = {}

    def _storage(self, name: str) -> tuple[dict, dict]:
        tag = "".join(ch for ch in name if ch.isalnum())[-20:]
        if self.kind.startswith("zfs"):
            facts = need("ZFS", "SSH", "SUDO") if self.kind == "zfs-ssh" else need("ZFS", "SUDO")
            parent = f"{facts['OIB_ZFS_PARENT']}/{tag}"
            subprocess.run(["zfs", "create", parent], check=True, capture_output=True)
            self.cleanups.append(lambda: zfs_destroy_tree(parent))
            mountpoint = subprocess.run(["zfs", "get", "-H", "-o", "value", "mountpoint", parent], check=True,
                                        capture_output=True, text=True).stdout.strip()
            section = {"parent": parent}
            section.update(self._ssh(facts) if self.kind == "zfs-ssh" else {"sudo": "true"})
            return {"zfs": section}, {"snappermodule": "zfs", "snapperclass": "ZFS", "backupdest": mountpoint}
        facts = need("BTRFS", "SSH", "SUDO") if self.kind == "btrfs-ssh" else need("BTRFS", "SUDO")
        top = Path(facts["OIB_BTRFS_MOUNT"]) / tag
        for d in ("backup", "snapshots", "clones"):
            (top / d).mkdir(parents=True)
        self.box.give(top)
        self.cleanups.append(lambda: btrfs_wipe(top))
        section: dict[str, object] = {"base": top / "backup", "snapshotdir": top / "snapshots",
                                      "clonedir": top / "clones"}
        section.update(self._ssh(facts) if self.kind == "btrfs-ssh" else {"sudo": "true"})
        return {"btrfs": section}, {"snappermodule": "btrfs", "snapperclass": "Btrfs", "backupdest": top / "backup"}

    def _ssh(self, facts: dict[str, str]) -> dict[str, str]:
        # The test user's own copy of the client key (ssh keys must not be readable by others).
        key = self.w / "id_ed25519"
        shutil.copy(facts["OIB_SSH_KEY"], key)
        key.chmod(0o600)
        self.box.give(key)
        return {"host": facts["OIB_SSH_HOST"], "port": facts["OIB_SSH_PORT"], "user": facts["OIB_SSH_USER"],
                "keyfile": str(key), "knownhosts": facts["OIB_SSH_KNOWNHOSTS"], "sharedpaths": "true"}

    @property
    def section(self) -> str:
        """The storage section of the configuration: ``zfs`` or ``btrfs``."""
        return self.kind.split("-")[0]

    @property
    def backupdest(self) -> Path:
        return Path(self.generic["backupdest"])

    def snapshot_root(self, db: str) -> Path:
        # btrfs: the snapshot directory; ZFS: a path that does not exist (none for the invariants to read)
        return Path(str(self.storage.get("btrfs", {}).get("snapshotdir", self.w / "no-snapshot-dirs")))

    def autorestore_run(self, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
        """One nightly restore test of every enabled database (``env``: extra environment)."""
        return self.script("autorestore.py", str(self.cfg), env=self.env(**env), timeout=timeout)

    def write_config(self) -> None:
        """(Re)write backup.cfg from ``generic``, ``storage``, ``autorestore`` and ``database``."""
        self.save_config(siteconfig.render(self.w, self.w / "oh", {"orcl": DBID}, generic=self.generic,
                                           storage=self.storage, autorestore=self.autorestore,
                                           database=self.database))

    def setup(self, verify: str | None = None, blocks: int | None = None) -> None:
        """The database, the configuration, the backup volume; ``verify`` replaces the restore
        test's verification query (and makes every night a validation night); ``blocks`` sizes
        the USERS datafile (8 KiB blocks)."""
        files = ["--files", f"USERS=1x{blocks}"] if blocks else []
        self.simctl("create", "--name", "orcl", "--dbid", str(DBID), "--oradata", str(self.w / "oradata"),
                    "--fra", str(self.w / "fra"), *files)
        if verify:
            self.autorestore["autorestoremodulus"] = 1
            self.database["orcl"] = {"customverifydate": verify}
        self.write_config()
        out = self.ok(self.script("zvolume.py", "orcl", "create"))
        assert "created" in out
        # The DBA gives the new backup area to the database's OS user.
        subprocess.run(["chown", "-R", f"{self.box.user.pw_uid}:{self.box.user.pw_gid}", str(self.area)],
                       check=True)

    def snapshots(self) -> list[dict]:
        return json.loads(self.ok(self.zsnapper("list", "--json")))

    def clone_path(self, clonename: str) -> Path:
        """Where the storage puts clone ``clonename`` on this host (known before it exists)."""
        if self.section == "zfs":
            return Path(self.generic["backupdest"]) / clonename      # a clone inherits the parent's mountpoint
        return Path(str(self.storage["btrfs"]["clonedir"])) / clonename

