"""BACKUP, RECOVER COPY and the controlfile autobackup.

The incremental-forever cycle: ``backup incremental level 1 for recover of
copy with tag T database`` makes a level-0 image copy of each datafile that
has no live copy tagged T, and for the others a level-1 backup piece of the
blocks whose SCN is newer than the copy's checkpoint; ``recover copy of
database with tag T`` writes those blocks into the copies and raises their
checkpoint.  Backups read the datafiles block by block and check every
checksum (ORA-19566 on a corrupt block, as RMAN's MAXCORRUPT 0).
"""
from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path

from .. import blocks, redo, simfile
from ..controlfile import oracle_stamp
from ..database import Database
from ..datafile import Datafile, copy_datafile, random_suffix
from ..instance import OraError
from . import pieces
from . import statements as st
from .cmd_validate import backup_validate
from .context import Channel, Context, expand_format
from .output import RmanError, elapsed
from .timeexpr import evaluate

NOT_SIMULATED = "RMAN-00600: internal error, arguments [simulator: {} is not simulated]"


def _datafile_entries(db: Database, spec: st.BackupSpec) -> list[dict]:
    cf = db.cf
    if spec.kind == "DATABASE":
        return [d for d in cf.datafiles() if d.get("status") != "OFFLINE"]
    if spec.kind == "DATAFILE":
        out = []
        for n in spec.files:
            entry = cf.datafile(n)
            if entry is None:
                raise RmanError("RMAN-20201: datafile not found in the repository",
                                f"RMAN-06010: error while looking up datafile: {n}")
            out.append(entry)
        return out
    wanted = {t.upper() for t in spec.tablespaces}
    missing = wanted - set(cf.doc["tablespaces"])
    if missing:
        raise RmanError("RMAN-20202: Tablespace not found in the recovery catalog",
                        f"RMAN-06019: could not translate tablespace name \"{sorted(missing)[0]}\"")
    return [d for d in cf.datafiles() if d["ts"] in wanted]


def read_checked_blocks(db: Database, entry: dict, channel: Channel) -> list[tuple[int, bytes]]:
    """Every block of a datafile, each checksum checked (a corrupt block fails the backup)."""
    try:
        df = db.datafile(entry["file"])
    except OraError as exc:
        raise RmanError.from_ora(exc, channel=channel.name) from exc
    out = []
    for b, data in df.iter_blocks():
        if not blocks.is_valid(data, entry["file"], b):
            raise RmanError(f"ORA-19566: exceeded limit of 0 corrupt blocks for file {entry['name']}",
                            channel=channel.name)
        out.append((b, data))
    return out


def make_copy(ctx: Context, db: Database, entry: dict, channel: Channel, fmt: str | None,
              tag: str) -> dict:
    """A level-0 image copy of one datafile, consistent at the current SCN."""
    cf = db.cf
    started = time.monotonic()
    out = ctx.out
    out.line(f"channel {channel.name}: starting datafile copy")
    out.line(f"input datafile file number={entry['file']:05d} name={entry['name']}")
    read_checked_blocks(db, entry, channel)
    dest = ctx.output_path(db, ctx.format_for(cf, channel, fmt), "datafilecopy", ts=entry["ts"],
                           file=entry["file"])
    now = ctx.now()
    copy_datafile(Path(entry["name"]), dest, cf.doc["current_scn"], now)
    header = pieces.tag_copy(dest, tag)
    row = pieces.add_copy_row(cf, dest, header, tag, now)
    out.line(f"output file name={dest} tag={tag} RECID={row['recid']} STAMP={row['stamp']}")
    out.line(f"channel {channel.name}: datafile copy complete, elapsed time: {elapsed(time.monotonic() - started)}")
    return row


