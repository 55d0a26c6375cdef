"""End-to-end fixtures: the scripts run as subprocesses against the simulated Oracle home."""
from __future__ import annotations

from pathlib import Path

import pytest

from . import siteconfig
from .harness import Direct, Harness, ok
from .sandbox import REPO  # the tests import REPO and ok from here


class Env(Harness):
    """A harness whose scripts run as the current user from the checkout (``app``), against
    the in-process simulator ``sim`` (see harness.py)."""

    def __init__(self, sim, root: Path, config: Path | None = None, db: str = "orcl", app: Path = REPO):
        super().__init__(Direct(app, cwd=root), root, db=db, config=config)
        self.sim = sim

    @property
    def app(self) -> Path:
        """Where the scripts run from (a copy with edited templates, for some tests)."""
        return self.runner.app

    @app.setter
    def app(self, path: Path) -> None:
        self.runner.app = path

    def database(self):
        return self.sim.db(self.db)

    def workload(self, n: int = 10) -> list:
        return self.database().workload(n, advance=1.0)

    def write_config(self, maxlockwait: float = 0.05) -> None:
        self.save_config(siteconfig.render(self.root, self.sim.home, {self.db: self.database().cf.doc["dbid"]},
                                           generic={"maxlockwait": maxlockwait},
                                           autorestore={"autorestoremountmethod": None}))


def make_env(sim, tmp_path: Path, db: str = "orcl", **create) -> Env:
    sim.create_db(db, **create)
    env = Env(sim, tmp_path, db=db)
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
