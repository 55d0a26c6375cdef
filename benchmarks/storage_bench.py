#!/usr/bin/env python3
"""What a thin clone costs on real ZFS and btrfs, against a full copy; retention at scale.

For backup areas of growing size (random, incompressible data written into the
database's dataset or subvolume through the drivers' own ``createvolume``), in
one run:

* clone time and the space the clone takes (ZFS ``used`` of the clone, btrfs
  exclusive qgroup bytes);
* a snapshot's unique space against the bytes changed after it (1% of the
  8 KiB blocks rewritten at random places, as a day of database changes);
* the storage side of a restore test: clone + drop through the driver, against
  the full copy (``cp -a``) a restore from ordinary backups starts with;

and, on ZFS, ``zsnapper.py <db> list`` and ``clean --dry-run`` (in process:
``snapshots()`` and ``clean(dry_run=True)``) over 2,000 snapshots.

Runs as root: it sets up its own zfs-fuse pool and btrfs image with
scripts/test-facilities.sh (sized for the largest area) and removes them.

    .venv/bin/python benchmarks/storage_bench.py [--sizes 256,1024,4096] [--snapshots 2000]
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchlib import BLOCK, MIB, fmt_mib, storage_facilities  # first: puts the project and tests/ on sys.path
from drivers.backends import make_backend

from storage import remote


def write_area(area: Path, size: int) -> Path:
    """One datafile of ``size`` bytes of random data (incompressible: compression is on)."""
    path = area / "data_D-BENCH_I-1_TS-USERS_FNO-4_01"
    chunk = os.urandom(4 * MIB)
    with open(path, "wb") as fh:
        written = 0
        while written < size:
            n = min(len(chunk), size - written)
            fh.write(chunk[:n])
            written += n
            chunk = chunk[1:] + chunk[:1]       # no two chunks alike (no dedup, no sharing by chance)
    os.sync()
    return path


def change_blocks(path: Path, fraction: float) -> int:
    """Rewrite ``fraction`` of the file's 8 KiB blocks in place; returns the bytes changed."""
    blocks = path.stat().st_size // BLOCK
    chosen = random.sample(range(blocks), max(1, int(blocks * fraction)))
    with open(path, "r+b") as fh:
        for b in chosen:
            fh.seek(b * BLOCK)
            fh.write(os.urandom(BLOCK))
    os.sync()
    return len(chosen) * BLOCK


def clone_space(kind: str, driver, name: str) -> int | None:
    if kind.startswith("zfs"):
        out = subprocess.run(["zfs", "get", "-Hp", "-o", "value", "used", f"{driver.parent}/{name}"],
                             capture_output=True, text=True, check=True).stdout
        return int(out.strip())
    sub = driver._list(fresh=True).clones[name]
    space = driver._list().space
    return space[sub.id][1] if space and sub.id in space else None


def settled_unique(driver, snapid: str, minimum: int, timeout: float) -> int | None:
    """The snapshot's unique bytes once the storage has accounted them (a commit later)."""
    deadline = time.monotonic() + timeout
    while True:
        info = next(i for i in driver.snapshots() if i.id == snapid)
        if info.space_unique is None or info.space_unique >= minimum or time.monotonic() > deadline:
            return info.space_unique
        time.sleep(1)


def bench_size(label: str, size_mib: int, work: Path) -> str:
    """One row; ``label`` is a kind of tests/drivers/backends.py, ZFS optionally with a record
    size (``zfs-local:8K``: the dataset made with [zfs] recordsize 8K)."""
    kind, _, recordsize = label.partition(":")
    remote.close_all()
    backend = make_backend(kind, work)
    try:
        if recordsize:
            backend.rewrite_config("zfs", recordsize=recordsize)
            backend.rewrite_config("bench", snapexpirationdays="7")
            backend.driver("bench").createvolume()
        d = backend.driver("bench" if recordsize else "orcl")
        area = backend.backupdest / d.dbname
        datafile = write_area(area, size_mib * MIB)
        first = d.snap()
        changed = change_blocks(datafile, 0.01)
        time.sleep(1.1)
        d.snap()                                 # commits: the first snapshot's space is accounted
        # ZFS accounts within seconds; btrfs counts whole extents, still shared with the newer snapshot
        unique = settled_unique(d, first, changed, timeout=30 if kind.startswith("zfs") else 5)
        start = time.monotonic()
        d.clone(first, "benchclone")
        clone_s = time.monotonic() - start
        space = clone_space(kind, d, "benchclone")
        start = time.monotonic()
        d.dropclone("benchclone")
        cycle_s = clone_s + time.monotonic() - start
        copy_dir = backend.root / "fullcopy"
        start = time.monotonic()
        subprocess.run(["cp", "-a", str(area), str(copy_dir)], check=True)
        os.sync()
        copy_s = time.monotonic() - start
        shutil.rmtree(copy_dir)
        return (f"| {label} | {size_mib} MiB | {clone_s:.2f} s | {fmt_mib(space)} | {fmt_mib(changed)} "
                f"| {fmt_mib(unique)} | {cycle_s:.2f} s | {copy_s:.1f} s |")
    finally:
        remote.close_all()
        backend.close()


def bench_retention(count: int, work: Path) -> list[str]:
    remote.close_all()
    backend = make_backend("zfs-local", work)
    try:
        d = backend.driver()
        start = time.monotonic()
        for i in range(count):
            stamp = datetime(2020, 1, 1) + timedelta(hours=i)
            subprocess.run(["zfs", "snapshot", f"{d.dataset}@orcl-{stamp:%Y%m%dT%H%M%S}"], check=True)
        made = time.monotonic() - start
        start = time.monotonic()
        assert len(d.snapshots()) == count
        list_s = time.monotonic() - start
        start = time.monotonic()
        results = d.clean(now=datetime.now(timezone.utc) + timedelta(days=30), dry_run=True)
        clean_s = time.monotonic() - start
        would = sum(1 for r in results if r.status == "would drop")
        return [f"| zsnapper list, {count} snapshots (ZFS, one zfs get) | {list_s:.2f} s |",
                f"| zsnapper clean --dry-run, {count} snapshots ({would} would drop) | {clean_s:.2f} s |",
                f"| (creating them: {count} zfs snapshot commands) | {made:.0f} s |"]
    finally:
        backend.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,1024,4096", help="area sizes in MiB, comma separated")
    parser.add_argument("--snapshots", type=int, default=2000)
    parser.add_argument("--kinds", default="zfs-local,zfs-local:8K,btrfs-local")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with storage_facilities(max(sizes) * 3 // 1024 + 4):
        print("| storage | area | clone time | clone space | bytes changed | snapshot unique "
              "| clone + drop | full copy |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for kind in args.kinds.split(","):
            for size in sizes:
                with tempfile.TemporaryDirectory() as work:
                    print(bench_size(kind, size, Path(work)), flush=True)
        if args.snapshots:
            print()
            print("| retention at scale | wall time |")
            print("| --- | --- |")
            with tempfile.TemporaryDirectory() as work:
                for line in bench_retention(args.snapshots, Path(work)):
                    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
