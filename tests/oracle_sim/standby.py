"""Physical standby databases: made from a primary, fed by redo transport, kept current by managed recovery.

``create_standby`` copies the primary's datafiles block for block (after a log
switch, so they are consistent at its checkpoint), gives the standby its own
spfile and a standby controlfile (``database_role`` PHYSICAL STANDBY, its own
``db_unique_name``, no archived log, copy or backup records of the primary),
mounts it (or opens it read only: Active Data Guard) and points a
``log_archive_dest_N='SERVICE=<standby> ASYNC ... DB_UNIQUE_NAME=<standby>'``
of the primary at it.

Transport: each log the primary archives is also put in the standby's
shipping spool (``<state>/shipping/<sid>/``) with a due time, now plus the
delay in ``<state>/shipping/<sid>/delay`` (seconds, real time: it models the
network and the standby's archiver, not database time).  Whatever touches the
standby next (the primary's switch itself, an RMAN or SQL*Plus session on the
standby) delivers the shipments whose time has come, in order: the log is
written into every local destination of the standby valid for standby logs
(``VALID_FOR``), registered in the standby's controlfile (creator ARCH,
registrar RFS) and applied to the standby's datafiles, as managed recovery
does, so image copies taken on the standby are real and restorable.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from . import clock, redo
from .controlfile import Controlfile, locked
from .database import Database, omf_datafile_name
from .datafile import create as create_datafile
from .datafile import random_suffix
from .instance import Instance, OraError, resolve_alias

STANDBY_ROLE = "PHYSICAL STANDBY"


def is_standby(doc: dict) -> bool:
    return doc.get("database_role", "PRIMARY") != "PRIMARY"


def ship_dir(state: Path, sid: str) -> Path:
    return Path(state) / "shipping" / sid


def delay(state: Path, sid: str, thread: int | None = None) -> float:
    """Seconds a log of ``thread`` takes to reach standby ``sid``: ``delay.<thread>``, else ``delay``.

    A RAC primary's instances each ship their own thread, so each may lag on its own.
    """
    d = ship_dir(state, sid)
    for name in ([f"delay.{thread}"] if thread else []) + ["delay"]:
        try:
            return float((d / name).read_text().strip() or 0)
        except FileNotFoundError:
            continue
    return 0.0


def set_delay(state: Path, sid: str, seconds: float, thread: int | None = None) -> None:
    if seconds < 0:
        raise ValueError("the transport delay cannot be negative")
    d = ship_dir(state, sid)
    d.mkdir(parents=True, exist_ok=True)
    (d / (f"delay.{thread}" if thread else "delay")).write_text(f"{seconds}\n")


# -- creation ------------------------------------------------------------------------

def create_standby(state: Path, *, primary: str, name: str, oradata: Path, fra: Path,
                   transport_delay: float = 0.0, read_only: bool = False) -> Database:
    """Create physical standby ``name`` (its SID and DB_UNIQUE_NAME) of the primary that alias ``primary`` names."""
    state = Path(state)
    prim_inst = Instance(state, resolve_alias(state, primary))
    if prim_inst.status != "open" or prim_inst.open_mode != "READ WRITE":
        raise OraError("ORA-01109", "database not open")
    inst = Instance(state, name)
    if inst.read_spfile() is not None:
        raise ValueError(f"a database with SID {name} exists already")
    prim = Database(prim_inst)
    ctl = Path(oradata) / name.upper() / "controlfile" / f"o1_mf_{random_suffix()}_.ctl"
    with prim.changing() as pcf:
        if is_standby(pcf.doc):
            raise ValueError(f"{primary} is not a primary database")
        prim.archive_log_current()          # the copies are consistent at this checkpoint
        doc = pcf.snapshot()
        for d in doc["datafiles"]:
            new = omf_datafile_name(str(oradata), doc["db_name"], d["ts"])
            new.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(d["name"], new)
            d["name"] = str(new)
    doc.update(database_role=STANDBY_ROLE, db_unique_name=name, archived_logs=[], datafile_copies=[],
               backup_pieces=[], rman_config={}, recid={}, bct={"status": "DISABLED", "filename": None},
               backup_scn=None, oradata=str(oradata))
    ctl.parent.mkdir(parents=True, exist_ok=True)
    Controlfile([ctl], doc).save()
    params = {k: v for k, v in (prim_inst.read_spfile() or {}).items()
              if not k.startswith("log_archive_dest") and k not in ("cluster_database", "instance_number", "thread")}
    params.update(db_unique_name=name, control_files=str(ctl), db_create_file_dest=str(oradata),
                  db_recovery_file_dest=str(fra), log_archive_dest_1="LOCATION=USE_DB_RECOVERY_FILE_DEST",
                  undo_tablespace="UNDOTBS1", standby_file_management="AUTO",
                  fal_server=primary)
    inst.write_spfile(params)
    inst.start(None)
    if read_only:
        inst.set_status("open", "READ ONLY")       # Active Data Guard: open read only with apply
    else:
        inst.set_status("mounted")
    set_delay(state, name, transport_delay)
    _point_primary_at(prim_inst, name)
    return Database(inst)


def _point_primary_at(prim_inst: Instance, name: str) -> None:
    """The primary's redo transport destination for the standby: the lowest free log_archive_dest_N."""
    free = next(n for n in range(2, 32) if not prim_inst.param(f"log_archive_dest_{n}"))
    prim_inst.set_parameter(f"log_archive_dest_{free}",
                            f"SERVICE={name} ASYNC VALID_FOR=(ONLINE_LOGFILES,PRIMARY_ROLE) DB_UNIQUE_NAME={name}")
    prim_inst.set_parameter(f"log_archive_dest_state_{free}", "enable")


