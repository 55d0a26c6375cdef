"""Redo: change vectors, applied to datafiles by transactions, recovery and standby apply.

A change record is a dict; a block change (a change vector) names its block,
the SCN it expects the block to carry (``p``, the block's previous version)
and the change:

* ``{"scn", "t", "f", "b", "p", "s": seed}`` — the block's payload becomes the
  pseudo-random bytes of ``seed`` (what a workload writes);
* ``{"scn", "t", "f", "b", "p", "ins": row}`` — a row appended to a table block;
* ``{"scn", "t", "f", "b", "p", "blk": obj}`` — structured block content replaced;
* ``{"scn", "t", "op": "adddf", "f", "df": {...}}`` — a datafile was created;
* ``{"scn", "t", "op": "dropts", "ts", "files": [...]}`` — a tablespace was dropped.

Every record also carries ``n``, its number in its thread's redo (see
:mod:`redolog`).  Records of one transaction share one SCN and one time.
Recovery applies a change only to a block whose checksum is right and whose
SCN is the one the change expects; a block already at or past the change's
SCN is skipped (a recovery run again after a stop).  Anything else stops
recovery as Oracle does (ORA-10567, "Redo is inconsistent with data block").
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import blocks
from .datafile import Datafile
from .redolog import RedoLogError, read_archivelog, read_archivelog_header, write_archivelog


class RedoInconsistent(Exception):
    """A change vector that does not fit its block (corrupt, or not the version it expects)."""

    def __init__(self, df: Datafile, rec: dict):
        super().__init__(df.path, rec["b"])
        self.df, self.rec = df, rec

    @property
    def lines(self) -> list[str]:
        f, b = self.df.file_no, self.rec["b"]
        return [f"ORA-10567: Redo is inconsistent with data block (file# {f}, block# {b}, "
                f"file offset is {b * self.df.block_size} bytes)",
                f"ORA-10564: tablespace {self.df.header.get('ts', 'UNKNOWN')}",
                f"ORA-01110: data file {f}: '{self.df.path}'",
                "ORA-10561: block type 'TRANSACTION MANAGED DATA BLOCK', data object# 0"]


def changed_block(rec: dict, old: bytes, file_no: int, size: int) -> bytes:
    """The block a change record makes of the block ``old``."""
    b = rec["b"]
    if "s" in rec:
        payload = blocks.seeded_payload(rec["s"], size)
    elif "ins" in rec:
        rows = blocks.read_json_payload(old) or []
        rows.append(rec["ins"])
        payload = blocks.json_payload(rows)
    elif "blk" in rec:
        payload = blocks.json_payload(rec["blk"])
    else:  # pragma: no cover - records are written by this package only
        raise ValueError(f"unknown redo record {rec}")
    return blocks.pack(file_no, b, rec["scn"], payload, size)


def apply_record(df: Datafile, rec: dict) -> bool:
    """Apply one change vector to an open datafile; False when the block already has it.

    :raises RedoInconsistent: the block is corrupt or is not the version the change expects.
    """
    old = df.read(rec["b"])
    if not blocks.is_valid(old, df.file_no, rec["b"]):
        raise RedoInconsistent(df, rec)
    have = blocks.block_scn(old)
    if have >= rec["scn"]:
        return False
    if have != rec["p"]:
        raise RedoInconsistent(df, rec)
    df.write(rec["b"], changed_block(rec, old, df.file_no, df.block_size))
    return True


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
        # A block already at the change's SCN has it (a recovery run again after it
        # stopped part way): applying a row insert twice would duplicate the row.
        applied += apply_record(df, rec)
    return RecoveryResult(end_scn, end_time, applied, False)


def iter_log_records(paths: Iterable[Path]) -> Iterator[dict]:
    """The verified records of archivelogs, in the order given."""
    for p in paths:
        yield from read_archivelog(p)[1]


__all__ = ["RedoInconsistent", "RedoLogError", "apply_record", "changed_block", "iter_log_records",
           "read_archivelog", "read_archivelog_header", "replay", "write_archivelog"]
