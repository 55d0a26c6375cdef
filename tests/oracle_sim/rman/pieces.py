"""Backup pieces, datafile copies and their repository rows.

A backup piece is a simulator file of kind BACKUPPIECE: its JSON header
says what it holds (``type``: incremental, spfile, controlfile; the tag;
per datafile the blocks it carries and the SCN range), its body the raw
blocks in header order.  A controlfile backup carries the controlfile
document itself.  Because the header is self-describing, ``catalog`` can
rebuild a piece's row from the file alone, as RMAN does from a real piece.

Repository rows (controlfile document):

* ``datafile_copies``: recid, stamp, file, name, tag, ts, creation_scn,
  checkpoint_scn, checkpoint_time, completion_time, incremental_level,
  blocks, block_size, status (A/U/D/X), deleted (YES/NO);
* ``backup_pieces``: recid, stamp, bs_key, set_stamp, set_count, piece,
  copy, handle, tag, device_type, status, deleted, type,
  incremental_level, files, controlfile_included, spfile_included,
  autobackup, start_time, completion_time, bytes, checkpoint_scn;
* ``controlfile_copies``: recid, stamp, name, tag, checkpoint_scn,
  completion_time, status, deleted.
"""
from __future__ import annotations

import re
from pathlib import Path

from .. import blocks, simfile
from ..controlfile import Controlfile, oracle_stamp
from ..database import Database
from ..datafile import Datafile, write_header
from .output import RmanError


def missing_file_lines(path: object) -> list[str]:
    return [f'ORA-19505: failed to identify file "{path}"', "ORA-27037: unable to obtain file status",
            "Linux-x86_64 Error: 2: No such file or directory", "Additional information: 7"]


def read_piece(path: Path) -> tuple[dict, bytes]:
    try:
        _kind, header, body = simfile.read(Path(path), "BACKUPPIECE")
    except simfile.SimFileError as exc:
        if not Path(path).exists():
            raise RmanError(*missing_file_lines(path)) from exc
        raise RmanError(f"ORA-19870: error while restoring backup piece {path}",
                        "ORA-19608: " + f"{path} is not a backup piece") from exc
    return header, body


def write_piece(path: Path, header: dict, body: bytes = b"", reuse: bool = False) -> None:
    if path.exists() and not reuse:
        raise RmanError(f'ORA-19504: failed to create file "{path}"', "ORA-27038: created file already exists",
                        "Additional information: 1")
    simfile.write(path, "BACKUPPIECE", header, body)


def piece_header(db: Database, kind: str, tag: str, now: float, **extra: object) -> dict:
    doc = db.cf.doc
    header = {"dbid": doc["dbid"], "db_name": doc["db_name"], "type": kind, "tag": tag, "created": now,
              "set_stamp": oracle_stamp(now), "level": None, "files": [], "controlfile": None, "spfile": None,
              "autobackup": False}
    header.update(extra)
    return header


def add_piece_row(cf: Controlfile, handle: Path, header: dict, start: float, now: float) -> dict:
    """Record a piece (new or catalogued); older live rows naming the same file are superseded."""
    for old in cf.doc["backup_pieces"]:
        if old["handle"] == str(handle) and old["status"] in ("A", "U"):
            old["status"], old["deleted"] = "D", "YES"
    files = header.get("files") or []
    row = {
        "recid": cf.next_recid("backup_piece"), "stamp": oracle_stamp(now),
        "bs_key": cf.next_recid("backup_set"), "set_stamp": header.get("set_stamp"),
        "set_count": cf.doc["recid"].get("backup_set", 1), "piece": 1, "copy": 1,
        "handle": str(handle), "tag": header.get("tag"), "device_type": "DISK", "status": "A",
        "deleted": "NO", "type": header["type"], "incremental_level": header.get("level"),
        "files": [f["file"] for f in files], "controlfile_included": header.get("controlfile") is not None,
        "spfile_included": header.get("spfile") is not None, "autobackup": bool(header.get("autobackup")),
        "start_time": start, "completion_time": now,
        "bytes": Path(handle).stat().st_size if Path(handle).exists() else 0,
        "checkpoint_scn": max([f["checkpoint_scn"] for f in files], default=header.get("checkpoint_scn")),
    }
    cf.doc["backup_pieces"].append(row)
    return row


