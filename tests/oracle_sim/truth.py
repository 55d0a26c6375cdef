"""The test oracle: production's blocks as of any SCN, rebuilt from the history.

Every change a simulated database makes is appended to its history file
(outside anything RMAN or the toolset can delete).  Rebuilding a datafile
from its creation record and the history up to an SCN gives what a correct
point-in-time restore must produce, byte for byte.

It reads the history with its own small reader (``_replay_change``), not
the change-vector code recovery runs, so a fault in recovery's checks or
changes cannot hide by being on both sides of a comparison.  It checks
nothing: the history is what production did.
"""
from __future__ import annotations

from pathlib import Path

from . import blocks
from .database import read_history
from .datafile import Datafile, formatted_block, header_block


def _replay_change(blocks_of_file: dict[int, bytes], file_no: int, size: int, rec: dict) -> None:
    """What one change of the history made of its block (a seed, a row added, a whole block)."""
    b = rec["b"]
    if "s" in rec:
        payload = blocks.seeded_payload(rec["s"], size)
    elif "ins" in rec:
        payload = blocks.json_payload((blocks.read_json_payload(blocks_of_file[b]) or []) + [rec["ins"]])
    else:
        payload = blocks.json_payload(rec["blk"])
    blocks_of_file[b] = blocks.pack(file_no, b, rec["scn"], payload, size)


class _MemoryFile:
    """A datafile's blocks, kept in memory while the history is replayed."""

    def __init__(self, header: dict):
        self.header = header
        self.block_size = header["block_size"]
        self.file_no = header["file"]
        self.blocks = {b: formatted_block(header, b) for b in range(1, header["blocks"])}
        self.blocks[0] = header_block(header)

    def read(self, block_no: int) -> bytes:
        return self.blocks[block_no]

    def write(self, block_no: int, data: bytes) -> None:
        self.blocks[block_no] = data


def file_creation(history: list[dict], file_no: int) -> dict:
    for rec in history:
        if rec.get("op") == "adddf" and rec["f"] == file_no:
            return rec
    raise KeyError(f"file {file_no} was never created")


def blocks_as_of(state: Path, dbid: int, file_no: int, scn: int, history: list[dict] | None = None,
                 header: dict | None = None) -> dict[int, bytes]:
    """Blocks 1..n-1 of datafile ``file_no`` after every change with SCN <= ``scn``."""
    history = history if history is not None else read_history(state, dbid)
    created = file_creation(history, file_no)
    if header is None:
        raise ValueError("pass the file header (e.g. Datafile(path).header) to rebuild from")
    base = dict(header, creation_scn=created["df"]["creation_scn"],
                creation_time=created["df"]["creation_time"], checkpoint_scn=created["scn"])
    mem = _MemoryFile(base)
    for rec in history:
        if rec["scn"] > scn:
            break
        if rec.get("op") or rec.get("f") != file_no:
            continue
        _replay_change(mem.blocks, file_no, mem.block_size, rec)
    mem.blocks.pop(0)
    return mem.blocks


def scn_before(state: Path, dbid: int, until_time: float) -> int:
    """The last SCN whose changes happened before ``until_time`` (UNTIL TIME is exclusive)."""
    last = 0
    for rec in read_history(state, dbid):
        if rec["t"] >= until_time:
            break
        last = rec["scn"]
    return last


def differing_blocks(path: Path, expected: dict[int, bytes]) -> list[int]:
    """Block numbers of the file at ``path`` that differ from ``expected``."""
    df = Datafile(path)
    return [b for b, data in sorted(expected.items()) if df.read(b) != data]


def valid(data: bytes, file_no: int, block_no: int) -> bool:
    return blocks.is_valid(data, file_no, block_no)
