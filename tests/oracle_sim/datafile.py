"""Simulated datafiles: create, read and write blocks, read and set the header.

A datafile, an image copy of one, and a datafile restored from a copy all
share this format, so RMAN can tell a copy by reading its header as the real
one does.
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any, Iterator

from . import blocks


class DatafileError(Exception):
    """The file is not a datafile of the expected database."""


def format_seed(dbid: int, file_no: int, block_no: int, creation_scn: int) -> int:
    """Seed of a block's contents when its file is created (formatted, empty)."""
    return (dbid * 1_000_003 + file_no * 10_007 + block_no * 101 + creation_scn) & (2**63 - 1)


def formatted_block(header: dict, block_no: int) -> bytes:
    """A block of a freshly created file; recovery recreates files the same way."""
    seed = format_seed(header["dbid"], header["file"], block_no, header["creation_scn"])
    payload = blocks.seeded_payload(seed, header["block_size"])
    return blocks.pack(header["file"], block_no, header["creation_scn"], payload, header["block_size"])


def header_block(header: dict) -> bytes:
    return blocks.pack(
        header["file"], 0, header["checkpoint_scn"], blocks.json_payload(header), header["block_size"]
    )


def create(path: Path, header: dict) -> None:
    """Create a datafile of ``header['blocks']`` blocks, formatted at creation SCN.

    ``header`` keys: kind, dbid, db_name, file, ts, block_size, blocks,
    creation_scn, creation_time, checkpoint_scn, checkpoint_time.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".creating")
    with open(tmp, "wb") as fh:
        fh.write(header_block(header))
        for b in range(1, header["blocks"]):
            fh.write(formatted_block(header, b))
    tmp.replace(path)


def read_header(path: Path) -> dict:
    """The JSON header of a datafile (or copy). Raises DatafileError if not one."""
    try:
        with open(path, "rb") as fh:
            first = fh.read(64 * 1024)
    except OSError as exc:
        raise DatafileError(str(exc)) from exc
    if first[:4] != blocks.MAGIC:
        raise DatafileError(f"{path}: not a datafile")
    try:
        # The block size is in the header JSON; read it with generous length.
        hdr = blocks.read_json_payload(first)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DatafileError(f"{path}: corrupt header") from exc
    if not isinstance(hdr, dict) or hdr.get("kind") != "datafile":
        raise DatafileError(f"{path}: not a datafile")
    return hdr


def write_header(path: Path, header: dict) -> None:
    with open(path, "r+b") as fh:
        fh.write(header_block(header))


class Datafile:
    """Block access to one datafile (or datafile copy) on disk."""

    def __init__(self, path: Path, block_size: int | None = None):
        self.path = Path(path)
        self.header = read_header(self.path)
        self.block_size = block_size or self.header["block_size"]

    @property
    def file_no(self) -> int:
        return self.header["file"]

    @property
    def nblocks(self) -> int:
        return self.header["blocks"]

    def read(self, block_no: int) -> bytes:
        with open(self.path, "rb") as fh:
            fh.seek(block_no * self.block_size)
            data = fh.read(self.block_size)
        if len(data) != self.block_size:
            raise DatafileError(f"{self.path}: block {block_no} beyond end of file")
        return data

    def write(self, block_no: int, data: bytes) -> None:
        with open(self.path, "r+b") as fh:
            fh.seek(block_no * self.block_size)
            fh.write(data)

    def write_many(self, items: dict[int, bytes]) -> None:
        with open(self.path, "r+b") as fh:
            for block_no in sorted(items):
                fh.seek(block_no * self.block_size)
                fh.write(items[block_no])

    def iter_blocks(self, start: int = 1) -> Iterator[tuple[int, bytes]]:
        with open(self.path, "rb") as fh:
            fh.seek(start * self.block_size)
            for b in range(start, self.nblocks):
                yield b, fh.read(self.block_size)

    def set_checkpoint(self, scn: int, when: float) -> None:
        self.header["checkpoint_scn"] = scn
        self.header["checkpoint_time"] = when
        write_header(self.path, self.header)

    def read_json(self, block_no: int) -> Any:
        return blocks.read_json_payload(self.read(block_no))


def copy_datafile(src: Path, dest: Path, checkpoint_scn: int, when: float) -> dict:
    """Copy a datafile block by block; the copy's header carries the copy's checkpoint."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    df = Datafile(src)
    header = dict(df.header, checkpoint_scn=checkpoint_scn, checkpoint_time=when)
    with open(src, "rb") as fin, open(tmp, "wb") as fout:
        fout.write(header_block(header))
        fin.seek(df.block_size)
        while True:
            chunk = fin.read(1024 * df.block_size)
            if not chunk:
                break
            fout.write(chunk)
    os.replace(tmp, dest)
    return header


def random_suffix(rng: random.Random | None = None, n: int = 8) -> str:
    """Eight lower-case alphanumerics, as RMAN's %u and OMF names have."""
    rng = rng or random.SystemRandom()
    return "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)
