#!/usr/bin/env python3
"""The demo: the daily backup cycle end to end, in a temporary directory.

It creates a simulated Oracle database (tests/oracle_sim: real blocks, SCNs,
archivelogs), writes a configuration with the localfs storage driver, and runs
the toolset's scripts exactly as a DBA or a scheduler would, printing each
step and its output.  Nothing outside the temporary directory is touched.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO / "tests"))

# The simulator and the sandbox helper are test tools, used here as such: the scripts run from
# a world-readable copy of the project, as an unprivileged user when the demo runs as root
# (the restore scripts refuse root, as a careful DBA's would).
from e2e import siteconfig  # noqa: E402
from e2e.sandbox import build_sandbox  # noqa: E402


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


class Runner:
    def __init__(self, box, env: dict[str, str]):
        self.box, self.env = box, env

    def __call__(self, *argv: str, show: int = 40, label: str | None = None) -> str:
        print("$ " + (label or " ".join(argv)), flush=True)
        result = self.box.run(self.box.python, *argv, env=self.env)
        lines = (result.stdout + result.stderr).rstrip().splitlines()
        for line in lines[-show:]:
            print("  " + line)
        if result.returncode != 0:
            print(f"  (exit status {result.returncode})")
            raise SystemExit(result.returncode)
        return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    box = build_sandbox("nobody")
    root = box.workdir("demo")
    oh = root / "oracle_home"
    try:
        siteconfig.make_dirs(root)
        cfg = root / "backup.cfg"
        # validatechance 1: every restore test of the demo also validates every block
        cfg.write_text(siteconfig.render(root, oh, {"orcl": 1433672784},
                                         autorestore={"autorestorevalidatechance": 1}))
        box.give(root)
        run = Runner(box, box.env(BACKUPCONFIG=str(cfg)))
        who = f"user {box.user.pw_name}" if box.user else "the current user"
        step(f"A simulated Oracle home and database ORCL in {root} (scripts run as {who})")
        simctl = ("-m", "oracle_sim.cli", "--home", str(oh))
        run(*simctl, "create", "--name", "orcl", "--dbid", "1433672784", "--oradata", str(root / "oradata"),
            "--fra", str(root / "fra"), label="simctl create --name orcl ...")
        run(*simctl, "show", "--sid", "orcl", label="simctl show --sid orcl", show=12)
        print(f"  configuration {cfg}: localfs storage, snapshots in {root}/snapshots")
        script = box.script

        step("backup.py orcl config: RMAN settings, block change tracking, archive destination")
        run(script("backup.py"), "orcl", "config", show=12, label="backup.py orcl config")

        for n in (1, 2, 3):
            step(f"Cycle {n}: 20 transactions, then the daily job backup.py orcl imagecopywithsnap")
            run(*simctl, "workload", "--sid", "orcl", "-n", "20", "--advance", "1",
                label="simctl workload --sid orcl -n 20")
            run(script("backup.py"), "orcl", "imagecopywithsnap", show=25, label="backup.py orcl imagecopywithsnap")
            time.sleep(1.1)   # snapshot names have one-second resolution

        step("zsnapper.py orcl list: one snapshot per cycle")
        out = run(script("zsnapper.py"), "orcl", "list", label="zsnapper.py orcl list")
        snaps = [line.split()[0] for line in out.splitlines() if line.startswith("orcl-")]

        step("A thin clone of the newest snapshot, listed, then dropped")
        out = run(script("zsnapper.py"), "orcl", "clone", snaps[-1], label=f"zsnapper.py orcl clone {snaps[-1]}")
        clone = next(w for line in out.splitlines() for w in line.split() if "_clone_" in w)
        run(script("zsnapper.py"), "orcl", "listclones", label="zsnapper.py orcl listclones")
        run(script("zsnapper.py"), "orcl", "dropclone", clone, label=f"zsnapper.py orcl dropclone {clone}")

        step("zsnapper.py orcl checkage (a Nagios check)")
        run(script("zsnapper.py"), "orcl", "checkage", label="zsnapper.py orcl checkage")

        step("The nightly restore test: autorestore.py restores the newest snapshot, recovers it, "
             "opens it read only, checks the data and every block, cleans up")
        run(script("autorestore.py"), str(cfg), show=20,
            label="AUTORESTORE_SAFE_SANDBOX=TRUE autorestore.py backup.cfg")
    finally:
        if args.keep:
            print(f"\nKept {box.base}")
        else:
            shutil.rmtree(box.base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
