#!/usr/bin/env python3
"""zvolume.py <db> create: create the database's backup filesystem/volume on the storage."""
from __future__ import annotations

import sys

from imagecopy import cli as runner
from imagecopy.config import Configuration, locate
from storage import create_snapper

USAGE = "Usage: zvolume.py <db> create"


def parser() -> runner.ArgParser:
    p = runner.ArgParser("zvolume.py", USAGE, description="Create the database's backup volume on the storage.")
    p.add_argument("db", help="database (configuration section)")
    p.add_argument("action", type=str.lower, choices=["create"], help="create the volume")
    return p


def main(argv: list[str] | None = None) -> int:
    runner.start()
    args = runner.parse(parser(), sys.argv[1:] if argv is None else argv)
    if isinstance(args, int):
        return args

    def work() -> int:
        snapper = create_snapper(Configuration(locate(), args.db), args.db)
        snapper.createvolume()
        print(f"Backup volume for {args.db} created: {snapper.mountstring(args.db)}")
        return 0
    return runner.guarded(work)


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
