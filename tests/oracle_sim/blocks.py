"""Block format of simulated datafiles.

Every block is ``block_size`` bytes::

    0:4    magic b"SIMB"
    4:8    file number            (big-endian u32)
    8:12   block number           (big-endian u32)
    12:20  SCN that last wrote it (big-endian u64)
    20:24  CRC32 of every other byte of the block
    24:    payload

Block 0 is the datafile header; its payload is JSON describing the file
(database, tablespace, creation and checkpoint SCN).  Other blocks hold
either pseudo-random data derived from a seed (what a workload writes), or
structured content (rows of a table, the data dictionary) as length-prefixed
JSON padded with zeros.
"""
from __future__ import annotations

import json
import random
import struct
import zlib
from typing import Any

MAGIC = b"SIMB"
HEADER = struct.Struct(">4sIIQI")
HEADER_SIZE = HEADER.size  # 24


class BlockError(Exception):
    """A block that cannot be decoded (wrong magic, size)."""


def checksum(block: bytes) -> int:
    return zlib.crc32(block[24:], zlib.crc32(block[:20])) & 0xFFFFFFFF


def pack(file_no: int, block_no: int, scn: int, payload: bytes, block_size: int) -> bytes:
    room = block_size - HEADER_SIZE
    if len(payload) > room:
        raise BlockError(f"payload of {len(payload)} bytes does not fit a {block_size}-byte block")
    payload = payload + b"\0" * (room - len(payload))
    body = HEADER.pack(MAGIC, file_no, block_no, scn, 0) + payload
    crc = checksum(body)
    return body[:20] + struct.pack(">I", crc) + body[24:]


def unpack(block: bytes) -> tuple[int, int, int, int]:
    """Return (file#, block#, scn, stored checksum)."""
    magic, file_no, block_no, scn, crc = HEADER.unpack_from(block)
    if magic != MAGIC:
        raise BlockError("bad block magic")
    return file_no, block_no, scn, crc


def is_valid(block: bytes, file_no: int | None = None, block_no: int | None = None) -> bool:
    """True when magic, checksum and (if given) the block address are right."""
    try:
        f, b, _scn, crc = unpack(block)
    except (BlockError, struct.error):
        return False
    if file_no is not None and f != file_no:
        return False
    if block_no is not None and b != block_no:
        return False
    return crc == checksum(block)


def block_scn(block: bytes) -> int:
    return unpack(block)[2]


def seeded_payload(seed: int, block_size: int) -> bytes:
    """The pseudo-random contents a workload change with this seed writes."""
    return random.Random(seed).randbytes(block_size - HEADER_SIZE)


def json_payload(obj: Any) -> bytes:
    text = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    return struct.pack(">I", len(text)) + text


def read_json_payload(block: bytes) -> Any:
    (length,) = struct.unpack_from(">I", block, HEADER_SIZE)
    if length == 0:
        return None
    return json.loads(block[HEADER_SIZE + 4 : HEADER_SIZE + 4 + length])


def json_capacity(block_size: int) -> int:
    return block_size - HEADER_SIZE - 4
