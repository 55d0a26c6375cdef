"""Shared fixtures: a simulated Oracle home with databases, and helpers to drive it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from oracle_sim import database, home  # noqa: E402
from oracle_sim.instance import Instance  # noqa: E402


@dataclass
class SimHome:
    """A simulated ORACLE_HOME in a temp dir, and ways to run its tools."""

    home: Path
    root: Path

    @property
    def state(self) -> Path:
        return home.state_dir(self.home)

    def env(self, sid: str | None = None, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(ORACLE_HOME=str(self.home), NLS_DATE_FORMAT="yyyy-mm-dd hh24:mi:ss",
                   TNS_ADMIN=str(self.home / "network" / "admin"))
        env.pop("ORACLE_SID", None)
        if sid:
            env["ORACLE_SID"] = sid
        env.update(extra)
        return env

    def run(self, tool: str, script: str, *args: str, sid: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        exe = self.home / ("OPatch/opatch" if tool == "opatch" else f"bin/{tool}")
        return subprocess.run([str(exe), *args], input=script, capture_output=True, text=True,
                              env=env or self.env(sid), timeout=120)

    def rman(self, script: str, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run("rman", script, *args, **kw)

    def sqlplus(self, script: str, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run("sqlplus", script, *(args or ("-S", "/nolog")), **kw)

    def create_db(self, name: str = "orcl", dbid: int = 1433672784, **kw) -> database.Database:
        return database.create_database(
            self.state, sid=kw.pop("sid", name), name=name, dbid=dbid,
            oradata=kw.pop("oradata", self.root / "oradata"), fra=kw.pop("fra", self.root / "fra"), **kw)

    def db(self, sid: str = "orcl") -> database.Database:
        return database.Database(Instance(self.state, sid))


@pytest.fixture
def sim(tmp_path: Path) -> SimHome:
    """An empty simulated Oracle home."""
    return SimHome(home=home.create_home(tmp_path / "oracle_home"), root=tmp_path)


@pytest.fixture
def orcl(sim: SimHome) -> SimHome:
    """A simulated home with database ``orcl`` open read write."""
    sim.create_db("orcl")
    return sim


@pytest.fixture(autouse=True)
def _process_state_kept():
    """A script's ``main`` called in-process sets the umask (027) and the SIGTERM handler for good:
    put both back, so that a later test in the same worker (an API test server creating the
    directories the test user must enter, say) does not inherit them."""
    umask = os.umask(0o022)
    os.umask(umask)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    os.umask(umask)
    for signum, handler in handlers.items():
        signal.signal(signum, handler)
