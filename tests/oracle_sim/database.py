"""A simulated database: files, transactions, log switches, tables in blocks.

``Database`` works on the controlfile named by an instance's parameters.  A
transaction takes the next SCN, applies its change records to the datafiles
as change vectors (:func:`redo.changed_block`, the change recovery applies), appends them
to the online log and to the database's history (the test oracle: every
change ever made, kept outside anything RMAN can delete).  A log switch
writes the online log as an archivelog to every enabled destination.

Tables (``SYS.SMON_SCN_TIME``, ``APP.TRANSACTIONS``) live in blocks: the data
dictionary is file 1 block 1, rows are JSON in their segment's blocks, so a
restored database answers queries from restored blocks.
"""
from __future__ import annotations

import json
import random
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from . import blocks, clock, redo, redolog
from .controlfile import Controlfile, locked, new_document, oracle_stamp
from .datafile import Datafile, DatafileError, random_suffix
from .datafile import create as create_datafile
from .instance import Instance, OraError, add_alias, split_list

DICT_FILE, DICT_BLOCK = 1, 1
EXTENT = 4
SMON_INTERVAL = 300.0
TABLES = {
    "SYS.SMON_SCN_TIME": [["TIME_DP", "DATE"], ["SCN", "NUMBER"]],
    "APP.TRANSACTIONS": [["ID", "NUMBER"], ["CREATETIME", "DATE"]],
}


def history_path(state: Path, dbid: int) -> Path:
    return Path(state) / "history" / f"{dbid}.jsonl"


def read_history(state: Path, dbid: int) -> list[dict]:
    p = history_path(state, dbid)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]


def omf_datafile_name(dest: str, db_name: str, ts: str) -> Path:
    return Path(dest) / db_name.upper() / "datafile" / f"o1_mf_{ts.lower()}_{random_suffix()}_.dbf"


class Transaction:
    """Change records of one SCN; each is applied to its block as it is added."""

    def __init__(self, db: Database, scn: int, when: float):
        self.db, self.scn, self.t = db, scn, when
        self.records: list[dict] = []

    def _apply(self, rec: dict) -> None:
        rec = {"scn": self.scn, "t": self.t, **rec}
        if "op" not in rec:
            df = self.db.datafile(rec["f"])
            old_block = df.read(rec["b"])
            # The change vector names the version it changes (the block's SCN now); the live
            # database writes it unchecked, as a change to a corrupt block would first raise
            # ORA-01578 in a real session (not simulated).
            rec["p"] = blocks.block_scn(old_block)
            df.write(rec["b"], redo.changed_block(rec, old_block, df.file_no, df.block_size))
            for i, old in enumerate(self.records):
                if "op" not in old and old["f"] == rec["f"] and old["b"] == rec["b"]:
                    # One record per block and SCN, as recovery skips a record whose SCN the block
                    # already carries; it changes the version before the transaction.
                    self.records[i] = dict(rec, p=old["p"]) if "s" in rec else {
                        "scn": self.scn, "t": self.t, "f": rec["f"], "b": rec["b"], "p": old["p"],
                        "blk": blocks.read_json_payload(df.read(rec["b"]))}
                    return
        self.records.append(rec)

    def seed_block(self, file_no: int, block_no: int, seed: int) -> None:
        self._apply({"f": file_no, "b": block_no, "s": seed})

    def put_json(self, file_no: int, block_no: int, obj: Any) -> None:
        self._apply({"f": file_no, "b": block_no, "blk": obj})

    def insert_row(self, file_no: int, block_no: int, row: list) -> None:
        self._apply({"f": file_no, "b": block_no, "ins": row})

    def op(self, **rec: Any) -> None:
        self._apply(rec)


