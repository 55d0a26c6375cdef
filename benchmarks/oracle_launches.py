#!/usr/bin/env python3
"""How many rman and sqlplus processes one ``backup.py <db> imagecopywithsnap`` starts.

The old toolset started six when no archivelog was missing: SQL*Plus to list
missing archivelogs, SQL*Plus to archive the current log, SQL*Plus to list
expired copies, RMAN to refresh, SQL*Plus to archive again, SQL*Plus for the
autorestore parameters.  This script runs the real scripts against the
simulated Oracle home and counts, from the session log, what each run started,
with nothing missing and with one archivelog missing.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from e2e import siteconfig  # noqa: E402
from oracle_sim import database, home  # noqa: E402

OLD_TOOLSET = {"rman": 1, "sqlplus": 5}


def count(area: Path) -> dict[str, int]:
    log = sorted((area / "backup_logs").glob("orcl_*_imagecopywithsnap.log"))[-1].read_text()
    return {"rman": log.count("RMAN execution starts"), "sqlplus": log.count("SQL*Plus execution starts")}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="oib-bench-") as tmp:
        root = Path(tmp)
        oh = home.create_home(root / "oracle_home")
        db = database.create_database(home.state_dir(oh), sid="orcl", name="orcl", dbid=1433672784,
                                      oradata=root / "oradata", fra=root / "fra")
        siteconfig.make_dirs(root)
        cfg = root / "backup.cfg"
        cfg.write_text(siteconfig.render(root, oh, {"orcl": 1433672784}))
        env = dict(os.environ, BACKUPCONFIG=str(cfg))

        def backup(action: str) -> None:
            subprocess.run([sys.executable, str(REPO / "backup.py"), "orcl", action], env=env, check=True,
                           capture_output=True)

        backup("config")
        rows = []
        for label, lose_one in (("first run (level 0 copies)", False), ("nothing missing", False),
                                ("one archivelog missing", True)):
            db.workload(10, advance=1)
            if lose_one:
                victim = sorted((root / "backup" / "orcl" / "archivelog").iterdir())[-1]
                victim.unlink()
            started = time.monotonic()
            backup("imagecopywithsnap")
            seconds = time.monotonic() - started
            rows.append((label, count(root / "backup" / "orcl"), seconds))
            time.sleep(1.1)
    print("| imagecopywithsnap run | rman | sqlplus | total | old toolset | wall time |")
    print("| --- | --- | --- | --- | --- | --- |")
    old_total = sum(OLD_TOOLSET.values())
    for label, c, seconds in rows:
        old = old_total + (1 if "missing" in label and "nothing" not in label else 0)
        print(f"| {label} | {c['rman']} | {c['sqlplus']} | {c['rman'] + c['sqlplus']} | {old} | {seconds:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
