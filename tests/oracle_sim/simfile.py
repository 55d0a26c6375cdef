"""Container format of every non-datafile file the simulator writes.

Archivelogs, backup pieces, controlfiles and controlfile backups all start
with ``ORASIM <KIND>\\n`` followed by a JSON header line and an optional body.
RMAN's ``catalog`` reads the first line to tell what a file is, as the real
one reads file headers; anything else "has a corrupted header".
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PREFIX = b"ORASIM "
KINDS = ("ARCHIVELOG", "BACKUPPIECE", "CONTROLFILE")


class SimFileError(Exception):
    """Not a simulator file, or not of the expected kind."""


def write(path: Path, kind: str, header: dict, body: bytes = b"") -> None:
    """Write atomically (tmp + rename), so a killed process leaves no half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(PREFIX + kind.encode() + b"\n")
        fh.write(json.dumps(header, sort_keys=True).encode() + b"\n")
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def kind_of(path: Path) -> str | None:
    """The kind of a simulator file, or None for anything else."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(64)
    except OSError:
        return None
    if not first.startswith(PREFIX):
        return None
    kind = first[len(PREFIX):].strip().decode(errors="replace")
    return kind if kind in KINDS else None


def read(path: Path, kind: str | None = None) -> tuple[str, dict, bytes]:
    try:
        with open(path, "rb") as fh:
            first = fh.readline(64)
            header_line = fh.readline()
            body = fh.read()
    except OSError as exc:
        raise SimFileError(str(exc)) from exc
    if not first.startswith(PREFIX):
        raise SimFileError(f"{path}: the file header is corrupted")
    found = first[len(PREFIX):].strip().decode(errors="replace")
    if kind and found != kind:
        raise SimFileError(f"{path}: is a {found}, not a {kind}")
    try:
        header: Any = json.loads(header_line)
    except ValueError as exc:
        raise SimFileError(f"{path}: the file header is corrupted") from exc
    return found, header, body
