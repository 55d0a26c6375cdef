"""Checks that read the files: BACKUP VALIDATE, VALIDATE, RESTORE ... VALIDATE/PREVIEW, REPORT.

``backup validate check logical database`` reads every block of every
datafile and checks its checksum and address; corrupt blocks are listed in
the controlfile document under ``block_corruption`` (what SQL*Plus shows as
V$DATABASE_BLOCK_CORRUPTION) and the file's status is FAILED, while the
command itself succeeds, as real RMAN's does.  The restore checks look
for the newest usable copy or piece and read it; what cannot be found is
RMAN-06026/06023/06024/06025, what cannot be read ORA-19505.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from .. import blocks, redo
from ..controlfile import Controlfile
from ..database import Database
from ..datafile import Datafile, DatafileError
from ..instance import OraError
from ..recovery import usable_logs
from . import pieces
from . import statements as st
from .context import Channel, Context
from .output import RmanError, elapsed


def _used_blocks(db: Database) -> dict[int, set[int]]:
    try:
        used = db.dictionary()["used"]
    except Exception:  # noqa: BLE001 - a corrupt dictionary block just means no type information
        return {}
    return {int(f): set(bs) for f, bs in used.items()}


def _scan(db: Database, entry: dict, used: set[int]) -> dict:
    """Examine one datafile: counts per block type, failing blocks, high SCN."""
    try:
        df = db.datafile(entry["file"])
    except OraError as exc:
        raise RmanError.from_ora(exc) from exc
    creation = df.header["creation_scn"]
    res = {"empty": 0, "data": [0, 0], "other": [0, 1], "high": 0, "corrupt": []}
    for b, data in df.iter_blocks():
        kind = "data" if b in used else "other"
        if not blocks.is_valid(data, entry["file"], b):
            res[kind][0] += 1
            res[kind][1] += 1
            res["corrupt"].append(b)
            continue
        scn = blocks.block_scn(data)
        res["high"] = max(res["high"], scn)
        if scn <= creation and kind == "other":
            res["empty"] += 1
        else:
            res[kind][1] += 1
    res["examined"] = df.nblocks
    res["name"] = str(df.path)
    return res


def _print_file(ctx: Context, entry: dict, res: dict) -> None:
    out = ctx.out
    status = "FAILED" if res["corrupt"] else "OK"
    out.line(f"{entry['file']:<4} {status:<6} {0:<14} {res['empty']:<12} {res['examined']:<15} {res['high']:<10}")
    out.line(f"  File Name: {res['name']}")
    out.line("  Block Type Blocks Failing Blocks Processed")
    out.line("  ---------- -------------- ----------------")
    out.line(f"  {'Data':<10} {res['data'][0]:<14} {res['data'][1]:<16}")
    out.line(f"  {'Index':<10} {0:<14} {0:<16}")
    out.line(f"  {'Other':<10} {res['other'][0]:<14} {res['other'][1]:<16}")


def _trace_file(db: Database) -> Path:
    inst = db.instance
    base = Path(inst.param("diagnostic_dest") or db.state / "diag")
    trace = base / "diag" / "rdbms" / str(inst.param("db_name")).lower() / inst.sid / "trace"
    return trace / f"{inst.sid}_ora_{os.getpid()}.trc"


def validate_files(ctx: Context, db: Database, entries: list[dict], chans: list[Channel]) -> None:
    """Validate datafiles on the channels and record what is corrupt."""
    out = ctx.out
    cf = db.cf
    groups: list[tuple[Channel, list[dict]]] = [(ch, []) for ch in chans]
    for i, entry in enumerate(entries):
        groups[i % len(chans)][1].append(entry)
    groups = [g for g in groups if g[1]]
    for ch, items in groups:
        out.line(f"channel {ch.name}: starting full datafile backup set")
        out.line(f"channel {ch.name}: specifying datafile(s) in backup set")
        for entry in items:
            out.line(f"input datafile file number={entry['file']:05d} name={entry['name']}")
    used = _used_blocks(db)
    found: list[dict] = []
    started = time.monotonic()
    for ch, items in reversed(groups):  # the last channel tends to finish first, as in real logs
        results = [(entry, _scan(db, entry, used.get(entry["file"], set()))) for entry in items]
        out.line(f"channel {ch.name}: backup set complete, elapsed time: {elapsed(time.monotonic() - started)}")
        out.line("List of Datafiles")
        out.line("=================")
        out.line("File Status Marked Corrupt Empty Blocks Blocks Examined High SCN")
        out.line("---- ------ -------------- ------------ --------------- ----------")
        bad = False
        for entry, res in results:
            _print_file(ctx, entry, res)
            for b in res["corrupt"]:
                found.append({"file": entry["file"], "block": b, "blocks": 1, "corruption_change": 0,
                              "corruption_type": "CHECKSUM"})
                bad = True
        if bad:
            trc = _trace_file(db)
            try:
                trc.parent.mkdir(parents=True, exist_ok=True)
                trc.write_text("".join(f"Corrupt block relative dba: file {c['file']} block {c['block']}\n"
                                       for c in found))
            except OSError:
                pass
            out.line("validate found one or more corrupt blocks")
            out.line(f"See trace file {trc} for details")
        out.line()
    validated = {e["file"] for e in entries}
    old = [r for r in cf.doc.get("block_corruption", []) if r["file"] not in validated]
    cf.doc["block_corruption"] = old + found


def backup_validate(ctx: Context, stmt: st.Stmt) -> None:
    """``backup validate [check logical] database|datafile n`` and ``validate database``."""
    word = "validate" if isinstance(stmt, st.Validate) else "backup"
    db = ctx.database()
    out = ctx.out
    with db.changing() as cf:
        out.line(f"Starting {word} at {ctx.date()}")
        ctx.repository(db)
        chans = ctx.channels(cf)
        if isinstance(stmt, st.Validate):
            entries = cf.datafiles() if stmt.files is None else [_entry(cf, n) for n in stmt.files]
        else:
            entries = []
            for spec in stmt.specs:
                if spec.kind == "DATABASE":
                    entries += cf.datafiles()
                elif spec.kind == "DATAFILE":
                    entries += [_entry(cf, n) for n in spec.files]
                else:
                    raise RmanError("RMAN-00600: internal error, arguments [simulator: backup validate of "
                                    f"{spec.kind.lower()} is not simulated]")
        validate_files(ctx, db, entries, chans)
        out.line(f"Finished {word} at {ctx.date()}")
        out.line()


def _entry(cf: object, n: int) -> dict:
    entry = cf.datafile(n)  # type: ignore[attr-defined]
    if entry is None:
        raise RmanError("RMAN-20201: datafile not found in the repository",
                        f"RMAN-06010: error while looking up datafile: {n}")
    return entry


# -- restore ... preview / validate ---------------------------------------------------------

def _copies_for(ctx: Context, db: Database, files: list[int] | None) -> list[tuple[dict, dict]]:
    cf = db.cf
    entries = cf.datafiles() if not files else [_entry(cf, n) for n in files]
    chosen, missing = [], []
    for entry in entries:
        copy = pieces.newest_copy(cf, entry["file"], None, entry["creation_scn"])
        if copy is None:
            missing.append(f"RMAN-06023: no backup or copy of datafile {entry['file']} found to restore")
        else:
            chosen.append((entry, copy))
    if missing:
        raise RmanError("RMAN-06026: some targets not found - aborting restore", *missing)
    return chosen


def _copy_table(ctx: Context, chosen: list[tuple[dict, dict]]) -> None:
    out = ctx.out
    out.line()
    out.line("List of Datafile Copies")
    out.line("=======================")
    out.line()
    out.line("Key     File S Completion Time     Ckp SCN    Ckp Time            Sparse")
    out.line("------- ---- - ------------------- ---------- ------------------- ------")
    for _e, c in chosen:
        out.line(f"{c['recid']:<7} {c['file']:<4} {c['status']} {ctx.date(c['completion_time']):<19} "
                 f"{c['checkpoint_scn']:<10} {ctx.date(c['checkpoint_time']):<19} NO")
        out.line(f"        Name: {c['name']}")
        if c.get("tag"):
            out.line(f"        Tag: {c['tag']}")
        out.line()


def archived_log_table(ctx: Context, db: Database, rows: list[dict]) -> None:
    out = ctx.out
    out.line(f"List of Archived Log Copies for database with db_unique_name {db.cf.doc['db_unique_name'].upper()}")
    out.line("=====================================================================")
    out.line()
    out.line("Key     Thrd Seq     S Low Time")
    out.line("------- ---- ------- - -------------------")
    for r in rows:
        out.line(f"{r['recid']:<7} {r['thread']:<4} {r['sequence']:<7} {r['status']} {ctx.date(r['first_time'])}")
        out.line(f"        Name: {r['name']}")
        out.line()


def _needed_logs(db: Database, start_scn: int) -> list[dict]:
    return [row for _k, row in sorted(usable_logs(db).items()) if row["next_change"] > start_scn]


def restore_check(ctx: Context, stmt: st.Restore) -> None:
    db = ctx.database()
    out = ctx.out
    with db.changing() as cf:
        out.line(f"Starting restore at {ctx.date()}")
        ctx.repository(db)
        chans = ctx.channels(cf)
        ch = chans[0]
        if stmt.what in ("DATABASE", "DATAFILE"):
            chosen = _copies_for(ctx, db, stmt.files)
            if stmt.preview or stmt.header:
                _copy_table(ctx, chosen)
                start = min(c["checkpoint_scn"] for _e, c in chosen)
                end = max(c["checkpoint_scn"] for _e, c in chosen)
                logs = _needed_logs(db, start)
                if logs:
                    archived_log_table(ctx, db, logs)
                out.line(f"recovery will be done up to SCN {end}")
                out.line(f"Media recovery start SCN is {start}")
                out.line(f"Recovery must be done beyond SCN {end} to clear datafile fuzziness")
            for entry, copy in chosen:
                _check_copy(ctx, db, entry, copy, ch, full=stmt.validate and not stmt.header)
        elif stmt.what in ("CONTROLFILE", "SPFILE"):
            _check_piece(ctx, db, stmt, ch)
        else:
            _check_archivelogs(ctx, db, ch)
        out.line(f"Finished restore at {ctx.date()}")
        out.line()


def _check_copy(ctx: Context, db: Database, entry: dict, copy: dict, ch: Channel, full: bool) -> None:
    path = Path(copy["name"])
    if full:
        ctx.out.line(f"channel {ch.name}: scanning datafile copy {path}")
    try:
        df = Datafile(path)
    except DatafileError as exc:
        if not path.exists():
            raise RmanError(*pieces.missing_file_lines(path), channel=ch.name) from exc
        raise RmanError(f"ORA-19625: error identifying file {path}", "ORA-27048: skgfifi: file header "
                        "information is invalid", channel=ch.name) from exc
    if df.header["dbid"] != db.cf.doc["dbid"] or df.header["file"] != entry["file"]:
        raise RmanError(f"ORA-19563: datafile copy header validation failed for file {path}", channel=ch.name)
    if full:
        for b, data in df.iter_blocks():
            if not blocks.is_valid(data, entry["file"], b):
                raise RmanError(f"ORA-19566: exceeded limit of 0 corrupt blocks for file {path}", channel=ch.name)


def _check_piece(ctx: Context, db: Database, stmt: st.Restore, ch: Channel) -> None:
    out = ctx.out
    key = "controlfile_included" if stmt.what == "CONTROLFILE" else "spfile_included"
    rows = sorted((p for p in db.cf.live_pieces() if p.get(key)), key=lambda p: p["completion_time"], reverse=True)
    for row in rows:
        if stmt.preview:
            out.line(f"control file backup piece {row['handle']} tag={row['tag']} would be used")
            return
        started = time.monotonic()
        out.line(f"channel {ch.name}: starting validation of datafile backup set")
        out.line(f"channel {ch.name}: reading from backup piece {row['handle']}")
        try:
            header, _body = pieces.read_piece(Path(row["handle"]))
            if header.get("dbid") != db.cf.doc["dbid"]:
                raise RmanError(f"ORA-19870: error while restoring backup piece {row['handle']}")
        except RmanError as exc:
            out.line(f"channel {ch.name}: ORA-19870: error while restoring backup piece {row['handle']}")
            out.lines(exc.lines)
            out.line("failover to previous backup")
            out.line()
            continue
        out.line(f"channel {ch.name}: piece handle={row['handle']} tag={row['tag']}")
        out.line(f"channel {ch.name}: restored backup piece 1")
        out.line(f"channel {ch.name}: validation complete, elapsed time: {elapsed(time.monotonic() - started)}")
        return
    if stmt.what == "CONTROLFILE":
        raise RmanError("RMAN-06026: some targets not found - aborting restore",
                        "RMAN-06024: no backup or copy of the control file found to restore")
    raise RmanError("RMAN-06026: some targets not found - aborting restore",
                    "RMAN-06172: no AUTOBACKUP found or specified handle is not a valid copy or piece")


def _check_archivelogs(ctx: Context, db: Database, ch: Channel) -> None:
    rows = db.cf.live_archived_logs()
    if not rows:
        ctx.out.line("specification does not match any archived log in the repository")
        return
    by_seq: dict[tuple[int, int], list[dict]] = {}
    for r in rows:
        by_seq.setdefault((r["thread"], r["sequence"]), []).append(r)
    missing = []
    for (thread, seq), candidates in sorted(by_seq.items()):
        good = None
        for r in candidates:
            try:
                # every redo block is read and checked; a copy that fails is not one RMAN can restore
                header, _records = redo.read_archivelog(Path(r["name"]), sequence=seq)
            except redo.RedoLogError:
                continue
            if header.get("dbid") == db.cf.doc["dbid"]:
                good = r
                break
        if good is None:
            missing.append(f"RMAN-06025: no backup of archived log for thread {thread} with sequence {seq} "
                           f"and starting SCN of {candidates[0]['first_change']} found to restore")
        else:
            ctx.out.line(f"channel {ch.name}: scanning archived log {good['name']}")
    if missing:
        raise RmanError("RMAN-06026: some targets not found - aborting restore", *missing)


# -- report --------------------------------------------------------------------------------

def run_report(ctx: Context, stmt: st.Report) -> None:
    db = ctx.database()
    out = ctx.out
    with db.changing() as cf:
        ctx.repository(db)
        if stmt.what == "UNRECOVERABLE":
            out.line("Report of files that need backup due to unrecoverable operations")
            out.line("File Type of Backup Required Name")
            out.line("---- ----------------------- -----------------------------------")
            out.line()
            return
        if stmt.what == "SCHEMA":
            _report_schema(ctx, db)
            return
        window, redundancy = retention_policy(ctx, cf, stmt.window_days, stmt.redundancy)
        if stmt.what == "OBSOLETE":
            from .cmd_maint import obsolete_pieces, print_obsolete  # cmd_maint imports this module
            found = obsolete_pieces(ctx, cf, window, redundancy)
            if found:
                print_obsolete(ctx, found, "Report of obsolete backups and copies")
            else:
                out.line("no obsolete backups found")
            out.line()
            return
        now = ctx.now()
        if window is not None:
            out.line(f"Report of files whose recovery needs more than {window:g} days of archived logs")
            out.line("File Days  Name")
            out.line("---- ----- -----------------------------------------------------")
        else:
            out.line(f"Report of files with less than {redundancy} redundant backups")
            out.line("File #bkps Name")
            out.line("---- ----- -----------------------------------------------------")
        for entry in cf.datafiles():
            copies = [c for c in cf.live_copies() if c["file"] == entry["file"]
                      and c["creation_scn"] == entry["creation_scn"]]
            if window is not None:
                newest = max((c["checkpoint_time"] for c in copies), default=entry["creation_time"])
                days = int((now - newest) // 86400)
                if now - newest > window * 86400:
                    out.line(f"{entry['file']:<4} {days:<5} {entry['name']}")
            elif len(copies) < (redundancy or 1):
                out.line(f"{entry['file']:<4} {len(copies):<5} {entry['name']}")
        out.line()


def _report_schema(ctx: Context, db: Database) -> None:
    out = ctx.out
    cf = db.cf
    out.line(f"Report of database schema for database with db_unique_name {cf.doc['db_unique_name'].upper()}")
    out.line()
    out.line("List of Permanent Datafiles")
    out.line("===========================")
    out.line("File Size(MB) Tablespace           RB segs Datafile Name")
    out.line("---- -------- -------------------- ------- ------------------------")
    undo = db.instance.param("undo_tablespace") or "UNDOTBS1"
    for d in cf.datafiles():
        size = d["blocks"] * cf.doc["block_size"] // (1024 * 1024)
        rb = "YES" if d["ts"] in ("SYSTEM", undo) else "NO"
        out.line(f"{d['file']:<4} {size:<8} {d['ts']:<20} {rb:<7} {d['name']}")
    out.line()


def retention_policy(ctx: Context, cf: Controlfile, window: float | None, redundancy: int | None
                     ) -> tuple[float | None, int | None]:
    """The command's own window/redundancy, else the configured retention policy (announced as RMAN does)."""
    if window is not None or redundancy is not None:
        return window, redundancy
    policy = ctx.config(cf, "RETENTION POLICY") or "TO REDUNDANCY 1"
    ctx.out.line("RMAN retention policy will be applied to the command")
    ctx.out.line(f"RMAN retention policy is set to {policy[3:].lower()}")
    words = policy.split()
    if "WINDOW" in words:
        return float(words[-2]), None
    if "REDUNDANCY" in words:
        return None, int(words[-1])
    return None, None
