"""The exit codes every script returns, pinned by one table (imagecopy/cli.py is the one runner).

A storage driver of the user's own (a module on PYTHONPATH, as the README
describes) makes each outcome happen for real: it sleeps inside a storage call
so that SIGTERM or SIGINT arrives mid-work, or it fails with an exception no
driver should raise, which is a bug and must still come out as one line.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .storage_testlib import write_config

REPO = Path(__file__).resolve().parents[2]

DRIVER = '''
import os, time
from storage.base import SnapHandler

class Odd(SnapHandler):
    def _act(self):
        mode = os.environ["ODD_MODE"]
        if mode == "sleep":
            open(os.environ["ODD_READY"], "w").close()
            time.sleep(60)
        raise ZeroDivisionError("a bug in the driver")
    def listsnapshots(self, sortbycreation=False, sortreverse=False): self._act()
    def getsnapinfo(self, s): self._act()
    def snap(self): self._act()
    def dropsnap(self, snapid): self._act()
    def clone(self, snapid, clonename): self._act()
    def dropclone(self, clonename): self._act()
    def filesystem_info(self, name=None): self._act()
    def listclones(self): self._act()
    def mountstring(self, name): self._act()
    def createvolume(self): self._act()
'''

# script, arguments, what happens, exit code, a word of the one stderr line (None: not checked)
TABLE = [
    ("zsnapper.py", ["orcl", "list"], "bug", 1, "Unexpected error: ZeroDivisionError: a bug in the driver"),
    ("zsnapper.py", ["orcl", "list"], "sigterm", 143, "Interrupted"),
    ("zsnapper.py", ["orcl", "create"], "sigint", 130, "Interrupted"),
    ("zsnapper.py", ["orcl", "checkage"], "bug", 3, "UNKNOWN"),
    ("zsnapper.py", ["orcl", "nosuch"], "usage", 2, "unknown action"),
    ("zsnapper.py", ["orcl", "list", "--bogus"], "usage", 2, "unknown option --bogus"),
    ("zsnapper.py", ["orcl", "clone"], "usage", 2, "clone takes a name"),
    ("zsnapper.py", ["orcl", "pin", "orcl-20260101T000000"], "usage", 2, "pin needs --reason"),
    # a Nagios check answers a bad usage as a plugin: one UNKNOWN line, exit 3
    ("zsnapper.py", ["orcl", "checkage", "--bogus"], "usage", 3, "UNKNOWN: bad usage: unknown option --bogus"),
    ("zsnapper.py", ["orcl", "checkverified", "x"], "usage", 3, "UNKNOWN: bad usage: checkverified takes no name"),
    ("zsnapper.py", ["--until", "2099-01-01", "orcl", "checkage"], "usage", 3, "UNKNOWN: bad usage: --until"),
    ("zsnapper.py", ["--help"], "help", 0, None),
    ("zvolume.py", ["orcl", "create"], "bug", 1, "Unexpected error: ZeroDivisionError"),
    ("zvolume.py", ["orcl", "create"], "sigterm", 143, "Interrupted"),
    ("zvolume.py", ["orcl", "create"], "sigint", 130, "Interrupted"),
    ("zvolume.py", ["orcl"], "usage", 2, None),
    ("zvolume.py", ["--help"], "help", 0, None),
    ("dbinfo.py", [], "usage", 2, None),
    ("dbinfo.py", ["--help"], "help", 0, None),
    ("exec_all.py", ["nosuch"], "usage", 2, None),
    ("exec_all.py", ["--help"], "help", 0, None),
    ("backup.py", ["orcl", "nosuch"], "usage", 2, None),
    ("report.py", ["--bogus"], "usage", 2, None),
    # these tests run as root: the restore scripts refuse it (the old toolset exited 0)
    ("restore.py", ["backup.cfg", "orcl", "--yes"], "root", 2, "will not run as root"),
    ("autorestore.py", ["backup.cfg"], "root", 2, "will not run as root"),
    # usage errors come first, before the root and sandbox checks
    ("autorestore.py", [], "usage", 2, "Usage: autorestore.py"),
    ("autorestore.py", ["backup.cfg", "orcl", "x"], "usage", 2, "Usage: autorestore.py"),
    ("autorestore.py", ["backup.cfg", "--bogus"], "usage", 2, "unknown option --bogus"),
    ("autorestore.py", ["backup.cfg", "orcl", "--slot=0"], "usage", 2, "--slot must be a number"),
    ("autorestore.py", ["backup.cfg", "--slot=1"], "usage", 2, "--slot needs one database name"),
    ("autorestore.py", ["--help"], "help", 0, None),
    ("restore.py", ["--help"], "help", 0, None),
]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "drivers").mkdir()
    (tmp_path / "drivers" / "odddriver.py").write_text(DRIVER, encoding="utf-8")
    write_config(tmp_path, {"generic": {"snappermodule": "odddriver", "snapperclass": "Odd"}})
    return tmp_path


def run(site: Path, script: str, args: list[str], mode: str) -> subprocess.CompletedProcess:
    ready = site / "ready"
    env = dict(os.environ, BACKUPCONFIG=str(site / "backup.cfg"), ODD_MODE="sleep" if mode.startswith("sig")
               else "bug", ODD_READY=str(ready), PYTHONPATH=f"{site / 'drivers'}{os.pathsep}{REPO}")
    proc = subprocess.Popen([sys.executable, str(REPO / script), *args], env=env, cwd=site, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if mode.startswith("sig"):
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the driver was never called"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM if mode == "sigterm" else signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("script, args, mode, code, word", TABLE,
                         ids=[f"{s}-{'-'.join(a) or 'none'}-{m}" for s, a, m, _, _ in TABLE])
def test_exit_code(site: Path, script: str, args: list[str], mode: str, code: int, word: str | None):
    result = run(site, script, args, mode)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    if word is not None:
        text = result.stdout if script == "zsnapper.py" and code == 3 else result.stderr
        assert word in text, (result.stdout, result.stderr)
    if mode in ("bug", "sigterm", "sigint") and code != 3:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    if script == "zsnapper.py" and code == 3:
        assert result.stdout.count("\n") == 1 and result.stderr == "", (result.stdout, result.stderr)
    if mode == "help":
        assert result.stdout.startswith("Usage:") or "usage" in result.stdout.lower()
