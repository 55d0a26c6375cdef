"""End-to-end fixtures: the scripts run as subprocesses against the simulated Oracle home."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import siteconfig
from .invariants import BackupInvariants, check_after_backup

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Env:
    """A simulated database, a backup configuration for it, and ways to run the scripts."""

    sim: object
    root: Path
    config: Path
    db: str = "orcl"
    extra_env: dict[str, str] = field(default_factory=dict)
    invariants: dict[str, BackupInvariants] = field(default_factory=dict)
    app: Path = REPO       # where the scripts run from (a copy with edited templates, for some tests)

    @property
    def area(self) -> Path:
        return self.root / "backup" / self.db

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("ORACLE_SID", None)
        env.pop("BACKUP_LOG_TO_SCREEN", None)
        env["BACKUPCONFIG"] = str(self.config)
        env.update(self.extra_env)
        env.update(extra)
        return env

    def script(self, name: str, *args: str, env: dict[str, str] | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(self.app / name), *args], capture_output=True, text=True,
                              env=env or self.env(), timeout=timeout, cwd=self.root)

    def backup(self, action: str, *args: str, **kw) -> subprocess.CompletedProcess:
        result = self.script("backup.py", self.db, action, *args, **kw)
        check_after_backup(self.checker(), action, args, result)
        return result

    def checker(self) -> BackupInvariants:
        """The backup invariants of the current database (see invariants.py)."""
        return self.invariants.setdefault(self.db, BackupInvariants(self.area, self.root / "snapshots" / self.db))

    def zsnapper(self, action: str, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.script("zsnapper.py", self.db, action, *args, **kw)

    def database(self):
        return self.sim.db(self.db)

    def workload(self, n: int = 10) -> list:
        return self.database().workload(n, advance=1.0)

    def write_config(self, maxlockwait: float = 0.05) -> None:
        self.config.write_text(siteconfig.render(self.root, self.sim.home, {self.db: self.database().cf.doc["dbid"]},
                                                 generic={"maxlockwait": maxlockwait},
                                                 autorestore={"autorestoremountmethod": None}))


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def make_env(sim, tmp_path: Path, db: str = "orcl", **create) -> Env:
    sim.create_db(db, **create)
    siteconfig.make_dirs(tmp_path)
    env = Env(sim=sim, root=tmp_path, config=tmp_path / "backup.cfg", db=db)
    env.write_config()
    return env


@pytest.fixture
def benv(sim, tmp_path) -> Env:
    """Database orcl and a localfs backup configuration for it (not yet configured)."""
    return make_env(sim, tmp_path)


@pytest.fixture
def configured(benv) -> Env:
    ok(benv.backup("config"))
    return benv
