"""Archivelog continuity: can a snapshot's archivelogs carry its image copies to a recovery target?

A snapshot restores only when, on every redo thread, the archivelogs from the
one holding the copies' checkpoint SCN up to the one reaching the target are
all there, whole and readable.  The toolset never reads Oracle's files
itself (their format is Oracle's), so what it needs is recorded at backup
time from SQL the daily job runs anyway, in a **manifest** written into the
backup area just before the snapshot (so every snapshot holds its own):
the recovery target (SCN and time), the copies' checkpoint SCNs and, per
thread and sequence, each archivelog of the backup area with its first and
next change, first and next time, its path and its size in bytes.

The rules, which are media recovery's (and the simulator's):

* per thread, recovery starts with the log holding the lowest checkpoint SCN
  of the copies (``first_change <= checkpoint < next_change``); a thread whose
  first log there starts later than the change after the checkpoint lacks
  the sequence before it (a thread's sequence 1 lacks nothing);
* it reads every following sequence, without a gap, up to the first log
  that reaches the target: ``next_change >= until SCN`` (RMAN's ``until scn``
  applies the changes below it) or ``next_time >= until time``;
* each of those logs must be present, readable and of its recorded size;
* copies whose checkpoint is not below an SCN target cannot go back to it.

:func:`check` is a pure function of the manifest's records, the target and a
probe of the files; :func:`read_manifest` and :func:`write_manifest` are the
manifest file.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .atomicfile import write_atomic
from .errors import BackupError

MANIFEST = "snapshot_manifest.json"
VERSION = 1
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SQL_TIME_FORMAT = "%Y%m%d%H%M%S"     # to_char(..., 'yyyymmddhh24miss') in the ARCHLOG lines
MAX_BYTES = 32 * 1024 * 1024         # a month of 200 logs a day is about 2 MB


class ManifestError(BackupError):
    """A manifest that cannot be read or is not one: the snapshot's continuity is unknown."""


@dataclass(frozen=True)
class LogRecord:
    """One archivelog of the backup area, as the manifest records it."""

    thread: int
    sequence: int
    first_change: int
    next_change: int
    first_time: datetime | None
    next_time: datetime | None
    path: str              # relative to the backup area (``archivelog/1_12_987.dbf``)
    size: int | None       # bytes when the manifest was written; None: the file was not there


@dataclass(frozen=True)
class Manifest:
    """What a snapshot needs to recover: its target, the copies' checkpoints, the archivelogs."""

    db: str
    written: datetime
    target_scn: int | None
    target_time: datetime | None
    copies: Mapping[int, int]            # file# -> checkpoint SCN of its image copy
    logs: tuple[LogRecord, ...]

    @property
    def checkpoint_scn(self) -> int | None:
        """The lowest checkpoint of the copies (where recovery starts); None without copies."""
        return min(self.copies.values()) if self.copies else None


@dataclass(frozen=True)
class Target:
    """Recover until ``scn`` (the changes below it, as RMAN's ``until scn``) or until ``time``."""

    scn: int | None = None
    time: datetime | None = None

    def reached_by(self, log: LogRecord) -> bool:
        if self.scn is not None:
            return log.next_change >= self.scn
        return self.time is not None and log.next_time is not None and log.next_time >= self.time

    def __str__(self) -> str:
        return f"SCN {self.scn}" if self.scn is not None else f"{self.time:{TIME_FORMAT}}"


@dataclass(frozen=True)
class FileState:
    """A log file as found: its size (None: not there) or why it could not be read."""

    size: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class ThreadVerdict:
    """One redo thread: the sequences recovery reads, and the first one missing or unusable."""

    thread: int
    first: int | None            # first sequence recovery reads
    last: int | None             # the sequence reaching the target (None: none does)
    missing: int | None = None   # the first sequence missing, unreadable or of the wrong size
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        span = f"sequences {self.first}-{self.last}" if self.first is not None and self.last is not None \
            else f"from sequence {self.first}" if self.first is not None else "no sequence"
        return f"thread {self.thread}: {span}" + (f": {self.problem}" if self.problem else "")

    def to_dict(self) -> dict[str, Any]:
        return {"thread": self.thread, "first_sequence": self.first, "last_sequence": self.last,
                "first_missing_sequence": self.missing, "problem": self.problem, "ok": self.ok}


