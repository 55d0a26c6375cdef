"""The simulated controlfile: one JSON document, saved atomically, locked while changed.

It holds what RMAN and the v$ views read: the database identity, the current
SCN, each redo thread's current log sequence, datafiles, archived logs (one row per destination),
datafile copies, backup pieces, the RMAN configuration and block change
tracking.  A controlfile backup is a backup piece holding a copy of it.
"""
from __future__ import annotations

import copy
import fcntl
import os
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from . import simfile


def oracle_stamp(ts: float) -> int:
    """Oracle's STAMP: seconds on a calendar of 12 months of 31 days from 1988."""
    d = datetime.fromtimestamp(ts)
    return (((((d.year - 1988) * 12 + d.month - 1) * 31 + d.day - 1) * 24 + d.hour) * 60 + d.minute) * 60 + d.second


def new_thread(number: int, first_change: int, first_time: float) -> dict:
    """A redo thread's record: its current log's sequence and first change."""
    return {"thread": number, "sequence": 1, "log_first_change": first_change, "log_first_time": first_time,
            "enabled": "PUBLIC", "status": "OPEN"}


def new_document(**identity: Any) -> dict:
    doc = {
        "db_name": identity["db_name"],
        "db_unique_name": identity.get("db_unique_name", identity["db_name"]),
        "dbid": identity["dbid"],
        "block_size": identity["block_size"],
        "cdb": identity.get("cdb", False),
        "edition": identity.get("edition", "EE"),
        "created": identity["created"],
        "resetlogs_id": identity["resetlogs_id"],
        "resetlogs_scn": identity.get("resetlogs_scn", 1),
        "current_scn": identity.get("current_scn", 1),
        # One record per redo thread (RAC: one per instance); the current log of each.
        "threads": [new_thread(1, identity.get("current_scn", 1), identity["created"])],
        "flashback": False,
        "datafiles": [],
        "tablespaces": [],
        "archived_logs": [],
        "datafile_copies": [],
        "backup_pieces": [],
        "rman_config": {},
        "bct": {"status": "DISABLED", "filename": None},
        "recid": {},
        "oradata": identity.get("oradata"),
        "backup_scn": None,
    }
    return doc


class Controlfile:
    """A loaded controlfile; ``save()`` writes it back to every copy."""

    def __init__(self, paths: list[Path], doc: dict):
        self.paths = [Path(p) for p in paths]
        self.doc = doc

    # -- persistence ---------------------------------------------------
    @classmethod
    def load(cls, paths: list[Path]) -> Controlfile:
        _kind, doc, _ = simfile.read(Path(paths[0]), "CONTROLFILE")
        return cls(paths, doc)

    def save(self) -> None:
        for p in self.paths:
            simfile.write(p, "CONTROLFILE", self.doc)

    def snapshot(self) -> dict:
        return copy.deepcopy(self.doc)

    # -- record ids ------------------------------------------------------
    def next_recid(self, table: str) -> int:
        n = self.doc["recid"].get(table, 0) + 1
        self.doc["recid"][table] = n
        return n

    # -- datafiles ------------------------------------------------------
    def datafiles(self) -> list[dict]:
        return sorted(self.doc["datafiles"], key=lambda d: d["file"])

    def datafile(self, file_no: int) -> dict | None:
        for d in self.doc["datafiles"]:
            if d["file"] == file_no:
                return d
        return None

    # -- redo threads ----------------------------------------------------
    def threads(self) -> list[dict]:
        """Enabled redo threads, by number."""
        return sorted((t for t in self.doc["threads"] if t.get("enabled")), key=lambda t: t["thread"])

    def thread(self, number: int) -> dict | None:
        return next((t for t in self.doc["threads"] if t["thread"] == number and t.get("enabled")), None)

    # -- archived logs ---------------------------------------------------
    def live_archived_logs(self) -> list[dict]:
        return [a for a in self.doc["archived_logs"] if a["status"] == "A" and a["name"]]

    # -- copies and pieces -------------------------------------------------
    def live_copies(self, tag: str | None = None) -> list[dict]:
        return [
            c for c in self.doc["datafile_copies"]
            if c["status"] == "A" and (tag is None or c["tag"] == tag.upper())
        ]

    def live_pieces(self) -> list[dict]:
        return [p for p in self.doc["backup_pieces"] if p["status"] == "A"]


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise simulated processes that change the same database."""
    lock = Path(str(path) + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