# -- transport ---------------------------------------------------------------------

def service_destinations(inst: Instance) -> list[str]:
    """SIDs of the standbys the enabled ``SERVICE=`` destinations of a primary name."""
    from .database import valid_for
    out = []
    for n in range(1, 32):
        value = inst.param(f"log_archive_dest_{n}")
        state = (inst.param(f"log_archive_dest_state_{n}") or "enable").lower()
        if not value or state != "enable" or not valid_for(value, "ONLINE_LOGFILE", "PRIMARY_ROLE"):
            continue
        attrs = dict(a.split("=", 1) for a in str(value).replace("'", " ").split() if "=" in a)
        service = next((v for k, v in attrs.items() if k.upper() == "SERVICE"), None)
        if service:
            try:
                out.append(resolve_alias(inst.state, service))
            except OraError:
                continue       # an unresolvable service is a transport error, not the primary's
    return out


def ship(primary: Database, header: dict, records: list[dict]) -> None:
    """Queue an archived log of the primary for each of its standbys; deliver what is due at once."""
    for sid in service_destinations(primary.instance):
        d = ship_dir(primary.state, sid)
        (d / "spool").mkdir(parents=True, exist_ok=True)
        path = d / "spool" / f"{header['thread']}_{header['sequence']}_{header['resetlogs_id']}.arc"
        redo.write_archivelog(path, header, records)
        with locked(d / "queue"):
            queue = _queue(d)
            queue.append({"due": time.time() + delay(primary.state, sid, header["thread"]), "file": str(path),
                          "thread": header["thread"]})
            (d / "queue.json").write_text(json.dumps(queue, indent=1))
        deliver_due(primary.state, sid)


def _queue(d: Path) -> list[dict]:
    try:
        return json.loads((d / "queue.json").read_text())
    except FileNotFoundError:
        return []


def deliver_due(state: Path, sid: str) -> int:
    """Deliver (and apply) the shipments to standby ``sid`` whose time has come; how many were delivered.

    Nothing happens while the standby is down, as redo transport to it fails;
    the queue keeps the logs until it is mounted again.
    """
    d = ship_dir(state, sid)
    if not (d / "queue.json").exists():
        return 0
    inst = Instance(state, sid)
    if inst.status not in ("mounted", "open"):
        return 0
    with locked(d / "queue"):
        queue = _queue(d)
        now = time.time()
        due, waiting = [], set()
        for q in queue:             # each thread's logs arrive in order: a later one waits for an earlier
            if q["due"] <= now and q["thread"] not in waiting:
                due.append(q)
            else:
                waiting.add(q["thread"])
        if not due:
            return 0
        db = Database(inst)
        with _try_locked(db.lock_path) as got:
            if not got:
                return 0       # a session of this process (or another) is changing the standby: later
            db.reload()
            if not is_standby(db.cf.doc):
                return 0       # it became a primary (not simulated): nothing to receive
            for q in due:
                try:
                    receive(db, *redo.read_archivelog(Path(q["file"])))
                except redo.RedoLogError as exc:
                    # RFS refuses a log that fails verification; the primary goes on
                    db.instance.alert("\n".join(["RFS: rejected a corrupt archived log", *exc.lines]))
            apply(db)
            db.cf.save()
        (d / "queue.json").write_text(json.dumps([q for q in queue if q not in due], indent=1))
        for q in due:
            Path(q["file"]).unlink(missing_ok=True)
    return len(due)


