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
import logging
import re
from datetime import datetime
from pathlib import Path

from .atomicfile import write_atomic
from .errors import RestoreError

log = logging.getLogger(__name__)

TARGET_KEYS = ("lastscn", "lasttime", "bctfile")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_BYTES = 64 * 1024   # the real file is a few hundred bytes
# A path Oracle is given: absolute or an ASM name, one line, no quote (it lands in SQL and init.ora).
_PATH = r"(?:/|\+)[^\x00-\x1f\x7f'\"]{0,1000}"
# Each key of [dbparams] and the only values a restore accepts for it.  The file comes from the
# backup storage: whatever else it holds must not reach init.ora, SQL*Plus or RMAN.
SCHEMA: dict[str, re.Pattern[str]] = {
    "db_name": re.compile(r"[A-Za-z][A-Za-z0-9_$#]{0,7}"),
    "undo_tablespace": re.compile(r"[A-Za-z][A-Za-z0-9_$#]{0,127}"),
    "compatible": re.compile(r"\d{1,2}(?:\.\d{1,4}){0,4}"),
    "db_block_size": re.compile(r"2048|4096|8192|16384|32768"),
    "db_files": re.compile(r"[1-9]\d{0,4}"),
    "enable_pluggable_database": re.compile(r"(?i:true|false)"),
    "backup-finished": re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),
    "lastscn": re.compile(r"\d{1,20}"),
    "lasttime": re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),
    "bctfile": re.compile(f"(?:{_PATH})?"),
}
TIMESTAMPS = ("backup-finished", "lasttime")


class ParamsError(RestoreError):
    """autorestore.cfg does not match its schema: that database's restore fails, and says why."""


def _shown(value: str) -> str:
    """A hostile value quoted on one line, shortened."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load(path: Path) -> dict[str, str]:
    """``[dbparams]`` of an autorestore.cfg read on the restore host, checked against :data:`SCHEMA`.

    Unknown keys are ignored with a warning; a duplicate key or section, a value that
    does not match its key's pattern (an embedded newline from an INI continuation line
    included), a symlink, an oversized or undecodable file are errors.

    :raises ParamsError: naming the file, the key and the reason.
    """
    path = Path(path)
    try:
        if path.is_symlink():
            raise ParamsError(f"{path}: is a symbolic link; refused")
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ParamsError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise ParamsError(f"{path}: larger than {MAX_BYTES} bytes; refused")
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        parser.read_string(data.decode("utf-8"), source=str(path))
    except UnicodeDecodeError:
        raise ParamsError(f"{path}: not UTF-8 text") from None
    except configparser.Error as exc:
        raise ParamsError(f"{path}: cannot parse: {' '.join(str(exc).split())[:200]}") from None
    if not parser.has_section("dbparams"):
        raise ParamsError(f"{path}: no [dbparams] section")
    if parser.defaults():   # its keys would silently fill in for [dbparams]
        raise ParamsError(f"{path}: a [DEFAULT] section is not allowed")
    values: dict[str, str] = {}
    for key, value in parser.items("dbparams"):
        pattern = SCHEMA.get(key)
        if pattern is None:
            log.warning("%s: unknown key %s ignored", path, _shown(key))
            continue
        if not pattern.fullmatch(value):
            raise ParamsError(f"{path}: key '{key}' has an invalid value {_shown(value)}")
        if key in TIMESTAMPS:
            try:
                datetime.strptime(value, TIME_FORMAT)
            except ValueError:
                raise ParamsError(f"{path}: key '{key}' is not a valid time: {_shown(value)}") from None
        values[key] = value
    return values


def read(path: Path) -> dict[str, str]:
    """The file as the backup side wrote it, unchecked (the backup side rewrites its own file)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(path, encoding="utf-8")
    return dict(parser["dbparams"]) if parser.has_section("dbparams") else {}


def write(path: Path, values: dict[str, str]) -> None:
    lines = ["[dbparams]"] + [f"{k}: {v}" for k, v in values.items()]
    write_atomic(path, "\n".join(lines) + "\n")


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
