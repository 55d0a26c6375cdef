"""The one end-to-end harness: a work directory, its backup.cfg and the ways to run the scripts.

A :class:`Harness` is a work directory (``root``) with the directories the
configuration names, a ``backup.cfg`` (``config``) written by the one
configuration builder (``siteconfig.py``), the environment the scripts see
(``BACKUPCONFIG`` and ``extra_env``), and the ways to run them: ``script``
(a CompletedProcess), ``zsnapper``, ``backup`` (which asserts the backup
invariants of ``invariants.py`` after each daily job: ``checker``) and ``ok``.

How a process starts is the one thing that differs, and a *runner* decides it
(``env``, ``script``, ``py``, ``give``):

* :class:`sandbox.Sandbox`: as the unprivileged test user, from a copy of the
  project (the restore scripts refuse root).  :class:`SandboxSite` is a harness
  with that runner and a simulated Oracle home of its own under ``oh/``, driven
  through the simulator's command line; the storage-specific sites build on it:

  * ``test_autorestore.Site``: localfs under the work directory, several databases;
  * ``storagesite.StorageSite``: a ZFS dataset or a btrfs subvolume, here or over SSH;
  * ``appliance_site.ApplianceSite``: an appliance's REST API test server.

* :class:`Direct`: as the current user (root in CI), with this interpreter, from
  the checkout (or a copy with edited templates).  ``conftest.Env`` is a harness
  with that runner, against the in-process simulator of ``tests/conftest.py``,
  for the tests that look inside the database.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from oracle_sim import clock, truth

from . import siteconfig
from .invariants import BackupInvariants, check_after_backup
from .sandbox import REPO, Sandbox

DBID = 1433672784       # database orcl's DBID in every site that has one database


def ok(result: subprocess.CompletedProcess) -> str:
    """The output of a run that must have succeeded."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def assert_one_error_line(result: subprocess.CompletedProcess, *words: str) -> None:
    """A failed run that says so in one ``ERROR:`` line on stderr holding every one of ``words``,
    and no traceback (the session log's records on stdout may repeat it)."""
    said = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in said, said
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and all(w in errors[0] for w in words), said


class Runner(Protocol):
    """How the scripts' processes start (:class:`Direct`, :class:`sandbox.Sandbox`)."""

    python: str

    def env(self, **extra: str) -> dict[str, str]: ...

    def script(self, name: str) -> str: ...

    def py(self, *args: str, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess: ...

    def give(self, path: Path) -> None: ...


@dataclass
class Direct:
    """The scripts of ``app`` run as the current user with this interpreter, in ``cwd``."""

    app: Path = REPO
    cwd: Path | None = None
    python: str = sys.executable

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("ORACLE_SID", None)
        env.pop("BACKUP_LOG_TO_SCREEN", None)
        env.update(extra)
        return env

    def script(self, name: str) -> str:
        return str(self.app / name)

    def py(self, *args: str, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([self.python, *args], capture_output=True, text=True, env=env or self.env(),
                              timeout=timeout, cwd=self.cwd)

    def give(self, path: Path) -> None:
        """Files are the current user's already."""


class Harness:
    """See the module docstring."""

    def __init__(self, runner: Runner, root: Path, db: str = "orcl", config: Path | None = None):
        self.runner = runner
        self.root = root
        self.config = config or root / "backup.cfg"
        self.db = db                    # the database backup, zsnapper and checker mean by default
        self.extra_env: dict[str, str] = {}
        self.invariants: dict[str, BackupInvariants] = {}
        self.cleanups: list[Callable[[], None]] = []
        siteconfig.make_dirs(root)
        runner.give(root)

    # -- where things are ------------------------------------------------------------------
    @property
    def backupdest(self) -> Path:
        """Where the backup areas are (``backupdest`` of the configuration)."""
        return self.root / "backup"

    @property
    def area(self) -> Path:
        """The backup area of database ``db``."""
        return self.backupdest / self.db

    def snapshot_root(self, db: str) -> Path:
        """Where this host sees the snapshots of database ``db`` (for the backup invariants)."""
        return self.root / "snapshots" / db

    def save_config(self, text: str) -> None:
        """backup.cfg, readable by whoever runs the scripts."""
        self.config.write_text(text)
        self.runner.give(self.config)

    # -- running ---------------------------------------------------------------------------
    ok = staticmethod(ok)

    def env(self, **extra: str) -> dict[str, str]:
        return self.runner.env(BACKUPCONFIG=str(self.config), **{**self.extra_env, **extra})

    def script(self, name: str, *args: str, timeout: float = 300, env: dict[str, str] | None = None,
               **extra: str) -> subprocess.CompletedProcess:
        """One of the project's scripts (``env`` replaces, ``extra`` adds to the environment)."""
        return self.runner.py(self.runner.script(name), *args, env=env or self.env(**extra), timeout=timeout)

    def zsnapper(self, action: str, *args: str, db: str | None = None, **kw) -> subprocess.CompletedProcess:
        return self.script("zsnapper.py", db or self.db, action, *args, **kw)

    def backup(self, action: str, *args: str, db: str | None = None, **kw) -> subprocess.CompletedProcess:
        """backup.py of database ``db`` (default: ``self.db``); the backup invariants asserted after it."""
        db = db or self.db
        result = self.script("backup.py", db, action, *args, **kw)
        check_after_backup(self.checker(db), action, args, result)
        return result

    def checker(self, db: str | None = None) -> BackupInvariants:
        """The backup invariants of a database (default: ``self.db``; see invariants.py)."""
        db = db or self.db
        if db not in self.invariants:
            self.invariants[db] = BackupInvariants(self.backupdest / db, self.snapshot_root(db))
        return self.invariants[db]

    def close(self) -> None:
        for fn in reversed(self.cleanups):
            fn()
        self.cleanups.clear()


class SandboxSite(Harness):
    """A harness whose scripts run as the test user, with a simulated Oracle home under ``oh/``."""

    def __init__(self, box: Sandbox, name: str):
        super().__init__(box, box.workdir(name))
        self.box = box

    @property
    def w(self) -> Path:
        """The work directory (``root``)."""
        return self.root

    @property
    def cfg(self) -> Path:
        """backup.cfg (``config``)."""
        return self.config

    @property
    def state(self) -> Path:
        """The simulator's state directory (its history of every change: ``truth.py``)."""
        return self.root / "oh" / "simstate"

    def simctl(self, *args: str, timeout: float = 7200) -> str:
        return self.ok(self.box.py("-m", "oracle_sim.cli", "--home", str(self.root / "oh"), *args, timeout=timeout))

    # -- snapshots and clones, through zsnapper --------------------------------------------
    def clones(self) -> list[dict]:
        return json.loads(self.ok(self.zsnapper("listclones", "--json")))

    def clone_files(self, clone: dict) -> Path:
        """Where this host sees the files of ``clone`` (a ``listclones --json`` record)."""
        return Path(clone["mountpoint"])

    def lasttime(self, snapid: str) -> str:
        """The recovery target recorded in a snapshot, read from a clone of it made with zsnapper."""
        self.ok(self.zsnapper("clone", snapid))
        [clone] = self.clones()
        assert clone["origin"] == snapid and clone["clonename"].startswith(f"{snapid}_clone_")
        text = (self.clone_files(clone) / "autorestore.cfg").read_text()
        self.ok(self.zsnapper("dropclone", clone["clonename"]))
        return [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("lasttime")][0]

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
