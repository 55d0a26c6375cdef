"""No child outlives its run, none sees OSPASSWORD, and a dead run's lock waits for its survivors."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imagecopy import commands, runtime
from imagecopy.errors import LockError
from imagecopy.lock import BackupLock

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_children_do_not_see_ospassword(monkeypatch):
    monkeypatch.setenv("OSPASSWORD", "s3cret")
    out = commands.run([sys.executable, "-c", "import os; print(os.environ.get('OSPASSWORD', 'absent'))"]).output
    assert out.strip() == "absent"
    out = commands.run([sys.executable, "-c", "import os; print(os.environ.get('OSPASSWORD', 'absent'))"],
                       keep_ospassword=True).output
    assert out.strip() == "s3cret"
    assert "OSPASSWORD" not in commands.child_env({"OSPASSWORD": "x", "A": "1"})


@linux_only
def test_a_child_dies_with_a_parent_killed_by_sigkill(tmp_path: Path):
    """The parent runs a long child through commands.run, then is killed -9: the child must go too."""
    pidfile = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from imagecopy import commands
code = "import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
commands.run([sys.executable, "-c", code])
"""], start_new_session=True)
    deadline = time.monotonic() + 20
    while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pidfile.read_text())
    assert alive(child)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child), "the child outlived its parent"


@linux_only
def test_kill_own_group_kills_the_rest_of_the_group(tmp_path: Path):
    """A leader's grandchild (re-parented, out of reach of PDEATHSIG) is killed on the way out."""
    pidfile = tmp_path / "grandchild.pid"
    leader = subprocess.run([sys.executable, "-c", f"""
import os, subprocess, sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from imagecopy import runtime
runtime.lead_process_group()
p = subprocess.Popen(["sh", "-c", "sleep 60 & echo $! > {pidfile}; exit 0"])
p.wait()
time.sleep(0.2)
print(runtime.kill_own_group())
"""], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
    assert leader.returncode == 0, leader.stderr
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild)
    assert int(leader.stdout.strip()) >= 1


@linux_only
def test_stale_lock_waits_for_the_dead_runs_group(tmp_path, monkeypatch):
    """The holder is dead but a process of its group lives on: no takeover, a LockError after the wait."""
    monkeypatch.setattr("imagecopy.lock.POLL_SECONDS", 0.05)
    # a group whose leader has exited while a member (the "orphaned RMAN") still runs
    leader = subprocess.Popen(["sh", "-c", "sleep 30 & echo $!; exit 0"], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    member = int(leader.stdout.readline())
    leader.wait()
    try:
        (tmp_path / "backup.lck").write_text(json.dumps(
            {"host": socket.gethostname(), "pid": leader.pid, "pgid": leader.pid, "token": "x", "started": "then"}))
        with pytest.raises(LockError):
            with BackupLock(tmp_path, 0.005):
                pass
        assert (tmp_path / "backup.lck").exists()
    finally:
        os.kill(member, signal.SIGKILL)
    time.sleep(0.2)
    with BackupLock(tmp_path, 0.05):        # the group is gone: taken over
        pass


def test_the_lock_records_its_process_group(tmp_path):
    with BackupLock(tmp_path, 0.01) as lock:
        assert json.loads(lock.path.read_text())["pgid"] == os.getpgrp()


def test_umask_is_027():
    old = os.umask(0)
    try:
        runtime.start()
        assert os.umask(0) == 0o027
    finally:
        os.umask(old)


@linux_only
def test_kill_own_group_spares_the_other_commands_of_a_pipeline(tmp_path: Path):
    """``backup.py ... | tee``: tee shares the leader's group but is the shell's child, not the run's."""
    script = tmp_path / "leader.py"
    script.write_text(f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from imagecopy import runtime
sys.stdin.readline()
print(runtime.kill_own_group(), flush=True)
""")
    # as a job-control shell does: the first command leads the group, the next one joins it
    leader = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, process_group=0)
    sibling = subprocess.Popen(["sleep", "30"], process_group=leader.pid)
    try:
        out, _ = leader.communicate("go\n", timeout=30)
        assert out.strip() == "0"
        assert alive(sibling.pid), "the other command of the pipeline was killed"
    finally:
        sibling.kill()
        sibling.wait()


def test_a_command_that_hangs_without_output_is_stopped_at_its_timeout():
    from imagecopy.errors import CommandError
    started = time.monotonic()
    with pytest.raises(CommandError, match="did not finish within 0.5 s"):
        commands.run(["sleep", "30"], timeout=0.5, describe="sleep")
    assert time.monotonic() - started < 5
    assert commands.run(["true"], timeout=5).returncode == 0       # a quick one is untouched
