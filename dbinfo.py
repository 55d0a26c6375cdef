#!/usr/bin/env python3
"""dbinfo.py <db>: the database's Grid Infrastructure registration, for a rebuild.

Prints ``srvctl config database`` and ``srvctl config service`` and the
``srvctl add service`` commands that would recreate the enabled services, in
the syntax of the Oracle home's version (imagecopy/clusterware.py).
backup.py writes the same into each backup's log.
"""
from __future__ import annotations

import sys
from pathlib import Path

from imagecopy import cli as runner
from imagecopy.clusterware import OLDEST, describe, oracle_version, version_str
from imagecopy.config import Configuration, locate
from imagecopy.errors import UsageError

USAGE = "Usage: dbinfo.py <db>"


def parser() -> runner.ArgParser:
    p = runner.ArgParser("dbinfo.py", USAGE, description="The database's Grid Infrastructure registration "
                         "and the srvctl commands that recreate its services.")
    p.add_argument("db", help="database (configuration section)")
    return p


def main(argv: list[str] | None = None) -> int:
    runner.start()
    args = runner.parse(parser(), sys.argv[1:] if argv is None else argv)
    if isinstance(args, int):
        return args

    def work() -> int:
        config = Configuration(locate(), args.db)
        if not config.getbool("gimanaged"):
            raise UsageError("gimanaged option is not set to TRUE for this database")
        oraclehome = Path(config.get("oraclehome", "generic"))
        version = oracle_version(oraclehome)
        if version is not None and version < OLDEST:
            # The old toolset's line, as it was (no ERROR: prefix)
            print(f"Detected Oracle software version {version_str(version)} is too old", file=sys.stderr)
            return 1
        print(describe(config, args.db, oraclehome), end="")
        return 0
    return runner.guarded(work)


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