@dataclass(frozen=True)
class Continuity:
    """The verdict on a set of archivelogs for one checkpoint and target."""

    threads: tuple[ThreadVerdict, ...]
    problem: str | None = None   # a problem of the copies themselves (newer than the target, none at all)

    @property
    def ok(self) -> bool:
        return self.problem is None and all(t.ok for t in self.threads)

    @property
    def first_problem(self) -> str | None:
        if self.problem:
            return self.problem
        bad = next((t for t in self.threads if not t.ok), None)
        return None if bad is None else f"thread {bad.thread}: {bad.problem}"

    @property
    def gaps(self) -> int:
        """Threads that cannot reach the target (each counts once, whatever is wrong in it)."""
        return sum(1 for t in self.threads if not t.ok) + (1 if self.problem and not self.threads else 0)


Probe = Callable[[LogRecord], FileState]


def recorded(log: LogRecord) -> FileState:
    """A probe that trusts the manifest (no file is looked at)."""
    return FileState(size=log.size)


def check(logs: Iterable[LogRecord], checkpoint_scn: int, target: Target, probe: Probe = recorded) -> Continuity:
    """Per thread, the logs recovery from ``checkpoint_scn`` to ``target`` reads, and what is wrong.

    ``logs`` may hold several records of one thread and sequence (a log copied
    again): one that the probe finds usable is taken.
    """
    by_thread: dict[int, dict[int, list[LogRecord]]] = {}
    for log in logs:
        by_thread.setdefault(log.thread, {}).setdefault(log.sequence, []).append(log)
    problem = None
    if target.scn is not None and checkpoint_scn >= target.scn:
        problem = (f"the image copies' checkpoint SCN {checkpoint_scn} is not below the target {target}: "
                   "they are newer than the target")
    if not by_thread:
        return Continuity((), problem or "no archivelog is recorded")
    return Continuity(tuple(_thread(thread, seqs, checkpoint_scn, target, probe)
                            for thread, seqs in sorted(by_thread.items())), problem)


def _thread(thread: int, seqs: Mapping[int, list[LogRecord]], checkpoint: int, target: Target,
            probe: Probe) -> ThreadVerdict:
    ordered = sorted(seqs)
    first = next((s for s in ordered
                  if any(r.first_change <= checkpoint < r.next_change for r in seqs[s])), None)
    if first is None:
        later = [s for s in ordered if seqs[s][0].first_change > checkpoint]
        if not later:
            end = seqs[ordered[-1]][0]
            return ThreadVerdict(thread, None, None, ordered[-1] + 1,
                                 f"sequence {ordered[-1] + 1} missing: the logs end at SCN {end.next_change}, "
                                 f"before the copies' checkpoint SCN {checkpoint}")
        first = later[0]
        if seqs[first][0].first_change > checkpoint + 1 and first > 1:
            return ThreadVerdict(thread, first - 1, None, first - 1,
                                 f"sequence {first - 1} missing (it holds the copies' checkpoint SCN {checkpoint})")
    last = next((s for s in ordered if s >= first and any(target.reached_by(r) for r in seqs[s])), None)
    end = last if last is not None else ordered[-1] + 1
    for seq in range(first, end + 1):
        if seq not in seqs:
            if seq > ordered[-1]:
                tail = seqs[ordered[-1]][0]
                when = f" ({tail.next_time:{TIME_FORMAT}})" if tail.next_time else ""
                return ThreadVerdict(thread, first, last, seq, f"sequence {seq} missing: the logs end at SCN "
                                     f"{tail.next_change}{when}, before the target {target}")
            return ThreadVerdict(thread, first, last, seq, f"sequence {seq} missing")
        bad = _unusable(seqs[seq], probe)
        if bad:
            return ThreadVerdict(thread, first, last, seq, f"sequence {seq} {bad}")
    return ThreadVerdict(thread, first, last)