@contextmanager
def _try_locked(path: Path) -> Iterator[bool]:
    """The database's change lock if it is free at once (a blocking wait could deadlock on a
    lock this very process holds: delivery runs at the start of any statement)."""
    fd = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def receive(db: Database, header: dict, records: list[dict]) -> None:
    """RFS: the log written to every local destination valid for standby logs, one controlfile row each."""
    dests = db.archive_destinations("STANDBY_LOGFILE")
    if not dests:
        raise OraError("ORA-16401", "archive log rejected by Remote File Server (RFS)")
    for dest_id, directory, in_fra in dests:
        path = db.archivelog_name(directory, in_fra, header["thread"], header["sequence"], header["next_time"])
        redo.write_archivelog(path, header, records)
        row = db.add_archived_log(path, header, dest_id, creator="ARCH", registrar="RFS")
        row["applied"] = "NO"
    # the thread's record: how far its received redo reaches (what apply may go up to)
    th = db.cf.thread(header["thread"])
    if th is not None and header["sequence"] >= th["sequence"]:
        th.update(sequence=header["sequence"] + 1, log_first_change=header["next_change"],
                  log_first_time=header["next_time"])
    db.cf.doc.setdefault("log_history", []).append({k: header[k] for k in (
        "thread", "sequence", "first_change", "next_change", "first_time", "next_time")})


def apply(db: Database) -> None:
    """Managed recovery: received changes onto the standby's datafiles, in SCN order over all threads.

    Redo is applied only up to the lowest SCN every redo thread's received logs
    reach, as the real MRP does: a RAC primary's threads interleave, and a
    thread's log arriving early waits for the other threads' logs.
    """
    cf = db.cf
    doc = cf.doc
    bound = min(th["log_first_change"] for th in cf.threads())
    start = doc["current_scn"]
    if bound <= start:
        return
    pending: dict[tuple[int, int], dict] = {}
    for row in doc["archived_logs"]:
        if row.get("registrar") == "RFS" and row.get("applied") == "NO" and row["status"] == "A" \
                and Path(row["name"]).exists():
            pending.setdefault((row["thread"], row["sequence"]), row)
    try:
        logs = [redo.read_archivelog(Path(row["name"]), sequence=row["sequence"]) for row in pending.values()]
    except redo.RedoLogError as exc:
        _stop(db, exc.lines)
        return
    records = sorted((r for _h, recs in logs for r in recs if start < r["scn"] < bound), key=lambda r: r["scn"])
    files = {d["file"]: db.datafile(d["file"]) for d in cf.datafiles()}

    def add_file(rec: dict) -> object:
        # standby_file_management=AUTO: a datafile added on the primary is created here too
        entry = dict(rec["df"])
        entry["name"] = str(omf_datafile_name(db.instance.param("db_create_file_dest"), doc["db_name"], entry["ts"]))
        create_datafile(Path(entry["name"]), db.file_header(entry))
        doc["datafiles"].append(entry)
        if entry["ts"] not in doc["tablespaces"]:
            doc["tablespaces"].append(entry["ts"])
        return db.datafile(entry["file"])

    try:
        # the same change-vector checks as media recovery: MRP stops on redo that does not fit a block
        redo.replay(records, files, start, on_add_datafile=add_file)
    except redo.RedoInconsistent as exc:
        _stop(db, ["ORA-00283: recovery session canceled due to errors", *exc.lines])
        return
    for rec in records:
        if rec.get("op") == "dropts":
            _drop(db, rec)
    when = max((h["next_time"] for h, _r in logs if h["next_change"] <= bound), default=db.now())
    doc["current_scn"] = bound
    db.checkpoint(bound, when)
    for row in doc["archived_logs"]:
        if row.get("registrar") == "RFS" and row.get("applied") == "NO" and row["next_change"] <= bound:
            row["applied"] = "YES"
    db.instance.alert(f"Media Recovery applied through SCN {bound} at {clock.fmt(db.now())}")


def _stop(db: Database, lines: list[str]) -> None:
    """Managed recovery stops with an error in the alert log; the standby's checkpoint stays where it was."""
    db.instance.alert("\n".join(["MRP0: Background Media Recovery terminated with error", *lines]))


def _drop(db: Database, rec: dict) -> None:
    doc = db.cf.doc
    for d in [d for d in doc["datafiles"] if d["file"] in rec["files"]]:
        Path(d["name"]).unlink(missing_ok=True)
    doc["datafiles"] = [d for d in doc["datafiles"] if d["file"] not in rec["files"]]
    if rec["ts"] in doc["tablespaces"]:
        doc["tablespaces"].remove(rec["ts"])
