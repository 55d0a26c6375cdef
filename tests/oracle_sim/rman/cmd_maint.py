"""Repository maintenance: DELETE, CHANGE, CATALOG, CROSSCHECK, LIST and the obsolete rules.

DELETE removes the files and marks the rows deleted (status D, deleted
YES).  CHANGE ... UNCATALOG drops the rows and leaves the files;
UNAVAILABLE/AVAILABLE flip a piece's or copy's status.  CATALOG reads each
file's header to tell what it is: a datafile copy of this database, or a
simulator ARCHIVELOG, BACKUPPIECE or CONTROLFILE file; anything else "has a
corrupted header" (RMAN-07517), a file of another database is foreign
(RMAN-07518).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from .. import simfile
from ..controlfile import Controlfile, oracle_stamp
from ..database import Database
from ..datafile import DatafileError, read_header
from . import pieces
from . import statements as st
from .cmd_validate import archived_log_table, retention_policy
from .context import Context
from .output import RmanError
from .timeexpr import evaluate

STATUS = {"A": "AVAILABLE", "U": "UNAVAILABLE", "X": "EXPIRED", "D": "DELETED"}


def _piece_table(ctx: Context, rows: list[dict]) -> None:
    out = ctx.out
    out.line("List of Backup Pieces")
    out.line("BP Key  BS Key  Pc# Cp# Status      Device Type Piece Name")
    out.line("------- ------- --- --- ----------- ----------- ----------")
    for r in rows:
        out.line(f"{r['recid']:<7} {r['bs_key']:<7} {r['piece']:<3} {r['copy']:<3} {STATUS[r['status']]:<11} "
                 f"{'DISK':<11} {r['handle']}")


def _copy_table(ctx: Context, rows: list[dict]) -> None:
    out = ctx.out
    out.line("List of Datafile Copies")
    out.line("=======================")
    out.line()
    out.line("Key     File S Completion Time     Ckp SCN    Ckp Time            Sparse")
    out.line("------- ---- - ------------------- ---------- ------------------- ------")
    for c in rows:
        out.line(f"{c['recid']:<7} {c['file']:<4} {c['status']} {ctx.date(c['completion_time']):<19} "
                 f"{c['checkpoint_scn']:<10} {ctx.date(c['checkpoint_time']):<19} NO")
        out.line(f"        Name: {c['name']}")
        if c.get("tag"):
            out.line(f"        Tag: {c['tag']}")
        out.line()


def _remove_files(ctx: Context, items: list[tuple[str, dict]], force: bool) -> None:
    """Delete the files of ``items`` (kind, row) and mark them deleted; missing files need FORCE."""
    out = ctx.out
    done, mismatched = 0, []
    for kind, row in items:
        path = Path(row["handle"] if kind == "piece" else row["name"])
        if not path.exists() and not force:
            mismatched.append((kind, row))
            continue
        path.unlink(missing_ok=True)
        row["status"], row["deleted"] = "D", "YES"
        done += 1
        if kind == "piece":
            out.line("deleted backup piece")
            out.line(f"backup piece handle={path} RECID={row['recid']} STAMP={row['stamp']}")
        elif kind == "copy":
            out.line("deleted datafile copy")
            out.line(f"datafile copy file name={path} RECID={row['recid']} STAMP={row['stamp']}")
        else:
            out.line("deleted archived log")
            out.line(f"archived log file name={path} RECID={row['recid']} STAMP={row['stamp']}")
    out.line(f"Deleted {done} objects")
    out.line()
    if mismatched:
        out.line(f"RMAN-06207: WARNING: {len(mismatched)} objects could not be deleted for DISK channel(s) due")
        out.line("RMAN-06208:          to mismatched status.  Use CROSSCHECK command to fix status")
        out.line("RMAN-06210: List of Mismatched objects")
        out.line("RMAN-06211: ==========================")
        out.line("RMAN-06212:   Object Type   Filename/Handle")
        out.line("RMAN-06213: --------------- ---------------------------------------------------")
        for kind, row in mismatched:
            label = {"piece": "Backup Piece", "copy": "Datafile Copy", "log": "Archivelog"}[kind]
            out.line(f"RMAN-06214: {label:<15} {row.get('handle') or row.get('name')}")
    out.line()


# -- obsolete ----------------------------------------------------------------------------------

def obsolete_pieces(ctx: Context, cf: Controlfile, window: float | None,
                    redundancy: int | None) -> list[tuple[str, dict]]:
    """Backups the retention policy no longer needs (archived logs are never judged obsolete here).

    Per kind (controlfile backups, SPFILE backups, copies of each datafile)
    a recovery window keeps every backup newer than the window plus the
    newest one older than it; redundancy N keeps the newest N.  Incremental
    pieces are obsolete once every copy they could recover has moved past
    them.
    """
    if window is None and redundancy is None:
        return []
    cutoff = ctx.now() - window * 86400 if window is not None else None
    groups: dict[str, list[tuple[str, dict, float]]] = {}
    for p in cf.live_pieces():
        if p["type"] == "incremental":
            continue
        key = "cf" if p.get("controlfile_included") else "sp"
        groups.setdefault(key, []).append(("piece", p, p["completion_time"]))
    for c in cf.live_copies():
        groups.setdefault(f"df{c['file']}", []).append(("copy", c, c["checkpoint_time"]))
    found: list[tuple[str, dict]] = []
    for items in groups.values():
        items.sort(key=lambda x: x[2], reverse=True)
        if cutoff is not None:
            old = [x for x in items if x[2] <= cutoff]
            found += [(k, r) for k, r, _t in old[1:]]
        else:
            found += [(k, r) for k, r, _t in items[redundancy or 1:]]
    copies = cf.live_copies()
    for p in cf.live_pieces():
        if p["type"] != "incremental" or (cutoff is not None and p["completion_time"] > cutoff):
            continue
        ahead = all(any(c["file"] == f and c["checkpoint_scn"] >= (p.get("checkpoint_scn") or 0) for c in copies)
                    for f in p["files"])
        if ahead:
            found.append(("piece", p))
    return found


def print_obsolete(ctx: Context, found: list[tuple[str, dict]], title: str) -> None:
    out = ctx.out
    out.line(title + ":")
    out.line("Type                 Key    Completion Time    Filename/Handle")
    out.line("-------------------- ------ ------------------ --------------------")
    for kind, row in found:
        if kind == "piece":
            out.line(f"{'Backup Set':<20} {row['bs_key']:<6} {ctx.date(row['completion_time']):<18}")
            out.line(f"  {'Backup Piece':<18} {row['recid']:<6} {ctx.date(row['completion_time']):<18} {row['handle']}")
        else:
            out.line(f"{'Datafile Copy':<20} {row['recid']:<6} {ctx.date(row['completion_time']):<18} {row['name']}")


# -- DELETE -----------------------------------------------------------------------------------

def run_delete(ctx: Context, stmt: st.Delete) -> None:
    db = ctx.database()
    out = ctx.out
    with db.changing() as cf:
        ctx.repository(db)
        if stmt.force and stmt.what == "ARCHIVELOG" and ctx.auto_channels and not (ctx.run and ctx.run.channels):
            # Real 12.1 logs show DELETE FORCE ARCHIVELOG releasing and reallocating the automatic channels.
            for ch in ctx.auto_channels:
                out.line(f"released channel: {ch.name}")
            ctx.auto_channels = []
        ctx.channels(cf)
        if stmt.what == "BACKUP":
            rows = sorted((p for p in cf.doc["backup_pieces"] if p["status"] in ("A", "X") or
                           (stmt.force and p["status"] == "U")) , key=lambda p: p["recid"])
            rows = [p for p in rows if stmt.tag is None or p["tag"] == stmt.tag]
            if not rows:
                out.line("specification does not match any backup in the repository")
                out.line()
                return
            out.line()
            _piece_table(ctx, rows)
            _remove_files(ctx, [("piece", r) for r in rows], stmt.force)
        elif stmt.what == "ARCHIVELOG":
            until = None
            if stmt.until_time is not None:
                until = evaluate(stmt.until_time, ctx.now(), ctx.env)
            # As RMAN's archlogRange: UNTIL TIME takes every log with redo from before that time.
            rows = [r for r in cf.live_archived_logs()
                    if (until is None or r["first_time"] < until)
                    and (stmt.sequence is None or r["sequence"] <= stmt.sequence)]
            if not rows:
                out.line("specification does not match any archived log in the repository")
                out.line()
                return
            archived_log_table(ctx, db, rows)
            _remove_files(ctx, [("log", r) for r in rows], stmt.force)
        elif stmt.what == "OBSOLETE":
            window, redundancy = retention_policy(ctx, cf, stmt.window_days, stmt.redundancy)
            found = obsolete_pieces(ctx, cf, window, redundancy)
            if not found:
                out.line("no obsolete backups found")
                out.line()
                return
            print_obsolete(ctx, found, "Deleting the following obsolete backups and copies")
            _remove_files(ctx, found, stmt.force)
        else:
            if stmt.what == "DATAFILECOPY":
                rows = []
                for name in stmt.names:
                    match = [c for c in cf.doc["datafile_copies"] if c["name"] == name and c["status"] in "AUX"]
                    if not match:
                        raise RmanError("RMAN-20230: datafile copy not found in the repository",
                                        f"RMAN-06015: error while looking up datafile copy name: {name}")
                    rows += match
            else:
                current = {(d["file"], d["creation_scn"]) for d in cf.datafiles()}
                rows = [c for c in cf.live_copies(stmt.tag) if (c["file"], c["creation_scn"]) in current]
                if not rows:
                    out.line("specification does not match any datafile copy in the repository")
                    out.line()
                    return
            _copy_table(ctx, rows)
            _remove_files(ctx, [("copy", r) for r in rows], stmt.force)


# -- CHANGE -----------------------------------------------------------------------------------

def run_change(ctx: Context, stmt: st.Change) -> None:
    db = ctx.database()
    out = ctx.out
    with db.changing() as cf:
        ctx.repository(db)
        if stmt.what == "ARCHIVELOG":
            rows = [r for r in cf.live_archived_logs() if not stmt.names or r["name"] in stmt.names]
            kind, label, table = "archived log", "archived log file name", "archived_logs"
        elif stmt.what in ("BACKUP", "BACKUPPIECE"):
            want = "U" if stmt.action == "AVAILABLE" else None
            rows = [p for p in cf.doc["backup_pieces"]
                    if (p["status"] == want if want else p["status"] in ("A", "X"))
                    and (not stmt.names or p["handle"] in stmt.names)
                    and (stmt.tag is None or p["tag"] == stmt.tag)]
            kind, label, table = "backup piece", "backup piece handle", "backup_pieces"
        else:
            current = {d["file"] for d in cf.datafiles()}
            want = "U" if stmt.action == "AVAILABLE" else "A"
            rows = [c for c in cf.doc["datafile_copies"] if c["status"] == want
                    and (stmt.what == "DATAFILECOPY" or c["file"] in current)
                    and (not stmt.names or c["name"] in stmt.names)
                    and (stmt.tag is None or c["tag"] == stmt.tag)]
            rows.sort(key=lambda c: (c["file"], c["recid"]))
            kind, label, table = "datafile copy", "datafile copy file name", "datafile_copies"
        if not rows:
            noun = {"archived log": "archived log", "backup piece": "backup",
                    "datafile copy": "datafile copy"}[kind]
            out.line(f"specification does not match any {noun} in the repository")
            out.line()
            return
        for r in rows:
            name = r.get("handle") or r["name"]
            if stmt.action == "UNCATALOG":
                cf.doc[table].remove(r)
                out.line(f"uncataloged {kind}")
            else:
                r["status"] = "U" if stmt.action == "UNAVAILABLE" else "A"
                out.line(f"changed {kind} {stmt.action.lower()}")
            out.line(f"{label}={name} RECID={r['recid']} STAMP={r['stamp']}")
        if stmt.action == "UNCATALOG":
            out.line(f"Uncataloged {len(rows)} objects")
        else:
            out.line(f"Changed {len(rows)} objects to {stmt.action} status")
        out.line()
        out.line()


# -- CATALOG ------------------------------------------------------------------------------------

def _walk(directory: str) -> Iterator[str]:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            yield from _walk(e.path)
        elif e.is_file():
            yield e.path


def find_files(prefix: str) -> list[str]:
    """Files whose path starts with ``prefix``, searched recursively, in directory order."""
    if prefix.endswith("/"):
        return list(_walk(prefix.rstrip("/") or "/"))
    base = os.path.dirname(prefix) or "."
    out: list[str] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return []
    for e in entries:
        if not e.path.startswith(prefix):
            continue
        if e.is_dir(follow_symlinks=False):
            out += list(_walk(e.path))
        elif e.is_file():
            out.append(e.path)
    return out


def _known(db: Database) -> set[str]:
    cf = db.cf
    names = {r["name"] for r in cf.doc["archived_logs"] if r["status"] != "D" and r["name"]}
    names |= {c["name"] for c in cf.doc["datafile_copies"] if c["status"] != "D"}
    names |= {p["handle"] for p in cf.doc["backup_pieces"] if p["status"] != "D"}
    names |= {c["name"] for c in cf.doc.get("controlfile_copies", []) if c["status"] != "D"}
    names |= {d["name"] for d in cf.datafiles()}
    names |= {str(p) for p in db.cf_paths}
    return names


def catalog_file(ctx: Context, db: Database, path: str) -> tuple[dict | None, str, str]:
    """Catalog one file; returns (row or None, kind word, reason when not catalogued)."""
    cf = db.cf
    dbid = cf.doc["dbid"]
    now = ctx.now()
    kind = simfile.kind_of(Path(path))
    if kind is not None:
        try:
            _k, header, _body = simfile.read(Path(path), kind)
        except simfile.SimFileError:
            return None, "", "RMAN-07517: Reason: The file header is corrupted"
        hdr_dbid = (header.get("dbid") if kind != "CONTROLFILE" else header.get("dbid"))
        if hdr_dbid != dbid:
            return None, "", (f"RMAN-07518: Reason: Foreign database file DBID: {hdr_dbid}  "
                              f"Database Name: {str(header.get('db_name', '')).upper()}")
        if kind == "ARCHIVELOG":
            return db.add_archived_log(Path(path), header, dest_id=0, creator="RMAN"), "archived log", ""
        if kind == "BACKUPPIECE":
            when = header.get("created", now)
            return pieces.add_piece_row(cf, Path(path), header, when, when), "backup piece", ""
        row = {"recid": cf.next_recid("controlfile_copy"), "stamp": oracle_stamp(now), "name": path, "tag": None,
               "checkpoint_scn": header.get("current_scn"), "completion_time": now, "status": "A",
               "deleted": "NO"}
        cf.doc.setdefault("controlfile_copies", []).append(row)
        return row, "control file copy", ""
    try:
        header = read_header(Path(path))
    except DatafileError:
        return None, "", "RMAN-07517: Reason: The file header is corrupted"
    if header["dbid"] != dbid:
        return None, "", (f"RMAN-07518: Reason: Foreign database file DBID: {header['dbid']}  "
                          f"Database Name: {header['db_name'].upper()}")
    return pieces.add_copy_row(cf, Path(path), header, header.get("tag"), now), "datafile copy", ""


def run_catalog(ctx: Context, stmt: st.Catalog) -> None:
    db = ctx.database()
    out = ctx.out
    with db.changing():
        ctx.repository(db)
        if stmt.start_with is None:
            for name in stmt.names:
                if not Path(name).exists():
                    raise RmanError(*pieces.missing_file_lines(name), channel="default")
                row, kind, reason = catalog_file(ctx, db, name)
                expected = {"DATAFILECOPY": "datafile copy", "ARCHIVELOG": "archived log",
                            "BACKUPPIECE": "backup piece"}[stmt.kind or ""]
                if row is None or kind != expected:
                    raise RmanError(f"ORA-19563: {expected} header validation failed for file {name}",
                                    *([reason] if reason else []), channel="default")
                label = {"datafile copy": "datafile copy file name", "archived log": "archived log file name",
                         "backup piece": "backup piece handle"}[kind]
                out.line(f"cataloged {kind}")
                out.line(f"{label}={name} RECID={row['recid']} STAMP={row['stamp']}")
            out.line()
            return
        out.line(f"searching for all files that match the pattern {stmt.start_with}")
        known = _known(db)
        unknown = [f for f in find_files(stmt.start_with) if f not in known]
        out.line()
        if not unknown:
            out.line("no files found to be unknown to the database")
            out.line()
            return
        out.line("List of Files Unknown to the Database")
        out.line("=====================================")
        for f in unknown:
            out.line(f"File Name: {f}")
        out.line("cataloging files...")
        done, failed = [], []
        for f in unknown:
            row, _kind, reason = catalog_file(ctx, db, f)
            (done.append(f) if row is not None else failed.append((f, reason)))
        out.line("cataloging done")
        if done:
            out.line()
            out.line("List of Cataloged Files")
            out.line("=======================")
            for f in done:
                out.line(f"File Name: {f}")
        if failed:
            out.line()
            out.line("List of Files Which Were Not Cataloged")
            out.line("=======================================")
            for f, reason in failed:
                out.line(f"File Name: {f}")
                out.line(f"  {reason}")
        out.line()


# -- CROSSCHECK and LIST ------------------------------------------------------------------------------

def run_crosscheck(ctx: Context, stmt: st.Crosscheck) -> None:
    db = ctx.database()
    out = ctx.out
    with db.changing() as cf:
        ctx.repository(db)
        ctx.channels(cf)
        if stmt.what == "BACKUP":
            items = [(p, p["handle"], "backup piece", "backup piece handle") for p in cf.doc["backup_pieces"]
                     if p["status"] in ("A", "X")]
        elif stmt.what == "ARCHIVELOG":
            items = [(r, r["name"], "archived log", "archived log file name") for r in cf.doc["archived_logs"]
                     if r["status"] in ("A", "X")]
        else:
            items = [(c, c["name"], "datafile copy", "datafile copy file name") for c in cf.doc["datafile_copies"]
                     if c["status"] in ("A", "X")]
        if not items:
            noun = {"BACKUP": "backup", "ARCHIVELOG": "archived log", "COPY": "datafile copy"}[stmt.what]
            out.line(f"specification does not match any {noun} in the repository")
            out.line()
            return
        for row, name, kind, label in items:
            ok = Path(name).exists()
            row["status"] = "A" if ok else "X"
            if kind == "backup piece":
                out.line(f"crosschecked backup piece: found to be '{'AVAILABLE' if ok else 'EXPIRED'}'")
            else:
                out.line(f"validation {'succeeded' if ok else 'failed'} for {kind}")
            out.line(f"{label}={name} RECID={row['recid']} STAMP={row['stamp']}")
        out.line(f"Crosschecked {len(items)} objects")
        out.line()


def run_list(ctx: Context, stmt: st.ListCmd) -> None:
    db = ctx.database()
    out = ctx.out
    cf = db.cf
    ctx.repository(db)
    if stmt.what == "ARCHIVELOG":
        rows = [r for r in cf.doc["archived_logs"] if r["status"] in ("A", "U", "X")]
        if rows:
            archived_log_table(ctx, db, rows)
        else:
            out.line("specification does not match any archived log in the repository")
    elif stmt.what == "COPY":
        rows = [c for c in cf.doc["datafile_copies"] if c["status"] in ("A", "U", "X")]
        if rows:
            _copy_table(ctx, rows)
        else:
            out.line("specification does not match any datafile copy in the repository")
    elif not stmt.summary:
        # the detailed listing (one block per backup set and piece) is not modelled; the summary is
        raise RmanError("RMAN-00600: internal error, arguments [simulator: list backup (without summary) "
                        "is not simulated]", bare=True)
    else:
        rows = [p for p in cf.doc["backup_pieces"] if p["status"] in ("A", "U", "X")]
        if not rows:
            out.line("specification does not match any backup in the repository")
        else:
            out.line()
            out.line("List of Backups")
            out.line("===============")
            out.line("Key     TY LV S Device Type Completion Time     #Pieces #Copies Compressed Tag")
            out.line("------- -- -- - ----------- ------------------- ------- ------- ---------- ---")
            for p in rows:
                lv = "1" if p["type"] == "incremental" else "F"
                out.line(f"{p['bs_key']:<7} B  {lv:<2} {p['status']} {'DISK':<11} {ctx.date(p['completion_time']):<19} "
                         f"{1:<7} {1:<7} {'NO':<10} {p['tag']}")
    out.line()
