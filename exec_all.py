#!/usr/bin/env python3
"""exec_all.py <action> [exclude,list]: run ``backup.py <db> <action>`` for every database.

Databases are the configuration's database sections, in file order; the
comma-separated list names sections to skip.  Each runs in its own process,
one after the other; a failure is reported and the next one still runs.
Exit status 0 when all succeeded, else the highest status seen.
"""
from __future__ import annotations

import sys

from imagecopy import cli as runner
from imagecopy import commands
from imagecopy.backupjob import ACTIONS
from imagecopy.config import Configuration, locate
from imagecopy.schedule import backup_script

USAGE = f"Usage: exec_all.py <{'|'.join(ACTIONS)}> [exclude_db1,exclude_db2]"


def parser() -> runner.ArgParser:
    p = runner.ArgParser("exec_all.py", USAGE, description="Run backup.py <db> <action> for every database.")
    p.add_argument("action", type=str.lower, choices=ACTIONS, metavar="action", help=" | ".join(ACTIONS))
    p.add_argument("exclude", nargs="?", default="", help="comma-separated databases to skip")
    return p


def main(argv: list[str] | None = None) -> int:
    runner.start()
    args = runner.parse(parser(), sys.argv[1:] if argv is None else argv)
    if isinstance(args, int):
        return args
    excluded = {x.strip() for x in args.exclude.split(",")} if args.exclude else set()
    return runner.guarded(lambda: run_all(args.action, excluded))


def run_all(action: str, excluded: set[str]) -> int:
    """Each database in turn; the highest exit status seen."""
    config = Configuration(locate())
    # backup.py beside this script in a checkout; the installed backup command otherwise.
    backup = backup_script()
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
