"""Running the restore scripts as an unprivileged user, as they demand.

autorestore.py and restore.py refuse root, and CI runs as root.  The session
fixture copies what the scripts need (the project's modules, templates, the
simulator, sqlglot) into a world-readable directory and runs everything there
as a test user it creates (``oibtest``) through ``runuser``.  Run as an
ordinary user, the tests run the copy as that user, unchanged.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEST_USER = "oibtest"
COPY = ["imagecopy", "storage", "templates", "tests/oracle_sim"]


def _interpreters() -> list[str]:
    return [p for p in (os.path.realpath(sys.executable), "/usr/bin/python3") if os.path.exists(p)]


def ensure_user(name: str = TEST_USER) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", name], check=True, capture_output=True)
        return pwd.getpwnam(name)


@dataclass
class Sandbox:
    """A world-readable copy of the project and the account that runs it (one of the two runners
    of ``harness.py``: ``env``, ``script``, ``py``, ``give``)."""

    base: Path
    python: str
    user: pwd.struct_passwd | None

    @property
    def app(self) -> Path:
        return self.base / "app"

    @property
    def site(self) -> Path:
        return self.base / "site"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
        env.pop("ORACLE_SID", None)
        env.update(PYTHONPATH=f"{self.site}:{self.app / 'tests'}", HOME=str(self.base),
                   AUTORESTORE_SAFE_SANDBOX="TRUE")
        env.update(extra)
        return env

    def argv(self, *args: str) -> list[str]:
        if self.user is None:
            return list(args)
        return ["runuser", "-u", self.user.pw_name, "--", *args]

    def script(self, name: str) -> str:
        return str(self.app / name)

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), capture_output=True, text=True, env=env or self.env(),
                              timeout=timeout, cwd=cwd or self.base)

    def py(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run(self.python, *args, **kw)

    def workdir(self, name: str) -> Path:
        path = self.base / name
        path.mkdir()
        self.give(path)
        return path

    def give(self, path: Path) -> None:
        if self.user is not None:
            for p in [path, *path.rglob("*")]:
                os.lchown(p, self.user.pw_uid, self.user.pw_gid)


def build_sandbox(user_name: str = TEST_USER) -> Sandbox:
    """Copy the project into a world-readable directory; as root, also pick the account to run it."""
    user = ensure_user(user_name) if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="oib-sandbox-"))
    base.chmod(0o755)
    app = base / "app"
    for p in REPO.glob("*.py"):
        if p.name not in ("setup.py",):
            (app / p.name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, app / p.name)
    for rel in COPY:
        shutil.copytree(REPO / rel, app / rel, ignore=shutil.ignore_patterns("__pycache__"))
    import sqlglot
    shutil.copytree(Path(sqlglot.__file__).parent, base / "site" / "sqlglot",
                    ignore=shutil.ignore_patterns("__pycache__"))
    sandbox = Sandbox(base, _interpreters()[0], user)
    for python in _interpreters():
        # Byte-compile with the interpreter that will run it: the test user cannot write
        # __pycache__ here, and every simulated sqlplus would otherwise recompile sqlglot.
        subprocess.run([python, "-m", "compileall", "-q", str(base)], capture_output=True)
        for p in [base, *base.rglob("*")]:
            p.chmod(0o755 if p.is_dir() or os.access(p, os.X_OK) else 0o644)
        sandbox.python = python
        probe = sandbox.run(python, "-c", "import sqlglot, sys; assert sys.version_info >= (3, 9)")
        if probe.returncode == 0:
            return sandbox
    raise RuntimeError(f"no Python interpreter usable by {user_name}: {probe.stderr}")
