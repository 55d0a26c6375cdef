"""Redo log files as blocks: the online logs and the archivelogs, written and verified.

A log is a sequence of 512-byte redo blocks, numbered from 1 as Oracle's
(block 0, the file header, is the simulator file's JSON header line for an
archivelog; an online log has none).  Every block starts with::

    0:4    log sequence#           (big-endian u32)
    4:8    block#                  (big-endian u32)
    8:12   CRC32 of the block with these four bytes zero
    12:14  bytes of payload used
    14:16  reserved (zero)
    16:    payload

Block 1 is the log header (JSON): database, thread, sequence, first and next
change and time, the number of the log's first redo record, how many records
and how many blocks the log has.  Blocks 2… carry the records, one JSON line
each, as one byte stream cut into blocks.  Every record carries ``n``, its
number in the thread's redo stream, so a record missing from a log (or a log
missing from a chain) leaves a gap that reading finds.

Reading verifies what Oracle verifies (checksum, sequence and block number
of every block, the log's length, the continuity of record numbers and
change numbers) and fails with Oracle's error stack: ORA-00368 (checksum),
ORA-00354 (header), ORA-00355 (change numbers), each followed by ORA-00353
and ORA-00334 (archived) or ORA-00312 (online); a log holding another
sequence than the one asked for fails with ORA-00310.
"""
from __future__ import annotations

import json
import struct
import zlib
from datetime import datetime
from pathlib import Path

from . import simfile

BLOCK = 512
HEAD = struct.Struct(">IIIHH")
ROOM = BLOCK - HEAD.size


class RedoLogError(Exception):
    """A log that fails verification; ``lines`` is Oracle's error stack for it."""

    def __init__(self, *lines: str):
        super().__init__(lines[0])
        self.lines = list(lines)


def _crc(block: bytes) -> int:
    return zlib.crc32(block[HEAD.size:], zlib.crc32(block[:8])) & 0xFFFFFFFF


def make_block(sequence: int, block_no: int, payload: bytes) -> bytes:
    """One redo block holding ``payload`` (at most ROOM bytes), checksummed."""
    body = HEAD.pack(sequence, block_no, 0, len(payload), 0) + payload + b"\0" * (ROOM - len(payload))
    return body[:8] + struct.pack(">I", _crc(body)) + body[12:]