def check_copy_blocks(path: Path, file_no: int, channel: str) -> None:
    """Every block of a datafile copy checked as RMAN reads it (MAXCORRUPT 0: one corrupt block fails)."""
    for b, data in Datafile(path).iter_blocks():
        if not blocks.is_valid(data, file_no, b):
            raise RmanError(f"ORA-19566: exceeded limit of 0 corrupt blocks for file {path}", channel=channel)


def checked_piece_blocks(handle: str, header: dict, body: bytes, file_no: int) -> dict[int, bytes]:
    """A piece's blocks of one datafile, each checksum checked as RMAN restores them."""
    out = piece_blocks(header, body, file_no)
    for b, data in out.items():
        if not blocks.is_valid(data, file_no, b):
            raise RmanError(f"ORA-19870: error while restoring backup piece {handle}",
                            f"ORA-19599: block number {b} is corrupt in backup piece {handle}")
    return out


def piece_blocks(header: dict, body: bytes, file_no: int) -> dict[int, bytes]:
    """The blocks a piece carries for one datafile."""
    offset = 0
    for entry in header["files"]:
        size = entry["block_size"]
        n = len(entry["blocks"])
        if entry["file"] == file_no:
            chunk = body[offset:offset + n * size]
            return {b: chunk[i * size:(i + 1) * size] for i, b in enumerate(entry["blocks"])}
        offset += n * size
    return {}


def add_copy_row(cf: Controlfile, path: Path, header: dict, tag: str | None, now: float) -> dict:
    row = {
        "recid": cf.next_recid("datafile_copy"), "stamp": oracle_stamp(now), "file": header["file"],
        "name": str(path), "tag": tag, "ts": header["ts"], "creation_scn": header["creation_scn"],
        "checkpoint_scn": header["checkpoint_scn"], "checkpoint_time": header["checkpoint_time"],
        "completion_time": now, "incremental_level": 0, "blocks": header["blocks"],
        "block_size": header["block_size"], "status": "A", "deleted": "NO",
    }
    cf.doc["datafile_copies"].append(row)
    return row


def tag_copy(path: Path, tag: str | None) -> dict:
    """Store the tag in the copy's own header, so a catalogued copy keeps it."""
    df = Datafile(path)
    df.header["tag"] = tag
    write_header(path, df.header)
    return df.header


def newest_copy(cf: Controlfile, file_no: int, tag: str | None = None,
                creation_scn: int | None = None) -> dict | None:
    rows = [c for c in cf.live_copies(tag) if c["file"] == file_no
            and (creation_scn is None or c["creation_scn"] == creation_scn)]
    return max(rows, key=lambda c: (c["checkpoint_scn"], c["recid"]), default=None)


def autobackup_format(value: str | None) -> str:
    m = re.search(r"TO '((?:[^']|'')*)'", value or "")
    return m.group(1).replace("''", "'") if m else "%F"


def next_qq(cf: Controlfile, directory: Path, dbid: int, day: str) -> str:
    """RMAN's %F sequence: the next hex number free that day, in the directory and the repository."""
    pattern = re.compile(rf"c-{dbid}-{day}-([0-9A-Fa-f]{{2}})$")
    used = set()
    if directory.is_dir():
        used |= {int(m.group(1), 16) for p in directory.iterdir() if (m := pattern.match(p.name))}
    used |= {int(m.group(1), 16) for r in cf.doc["backup_pieces"] if (m := pattern.match(Path(r["handle"]).name))}
    n = max(used) + 1 if used else 0
    if n > 0xFF:
        raise RmanError("RMAN-06184: the number of autobackups per day exceeds 256")
    return f"{n:02X}"
