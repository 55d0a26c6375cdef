"""The backup area lock: contention, stale takeover, always released."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from imagecopy.errors import LockError
from imagecopy.lock import BackupLock


def test_acquire_and_release(tmp_path):
    with BackupLock(tmp_path, 0.01) as lock:
        assert lock.path.exists()
        holder = json.loads(lock.path.read_text())
        assert holder["pid"] == os.getpid()
    assert not (tmp_path / "backup.lck").exists()
    assert os.listdir(tmp_path) == []   # no temporary files left behind


def test_released_on_exception(tmp_path):
    with pytest.raises(RuntimeError):
        with BackupLock(tmp_path, 0.01):
            raise RuntimeError("boom")
    assert not (tmp_path / "backup.lck").exists()


def test_contention_times_out(tmp_path, monkeypatch):
    monkeypatch.setattr("imagecopy.lock.POLL_SECONDS", 0.05)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "backup.lck").write_text(json.dumps(
            {"host": socket.gethostname(), "pid": holder.pid, "token": "x", "started": "now"}))
        started = time.monotonic()
        with pytest.raises(LockError, match=f"held by process {holder.pid}"):
            BackupLock(tmp_path, 0.005).acquire()    # 0.3 seconds
        assert time.monotonic() - started < 5
        assert (tmp_path / "backup.lck").exists()  # someone else's lock is left alone
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_of_dead_process_is_taken_over(tmp_path, caplog):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "backup.lck").write_text(json.dumps(
        {"host": socket.gethostname(), "pid": dead.pid, "token": "old", "started": "yesterday"}))
    with caplog.at_level("WARNING"):
        with BackupLock(tmp_path, 0.01) as lock:
            assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    assert f"process {dead.pid}" in caplog.text and "stale" in caplog.text


@pytest.mark.parametrize("content", [
    json.dumps({"host": "otherhost.example", "pid": 1, "token": "t"}),   # another host: cannot check it
    "Linux oldhost\n2016-11-08 21:53:35\n1234",                         # the old toolset's format
])
def test_foreign_or_unknown_locks_are_not_stolen(tmp_path, monkeypatch, content):
    monkeypatch.setattr("imagecopy.lock.POLL_SECONDS", 0.05)
    (tmp_path / "backup.lck").write_text(content)
    with pytest.raises(LockError):
        BackupLock(tmp_path, 0.002).acquire()
    assert (tmp_path / "backup.lck").read_text() == content


def test_missing_directory(tmp_path):
    with pytest.raises(LockError, match="does not exist"):
        BackupLock(tmp_path / "nope", 0.01).acquire()
