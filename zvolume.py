#!/usr/bin/env python3
"""zvolume.py <db> create: create the database's backup filesystem/volume on the storage."""
from __future__ import annotations

import sys

from imagecopy import runtime
from imagecopy.config import Configuration, locate
from imagecopy.errors import EXIT_USAGE, BackupError

USAGE = "Usage: zvolume.py <db> create"


def main(argv: list[str] | None = None) -> int:
    runtime.start()
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[1].lower() != "create" or argv[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return EXIT_USAGE
    db = argv[0]
    try:
        from storage import create_snapper
        snapper = create_snapper(Configuration(locate(), db), db)
        snapper.createvolume()
        print(f"Backup volume for {db} created: {snapper.mountstring(db)}")
    except BackupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
