"""Media recovery: which archivelogs a recovery needs, and replaying them.

Used by RMAN's ``recover database`` and by the tests' own checks.  The logs
come from the controlfile's catalogued archived logs, as RMAN finds them;
a missing sequence stops recovery with RMAN-06054 as the real one does.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from . import redo, redolog
from .controlfile import Controlfile
from .database import Database, omf_datafile_name
from .datafile import Datafile
from .datafile import create as create_datafile


class MissingArchivelog(Exception):
    def __init__(self, thread: int, sequence: int, scn: int):
        super().__init__(thread, sequence, scn)
        self.thread, self.sequence, self.scn = thread, sequence, scn


class TooRecentFile(Exception):
    """A datafile is newer than the recovery target (ORA-01152-like)."""

    def __init__(self, file_no: int, name: str):
        super().__init__(file_no, name)
        self.file_no, self.name = file_no, name


@dataclass
class RecoveryReport:
    logs: list[tuple[int, int, str]] = field(default_factory=list)  # (thread, seq, name)
    end_scn: int = 0
    end_time: float = 0.0
    applied: int = 0


def usable_logs(db: Database) -> dict[tuple[int, int], dict]:
    """Catalogued archived logs whose files exist, one per (thread, sequence)."""
    found: dict[tuple[int, int], dict] = {}
    for row in db.cf.live_archived_logs():
        if row["resetlogs_id"] != db.cf.doc["resetlogs_id"]:
            continue
        key = (row["thread"], row["sequence"])
        if key not in found and Path(row["name"]).exists():
            found[key] = row
    return found


def recover(db: Database, until_time: float | None = None, until_scn: int | None = None) -> RecoveryReport:
    """Recover the mounted database's datafiles; caller holds ``db.changing()``.

    Every enabled redo thread's logs are read from the first change a file
    needs up to the target, and their records applied in SCN order (a RAC
    database's threads interleave).  Without a target it recovers through
    every catalogued log and each thread's online log (complete recovery).
    """
    cf = db.cf
    files: dict[int, Datafile] = {d["file"]: db.datafile(d["file"]) for d in cf.datafiles()}
    start = min(df.header["checkpoint_scn"] for df in files.values())
    logs = usable_logs(db)
    report = RecoveryReport(end_scn=start)

    def add_file(rec: dict) -> Datafile | None:
        dest = db.instance.param("db_create_file_dest")
        if not dest:
            return None
        entry = dict(rec["df"])
        entry["name"] = str(omf_datafile_name(dest, cf.doc["db_name"], entry["ts"]))
        create_datafile(Path(entry["name"]), db.file_header(entry))
        if cf.datafile(entry["file"]) is None:
            cf.doc["datafiles"].append(entry)
        return Datafile(Path(entry["name"]))

    streams = []
    reached = []   # per thread: the SCN its wholly applied archived logs reach
    plans = []
    missing = []
    for th in cf.threads():
        try:
            plans.append((th, *_thread_logs(cf, logs, th, start, until_time, until_scn)))
        except MissingArchivelog as exc:
            missing.append(exc)
    if missing:
        # Recovery reads the threads' redo in SCN order: the first log it cannot find is the one it names.
        raise min(missing, key=lambda exc: (exc.scn, exc.thread))
    for th, rows, online in plans:
        report.logs += [(th["thread"], row["sequence"], row["name"]) for row in rows]
        streams.append(_records(db, th["thread"], rows, online))
        before_target = [row for row in rows if not _reaches_target(row, until_time, until_scn)]
        reached.append(before_target[-1]["next_change"] - 1 if before_target else start)
    report.logs.sort(key=lambda log: (logs[(log[0], log[1])]["first_change"], log[0]))
    merged = heapq.merge(*streams, key=lambda rec: rec["scn"])
    result = redo.replay(merged, files, start, until_time, until_scn, on_add_datafile=add_file)
    _account(report, result)
    report.end_scn = max(report.end_scn, min(reached, default=start))
    for file_no, df in files.items():
        if df.header["checkpoint_scn"] > report.end_scn:
            raise TooRecentFile(file_no, str(df.path))
    for file_no, df in files.items():
        df.set_checkpoint(report.end_scn, report.end_time)
        entry = cf.datafile(file_no)
        if entry is not None:
            entry["checkpoint_scn"] = report.end_scn
            entry["checkpoint_time"] = report.end_time
    cf.doc["recovered_scn"] = report.end_scn
    return report


def _reaches_target(row: dict, until_time: float | None, until_scn: int | None) -> bool:
    return ((until_time is not None and row["next_time"] >= until_time)
            or (until_scn is not None and row["next_change"] >= until_scn))


def _thread_logs(cf: Controlfile, logs: dict[tuple[int, int], dict], th: dict, start: int,
                 until_time: float | None, until_scn: int | None) -> tuple[list[dict], bool]:
    """One thread's archived logs recovery reads, in order, and whether its online log follows.

    :raises MissingArchivelog: naming the first sequence of this thread that is needed but not on disk.
    """
    thread = th["thread"]
    complete = until_time is None and until_scn is None
    online_covers = complete and th["log_first_change"] <= start + 1
    seq = next((s for (t, s), row in sorted(logs.items())
                if t == thread and row["first_change"] <= start < row["next_change"]), None)
    if seq is None:
        # The log holding the first change needed is not on disk: name it from the log history.
        history = [h for h in cf.doc.get("log_history", []) if h["thread"] == thread
                   and h["first_change"] <= start < h["next_change"]]
        if history:
            raise MissingArchivelog(thread, history[0]["sequence"], start + 1)
        if th["log_first_change"] <= start and not online_covers:
            # A backup controlfile: the log current when it was taken holds the first change needed.
            raise MissingArchivelog(thread, th["sequence"], start + 1)
        later = [row for (t, s), row in sorted(logs.items()) if t == thread and row["first_change"] > start]
        seq = later[0]["sequence"] if later else th["sequence"]
        if (not later or later[0]["first_change"] > start + 1) and not online_covers:
            raise MissingArchivelog(thread, seq, start + 1)
    rows: list[dict] = []
    while True:
        row = logs.get((thread, seq))
        if row is None:
            if seq == th["sequence"] and complete:
                return rows, True
            prev_next = logs[(thread, seq - 1)]["next_change"] if (thread, seq - 1) in logs else start + 1
            raise MissingArchivelog(thread, seq, prev_next)
        rows.append(row)
        if _reaches_target(row, until_time, until_scn):
            return rows, False
        seq += 1


def _records(db: Database, thread: int, rows: list[dict], online: bool) -> Iterator[dict]:
    """A thread's change records in SCN order: its archived logs, then its online log.

    Each log is verified as it is read (blocks, records) and must continue the one
    before it (first change = the previous next change, record numbers without a gap).
    """
    prev: dict | None = None
    for row in rows:
        where = f"ORA-00334: archived log: '{row['name']}'"
        head, records = redo.read_archivelog(Path(row["name"]), sequence=row["sequence"])
        redolog.check_chain(prev, head, where)
        prev = head
        yield from records
    if online:
        head, records = db.online_log(thread)
        if head is not None:
            redolog.check_chain(prev, head, redolog.online_where(db.online_log_path(thread), thread))
        yield from records


def _account(report: RecoveryReport, result: redo.RecoveryResult) -> None:
    report.applied += result.applied_records
    if result.end_scn > report.end_scn:
        report.end_scn = result.end_scn
        report.end_time = result.end_time


__all__ = ["MissingArchivelog", "TooRecentFile", "RecoveryReport", "recover", "usable_logs"]
