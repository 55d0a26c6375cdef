"""What the benchmark scripts share: their own storage facilities, timing, cache dropping.

The benchmarks that touch ZFS or btrfs set up their own zfs-fuse pool, btrfs
image and sshd with scripts/test-facilities.sh (sized for what they measure,
never the test suite's), and tear them down afterwards, so a benchmark can be
cleaned between sizes and leaves nothing behind.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO, REPO / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

BLOCK = 8192
MIB = 1 << 20
FACILITIES = REPO / "scripts" / "test-facilities.sh"


def timed(fn: Callable[[], object]) -> float:
    """Wall time of ``fn()`` in seconds."""
    started = time.monotonic()
    fn()
    return time.monotonic() - started


def drop_caches() -> None:
    """Write back and drop the page cache (root), so a timed run reads from the storage, not from
    memory a previous step filled.  zfs-fuse's own cache (ARC) is not dropped by this."""
    os.sync()
    with contextlib.suppress(OSError):
        Path("/proc/sys/vm/drop_caches").write_text("3\n")


def fmt_mib(n: int | None) -> str:
    return "unknown" if n is None else f"{n / MIB:.1f} MiB"


@contextlib.contextmanager
def storage_facilities(room_gib: int) -> Iterator[dict[str, str]]:
    """A zfs-fuse pool and a btrfs image of ``room_gib`` GiB each (sparse files), a private
    sshd and the test user's sudoers rule; ``OIB_FACILITIES`` names them while inside."""
    if os.geteuid() != 0:
        raise SystemExit("this benchmark needs root (it creates a zfs-fuse pool and a btrfs image)")
    work = Path(tempfile.mkdtemp(prefix="oib-bench-fac-"))
    env = dict(os.environ, OIB_ZFS_POOL_SIZE=f"{room_gib}G", OIB_BTRFS_SIZE=f"{room_gib}G")
    subprocess.run([str(FACILITIES), "up", str(work)], check=True, env=env)
    before = os.environ.get("OIB_FACILITIES")
    os.environ["OIB_FACILITIES"] = str(work / "facilities.env")
    from drivers import facilities
    facilities.facilities.cache_clear()     # the facts of this set-up, not an earlier one's
    try:
        yield facilities.facilities()
    finally:
        subprocess.run([str(FACILITIES), "down", str(work)], check=False)
        facilities.facilities.cache_clear()
        if before is None:
            os.environ.pop("OIB_FACILITIES", None)
        else:
            os.environ["OIB_FACILITIES"] = before
