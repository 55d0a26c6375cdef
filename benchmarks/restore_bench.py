#!/usr/bin/env python3
"""The nightly restore test on a thin clone, against a restore from a full copy.

For simulated databases of growing size this runs, side by side in one run:

* ``--drivers localfs`` (the default): ``autorestore.py`` with the localfs
  driver on btrfs, where the clone of the newest snapshot is a reflink copy,
  against the same restore on ext4, where every snapshot and clone is a full
  copy; and four databases restored with ``autorestoreparallel`` 1 and 4;
* ``--drivers zfs,btrfs``: the backup area on a zfs-fuse dataset or a btrfs
  subvolume (the zfs and btrfs drivers, run locally with sudo as in
  production), and the same ``autorestore.py`` twice on the same snapshot:
  on the driver's thin clone, then on a full copy of the snapshot's files on
  plain storage (ext4) followed by the same recovery (benchmarks/fullcopy.py).
  One size at a time, each on its own pool or image, removed before the next.

It runs as root (loop mounts, zfs-fuse) and runs the scripts as an
unprivileged user (the restore scripts refuse root).  The page cache is
dropped before each timed restore.

    .venv/bin/python benchmarks/restore_bench.py [--sizes 256,1024,4096] [--parallel-dbs 4] [--drivers localfs]
    .venv/bin/python benchmarks/restore_bench.py --drivers zfs,btrfs --sizes 256,1024,4096,16384 [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import BLOCK, MIB, drop_caches, storage_facilities, timed  # first: puts tests/ on sys.path
from e2e import siteconfig
from e2e.sandbox import Sandbox, build_sandbox
from e2e.storagesite import StorageSite

HERE = Path(__file__).resolve().parent
FULLCOPY = {"zfs": "ZFSFullCopy", "btrfs": "BtrfsFullCopy"}


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


class Site:
    def __init__(self, box: Sandbox, root: Path):
        self.box, self.w = box, root
        siteconfig.make_dirs(root)
        self.cfg = root / "backup.cfg"
        self.dbs: list[str] = []

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = self.box.run(self.box.python, *args, env=env or self.env(), timeout=7200)
        if result.returncode != 0:
            raise SystemExit(f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def env(self) -> dict[str, str]:
        return self.box.env(BACKUPCONFIG=str(self.cfg))

    def simctl(self, *args: str) -> str:
        return self.run("-m", "oracle_sim.cli", "--home", str(self.w / "oh"), *args)

    def config(self, parallel: int = 1) -> None:
        self.cfg.write_text(siteconfig.render(self.w, self.w / "oh", {db: 1000 + i for i, db in enumerate(self.dbs)},
                                              autorestore={"autorestoreparallel": parallel,
                                                           "autorestoresid": "bench"}))
        self.box.give(self.cfg)

    def database(self, db: str, mib: int) -> None:
        """A database of about ``mib`` MiB (USERS holds most of it), backed up twice."""
        users = max(64, (mib * 1024 * 1024 // BLOCK) - 256)
        self.simctl("create", "--name", db, "--dbid", str(1000 + len(self.dbs)), "--oradata",
                    str(self.w / "oradata"), "--fra", str(self.w / "fra"), "--files", f"USERS=1x{users}")
        self.dbs.append(db)
        self.config()
        script = self.box.script("backup.py")
        self.run(script, db, "config")
        for _ in range(2):
            self.simctl("workload", "--sid", db, "-n", "20", "--advance", "1")
            self.run(script, db, "imagecopywithsnap")
            time.sleep(1.1)


def used_bytes(path: Path) -> int:
    os.sync()
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def measure(box: Sandbox, base: Path, mib: int) -> tuple[float, int]:
    """autorestore wall time, and the space one clone of the newest snapshot takes on ``base``."""
    site = Site(box, base / f"size{mib}")
    box.give(site.w)
    site.database("orcl", mib)
    seconds = timed(lambda: site.run(box.script("autorestore.py"), str(site.cfg), "orcl"))
    snap = sorted(p.name for p in (site.w / "snapshots" / "orcl").iterdir() if not p.name.startswith("."))[-1]
    before = used_bytes(site.w)
    site.run(box.script("zsnapper.py"), "orcl", "clone", snap)
    space = used_bytes(site.w) - before
    shutil.rmtree(site.w)
    return seconds, max(space, 0)


def size_rows(box: Sandbox, thin: Path, full: Path, sizes: list[int]) -> list[str]:
    out = ["| database | restore test, thin clone (btrfs) | restore test, full copy (ext4) | ratio | "
           "clone space thin / full |", "| --- | --- | --- | --- | --- |"]
    for mib in sizes:
        t_thin, s_thin = measure(box, thin, mib)
        t_full, s_full = measure(box, full, mib)
        out.append(f"| {mib} MiB | {t_thin:.1f} s | {t_full:.1f} s | {t_full / t_thin:.1f}x | "
                   f"{s_thin / 2**20:.1f} MiB / {s_full / 2**20:.0f} MiB |")
        print(out[-1], flush=True)
    return out


def parallel_rows(box: Sandbox, base: Path, count: int) -> list[str]:
    site = Site(box, base / "parallel")
    box.give(site.w)
    for i in range(count):
        site.database(f"db{i}", 64)
    times = {}
    for parallel in (1, count):
        site.config(parallel)
        times[parallel] = timed(lambda: site.run(box.script("autorestore.py"), str(site.cfg)))
    shutil.rmtree(site.w)
    return [f"| {count} databases of 64 MiB | serial {times[1]:.1f} s | parallel {count}: {times[count]:.1f} s | "
            f"{times[1] / times[count]:.2f}x |"]


def btrfs_base() -> tuple[Path, callable]:
    """A btrfs filesystem on a loop-mounted image (root only); returns its mount point and a clean-up."""
    work = Path(tempfile.mkdtemp(prefix="oib-bench-"))
    work.chmod(0o755)   # the unprivileged user reaches the mount through it
    image, mnt = work / "btrfs.img", work / "mnt"
    mnt.mkdir()
    with open(image, "wb") as fh:
        fh.truncate(40 * 2**30)
    sh("mkfs.btrfs", "-q", str(image))
    sh("mount", "-o", "loop", str(image), str(mnt))
    mnt.chmod(0o755)

    def cleanup() -> None:
        subprocess.run(["umount", str(mnt)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    return mnt, cleanup


def storage_restores(box: Sandbox, driver: str, mib: int, repeat: int = 1) -> tuple[float, float]:
    """The restore test's wall time on a thin clone and on a full copy (the median of ``repeat``
    runs each), for a database of ``mib`` MiB backed up on ``driver`` (zfs or btrfs); the site is
    removed afterwards."""
    site = StorageSite(box, f"{driver}-local", f"bench-{driver}-{mib}")
    try:
        site.autorestore.update(autorestoresid="bench", autorestoremountmethod="clonepath")
        site.setup(blocks=max(64, mib * MIB // BLOCK - 256))
        site.backup("config")
        for _ in range(2):
            site.simctl("workload", "--sid", "orcl", "-n", "20", "--advance", "1")
            site.backup("imagecopywithsnap", timeout=7200)
            time.sleep(1.1)
        thin = median_restore(site, repeat)
        plain = site.w / "plain"
        plain.mkdir()
        box.give(plain)
        site.generic.update(snappermodule="fullcopy", snapperclass=FULLCOPY[driver])
        site.storage["fullcopy"] = {"plaindir": plain}
        site.write_config()
        return thin, median_restore(site, repeat)
    finally:
        site.close()
        shutil.rmtree(site.w, ignore_errors=True)


def median_restore(site: StorageSite, repeat: int) -> float:
    """The median wall time of ``repeat`` restore tests (the storage here is shared with other work:
    one run can be slowed by it)."""
    times = []
    for _ in range(repeat):
        times.append(timed_restore(site))
        time.sleep(1.1)     # the catalog keeps one result per database and second
    return statistics.median(times)


def timed_restore(site: StorageSite) -> float:
    """autorestore.py's wall time; the steps that took longest are printed from its session log."""
    drop_caches()
    started = time.monotonic()
    result = site.autorestore_run(timeout=7200)
    seconds = time.monotonic() - started
    if result.returncode != 0 or "Exitstatus is 0" not in result.stdout:
        raise SystemExit(f"the restore test failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    log = max((site.w / "autorestore" / "log").glob("*-orcl.log"), key=lambda p: p.stat().st_mtime)
    slowest = sorted(step_times(log.read_text(errors="replace")).items(), key=lambda kv: -kv[1])[:3]
    print(f"    ({site.generic['snappermodule']}: {seconds:.1f} s; slowest steps: "
          + ", ".join(f"{name} {secs:.1f} s" for name, secs in slowest) + ")", flush=True)
    return seconds


def step_times(log: str) -> dict[str, float]:
    """Seconds spent in each ``STEP:`` of an autorestore session log (up to the next step or the end)."""
    marks: list[tuple[float, str]] = []
    for line in log.splitlines():
        stamp = re.match(r"\d{4}-\d\d-\d\d (\d\d):(\d\d):(\d\d),(\d{3}) ", line)
        if stamp:
            h, m, sec, ms = (int(g) for g in stamp.groups())
            when = h * 3600 + m * 60 + sec + ms / 1000
            step = line.split("STEP: ", 1)[1].strip() if "STEP: " in line else None
            marks.append((when, step or (marks[-1][1] if marks else "start")))
    out: dict[str, float] = {}
    for (when, step), (after, _) in zip(marks, marks[1:]):
        out[step] = out.get(step, 0.0) + max(after - when, 0.0)
    return out


def storage_rows(box: Sandbox, drivers: list[str], sizes: list[int], repeat: int = 1) -> None:
    """One row per driver and size; each on its own facilities, torn down before the next."""
    shutil.copy2(HERE / "fullcopy.py", box.site / "fullcopy.py")
    (box.site / "fullcopy.py").chmod(0o644)
    print("| storage | database | restore test, thin clone | restore test, full copy | ratio |\n"
          "| --- | --- | --- | --- | --- |", flush=True)
    thin_times: dict[str, dict[int, float]] = {}
    for mib in sizes:
        for driver in drivers:
            with storage_facilities(mib * 2 // 1024 + 4):
                thin, full = storage_restores(box, driver, mib, repeat)
            thin_times.setdefault(driver, {})[mib] = thin
            label = f"{mib // 1024} GiB" if mib >= 1024 else f"{mib} MiB"
            print(f"| {driver} | {label} | {thin:.1f} s | {full:.1f} s | {full / thin:.1f}x |", flush=True)
    for driver, times in thin_times.items():
        smallest, largest = min(times), max(times)
        print(f"{driver}: thin restore test {largest} MiB / {smallest} MiB = "
              f"{times[largest] / times[smallest]:.2f}x", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="256,1024,4096", help="database sizes in MiB")
    p.add_argument("--parallel-dbs", type=int, default=4)
    p.add_argument("--drivers", default="localfs", help="localfs, or zfs and/or btrfs (comma separated)")
    p.add_argument("--repeat", type=int, default=1, help="zfs/btrfs: restore tests per side, the median counts")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    drivers = [d for d in args.drivers.split(",") if d]
    if os.geteuid() != 0 or not shutil.which("mkfs.btrfs"):
        raise SystemExit("run as root with btrfs-progs installed: the thin side needs a btrfs loop mount")
    if set(drivers) - {"localfs", "zfs", "btrfs"} or ("localfs" in drivers and len(drivers) > 1):
        raise SystemExit("--drivers: localfs alone, or zfs and/or btrfs")
    box = build_sandbox()
    try:
        if drivers != ["localfs"]:
            storage_rows(box, drivers, sizes, max(1, args.repeat))
            return 0
        thin, cleanup = btrfs_base()
        try:
            print("| database | restore test, thin clone (btrfs) | restore test, full copy (ext4) | ratio | "
                  "clone space thin / full |\n| --- | --- | --- | --- | --- |", flush=True)
            size_rows(box, thin, box.base, sizes)
            print()
            for line in parallel_rows(box, thin, args.parallel_dbs):
                print(line, flush=True)
        finally:
            cleanup()
    finally:
        shutil.rmtree(box.base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
