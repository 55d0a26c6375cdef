"""Benchmark-only storage drivers: zfs and btrfs whose "clone" is a full copy on plain storage.

The restore benchmark runs the same nightly restore test twice on the same
snapshot: once on the driver's thin clone, once on a full copy of the
snapshot's files in ``[fullcopy] plaindir`` (an ordinary filesystem), which is
what a restore from ordinary backups starts with.  Everything after the clone
(recovery, open, verify, clean-up) is the same code; the copy is part of the
timed restore test, and dropping the "clone" deletes the copy.

Where the storage shows a snapshot's files on this host (``snapshot_path``)
they are copied from there; zfs-fuse shows none, so the snapshot is read
through a thin clone, dropped as soon as the copy is made.
"""
from __future__ import annotations

from pathlib import Path

from imagecopy import commands
from imagecopy.errors import StorageError
from storage.btrfs import Btrfs
from storage.remote import safe_name
from storage.zfs import ZFS

SECTION = "fullcopy"


class _FullCopy:
    """The clone methods autorestore.py uses, as a full copy; the rest is the storage driver's."""

    def _plain(self, clonename: str) -> Path:
        return Path(self.config.get("plaindir", SECTION).strip()) / safe_name(clonename, "clone name")

    def clone(self, snapid: str, clonename: str) -> None:
        dest = self._plain(clonename)
        if dest.exists():
            raise StorageError(f"full copy {dest} already exists")
        source = self.snapshot_path(snapid)
        reader = None
        if source is None:
            reader = f"{clonename}-reader"
            super().clone(snapid, reader)
            source = super().local_path(reader)
        try:
            commands.run(["cp", "-a", "--reflink=never", f"{source}/.", str(dest)], error_class=StorageError,
                         describe="cp")
        finally:
            if reader is not None:
                super().dropclone(reader)

    def local_path(self, clonename: str) -> Path:
        return self._plain(clonename)

    def dropclone(self, clonename: str) -> None:
        commands.run(["rm", "-rf", "--", str(self._plain(clonename))], error_class=StorageError, describe="rm")


class ZFSFullCopy(_FullCopy, ZFS):
    """The zfs driver, with full copies for clones."""


class BtrfsFullCopy(_FullCopy, Btrfs):
    """The btrfs driver, with full copies for clones."""