def _incremental_sets(ctx: Context, db: Database, stmt: st.Backup, spec: st.BackupSpec,
                      work: list[tuple[dict, dict]], chans: list[Channel], tag: str) -> None:
    """Level-1 backup sets, one per channel, of the blocks newer than each copy's checkpoint."""
    cf = db.cf
    out = ctx.out
    groups: list[tuple[Channel, list[tuple[dict, dict]]]] = []
    for i, item in enumerate(work):
        ch = chans[i % len(chans)]
        if i < len(chans):
            groups.append((ch, [item]))
        else:
            groups[i % len(chans)][1].append(item)
    started = time.monotonic()
    for ch, items in groups:
        out.line(f"channel {ch.name}: starting incremental level 1 datafile backup set")
        out.line(f"channel {ch.name}: specifying datafile(s) in backup set")
        for entry, _copy in items:
            out.line(f"input datafile file number={entry['file']:05d} name={entry['name']}")
        out.line(f"channel {ch.name}: starting piece 1 at {ctx.date()}")
    for ch, items in groups:
        start = ctx.now()
        now = start
        header = pieces.piece_header(db, "incremental", tag, now, level=1)
        body = bytearray()
        for entry, copy in items:
            picked = []
            for b, data in read_checked_blocks(db, entry, ch):
                if blocks.block_scn(data) > copy["checkpoint_scn"]:
                    picked.append(b)
                    body += data
            df = db.datafile(entry["file"])
            header["files"].append({
                "file": entry["file"], "ts": entry["ts"], "creation_scn": entry["creation_scn"],
                "from_scn": copy["checkpoint_scn"], "checkpoint_scn": cf.doc["current_scn"],
                "checkpoint_time": now, "block_size": df.block_size, "blocks": picked,
                "nblocks": entry["blocks"]})
        path = ctx.output_path(db, ctx.format_for(cf, ch, spec.format or stmt.format), "piece", tag=tag,
                               piece_type="incremental")
        pieces.write_piece(path, header, bytes(body), reuse=stmt.reuse or spec.reuse)
        pieces.add_piece_row(cf, path, header, start, ctx.now())
        out.line(f"channel {ch.name}: finished piece 1 at {ctx.date()}")
        out.line(f"piece handle={path} tag={tag} comment=NONE")
        out.line(f"channel {ch.name}: backup set complete, elapsed time: {elapsed(time.monotonic() - started)}")


def _backup_datafiles(ctx: Context, db: Database, stmt: st.Backup, spec: st.BackupSpec,
                      chans: list[Channel]) -> None:
    cf = db.cf
    entries = _datafile_entries(db, spec)
    if stmt.recover_of_copy:
        if stmt.level is None:
            raise RmanError("RMAN-06446: FOR RECOVER OF can only be used with INCREMENTAL backups")
        tag = spec.tag or stmt.tag or stmt.copy_tag or ctx.default_tag()
        need_copy, work = [], []
        for entry in entries:
            copy = None
            if stmt.level == 1:
                copy = pieces.newest_copy(cf, entry["file"], stmt.copy_tag, entry["creation_scn"])
            if copy is None:
                ctx.out.line(f"no parent backup or copy of datafile {entry['file']} found")
                need_copy.append(entry)
            else:
                work.append((entry, copy))
        for i, entry in enumerate(need_copy):
            make_copy(ctx, db, entry, chans[i % len(chans)], spec.format or stmt.format, tag)
        if work:
            _incremental_sets(ctx, db, stmt, spec, work, chans, tag)
        return
    if stmt.as_copy:
        tag = spec.tag or stmt.tag or ctx.default_tag()
        for i, entry in enumerate(entries):
            make_copy(ctx, db, entry, chans[i % len(chans)], spec.format or stmt.format, tag)
        return
    raise RmanError(NOT_SIMULATED.format("a backup set of datafiles"))


