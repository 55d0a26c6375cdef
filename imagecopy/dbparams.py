"""``autorestore.cfg``: what a restore of a snapshot needs to know about the database.

Section ``[dbparams]``: ``db_name``, ``undo_tablespace``, ``compatible``,
``db_block_size``, ``db_files``, ``enable_pluggable_database``,
``backup-finished`` (rewritten at the end of each backup), and ``lastscn``,
``lasttime``, ``bctfile`` (set just before the next snapshot: the recovery
target of that snapshot).  Every write is atomic, so a killed backup never
leaves a half file in a snapshot, and setting the target replaces an earlier
one instead of appending a duplicate.
"""
from __future__ import annotations

import configparser
import os
from pathlib import Path

TARGET_KEYS = ("lastscn", "lasttime", "bctfile")


def read(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(path, encoding="utf-8")
    return dict(parser["dbparams"]) if parser.has_section("dbparams") else {}


def write(path: Path, values: dict[str, str]) -> None:
    lines = ["[dbparams]"] + [f"{k}: {v}" for k, v in values.items()]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def set_target(path: Path, lastscn: str | None, lasttime: str | None, bctfile: str | None) -> bool:
    """Record the recovery target in an existing file; returns False when there is no file yet."""
    if not path.exists():
        return False
    values = {k: v for k, v in read(path).items() if k not in TARGET_KEYS}
    for key, value in zip(TARGET_KEYS, (lastscn, lasttime, bctfile)):
        if value is not None:
            values[key] = value
    write(path, values)
    return True