def _unusable(records: list[LogRecord], probe: Probe) -> str | None:
    """None when one of the records' files is usable, else what is wrong with the first."""
    problems = []
    for log in records:
        state = probe(log)
        if log.size is None:
            problems.append(f"missing: {log.path} was not there when the backup recorded it")
        elif state.error is not None:
            problems.append(f"unreadable: {log.path}: {state.error}")
        elif state.size is None:
            problems.append(f"missing: {log.path} is not in the snapshot")
        elif state.size != log.size:
            problems.append(f"has the wrong size: {log.path} is {state.size} bytes, {log.size} recorded")
        else:
            return None
    return problems[0]


# -- the manifest file -------------------------------------------------------------------------------------
def records_from_sql(values: Iterable[str], area: Path, stat: Callable[[str], int | None]) -> list[LogRecord]:
    """``ARCHLOG:`` marker values (thread, sequence, first and next change, first and next time, name)
    as records; the size is the file's as ``stat`` finds it now (None when it is not there)."""
    out = []
    prefix = str(area).rstrip("/") + "/"
    for value in values:
        parts = value.split(None, 6)
        if len(parts) != 7:
            continue
        thread, seq, first, nxt, ftime, ntime, name = parts
        out.append(LogRecord(int(thread), int(seq), int(first), int(nxt), _sqltime(ftime), _sqltime(ntime),
                             name[len(prefix):] if name.startswith(prefix) else name, stat(name)))
    return out


def file_size(name: str) -> int | None:
    try:
        return os.stat(name).st_size
    except OSError:
        return None


def _sqltime(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, SQL_TIME_FORMAT)
    except ValueError:
        return None


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.strftime(TIME_FORMAT)


def to_json(manifest: Manifest) -> dict[str, Any]:
    return {"version": VERSION, "db": manifest.db, "written": _time(manifest.written),
            "target": {"scn": manifest.target_scn, "time": _time(manifest.target_time)},
            "copies": {str(k): v for k, v in sorted(manifest.copies.items())},
            "archivelogs": [{"thread": g.thread, "sequence": g.sequence, "first_change": g.first_change,
                             "next_change": g.next_change, "first_time": _time(g.first_time),
                             "next_time": _time(g.next_time), "path": g.path, "bytes": g.size}
                            for g in sorted(manifest.logs, key=lambda g: (g.thread, g.sequence))]}


def write_manifest(path: Path, manifest: Manifest) -> None:
    """Atomically (a killed backup never leaves half a manifest in a snapshot)."""
    write_atomic(path, json.dumps(to_json(manifest), indent=1) + "\n")


def read_manifest(path: Path) -> Manifest | None:
    """The manifest at ``path``; None when there is none (a snapshot taken before manifests existed).

    :raises ManifestError: when it cannot be read or is not a manifest (it comes from storage: checked).
    """
    try:
        if path.is_symlink():
            raise ManifestError(f"{path}: is a symbolic link; refused")
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise ManifestError(f"{path}: larger than {MAX_BYTES} bytes; refused")
    try:
        return from_json(json.loads(data.decode("utf-8")))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ManifestError(f"{path}: not a manifest this version understands ({type(exc).__name__}: "
                            f"{' '.join(str(exc).split())[:120]})") from None


def from_json(doc: dict[str, Any]) -> Manifest:
    if doc.get("version") != VERSION:
        raise ValueError(f"version {doc.get('version')!r}")

    def when(text: Any) -> datetime | None:
        return None if text is None else datetime.strptime(str(text), TIME_FORMAT)

    def number(value: Any, optional: bool = False) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"not a number: {value!r}")
        return value

    logs = tuple(LogRecord(number(g["thread"]), number(g["sequence"]), number(g["first_change"]),
                           number(g["next_change"]), when(g.get("first_time")), when(g.get("next_time")),
                           str(g["path"]), number(g.get("bytes"), optional=True))
                 for g in doc["archivelogs"])
    target = doc["target"]
    return Manifest(str(doc["db"]), when(doc["written"]) or datetime.min, number(target.get("scn"), True),
                    when(target.get("time")), {int(k): number(v) for k, v in doc["copies"].items()}, logs)