def _single_set(ctx: Context, db: Database, stmt: st.Backup, spec: st.BackupSpec, ch: Channel,
                what: str) -> None:
    """A one-piece full backup set holding the SPFILE or the current controlfile."""
    cf = db.cf
    inst = db.instance
    out = ctx.out
    tag = spec.tag or stmt.tag or ctx.default_tag()
    started = time.monotonic()
    start = ctx.now()
    if what == "spfile":
        params = inst.read_spfile()
        if not inst.doc.get("spfile") or params is None:
            raise RmanError("RMAN-06062: can not backup SPFILE because the instance was not started with SPFILE")
        header = pieces.piece_header(db, "spfile", tag, start, spfile=params)
        line = "including current SPFILE in backup set"
    else:
        snap = cf.snapshot()
        header = pieces.piece_header(db, "controlfile", tag, start, controlfile=snap,
                                     checkpoint_scn=snap["current_scn"])
        # RMAN backs up the controlfile through its snapshot controlfile.
        simfile.write(ctx.snapshot_name(cf, inst), "CONTROLFILE", snap)
        line = "including current control file in backup set"
    out.line(f"channel {ch.name}: starting full datafile backup set")
    out.line(f"channel {ch.name}: specifying datafile(s) in backup set")
    out.line(line)
    out.line(f"channel {ch.name}: starting piece 1 at {ctx.date()}")
    path = ctx.output_path(db, ctx.format_for(cf, ch, spec.format or stmt.format), "piece", tag=tag,
                           piece_type=what)
    pieces.write_piece(path, header, reuse=stmt.reuse or spec.reuse)
    pieces.add_piece_row(cf, path, header, start, ctx.now())
    out.line(f"channel {ch.name}: finished piece 1 at {ctx.date()}")
    out.line(f"piece handle={path} tag={tag} comment=NONE")
    out.line(f"channel {ch.name}: backup set complete, elapsed time: {elapsed(time.monotonic() - started)}")


def select_archived_logs(db: Database, spec: st.BackupSpec, ctx: Context) -> list[dict]:
    """One live row per (thread, sequence) whose file exists, as the spec selects them."""
    until = evaluate(spec.until_time, ctx.now(), ctx.env) if spec.until_time else None
    chosen: dict[tuple[int, int], dict] = {}
    for row in db.cf.live_archived_logs():
        if spec.thread is not None and row["thread"] != spec.thread:
            continue
        if spec.sequence is not None and row["sequence"] < spec.sequence:
            continue
        if spec.sequence_to is not None and row["sequence"] > spec.sequence_to:
            continue
        if until is not None and row["first_time"] >= until:
            continue
        key = (row["thread"], row["sequence"])
        if key not in chosen and Path(row["name"]).exists():
            chosen[key] = row
    return [chosen[k] for k in sorted(chosen)]


def _archivelog_copies(ctx: Context, db: Database, stmt: st.Backup, spec: st.BackupSpec,
                       chans: list[Channel]) -> None:
    if not stmt.as_copy:
        raise RmanError(NOT_SIMULATED.format("a backup set of archived logs"))
    rows = select_archived_logs(db, spec, ctx)
    if not rows:
        raise RmanError("RMAN-06004: ORACLE error from recovery catalog database: "
                        "RMAN-20242: specification does not match any archived log in the repository")
    cf = db.cf
    out = ctx.out
    for i, row in enumerate(rows):
        ch = chans[i % len(chans)]
        started = time.monotonic()
        out.line(f"channel {ch.name}: starting archived log copy")
        out.line(f"input archived log thread={row['thread']} sequence={row['sequence']} "
                 f"RECID={row['recid']} STAMP={row['stamp']}")
        header = redo.read_archivelog_header(Path(row["name"]))
        dest = ctx.output_path(db, ctx.format_for(cf, ch, spec.format or stmt.format), "archivelog",
                               seq=row["sequence"], thread=row["thread"])
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        shutil.copyfile(row["name"], tmp)
        tmp.replace(dest)
        new = db.add_archived_log(dest, header, dest_id=0, creator="RMAN")
        out.line(f"output file name={dest} RECID={new['recid']} STAMP={new['stamp']}")
        out.line(f"channel {ch.name}: archived log copy complete, elapsed time: "
                 f"{elapsed(time.monotonic() - started)}")
        if spec.delete_input:
            Path(row["name"]).unlink(missing_ok=True)
            row["status"], row["deleted"] = "D", "YES"


