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

from imagecopy import runtime
from imagecopy.clusterware import OLDEST, describe, oracle_version, version_str
from imagecopy.config import Configuration, locate
from imagecopy.errors import EXIT_USAGE, BackupError

USAGE = "Usage: dbinfo.py <db>"


def main(argv: list[str] | None = None) -> int:
    runtime.start()
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return EXIT_USAGE
    db = argv[0]
    try:
        config = Configuration(locate(), db)
        if not config.getbool("gimanaged"):
            print("gimanaged option is not set to TRUE for this database", file=sys.stderr)
            return EXIT_USAGE
        oraclehome = Path(config.get("oraclehome", "generic"))
        version = oracle_version(oraclehome)
        if version is not None and version < OLDEST:
            print(f"Detected Oracle software version {version_str(version)} is too old", file=sys.stderr)
            return 1
        print(describe(config, db, oraclehome), end="")
    except BackupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