class Database:
    """The database an instance has mounted (or is about to create)."""

    def __init__(self, instance: Instance):
        self.instance = instance
        self.state = instance.state
        self.cf_paths = instance.control_files()
        self._cf: Controlfile | None = None
        self._files: dict[int, Datafile] = {}

    # -- access ----------------------------------------------------------
    @property
    def cf(self) -> Controlfile:
        if self._cf is None:
            try:
                self._cf = Controlfile.load(self.cf_paths)
            except Exception as exc:
                raise OraError("ORA-00205", "error in identifying control file, check alert log for more info") from exc
        return self._cf

    def reload(self) -> None:
        self._cf = None
        self._files = {}

    @property
    def lock_path(self) -> Path:
        return self.cf_paths[0]

    @contextmanager
    def changing(self) -> Iterator[Controlfile]:
        """Lock the database, reload the controlfile, save it on success."""
        with locked(self.lock_path):
            self.reload()
            cf = self.cf
            yield cf
            cf.save()

    def now(self) -> float:
        return clock.now(self.state)

    def datafile(self, file_no: int) -> Datafile:
        if file_no not in self._files:
            entry = self.cf.datafile(file_no)
            if entry is None:
                raise OraError("ORA-01516", f"nonexistent log file, data file, or temporary file \"{file_no}\"")
            try:
                self._files[file_no] = Datafile(Path(entry["name"]))
            except DatafileError as exc:
                raise OraError("ORA-01157", f"cannot identify/lock data file {file_no} - see DBWR trace file",
                               f"ORA-01110: data file {file_no}: '{entry['name']}'") from exc
        return self._files[file_no]

    @property
    def history_path(self) -> Path:
        return history_path(self.state, self.cf.doc["dbid"])

    @property
    def thread_no(self) -> int:
        """The redo thread this instance writes (``thread`` parameter; 0, the default, is thread 1)."""
        return int(self.instance.param("thread") or 0) or 1

    def online_log_path(self, thread: int | None = None) -> Path:
        return self.cf_paths[0].parent / f"redo_thread{thread or self.thread_no}.log"

    @property
    def sidecar_path(self) -> Path:
        return self.cf_paths[0].parent / "sim_sidecar.json"

    def sidecar(self) -> dict:
        try:
            return json.loads(self.sidecar_path.read_text())
        except FileNotFoundError:
            return {}

    def save_sidecar(self, data: dict) -> None:
        tmp = self.sidecar_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        tmp.replace(self.sidecar_path)

    # -- transactions ---------------------------------------------------
    @contextmanager
    def txn(self, when: float | None = None) -> Iterator[Transaction]:
        """Run one transaction; caller holds ``changing()``."""
        cf = self.cf
        scn = cf.doc["current_scn"] + 1
        tx = Transaction(self, scn, when if when is not None else self.now())
        yield tx
        cf.doc["current_scn"] = scn
        self._append_redo(tx.records)

    def _append_redo(self, records: list[dict]) -> None:
        """Records to this instance's current log (numbering them) and to the history."""
        path = self.online_log_path()
        if not path.exists() or path.stat().st_size == 0:
            th = self.cf.thread(self.thread_no) or {"sequence": 1, "log_first_change": 0, "log_first_time": 0.0}
            self._start_online_log(self.thread_no, th, first_record=1)
        redolog.append_online(path, records)
        text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        self.history_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.history_path, "a") as fh:
            fh.write(text)

    def _start_online_log(self, thread: int, th: dict, first_record: int) -> None:
        doc = self.cf.doc
        redolog.start_online(self.online_log_path(thread), {
            "dbid": doc["dbid"], "thread": thread, "sequence": th["sequence"],
            "first_change": th["log_first_change"], "first_time": th["log_first_time"],
            "resetlogs_id": doc["resetlogs_id"], "first_record": first_record})

    def online_log(self, thread: int | None = None) -> tuple[dict | None, list[dict]]:
        """A thread's current log: its header and verified records (RedoLogError if corrupt)."""
        number = thread or self.thread_no
        return redolog.read_online(self.online_log_path(number), number)

    def online_records(self, thread: int | None = None) -> list[dict]:
        return self.online_log(thread)[1]

    # -- dictionary and tables -------------------------------------------
    def dictionary(self) -> dict:
        return self.datafile(DICT_FILE).read_json(DICT_BLOCK) or {"tables": {}, "used": {}}

    def table_rows(self, name: str) -> list[list]:
        table = self.dictionary()["tables"].get(name.upper())
        if table is None:
            raise OraError("ORA-00942", "table or view does not exist")
        rows: list[list] = []
        df = self.datafile(table["file"])
        for b in table["blocks"]:
            data = df.read(b)
            if not blocks.is_valid(data, table["file"], b):
                raise OraError("ORA-01578", f"ORACLE data block corrupted (file # {table['file']}, block # {b})",
                               f"ORA-01110: data file {table['file']}: '{df.path}'")
            rows.extend(blocks.read_json_payload(data) or [])
        return rows

    def table_columns(self, name: str) -> list[list[str]]:
        table = self.dictionary()["tables"].get(name.upper())
        if table is None:
            raise OraError("ORA-00942", "table or view does not exist")
        return table["cols"]

    def _allocate(self, dic: dict, file_no: int) -> int:
        used = dic["used"].setdefault(str(file_no), [DICT_BLOCK] if file_no == DICT_FILE else [])
        nblocks = self.datafile(file_no).nblocks
        start = max(used, default=0) + 1
        if start + EXTENT > nblocks:
            raise OraError("ORA-01653", f"unable to extend table by {EXTENT} in tablespace")
        used.extend(range(start, start + EXTENT))
        return start

    def create_table(self, tx: Transaction, name: str, cols: list[list[str]], file_no: int) -> None:
        dic = self.dictionary()
        first = self._allocate(dic, file_no)
        dic["tables"][name] = {"cols": cols, "file": file_no, "blocks": [first],
                               "free": list(range(first + 1, first + EXTENT))}
        tx.put_json(file_no, first, [])
        tx.put_json(DICT_FILE, DICT_BLOCK, dic)

    def insert(self, tx: Transaction, name: str, row: list) -> None:
        dic = self.dictionary()
        table = dic["tables"][name]
        f, last = table["file"], table["blocks"][-1]
        rows = self.datafile(f).read_json(last) or []
        if len(blocks.json_payload(rows + [row])) > blocks.json_capacity(self.cf.doc["block_size"]):
            if not table["free"]:
                start = self._allocate(dic, f)
                table["free"] = list(range(start, start + EXTENT))
            last = table["free"].pop(0)
            table["blocks"].append(last)
            tx.put_json(f, last, [])
            tx.put_json(DICT_FILE, DICT_BLOCK, dic)
        tx.insert_row(f, last, row)

    def used_blocks(self, file_no: int) -> set[int]:
        return set(self.dictionary()["used"].get(str(file_no), []))

    # -- workload -----------------------------------------------------------
    def workload(self, transactions: int, blocks_per_txn: int = 3, rng: random.Random | None = None,
                 advance: float = 0.0, sleep: float = 0.0) -> list[tuple[int, float]]:
        """Run transactions: rewrite random blocks and insert a timestamped row.

        ``advance`` moves the simulated clock forward that many seconds per
        transaction; ``sleep`` waits on the real clock.  Returns (scn, time)
        of each transaction.
        """
        rng = rng or random.Random()
        done = []
        if not self.cf.doc.get("app_table_file"):
            raise OraError("ORA-00942", "table or view does not exist")
        for _ in range(transactions):
            if advance:
                clock.set_offset(self.state, clock.offset(self.state) + advance)
            if sleep:
                time.sleep(sleep)
            with self.changing() as cf:
                candidates = [d for d in cf.datafiles() if d.get("status") != "OFFLINE"]
                with self.txn() as tx:
                    for _ in range(blocks_per_txn):
                        d = rng.choice(candidates)
                        used = self.used_blocks(d["file"])
                        free = [b for b in range(1, d["blocks"]) if b not in used]
                        if free:
                            tx.seed_block(d["file"], rng.choice(free), rng.getrandbits(63))
                    ident = cf.doc.get("app_next_id", 1)
                    cf.doc["app_next_id"] = ident + 1
                    self.insert(tx, "APP.TRANSACTIONS", [ident, clock.fmt(tx.t)])
                    if tx.t - cf.doc.get("smon_last", 0) >= cf.doc.get("smon_interval", SMON_INTERVAL):
                        self.insert(tx, "SYS.SMON_SCN_TIME", [clock.fmt(tx.t), tx.scn])
                        cf.doc["smon_last"] = tx.t
                done.append((tx.scn, tx.t))
        return done

    # -- archiving ---------------------------------------------------------
    def archive_destinations(self, logfile: str = "ONLINE_LOGFILE") -> list[tuple[int, str, bool]]:
        """Enabled local destinations valid for ``logfile`` in this database's role, as
        (dest_id, directory, is_recovery_area): a primary archives its online logs, a
        standby the logs it receives (STANDBY_LOGFILE)."""
        inst = self.instance
        role = "STANDBY_ROLE" if self.cf.doc.get("database_role", "PRIMARY") != "PRIMARY" else "PRIMARY_ROLE"
        out = []
        for n in range(1, 32):
            value = inst.param(f"log_archive_dest_{n}")
            state = (inst.param(f"log_archive_dest_state_{n}") or "enable").lower()
            if not value or state not in ("enable", "alternate") or state == "alternate":
                continue
            if not valid_for(value, logfile, role):
                continue
            loc = parse_location(value)
            if loc is None:
                continue
            if loc.upper() == "USE_DB_RECOVERY_FILE_DEST":
                fra = inst.param("db_recovery_file_dest")
                if fra:
                    out.append((n, fra, True))
            else:
                out.append((n, loc, False))
        if not out and inst.param("db_recovery_file_dest"):
            out.append((10, inst.param("db_recovery_file_dest"), True))
        return out

    def archivelog_name(self, dest: str, in_fra: bool, thread: int, seq: int, when: float) -> Path:
        cf = self.cf.doc
        if in_fra:
            day = clock.fmt(when, "%Y_%m_%d")
            return (Path(dest) / cf["db_unique_name"].upper() / "archivelog" / day
                    / f"o1_mf_{thread}_{seq}_{random_suffix()}_.arc")
        fmt = self.instance.param("log_archive_format") or "%t_%s_%r.dbf"
        name = fmt.replace("%t", str(thread)).replace("%s", str(seq)).replace("%r", str(cf["resetlogs_id"]))
        return Path(dest) / name

    def switch_logfile(self, thread: int | None = None) -> dict:
        """Archive a thread's current online log (default: this instance's) to every enabled destination.

        Caller holds ``changing()``.
        """
        cf = self.cf
        doc = cf.doc
        if doc.get("database_role", "PRIMARY") != "PRIMARY":
            # a standby has no online redo of its own to archive (mounted ones fail earlier: ORA-01109)
            raise OraError("ORA-16000", "database or pluggable database open for read-only access")
        number = thread or self.thread_no
        th = cf.thread(number)
        if th is None:
            raise OraError("ORA-01618", f"redo thread {number} is not enabled - cannot mount")
        online_head, records = self.online_log(number)
        first_record = online_head["first_record"] if online_head else 1
        when = self.now()
        next_change = doc["current_scn"] + 1
        header = {
            "dbid": doc["dbid"], "db_name": doc["db_name"], "thread": number,
            "sequence": th["sequence"], "first_change": th["log_first_change"],
            "next_change": next_change, "first_time": th["log_first_time"], "next_time": when,
            "resetlogs_id": doc["resetlogs_id"], "block_size": doc["block_size"],
            "first_record": first_record,
        }
        dests = self.archive_destinations()
        if not dests:
            raise OraError("ORA-16020", "less destinations available than specified by LOG_ARCHIVE_MIN_SUCCEED_DEST")
        for dest_id, directory, in_fra in dests:
            path = self.archivelog_name(directory, in_fra, number, th["sequence"], when)
            redo.write_archivelog(path, header, records)
            self.add_archived_log(path, header, dest_id)
        # v$log_history: every switch, kept whatever happens to the archived log records
        doc.setdefault("log_history", []).append({k: header[k] for k in (
            "thread", "sequence", "first_change", "next_change", "first_time", "next_time")})
        doc["current_scn"] = next_change
        th["sequence"] += 1
        th["log_first_change"] = next_change
        th["log_first_time"] = when
        self._start_online_log(number, th, first_record + len(records))
        self.checkpoint(next_change, when)
        from .standby import ship  # redo transport to the standbys (SERVICE= destinations)
        ship(self, header, records)
        return header

    def archive_log_current(self) -> list[dict]:
        """``alter system archive log current``: every enabled thread's log is switched and archived.

        Caller holds ``changing()``.  In a cluster the instance that runs it
        switches the other threads' logs too, as Oracle does.
        """
        return [self.switch_logfile(th["thread"]) for th in self.cf.threads()]

    def add_archived_log(self, path: Path, header: dict, dest_id: int, creator: str = "ARCH",
                         registrar: str | None = None) -> dict:
        cf = self.cf
        row = {
            "recid": cf.next_recid("archived_log"), "stamp": oracle_stamp(self.now()),
            "name": str(path), "dest_id": dest_id, "thread": header["thread"],
            "sequence": header["sequence"], "first_change": header["first_change"],
            "next_change": header["next_change"], "first_time": header["first_time"],
            "next_time": header["next_time"], "resetlogs_id": header["resetlogs_id"],
            "status": "A", "deleted": "NO", "archived": "YES", "creator": creator,
            "registrar": registrar or creator,
            "blocks": max(1, Path(path).stat().st_size // 512),
        }
        cf.doc["archived_logs"].append(row)
        return row

    def checkpoint(self, scn: int, when: float) -> None:
        for d in self.cf.datafiles():
            self.datafile(d["file"]).set_checkpoint(scn, when)
            d["checkpoint_scn"] = scn
            d["checkpoint_time"] = when

    # -- structure changes -------------------------------------------------
    def add_datafile(self, ts: str, nblocks: int, name: Path | None = None) -> dict:
        """Create a datafile in tablespace ``ts``; caller holds ``changing()``."""
        cf = self.cf
        doc = cf.doc
        if name is None:
            dest = self.instance.param("db_create_file_dest")
            if not dest:
                raise OraError("ORA-02236", "invalid file name")
            name = omf_datafile_name(dest, doc["db_name"], ts)
        file_no = max((d["file"] for d in doc["datafiles"]), default=0) + 1
        with self.txn() as tx:
            entry = {
                "file": file_no, "name": str(name), "ts": ts.upper(), "blocks": nblocks,
                "creation_scn": tx.scn, "creation_time": tx.t, "checkpoint_scn": tx.scn,
                "checkpoint_time": tx.t, "status": "SYSTEM" if ts.upper() == "SYSTEM" else "ONLINE",
            }
            create_datafile(Path(name), self.file_header(entry))
            doc["datafiles"].append(entry)
            if ts.upper() not in doc["tablespaces"]:
                doc["tablespaces"].append(ts.upper())
            tx.op(op="adddf", f=file_no, df=entry)
        return entry

    def file_header(self, entry: dict) -> dict:
        doc = self.cf.doc
        return {
            "kind": "datafile", "dbid": doc["dbid"], "db_name": doc["db_name"], "file": entry["file"],
            "ts": entry["ts"], "block_size": doc["block_size"], "blocks": entry["blocks"],
            "creation_scn": entry["creation_scn"], "creation_time": entry["creation_time"],
            "checkpoint_scn": entry["checkpoint_scn"], "checkpoint_time": entry["checkpoint_time"],
            "resetlogs_id": doc["resetlogs_id"],
        }

    def drop_tablespace(self, ts: str) -> list[dict]:
        cf = self.cf
        ts = ts.upper()
        if ts in ("SYSTEM", "SYSAUX", self.instance.param("undo_tablespace") or "UNDOTBS1"):
            raise OraError("ORA-12919", "Can not drop the default permanent tablespace")
        if ts not in cf.doc["tablespaces"]:
            raise OraError("ORA-00959", f"tablespace '{ts}' does not exist")
        if any(t["file"] in [d["file"] for d in cf.doc["datafiles"] if d["ts"] == ts]
               for t in self.dictionary()["tables"].values()):
            raise OraError("ORA-01549", "tablespace not empty, use INCLUDING CONTENTS option")
        dropped = [d for d in cf.doc["datafiles"] if d["ts"] == ts]
        with self.txn() as tx:
            tx.op(op="dropts", ts=ts, files=[d["file"] for d in dropped])
        cf.doc["datafiles"] = [d for d in cf.doc["datafiles"] if d["ts"] != ts]
        cf.doc["tablespaces"].remove(ts)
        for d in dropped:
            Path(d["name"]).unlink(missing_ok=True)
        return dropped

    def corrupt_block(self, file_no: int, block_no: int, path: Path | None = None) -> None:
        """Flip bytes inside a block without fixing its checksum (a media corruption)."""
        df = Datafile(path) if path else self.datafile(file_no)
        data = bytearray(df.read(block_no))
        for i in range(100, 140):
            data[i] ^= 0xFF
        df.write(block_no, bytes(data))

    def enable_bct(self) -> str:
        cf = self.cf
        if cf.doc["bct"]["status"] == "ENABLED":
            raise OraError("ORA-19752", "block change tracking is already enabled")
        dest = self.instance.param("db_create_file_dest") or str(self.cf_paths[0].parent)
        path = Path(dest) / cf.doc["db_name"].upper() / "changetracking" / f"o1_mf_{random_suffix()}_.chg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * 11 * 1024)
        cf.doc["bct"] = {"status": "ENABLED", "filename": str(path)}
        return str(path)


def valid_for(value: str, logfile: str, role: str) -> bool:
    """Whether a destination's VALID_FOR=(logfiles,roles) (default ALL_LOGFILES,ALL_ROLES) covers
    archiving ``logfile`` (ONLINE_LOGFILE or STANDBY_LOGFILE) in ``role`` (PRIMARY_ROLE or STANDBY_ROLE)."""
    text = value.upper().replace(" ", "")
    start = text.find("VALID_FOR=(")
    if start < 0:
        return True
    kinds = text[start + len("VALID_FOR=("):].split(")", 1)[0].split(",")
    files = kinds[0].rstrip("S") if kinds else "ALL_LOGFILE"
    roles = kinds[1] if len(kinds) > 1 else "ALL_ROLES"
    return files in ("ALL_LOGFILE", logfile) and roles in ("ALL_ROLES", role)


def parse_location(value: str) -> str | None:
    """The LOCATION= of a log_archive_dest_N value, or None (SERVICE= etc.)."""
    for attr in value.replace("'", " ").replace('"', " ").split():
        if attr.upper().startswith("LOCATION="):
            return attr.split("=", 1)[1]
    return None


def create_database(state: Path, *, sid: str, name: str, dbid: int, oradata: Path, fra: Path,
                    block_size: int = 8192, files: dict[str, list[int]] | None = None,
                    edition: str = "EE", cdb: bool = False, fra_dest: bool = True,
                    smon_interval: float = SMON_INTERVAL, instances: int = 1) -> Database:
    """Create and open a database.  ``files``: tablespace -> list of sizes in blocks.

    ``instances`` > 1 makes a RAC database: instances ``<name>1`` … ``<name>N``
    (``sid`` is then ignored), each with its own redo thread and undo
    tablespace, all open; the alias ``<name>`` names the first.
    """
    files = files or {"SYSTEM": [64], "SYSAUX": [64], "UNDOTBS1": [32], "USERS": [32]}
    if instances > 1:
        files = {**files, **{f"UNDOTBS{n}": [32] for n in range(2, instances + 1)}}
        sid = f"{name}1"
    for required in ("SYSTEM", "SYSAUX", "UNDOTBS1", "USERS"):
        if not files.get(required):
            raise ValueError(f"tablespace {required} needs at least one datafile")
    state = Path(state)
    inst = Instance(state, sid)
    if inst.read_spfile() is not None:
        raise ValueError(f"a database with SID {sid} exists already")
    ctl = Path(oradata) / name.upper() / "controlfile" / f"o1_mf_{random_suffix()}_.ctl"
    params: dict[str, Any] = {
        "db_name": name, "db_unique_name": name, "control_files": str(ctl),
        "db_block_size": str(block_size), "db_create_file_dest": str(oradata),
        "db_recovery_file_dest": str(fra), "db_recovery_file_dest_size": str(10 * 1024**3),
        "undo_tablespace": "UNDOTBS1", "enable_pluggable_database": "TRUE" if cdb else "FALSE",
        "sga_target": "2G", "pga_aggregate_target": "1G", "instance_number": "0", "thread": "0",
        "diagnostic_dest": str(state / "diag"),
    }
    if fra_dest:
        params["log_archive_dest_1"] = "LOCATION=USE_DB_RECOVERY_FILE_DEST"
    if instances > 1:
        params.update(cluster_database="TRUE", instance_number="1", thread="1")
    inst.write_spfile(params)
    inst.start(None)
    now = clock.now(state)
    doc = new_document(db_name=name, dbid=dbid, block_size=block_size, cdb=cdb, edition=edition,
                       created=now, resetlogs_id=oracle_stamp(now) - 1000, current_scn=1000,
                       oradata=str(oradata))
    doc["smon_interval"] = smon_interval
    doc["smon_last"] = 0
    ctl.parent.mkdir(parents=True, exist_ok=True)
    Controlfile([ctl], doc).save()
    db = Database(inst)
    with db.changing():
        for ts in ("SYSTEM", "SYSAUX", "UNDOTBS1", "USERS"):
            for size in files[ts]:
                db.add_datafile(ts, size)
        for ts, sizes in files.items():
            if ts not in ("SYSTEM", "SYSAUX", "UNDOTBS1", "USERS"):
                for size in sizes:
                    db.add_datafile(ts, size)
        users = next(d["file"] for d in db.cf.datafiles() if d["ts"] == "USERS")
        with db.txn() as tx:
            tx.put_json(DICT_FILE, DICT_BLOCK, {"tables": {}, "used": {str(DICT_FILE): [DICT_BLOCK]}})
            db.create_table(tx, "SYS.SMON_SCN_TIME", TABLES["SYS.SMON_SCN_TIME"], DICT_FILE)
            db.create_table(tx, "APP.TRANSACTIONS", TABLES["APP.TRANSACTIONS"], users)
            db.insert(tx, "SYS.SMON_SCN_TIME", [clock.fmt(tx.t), tx.scn])
        db.cf.doc["smon_last"] = now
        db.cf.doc["app_table_file"] = users
        db.checkpoint(db.cf.doc["current_scn"], now)
    sidecar = {"users": [{"username": "SYS", "account_status": "OPEN", "common": "YES" if cdb else "NO"},
                         {"username": "APP", "account_status": "OPEN", "common": "NO"}],
               "grants": [], "credentials": [], "programs": [], "schedules": [], "jobs": [],
               "job_classes": [], "job_log": [], "procedures": []}
    db.save_sidecar(sidecar)
    inst.set_status("open", "READ WRITE")
    if instances > 1:
        add_cluster_instances(db, params, instances)
    return db


def add_cluster_instances(db: Database, params: dict[str, Any], instances: int) -> None:
    """Instances 2..N of a RAC database: a redo thread each (enabled, open), started and open."""
    from .controlfile import new_thread
    state, name = db.state, params["db_name"]
    with db.changing() as cf:
        for n in range(2, instances + 1):
            cf.doc["threads"].append(new_thread(n, cf.doc["current_scn"], db.now()))
    for n in range(2, instances + 1):
        other = Instance(state, f"{name}{n}")
        other.write_spfile({**params, "instance_number": str(n), "thread": str(n), "undo_tablespace": f"UNDOTBS{n}"})
        other.start(None)
        other.set_status("open", "READ WRITE")
    add_alias(state, name, f"{name}1")


def split_files(value: str) -> list[str]:
    return [v.strip().strip("'") for v in split_list(value) if v.strip()]
