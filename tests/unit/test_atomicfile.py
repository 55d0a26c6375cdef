"""The one atomic file writer (imagecopy/atomicfile.py)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from imagecopy import atomicfile
from imagecopy.atomicfile import write_atomic


def test_replaces_the_file_whole_with_the_asked_mode(tmp_path: Path):
    target = tmp_path / "autorestore.cfg"
    target.write_text("old\n")
    write_atomic(target, "[dbparams]\nlastscn: 42\n", mode=0o640)
    assert target.read_text() == "[dbparams]\nlastscn: 42\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["autorestore.cfg"]


def test_without_a_mode_the_umask_decides(tmp_path: Path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "autorestore.cfg", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "autorestore.cfg").stat().st_mode) == 0o640


def test_bytes_and_the_temp_prefix(tmp_path: Path, monkeypatch):
    seen: list[str] = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(atomicfile.os, "replace", spy)
    write_atomic(tmp_path / "meta.json", b"{}\n", tmp_prefix=".tmp-meta.json.")
    assert (tmp_path / "meta.json").read_bytes() == b"{}\n"
    assert seen[0].startswith(".tmp-meta.json.")


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch):
    target = tmp_path / "x.prom"
    target.write_text("old\n")

    def fail(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomicfile.os, "fsync", fail)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.prom"]


def test_the_rename_is_made_durable(tmp_path: Path, monkeypatch):
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(atomicfile.os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    write_atomic(tmp_path / "f", "x")
    assert len(synced) == 2         # the file, then its directory
