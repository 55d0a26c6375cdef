"""The one way the toolset replaces a file it owns: no reader ever sees half of it, and a crash
right after the call keeps the new content.

Temp file in the same directory (so the rename is atomic), written and
fsync'ed, given its mode, renamed over the target, then the directory fsync'ed
so the rename itself is on disk.  Used for ``autorestore.cfg`` (a snapshot's
recovery target), the Prometheus textfiles and the localfs driver's metadata.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, mode: int | None = None, tmp_prefix: str | None = None) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8).

    ``mode`` None gives the file the mode a plain ``open`` would (0666 less the umask:
    the scripts' umask keeps backup files from other users); the Prometheus textfiles
    ask for 0644 explicitly, node_exporter being another user.

    ``tmp_prefix`` names the temp file (default ``.<name>.``): a directory's reader
    that skips names with that prefix never sees the file in progress.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=tmp_prefix or f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _umasked() if mode is None else mode)     # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(path.parent)


def _umasked() -> int:
    """0666 less the process's umask (read by setting it: there is no other way)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable; filesystems that cannot (some NFS) are left be."""
    try:
        dirfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dirfd)
    except OSError:
        pass
    finally:
        os.close(dirfd)
