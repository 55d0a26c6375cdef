"""Space used by directory trees that share blocks through reflinks (FIEMAP).

Used by drivers whose snapshots and clones are reflink copies of directories
(``localfs``; any driver that has the same kind of trees may reuse it).  For a
set of named trees (the backup area, each snapshot, each clone) it reports:

* ``total``: bytes allocated to the tree's regular files (``st_blocks`` × 512;
  a hard-linked inode is counted once);
* ``unique``: ``total`` minus the bytes of the tree's files whose physical
  blocks some *other* tree also references.

Sharing is read with the ``FS_IOC_FIEMAP`` ioctl.  Its ``FIEMAP_EXTENT_SHARED``
flag alone is not enough: btrfs sets it on a whole extent as soon as any part of
that extent is referenced twice, so a 4 MiB snapshot file of which 1 MiB was
since rewritten in the live file would look entirely shared.  The flag is used
as a filter (an extent without it is unique outright, no comparison needed) and
the physical ranges of flagged extents are then compared across trees, block
range by block range, in one sweep over all trees.

Where FIEMAP is not supported (tmpfs, NFS, overlayfs) or the filesystem cannot
share blocks at all (ext4: ``cp --reflink=auto`` made a full copy), no extent is
flagged shared and ``unique`` equals ``total``, which is then the truth.

Limits: physical addresses are compared as numbers, so all trees are expected
on one filesystem (the only place reflinks exist); btrfs compressed extents
report logical lengths, so figures there are approximate; and btrfs keeps a
partly overwritten extent allocated until its last reference goes, so dropping
a snapshot may free less than its ``unique`` says.
"""
from __future__ import annotations

import errno
import fcntl
import logging
import os
import stat
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

log = logging.getLogger(__name__)

# <linux/fs.h>, <linux/fiemap.h>
FS_IOC_FIEMAP = 0xC020660B             # _IOWR('f', 11, struct fiemap)
FIEMAP_MAX_OFFSET = 0xFFFFFFFFFFFFFFFF
FIEMAP_FLAG_SYNC = 0x0001              # flush dirty data first, so delayed allocations have addresses
FIEMAP_EXTENT_LAST = 0x0001
FIEMAP_EXTENT_UNKNOWN = 0x0002
FIEMAP_EXTENT_DELALLOC = 0x0004
FIEMAP_EXTENT_NOT_ALIGNED = 0x0100
FIEMAP_EXTENT_DATA_INLINE = 0x0200
FIEMAP_EXTENT_SHARED = 0x2000
# Extents whose physical address means nothing (not yet allocated, or stored in metadata).
_NO_ADDRESS = FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_NOT_ALIGNED

_HEADER = struct.Struct("=QQIIII")      # fm_start, fm_length, fm_flags, fm_mapped_extents, fm_extent_count, reserved
_EXTENT = struct.Struct("=QQQQQIIII")   # fe_logical, fe_physical, fe_length, reserved64[2], fe_flags, reserved[3]
_BATCH = 512                           # extents asked per ioctl call

# errno values meaning "this filesystem has no FIEMAP" rather than a real failure
_UNSUPPORTED = {errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL, errno.ENOSYS}


@dataclass(frozen=True)
class Usage:
    """Space of one tree, in bytes."""

    total: int
    unique: int


@dataclass(frozen=True)
class Extent:
    """One extent of a file as FIEMAP reports it (byte offsets)."""

    logical: int
    physical: int
    length: int
    flags: int

    @property
    def has_address(self) -> bool:
        return not self.flags & _NO_ADDRESS