def run_backup(ctx: Context, stmt: st.Backup) -> None:
    if stmt.validate:
        backup_validate(ctx, stmt)
        return
    db = ctx.database()
    out = ctx.out
    with db.changing() as cf:
        out.line(f"Starting backup at {ctx.date()}")
        ctx.repository(db)
        chans = ctx.channels(cf)
        for spec in stmt.specs:
            if spec.kind in ("DATABASE", "DATAFILE", "TABLESPACE"):
                _backup_datafiles(ctx, db, stmt, spec, chans)
            elif spec.kind in ("SPFILE", "CONTROLFILE"):
                _single_set(ctx, db, stmt, spec, chans[0], spec.kind.lower())
            else:
                _archivelog_copies(ctx, db, stmt, spec, chans)
        out.line(f"Finished backup at {ctx.date()}")
        out.line()
    ctx.autobackup_pending = True


def run_recover_copy(ctx: Context, stmt: st.RecoverCopy) -> None:
    db = ctx.database()
    out = ctx.out
    with db.changing() as cf:
        out.line(f"Starting recover at {ctx.date()}")
        ctx.repository(db)
        chans = ctx.channels(cf)
        entries = cf.datafiles() if stmt.files is None else [cf.datafile(n) for n in stmt.files if cf.datafile(n)]
        incrementals = [p for p in cf.live_pieces() if p["type"] == "incremental"]
        headers: dict[str, tuple[dict, bytes]] = {}
        state: dict[int, tuple[dict, int]] = {}     # file -> (copy row, checkpoint so far)
        rounds: list[dict[str, list[dict]]] = []    # each round: handle -> copy rows it recovers
        for entry in entries:
            copy = pieces.newest_copy(cf, entry["file"], stmt.tag, entry["creation_scn"])
            if copy is not None:
                state[entry["file"]] = (copy, copy["checkpoint_scn"])
        plan: dict[int, list[tuple[dict, dict]]] = {f: [] for f in state}
        for f, (_copy, ckp) in state.items():
            while True:
                best = None
                for piece in incrementals:
                    for e in _piece_entries(piece, headers):
                        if e["file"] == f and e["from_scn"] <= ckp < e["checkpoint_scn"]:
                            if best is None or e["checkpoint_scn"] > best[1]["checkpoint_scn"]:
                                best = (piece, e)
                if best is None:
                    break
                plan[f].append(best)
                ckp = best[1]["checkpoint_scn"]
        for entry in entries:
            if not plan.get(entry["file"]):
                out.line(f"no copy of datafile {entry['file']} found to recover")
        depth = max((len(v) for v in plan.values()), default=0)
        for k in range(depth):
            rnd: dict[str, list[dict]] = {}
            for f, steps in plan.items():
                if k < len(steps):
                    rnd.setdefault(steps[k][0]["handle"], []).append(state[f][0])
            rounds.append(rnd)
        pieces_by_handle = {p["handle"]: p for p in incrementals}
        for rnd in rounds:
            jobs = list(rnd.items())
            started = time.monotonic()
            for i, (handle, copies) in enumerate(jobs):
                ch = chans[i % len(chans)]
                out.line(f"channel {ch.name}: starting incremental datafile backup set restore")
                out.line(f"channel {ch.name}: specifying datafile copies to recover")
                for copy in copies:
                    out.line(f"recovering datafile copy file number={copy['file']:05d} name={copy['name']}")
                out.line(f"channel {ch.name}: reading from backup piece {handle}")
            for i, (handle, copies) in enumerate(jobs):
                ch = chans[i % len(chans)]
                header, body = _load(handle, headers, ch)
                for copy in copies:
                    _apply(copy, header, body, handle, ch)
                out.line(f"channel {ch.name}: piece handle={handle} tag={pieces_by_handle[handle]['tag']}")
                out.line(f"channel {ch.name}: restored backup piece 1")
                out.line(f"channel {ch.name}: restore complete, elapsed time: {elapsed(time.monotonic() - started)}")
        out.line(f"Finished recover at {ctx.date()}")
        out.line()
    if rounds:
        ctx.autobackup_pending = True


