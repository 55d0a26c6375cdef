"""The real storage the driver tests use: zfs-fuse, a btrfs image, a private sshd.

``scripts/test.sh`` sets them up once per run (scripts/test-facilities.sh) and
names the file describing them in ``OIB_FACILITIES``.  Run directly as root,
pytest sets them up itself on first use and tears them down at exit.  A test
that needs a facility that is not there fails with the reason on CI
(``CI=true``) and skips with the reason elsewhere.
"""
from __future__ import annotations

import atexit
import os
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "test-facilities.sh"
NEEDS = {
    "ZFS": ("OIB_ZFS_PARENT",),
    "BTRFS": ("OIB_BTRFS_MOUNT",),
    "SSH": ("OIB_SSH_PORT", "OIB_SSH_KEY", "OIB_SSH_KNOWNHOSTS"),
    "SUDO": ("OIB_SUDO_USER",),
}


def _read(path: Path) -> dict[str, str]:
    facts: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            facts[key.strip()] = value.strip()
    return facts


@cache
def facilities() -> dict[str, str]:
    """The facts of the facilities, or ``OIB_<NAME>_ERROR`` reasons; set up here when needed."""
    named = os.environ.get("OIB_FACILITIES")
    if named:
        path = Path(named)
        if not path.is_file():
            return {f"OIB_{n}_ERROR": f"{named} does not exist (the setup failed; see its output)" for n in NEEDS}
        return _read(path)
    if os.geteuid() != 0:
        return {f"OIB_{n}_ERROR": "needs root (scripts/test.sh as root sets up zfs-fuse, btrfs and sshd)"
                for n in NEEDS}
    work = Path(tempfile.mkdtemp(prefix="oib-facilities-"))
    atexit.register(subprocess.run, [str(SCRIPT), "down", str(work)], check=False)
    result = subprocess.run([str(SCRIPT), "up", str(work)], capture_output=True, text=True, timeout=300)
    env_file = work / "facilities.env"
    if not env_file.is_file():
        reason = (result.stderr or result.stdout).strip().replace("\n", " ") or f"exit code {result.returncode}"
        return {f"OIB_{n}_ERROR": f"facility setup failed: {reason}" for n in NEEDS}
    return _read(env_file)


def missing(*names: str) -> str | None:
    """Why one of the facilities ``names`` (ZFS, BTRFS, SSH, SUDO) is not usable, or None."""
    facts = facilities()
    for name in names:
        if facts.get(f"OIB_{name}_ERROR"):
            return f"{name}: {facts[f'OIB_{name}_ERROR']}"
        for key in NEEDS[name]:
            if not facts.get(key):
                return f"{name}: {key} not set up"
    return None


def need(*names: str) -> dict[str, str]:
    """The facts, when the facilities ``names`` are there; else fail on CI, skip elsewhere."""
    reason = missing(*names)
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"storage facility missing on CI: {reason}", pytrace=False)
        pytest.skip(f"storage facility missing: {reason}")
    return facilities()