def extents(path: str | os.PathLike[str]) -> list[Extent] | None:
    """Every extent of a file, in file order.

    :returns: the extents, or None when the filesystem does not support FIEMAP.
    :raises OSError: when the file cannot be opened or the ioctl really fails.
    """
    found: list[Extent] = []
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        start = 0
        while True:
            buf = bytearray(_HEADER.size + _BATCH * _EXTENT.size)
            _HEADER.pack_into(buf, 0, start, FIEMAP_MAX_OFFSET - start, FIEMAP_FLAG_SYNC, 0, _BATCH, 0)
            try:
                fcntl.ioctl(fd, FS_IOC_FIEMAP, buf, True)
            except OSError as exc:
                if exc.errno in _UNSUPPORTED:
                    return None
                raise
            mapped = _HEADER.unpack_from(buf, 0)[3]
            batch = []
            for i in range(mapped):
                logical, physical, length, _r1, _r2, flags, *_ = _EXTENT.unpack_from(
                    buf, _HEADER.size + i * _EXTENT.size)
                batch.append(Extent(logical, physical, length, flags))
            found += batch
            # Fewer extents than asked for, or the LAST flag: the whole file has been mapped.
            if mapped < _BATCH or batch[-1].flags & FIEMAP_EXTENT_LAST:
                return found
            start = batch[-1].logical + batch[-1].length
    finally:
        os.close(fd)


def shared_extents(path: str | os.PathLike[str]) -> list[tuple[int, int]] | None:
    """Physical ``(start, end)`` byte ranges of the file's extents flagged shared.

    :returns: the ranges (empty when nothing is shared), or None when the
        filesystem does not support FIEMAP.
    :raises OSError: when the file cannot be opened or the ioctl really fails.
    """
    found = extents(path)
    if found is None:
        return None
    return [(e.physical, e.physical + e.length) for e in found
            if e.flags & FIEMAP_EXTENT_SHARED and e.has_address and e.length]


def _walk_files(root: Path) -> Iterable[tuple[str, os.stat_result]]:
    """Regular files under ``root`` (symlinks not followed), each inode once."""
    seen: set[tuple[int, int]] = set()
    for dirpath, _dirs, files in os.walk(root, onerror=_raise_unless_vanished):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue  # the backup area is live: RMAN may delete a file while we walk
            if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            yield path, st


def _raise_unless_vanished(exc: OSError) -> None:
    if not isinstance(exc, FileNotFoundError):
        raise exc


def tree_usage(trees: Mapping[str, Path]) -> dict[str, Usage]:
    """``Usage`` of each named tree, unique space judged against all the others.

    :param trees: name → root directory; a missing root counts as empty.
    :raises OSError: when a tree cannot be read.
    """
    totals: Counter[str] = Counter()
    events: list[tuple[int, int, str]] = []      # (position, +1/-1, tree)
    unsupported = 0
    for name, root in trees.items():
        totals[name] += 0
        if not root.is_dir():
            continue
        for path, st in _walk_files(root):
            totals[name] += st.st_blocks * 512
            if not st.st_blocks:
                continue
            try:
                ranges = shared_extents(path)
            except OSError as exc:
                # An unreadable file cannot be compared; counting it unique is the honest fallback.
                log.debug("FIEMAP failed on %s: %s", path, exc)
                ranges = None
            if ranges is None:
                unsupported += 1
                continue
            for begin, end in ranges:
                events.append((begin, 1, name))
                events.append((end, -1, name))
    if unsupported:
        log.debug("FIEMAP unavailable for %d file(s): counted as unique", unsupported)
    shared = _shared_with_others(events)
    return {name: Usage(total, max(total - shared[name], 0)) for name, total in totals.items()}


def _shared_with_others(events: list[tuple[int, int, str]]) -> Counter[str]:
    """Per tree, bytes of its extents that overlap an extent of another tree.

    One sweep over all range boundaries: between two boundaries the set of
    trees covering the range is constant; when it holds more than one tree,
    each tree's references to that range are shared with another tree.
    """
    shared: Counter[str] = Counter()
    active: Counter[str] = Counter()
    events.sort(key=lambda e: (e[0], e[1]))
    prev = None
    for pos, delta, name in events:
        if prev is not None and pos > prev and len(active) > 1:
            for tree, refs in active.items():
                shared[tree] += refs * (pos - prev)
        active[name] += delta
        if active[name] == 0:
            del active[name]
        prev = pos
    return shared
