"""The one end-to-end harness of the sandboxed tests: a site where the scripts run as the test user.

A :class:`SandboxSite` is a work directory in the sandbox (``sandbox.py``:
the project copied where the unprivileged test user can run it), a
``backup.cfg`` written by the one configuration builder (``siteconfig.py``),
simulated databases under ``oh/`` and the ways to run the scripts and check
what they did.  The storage-specific sites build on it:

* ``test_autorestore.Site``: localfs under the work directory, several databases;
* ``storagesite.StorageSite``: a ZFS dataset or a btrfs subvolume, here or over SSH;
* ``appliance_site.ApplianceSite``: an appliance's REST API test server.

(``conftest.Env`` is the other harness: the scripts run as root against an
in-process simulator, for the tests that look inside the database.)
"""
from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Callable

from oracle_sim import clock, truth

from . import siteconfig
from .sandbox import Sandbox

DBID = 1433672784       # database orcl's DBID in every site that has one database


def assert_one_error_line(result: subprocess.CompletedProcess, *words: str) -> None:
    """A failed run that says so in one line holding every one of ``words``, and no traceback."""
    said = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in said, said
    assert any(all(w in line for w in words) for line in said.splitlines()), said


class SandboxSite:
    """See the module docstring."""

    def __init__(self, box: Sandbox, name: str):
        self.box = box
        self.w = box.workdir(name)
        siteconfig.make_dirs(self.w)
        box.give(self.w)
        self.cfg = self.w / "backup.cfg"
        self.extra_env: dict[str, str] = {}
        self.cleanups: list[Callable[[], None]] = []

    @property
    def state(self) -> Path:
        """The simulator's state directory (its history of every change: ``truth.py``)."""
        return self.w / "oh" / "simstate"

    # -- running ---------------------------------------------------------------------------
    def ok(self, result: subprocess.CompletedProcess) -> str:
        assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def simctl(self, *args: str, timeout: float = 7200) -> str:
        return self.ok(self.box.py("-m", "oracle_sim.cli", "--home", str(self.w / "oh"), *args, timeout=timeout))

    def env(self, **extra: str) -> dict[str, str]:
        return self.box.env(BACKUPCONFIG=str(self.cfg), **{**self.extra_env, **extra})

    def script(self, name: str, *args: str, timeout: float = 300, env: dict[str, str] | None = None,
               **extra: str) -> subprocess.CompletedProcess:
        """One of the project's scripts as the test user (``env`` replaces, ``extra`` adds to the environment)."""
        return self.box.py(self.box.script(name), *args, env=env or self.env(**extra), timeout=timeout)

    def zsnapper(self, *args: str, db: str = "orcl", **extra: str) -> subprocess.CompletedProcess:
        return self.script("zsnapper.py", db, *args, **extra)

    # -- checks ----------------------------------------------------------------------------
    def assert_opened_at(self, lasttime: str, sid: str = "ar", dbid: int = DBID) -> None:
        """The restore instance ``sid`` last opened exactly production as of ``lasttime``, block for
        block (the simulator records what it opened under ORASIM_RECORD_OPEN=1)."""
        opened = [json.loads(line) for line in (self.state / "opened" / f"{sid}.jsonl").read_text().splitlines()]
        scn = truth.scn_before(self.state, dbid, clock.parse(lasttime))
        assert opened[-1]["scn"] == scn, f"opened at SCN {opened[-1]['scn']}, production as of {lasttime} is {scn}"
        for file_no, info in opened[-1]["files"].items():
            expected = truth.blocks_as_of(self.state, dbid, int(file_no), scn, header=info["header"])
            assert info["blocks"] == [hashlib.sha256(expected[b]).hexdigest() for b in sorted(expected)], file_no

    def close(self) -> None:
        for fn in reversed(self.cleanups):
            fn()
        self.cleanups.clear()