def _dumps(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def encode(loghdr: dict, records: list[dict]) -> bytes:
    """Blocks of a log: the header block, then the records' stream (``records``/``blocks`` filled in)."""
    stream = b"".join(_dumps(r) + b"\n" for r in records)
    chunks = [stream[i:i + ROOM] for i in range(0, len(stream), ROOM)]
    head = dict(loghdr, records=len(records), blocks=1 + len(chunks))
    seq = head["sequence"]
    out = [make_block(seq, 1, _dumps(head))]
    out += [make_block(seq, i, chunk) for i, chunk in enumerate(chunks, start=2)]
    return b"".join(out)


def log_header_fields(header: dict) -> dict:
    """The log header block's fields from an archivelog's file header."""
    keys = ("dbid", "thread", "sequence", "first_change", "next_change", "first_time", "next_time",
            "resetlogs_id", "first_record")
    return {k: header.get(k) for k in keys}


def stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%m/%d/%Y %H:%M:%S")


class _Reader:
    """Verifies one log's blocks and records; ``where`` is its ORA-00334/00312 line."""

    def __init__(self, data: bytes, where: str):
        self.data, self.where = data, where
        self.change, self.time = 0, 0.0          # the last good change, for ORA-00353

    def fail(self, first: str, block_no: int) -> RedoLogError:
        return RedoLogError(first, f"ORA-00353: log corruption near block {block_no} change {self.change} "
                                   f"time {stamp(self.time)}", self.where)

    def block(self, block_no: int, sequence: int | None) -> bytes:
        raw = self.data[(block_no - 1) * BLOCK:block_no * BLOCK]
        if len(raw) < BLOCK:
            raise self.fail("ORA-00354: corrupt redo log block header", block_no)
        seq, number, crc, used, _ = HEAD.unpack_from(raw)
        if (sequence is not None and seq != sequence) or number != block_no or used > ROOM:
            raise self.fail("ORA-00354: corrupt redo log block header", block_no)
        if crc != _crc(raw):
            raise self.fail("ORA-00368: checksum error in redo log block", block_no)
        return raw[HEAD.size:HEAD.size + used]

    def read(self) -> tuple[dict, list[dict]]:
        try:
            head = json.loads(self.block(1, None))
        except ValueError as exc:
            raise self.fail("ORA-00354: corrupt redo log block header", 1) from exc
        self.change, self.time = head["first_change"], head["first_time"]
        seq, nblocks = head["sequence"], head["blocks"]
        if len(self.data) != nblocks * BLOCK:
            raise self.fail("ORA-00354: corrupt redo log block header", min(len(self.data) // BLOCK, nblocks) + 1)
        records: list[dict] = []
        pending, start_block = b"", 2
        for b in range(2, nblocks + 1):
            pending += self.block(b, seq)
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                self._record(records, head, line, start_block)
                start_block = b
        if pending or len(records) != head["records"]:
            raise self.fail("ORA-00354: corrupt redo log block header", nblocks)
        return head, records

    def _record(self, records: list[dict], head: dict, line: bytes, block_no: int) -> None:
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise self.fail("ORA-00354: corrupt redo log block header", block_no) from exc
        want = head["first_record"] + len(records)
        nxt = head.get("next_change")
        if rec.get("n") != want or rec["scn"] < self.change or (nxt is not None and rec["scn"] >= nxt):
            raise self.fail("ORA-00355: change numbers out of order", block_no)
        self.change, self.time = rec["scn"], rec["t"]
        records.append(rec)


# -- archivelogs -------------------------------------------------------------------------

def write_archivelog(path: Path, header: dict, records: list[dict]) -> None:
    """An archivelog: the file header (what ``catalog`` reads) and the log's redo blocks."""
    simfile.write(path, "ARCHIVELOG", header, encode(log_header_fields(header), records))


def read_archivelog(path: Path, sequence: int | None = None) -> tuple[dict, list[dict]]:
    """File header and verified records; ``sequence``: the one recovery needs (default: the file header's).

    :raises RedoLogError: the log fails verification (Oracle's stack in ``lines``).
    """
    try:
        _kind, header, body = simfile.read(path, "ARCHIVELOG")
    except simfile.SimFileError as exc:
        raise RedoLogError(f"ORA-00308: cannot open archived log '{path}'",
                           "ORA-27047: unable to read the header block of file") from exc
    where = f"ORA-00334: archived log: '{path}'"
    head, records = _Reader(body, where).read()
    wanted = header["sequence"] if sequence is None else sequence
    if head["sequence"] != wanted or head["thread"] != header["thread"]:
        raise RedoLogError(f"ORA-00310: archived log contains sequence {head['sequence']}; sequence {wanted} "
                           "required", where)
    return dict(header, first_record=head["first_record"], records=head["records"]), records


def read_archivelog_header(path: Path) -> dict:
    """The file header only (thread, sequence, SCN range): what RMAN's ``catalog`` reads."""
    return simfile.read(path, "ARCHIVELOG")[1]


# -- online logs -------------------------------------------------------------------------

def online_where(path: Path, thread: int) -> str:
    return f"ORA-00312: online log {thread} thread {thread}: '{path}'"


def start_online(path: Path, loghdr: dict) -> None:
    """A new (empty) current log: its header block only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(dict(loghdr, next_change=None, next_time=None), []))


def append_online(path: Path, records: list[dict]) -> None:
    """Append records to the current log, numbering them; its last partial block is rewritten."""
    with open(path, "r+b") as fh:
        first = fh.read(BLOCK)
        head = json.loads(first[HEAD.size:HEAD.size + HEAD.unpack_from(first)[3]])
        for i, rec in enumerate(records):
            rec["n"] = head["first_record"] + head["records"] + i
        last = head["blocks"]
        tail = b""
        if last > 1:
            fh.seek((last - 1) * BLOCK)
            raw = fh.read(BLOCK)
            used = HEAD.unpack_from(raw)[3]
            if used < ROOM:
                tail, last = raw[HEAD.size:HEAD.size + used], last - 1
        stream = tail + b"".join(_dumps(r) + b"\n" for r in records)
        chunks = [stream[i:i + ROOM] for i in range(0, len(stream), ROOM)]
        fh.seek(last * BLOCK)
        fh.write(b"".join(make_block(head["sequence"], last + 1 + i, c) for i, c in enumerate(chunks)))
        head.update(records=head["records"] + len(records), blocks=last + len(chunks))
        fh.seek(0)
        fh.write(make_block(head["sequence"], 1, _dumps(head)))


def read_online(path: Path, thread: int) -> tuple[dict | None, list[dict]]:
    """The current log's header and verified records (None and [] when there is no log yet)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, []
    if not data:
        return None, []
    return _Reader(data, online_where(path, thread)).read()


def check_chain(prev: dict | None, head: dict, where: str) -> None:
    """A thread's next log must start where the previous one ended (change and record numbers)."""
    if prev is None:
        return
    if head["first_change"] != prev["next_change"] or head["first_record"] != prev["first_record"] + prev["records"]:
        raise RedoLogError("ORA-00355: change numbers out of order",
                           f"ORA-00353: log corruption near block 2 change {prev['next_change']} "
                           f"time {stamp(prev['next_time'])}", where)
