"""What rman and sqlplus share: the state directory, connects, mount and open.

``connect`` resolves ``/`` (ORACLE_SID) or ``/@alias`` to an instance;
``mount`` and ``open_database`` move an instance through its states with the
checks Oracle makes (controlfile readable and of the right database, every
datafile present and consistent at one SCN).
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from . import blocks, clock
from .database import Database
from .datafile import Datafile, DatafileError, read_header
from .home import state_dir
from .instance import Instance, OraError, resolve_alias
from .standby import deliver_due


def state_for(home: Path) -> Path:
    return state_dir(Path(home))


def connect(home: Path, alias: str | None, env: dict[str, str] | None = None) -> Instance:
    """The instance a SYSDBA connect names: ``alias`` through TNS, else ORACLE_SID."""
    env = os.environ if env is None else env
    state = state_for(home)
    if alias:
        sid = resolve_alias(state, alias)
    else:
        sid = env.get("ORACLE_SID")
        if not sid:
            raise OraError("ORA-12162", "TNS:net service name is incorrectly specified")
    deliver_due(state, sid)     # redo shipped to a standby whose time has come arrives first
    return Instance(state, sid)


def require(inst: Instance, *statuses: str) -> None:
    if inst.status == "idle":
        raise OraError("ORA-01034", "ORACLE not available", "ORA-27101: shared memory realm does not exist")
    if inst.status not in statuses:
        if inst.status == "started":
            raise OraError("ORA-01507", "database not mounted")
        if "started" in statuses or "mounted" in statuses and inst.status == "open":
            raise OraError("ORA-01100", "database already mounted")
        raise OraError("ORA-01109", "database not open")


def mount(inst: Instance) -> Database:
    if inst.status == "idle":
        raise OraError("ORA-01034", "ORACLE not available", "ORA-27101: shared memory realm does not exist")
    if inst.status != "started":
        raise OraError("ORA-01100", "database already mounted")
    db = Database(inst)
    doc = db.cf.doc
    if doc["db_name"].upper() != str(inst.param("db_name")).upper():
        raise OraError("ORA-01103", f"database name '{doc['db_name'].upper()}' in control file is not "
                       f"'{str(inst.param('db_name')).upper()}'")
    if db.cf.thread(db.thread_no) is None:
        raise OraError("ORA-01618", f"redo thread {db.thread_no} is not enabled - cannot mount")
    inst.set_status("mounted")
    return db


def open_database(inst: Instance, read_only: bool = False) -> Database:
    """Open the mounted database after checking every datafile (ORA-01157/01113/01194)."""
    if inst.status == "open":
        raise OraError("ORA-01531", "a database already open by the instance")
    require(inst, "mounted")
    db = Database(inst)
    cf = db.cf
    scns = {}
    for d in cf.datafiles():
        try:
            hdr = read_header(Path(d["name"]))
        except DatafileError as exc:
            raise OraError("ORA-01157", f"cannot identify/lock data file {d['file']} - see DBWR trace file",
                           f"ORA-01110: data file {d['file']}: '{d['name']}'") from exc
        if hdr["dbid"] != cf.doc["dbid"] or hdr["file"] != d["file"]:
            raise OraError("ORA-01122", f"database file {d['file']} failed verification check",
                           f"ORA-01110: data file {d['file']}: '{d['name']}'")
        scns[d["file"]] = hdr["checkpoint_scn"]
    if cf.doc.get("restored_from_backup") and "recovered_scn" not in cf.doc:
        f = min(scns)
        raise OraError("ORA-01113", f"file {f} needs media recovery",
                       f"ORA-01110: data file {f}: '{cf.datafile(f)['name']}'")
    target = cf.doc.get("recovered_scn", max(scns.values(), default=0))
    for f, scn in sorted(scns.items()):
        if scn != target:
            raise OraError("ORA-01194", f"file {f} needs more recovery to be consistent",
                           f"ORA-01110: data file {f}: '{cf.datafile(f)['name']}'")
    if not read_only and cf.doc.get("restored_from_backup"):
        raise OraError("ORA-01589", "must use RESETLOGS or NORESETLOGS option for database open")
    if cf.doc.get("restored_from_backup"):
        cf.doc["current_scn"] = target
        cf.save()
    inst.set_status("open", "READ ONLY" if read_only else "READ WRITE")
    if os.environ.get("ORASIM_RECORD_OPEN"):
        record_open(inst, db, target)
    return db


def record_open(inst: Instance, db: Database, scn: int) -> None:
    """Test hook (ORASIM_RECORD_OPEN=1): what the instance opened, block digests per datafile.

    A nightly restore test drops its clone when done; this lets a test check
    afterwards, byte for byte, what the restored database held when it opened.
    """
    files = {}
    for d in db.cf.datafiles():
        df = Datafile(Path(d["name"]))
        files[str(d["file"])] = {"name": d["name"], "header": df.header,
                                 "blocks": [hashlib.sha256(data).hexdigest() for _b, data in df.iter_blocks(1)]}
    entry = {"sid": inst.sid, "time": clock.now(inst.state), "scn": scn, "dbid": db.cf.doc["dbid"],
             "files": files}
    path = Path(inst.state) / "opened" / f"{inst.sid}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fh.write(json.dumps(entry) + "\n")


def shutdown(inst: Instance, abort: bool = False) -> list[str]:
    """Shut down; returns the lines SQL*Plus prints."""
    if inst.status == "idle":
        raise OraError("ORA-01034", "ORACLE not available", "ORA-27101: shared memory realm does not exist")
    lines = []
    was = inst.status
    if not abort and was == "open":
        if inst.open_mode == "READ WRITE":
            db = Database(inst)
            with db.changing():
                db.checkpoint(db.cf.doc["current_scn"], clock.now(inst.state))
        lines.append("Database closed.")
    if not abort and was in ("open", "mounted"):
        lines.append("Database dismounted.")
    inst.shutdown()
    lines.append("ORACLE instance shut down.")
    return lines


def nls_date_format(env: dict[str, str] | None = None) -> str:
    """strftime pattern for NLS_DATE_FORMAT (the common Oracle masks), default DD-MON-YY."""
    env = os.environ if env is None else env
    return oracle_to_strftime(env.get("NLS_DATE_FORMAT") or "DD-MON-YY")


_MASKS = [("YYYY", "%Y"), ("MON", "%b"), ("MM", "%m"), ("DD", "%d"), ("HH24", "%H"),
          ("MI", "%M"), ("SS", "%S"), ("YY", "%y"), ("HH", "%I")]


def oracle_to_strftime(mask: str) -> str:
    out, i, up = "", 0, mask.upper()
    while i < len(mask):
        for token, repl in _MASKS:
            if up.startswith(token, i):
                out += repl
                i += len(token)
                break
        else:
            out += mask[i]
            i += 1
    return out


def format_date(ts: float, env: dict[str, str] | None = None) -> str:
    text = datetime.fromtimestamp(ts).strftime(nls_date_format(env))
    return text.upper() if "%b" in nls_date_format(env) else text


def block_is_valid(data: bytes, file_no: int, block_no: int) -> bool:
    return blocks.is_valid(data, file_no, block_no)
