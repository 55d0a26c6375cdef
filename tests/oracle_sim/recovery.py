"""Media recovery: which archivelogs a recovery needs, and replaying them.

Used by RMAN's ``recover database`` and by the tests' own checks.  The logs
come from the controlfile's catalogued archived logs, as RMAN finds them;
a missing sequence stops recovery with RMAN-06054 as the real one does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import redo
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

    Without a target it recovers through every catalogued log and the
    online log (complete recovery).
    """
    cf = db.cf
    files: dict[int, Datafile] = {d["file"]: db.datafile(d["file"]) for d in cf.datafiles()}
    start = min(df.header["checkpoint_scn"] for df in files.values())
    logs = usable_logs(db)
    thread = cf.doc["thread"]
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

    seq = None
    for (t, s), row in sorted(logs.items()):
        if t == thread and row["first_change"] <= start < row["next_change"]:
            seq = s
            break
    if seq is None:
        # The log holding the first change needed is not on disk: name it from the log history.
        history = [h for h in cf.doc.get("log_history", []) if h["thread"] == thread
                   and h["first_change"] <= start < h["next_change"]]
        if history:
            raise MissingArchivelog(thread, history[0]["sequence"], start + 1)
        if cf.doc["log_first_change"] <= start:
            # A backup controlfile: the log current when it was taken holds the first change needed.
            if not _online_covers(db, start, until_time, until_scn):
                raise MissingArchivelog(thread, cf.doc["sequence"], start + 1)
        later = [row for (t, s), row in sorted(logs.items()) if t == thread and row["first_change"] > start]
        seq = later[0]["sequence"] if later else cf.doc["sequence"]
        if not later or later[0]["first_change"] > start + 1:
            if not _online_covers(db, start, until_time, until_scn):
                raise MissingArchivelog(thread, seq, start + 1)
    while True:
        row = logs.get((thread, seq))
        if row is None:
            if seq == cf.doc["sequence"] and until_time is None and until_scn is None:
                result = redo.replay(db.online_records(), files, start, on_add_datafile=add_file)
                _account(report, result)
                break
            prev_next = logs[(thread, seq - 1)]["next_change"] if (thread, seq - 1) in logs else start + 1
            raise MissingArchivelog(thread, seq, prev_next)
        report.logs.append((thread, seq, row["name"]))
        _header, records = redo.read_archivelog(Path(row["name"]))
        result = redo.replay(records, files, start, until_time, until_scn, on_add_datafile=add_file)
        _account(report, result)
        if result.stopped_by_target:
            break
        if until_time is not None and row["next_time"] >= until_time:
            break
        if until_scn is not None and row["next_change"] >= until_scn:
            break
        report.end_scn = max(report.end_scn, row["next_change"] - 1)
        seq += 1
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


def _account(report: RecoveryReport, result: redo.RecoveryResult) -> None:
    report.applied += result.applied_records
    if result.end_scn > report.end_scn:
        report.end_scn = result.end_scn
        report.end_time = result.end_time


def _online_covers(db: Database, start: int, until_time: float | None, until_scn: int | None) -> bool:
    return until_time is None and until_scn is None and db.cf.doc["log_first_change"] <= start + 1


__all__ = ["MissingArchivelog", "TooRecentFile", "RecoveryReport", "recover", "usable_logs"]
