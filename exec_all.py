#!/usr/bin/env python3
"""exec_all.py <action> [exclude,list]: run ``backup.py <db> <action>`` for every database.

Databases are the configuration's database sections, in file order; the
comma-separated list names sections to skip.  Each runs in its own process,
one after the other; a failure is reported and the next one still runs.
Exit status 0 when all succeeded, else the highest status seen.
"""
from __future__ import annotations

import sys

from imagecopy import commands, runtime
from imagecopy.backupjob import ACTIONS
from imagecopy.config import Configuration, locate
from imagecopy.errors import EXIT_USAGE, BackupError
from imagecopy.schedule import backup_script

USAGE = f"Usage: exec_all.py <{'|'.join(ACTIONS)}> [exclude_db1,exclude_db2]"


def main(argv: list[str] | None = None) -> int:
    runtime.start()
    argv = sys.argv[1:] if argv is None else argv
    if not 1 <= len(argv) <= 2 or argv[0].lower() not in ACTIONS:
        print(USAGE, file=sys.stderr)
        return EXIT_USAGE
    action = argv[0].lower()
    excluded = {x.strip() for x in argv[1].split(",")} if len(argv) == 2 else set()
    try:
        config = Configuration(locate())
    except BackupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        # backup.py beside this script in a checkout; the installed backup command otherwise.
        backup = backup_script()
    except BackupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    launcher = [sys.executable, str(backup)] if backup.suffix == ".py" else [str(backup)]
    worst = 0
    for db in config.database_sections():
        if db in excluded:
            print(f"--- {db}: skipped")
            continue
        print(f"--- {db}: backup.py {db} {action}", flush=True)
        result = commands.run([*launcher, db, action], check=False, keep_ospassword=action == "setschedule",
                              on_line=lambda line: print(line, flush=True))
        if result.returncode != 0:
            print(f"--- {db}: FAILED with exit code {result.returncode}", flush=True)
        worst = max(worst, result.returncode)
    return worst


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