def _piece_entries(piece: dict, cache: dict) -> list[dict]:
    if piece["handle"] not in cache:
        try:
            cache[piece["handle"]] = pieces.read_piece(Path(piece["handle"]))
        except RmanError:
            return []  # a piece that cannot be read is not a candidate, as after a failed crosscheck
    return cache[piece["handle"]][0].get("files", [])


def _load(handle: str, cache: dict, ch: Channel) -> tuple[dict, bytes]:
    if handle in cache:
        return cache[handle]
    try:
        return pieces.read_piece(Path(handle))
    except RmanError as exc:
        raise RmanError(f"ORA-19870: error while restoring backup piece {handle}", *exc.lines,
                        channel=ch.name) from exc


def _apply(copy: dict, header: dict, body: bytes, handle: str, ch: Channel) -> None:
    """Write a piece's blocks of one file into its copy (each checked first) and move the copy's checkpoint."""
    entry = next(e for e in header["files"] if e["file"] == copy["file"])
    try:
        checked = pieces.checked_piece_blocks(handle, header, body, copy["file"])
    except RmanError as exc:
        exc.channel = ch.name
        raise
    df = Datafile(Path(copy["name"]))
    df.write_many(checked)
    df.set_checkpoint(entry["checkpoint_scn"], entry["checkpoint_time"])
    copy["checkpoint_scn"] = entry["checkpoint_scn"]
    copy["checkpoint_time"] = entry["checkpoint_time"]


def run_autobackup(ctx: Context) -> None:
    """Control File and SPFILE Autobackup after commands that changed the repository."""
    if not ctx.autobackup_pending:
        return
    ctx.autobackup_pending = False
    db = ctx.database()
    out = ctx.out
    with db.changing() as cf:
        if not ctx.autobackup_on(cf):
            return
        inst = db.instance
        start = ctx.now()
        out.line(f"Starting Control File and SPFILE Autobackup at {ctx.date()}")
        fmt = pieces.autobackup_format(ctx.config(cf, "CONTROLFILE AUTOBACKUP FORMAT FOR DEVICE TYPE"))
        day = datetime.fromtimestamp(start).strftime("%Y%m%d")
        fra = inst.param("db_recovery_file_dest")
        if fmt == "%F" and fra:
            path = (Path(fra) / cf.doc["db_unique_name"].upper() / "autobackup"
                    / datetime.fromtimestamp(start).strftime("%Y_%m_%d")
                    / f"o1_mf_s_{oracle_stamp(start)}_{random_suffix(ctx.rng)}_.bkp")
        else:
            probe = Path(expand_format(fmt, cf.doc, "piece", "x", start, qq="00"))
            directory = probe.parent if probe.is_absolute() else ctx.home / "dbs"
            qq = pieces.next_qq(cf, directory, cf.doc["dbid"], day)
            path = Path(expand_format(fmt, cf.doc, "piece", "x", start, qq=qq))
            if not path.is_absolute():
                path = ctx.home / "dbs" / path
        snap = cf.snapshot()
        header = pieces.piece_header(db, "controlfile", ctx.default_tag(), start, controlfile=snap,
                                     spfile=inst.read_spfile() if inst.doc.get("spfile") else None,
                                     autobackup=True, checkpoint_scn=snap["current_scn"])
        pieces.write_piece(path, header, reuse=True)
        pieces.add_piece_row(cf, path, header, start, ctx.now())
        out.line(f"piece handle={path} comment=NONE")
        out.line(f"Finished Control File and SPFILE Autobackup at {ctx.date()}")
        out.line()
