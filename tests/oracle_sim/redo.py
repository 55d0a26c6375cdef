"""Redo: change records, the online log, archivelogs and media recovery.

A change record is a dict:

* ``{"scn", "t", "f", "b", "s": seed}`` — the block's payload becomes the
  pseudo-random bytes of ``seed`` (what a workload writes);
* ``{"scn", "t", "f", "b", "ins": row}`` — a row appended to a table block;
* ``{"scn", "t", "f", "b", "blk": obj}`` — structured block content replaced;
* ``{"scn", "t", "op": "adddf", "f", "df": {...}}`` — a datafile was created;
* ``{"scn", "t", "op": "dropts", "ts", "files": [...]}`` — a tablespace was dropped.

Records of one transaction share one SCN and one time.  Recovery replays them
onto datafiles whose checkpoint SCN is older than the record.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import blocks, simfile
from .datafile import Datafile


def write_archivelog(path: Path, header: dict, records: list[dict]) -> None:
    body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()
    simfile.write(path, "ARCHIVELOG", header, body)


def read_archivelog(path: Path) -> tuple[dict, list[dict]]:
    _kind, header, body = simfile.read(path, "ARCHIVELOG")
    records = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    return header, records


def read_archivelog_header(path: Path) -> dict:
    return simfile.read(path, "ARCHIVELOG")[1]


def apply_record(df: Datafile, rec: dict) -> None:
    """Apply one block change record to an open datafile."""
    b = rec["b"]
    size = df.block_size
    if "s" in rec:
        payload = blocks.seeded_payload(rec["s"], size)
    elif "ins" in rec:
        rows = blocks.read_json_payload(df.read(b)) or []
        rows.append(rec["ins"])
        payload = blocks.json_payload(rows)
    elif "blk" in rec:
        payload = blocks.json_payload(rec["blk"])
    else:  # pragma: no cover - records are written by this package only
        raise ValueError(f"unknown redo record {rec}")
    df.write(b, blocks.pack(df.file_no, b, rec["scn"], payload, size))


@dataclass
class RecoveryResult:
    end_scn: int          # checkpoint SCN every recovered file now has
    end_time: float       # time of the last record applied (or the start)
    applied_records: int
    stopped_by_target: bool


class RecoveryTargetTooOld(Exception):
    """A file's checkpoint is already past the recovery target."""

    def __init__(self, file_no: int, scn: int):
        super().__init__(file_no, scn)
        self.file_no = file_no
        self.scn = scn


def replay(
    records: Iterable[dict],
    files: dict[int, Datafile],
    start_scn: int,
    until_time: float | None = None,
    until_scn: int | None = None,
    on_add_datafile: Callable[[dict], Datafile | None] | None = None,
) -> RecoveryResult:
    """Apply records in order to ``files`` (file# -> Datafile).

    A record is applied to a file when its SCN is newer than that file's
    checkpoint; recovery stops before the first record at or after
    ``until_time`` (RMAN's UNTIL TIME is exclusive) or ``until_scn``.
    """
    end_scn = start_scn
    end_time = 0.0
    applied = 0
    for rec in records:
        if until_time is not None and rec["t"] >= until_time:
            return RecoveryResult(end_scn, end_time, applied, True)
        if until_scn is not None and rec["scn"] >= until_scn:
            return RecoveryResult(end_scn, end_time, applied, True)
        if rec["scn"] <= start_scn:
            continue
        end_scn = max(end_scn, rec["scn"])
        end_time = rec["t"]
        op = rec.get("op")
        if op == "adddf":
            if rec["f"] not in files and on_add_datafile is not None:
                created = on_add_datafile(rec)
                if created is not None:
                    files[rec["f"]] = created
            continue
        if op is not None:
            continue
        df = files.get(rec["f"])
        if df is None or rec["scn"] <= df.header["checkpoint_scn"]:
            continue
        if rec["scn"] <= blocks.block_scn(df.read(rec["b"])):
            # Already in the block (a recovery run again after it stopped part way):
            # applying a row insert twice would duplicate the row.
            continue
        apply_record(df, rec)
        applied += 1
    return RecoveryResult(end_scn, end_time, applied, False)


def iter_log_records(paths: Iterable[Path]) -> Iterator[dict]:
    for p in paths:
        yield from read_archivelog(p)[1]
