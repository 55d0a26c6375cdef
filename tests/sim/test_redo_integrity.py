"""Redo integrity: logs are blocks that are verified, changes are vectors that must fit their blocks.

What real Oracle catches, the simulator must catch: a flipped byte, a missing
record, a truncated or swapped log, and redo applied to a block that is
corrupt or is not the version the change was made to.
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from oracle_sim import redo, redolog, simfile, truth
from oracle_sim.datafile import Datafile

from . import test_roundtrip
from .test_roundtrip import restore_until

backed_up = test_roundtrip.backed_up          # the fixture, used by name


def _archived(db) -> list[Path]:
    """orcl's archived logs in the recovery area, in sequence order."""
    rows = sorted((r for r in db.cf.doc["archived_logs"] if r["dest_id"] != 0), key=lambda r: r["sequence"])
    return [Path(r["name"]) for r in rows]


@pytest.fixture
def logs(orcl):
    """orcl after three log switches with transactions in each log."""
    db = orcl.db("orcl")
    for _ in range(3):
        db.workload(6, rng=random.Random(7))
        with db.changing():
            db.switch_logfile()
    db.reload()
    return orcl, db, _archived(db)


def _flip(path: Path, offset_from_end: int) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) - offset_from_end] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_healthy_log_reads_back_numbered_and_chained(logs):
    _sim, db, paths = logs
    heads = [redo.read_archivelog(p)[0] for p in paths]
    for prev, head in zip(heads, heads[1:]):
        redolog.check_chain(prev, head, "x")                     # no exception: a continuous chain
    _h, records = redo.read_archivelog(paths[-1])
    assert [r["n"] for r in records] == list(range(records[0]["n"], records[0]["n"] + len(records)))
    assert all("p" in r for r in records if "b" in r)


# (fault, Oracle's first error line) - each written down beside its case
LOG_FAULTS = [
    ("flipped_byte", "ORA-00368: checksum error in redo log block"),
    ("truncated", "ORA-00354: corrupt redo log block header"),
    ("deleted_record", "ORA-00355: change numbers out of order"),
    ("swapped_body", "ORA-00310: archived log contains sequence"),
]


def _damage(paths: list[Path], fault: str) -> Path:
    victim = paths[1]
    if fault == "flipped_byte":
        _flip(victim, 300)
    elif fault == "truncated":
        victim.write_bytes(victim.read_bytes()[:-700])
    elif fault == "deleted_record":
        # rewritten with valid checksums by a tool that knows the format: only continuity is left to catch it
        header, records = redo.read_archivelog(victim)
        del records[len(records) // 2]
        redo.write_archivelog(victim, header, records)
    else:
        # the redo of two logs exchanged under their file headers (what catalog reads)
        other = paths[2]
        (_k1, h1, b1), (_k2, h2, b2) = simfile.read(victim), simfile.read(other)
        simfile.write(victim, "ARCHIVELOG", h1, b2)
        simfile.write(other, "ARCHIVELOG", h2, b1)
    return victim


@pytest.mark.parametrize("fault, first_line", LOG_FAULTS)
def test_a_damaged_archivelog_fails_verification_with_oracles_stack(logs, fault, first_line):
    _sim, _db, paths = logs
    victim = _damage(paths, fault)
    with pytest.raises(redo.RedoLogError) as err:
        redo.read_archivelog(victim)
    lines = err.value.lines
    assert lines[0].startswith(first_line)
    if fault != "swapped_body":
        assert lines[1].startswith("ORA-00353: log corruption near block ")
    assert lines[-1] == f"ORA-00334: archived log: '{victim}'"


def test_a_gap_between_two_logs_of_a_thread_is_found(logs):
    _sim, _db, paths = logs
    first = redo.read_archivelog(paths[0])[0]
    third = redo.read_archivelog(paths[2])[0]
    with pytest.raises(redo.RedoLogError) as err:
        redolog.check_chain(first, third, f"ORA-00334: archived log: '{paths[2]}'")
    assert err.value.lines[0] == "ORA-00355: change numbers out of order"


def test_a_corrupt_online_log_block_is_found(orcl):
    db = orcl.db("orcl")
    db.workload(5, rng=random.Random(3))
    path = db.online_log_path()
    _flip(path, 100)
    with pytest.raises(redo.RedoLogError) as err:
        db.online_log()
    assert err.value.lines[-1].startswith("ORA-00312: online log 1 thread 1:")


def _copies(db, tmp_path: Path) -> dict[int, Datafile]:
    """Copies of every datafile, consistent at the current SCN (as an image copy is)."""
    out = {}
    for d in db.cf.datafiles():
        dest = tmp_path / "copies" / Path(d["name"]).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(d["name"], dest)
        out[d["file"]] = Datafile(dest)
    return out


def _touched_block(records: list[dict]) -> dict:
    return next(r for r in records if "s" in r)


def test_redo_onto_a_corrupt_block_stops_with_ora_10567(orcl, tmp_path):
    """A corrupt block that redo changes is not healed by the change: recovery stops."""
    db = orcl.db("orcl")
    copies = _copies(db, tmp_path)
    start = db.cf.doc["current_scn"]
    db.workload(4, rng=random.Random(5))
    records = db.online_records()
    rec = _touched_block(records)
    db.corrupt_block(rec["f"], rec["b"], path=copies[rec["f"]].path)
    with pytest.raises(redo.RedoInconsistent) as err:
        redo.replay(records, copies, start)
    lines = err.value.lines
    assert lines[0].startswith(f"ORA-10567: Redo is inconsistent with data block (file# {rec['f']}, "
                               f"block# {rec['b']}, file offset is ")
    assert lines[1].startswith("ORA-10564: tablespace ")
    assert lines[2] == f"ORA-01110: data file {rec['f']}: '{copies[rec['f']].path}'"


def test_redo_onto_a_block_of_another_version_stops_with_ora_10567(orcl, tmp_path):
    """A block older than the change expects (a lost write, a stale copy) stops recovery too."""
    db = orcl.db("orcl")
    copies = _copies(db, tmp_path)
    start = db.cf.doc["current_scn"]
    db.workload(6, rng=random.Random(11))
    records = db.online_records()
    later = [r for r in records if "b" in r and r["p"] > start]      # a change to a block changed since the copy
    assert later, "the workload changed no block twice"
    rec = later[0]
    # the earlier change of that block is lost: recovery meets the block at the wrong version
    kept = [r for r in records
            if not ("b" in r and (r["f"], r["b"]) == (rec["f"], rec["b"]) and r["scn"] < rec["scn"])]
    with pytest.raises(redo.RedoInconsistent):
        redo.replay(kept, copies, start)


def test_recovery_run_again_skips_what_blocks_already_have(orcl, tmp_path):
    db = orcl.db("orcl")
    copies = _copies(db, tmp_path)
    start = db.cf.doc["current_scn"]
    db.workload(5, rng=random.Random(2))
    records = db.online_records()
    first = redo.replay(records, copies, start)
    again = redo.replay(records, copies, start)
    assert first.applied_records > 0 and again.applied_records == 0


def test_the_test_oracle_does_not_run_recoverys_code(orcl, monkeypatch):
    """truth.py reads the history itself: breaking recovery's change code leaves it right."""
    db = orcl.db("orcl")
    db.workload(5, rng=random.Random(4))
    path = Path(db.cf.datafile(4)["name"])
    expected = truth.blocks_as_of(orcl.state, db.cf.doc["dbid"], 4, db.cf.doc["current_scn"],
                                  header=Datafile(path).header)

    def broken(*_a, **_k):
        raise AssertionError("truth.py ran recovery's code")
    monkeypatch.setattr(redo, "changed_block", broken)
    monkeypatch.setattr(redo, "apply_record", broken)
    again = truth.blocks_as_of(orcl.state, db.cf.doc["dbid"], 4, db.cf.doc["current_scn"],
                               header=Datafile(path).header)
    assert again == expected
    assert truth.differing_blocks(path, expected) == []


@pytest.mark.slow
def test_rman_recover_stops_on_a_flipped_byte_with_oracles_stack(backed_up, tmp_path):
    sim, area, after = backed_up
    clone = tmp_path / "clone"
    shutil.copytree(area, clone)
    copies = [Datafile(p) for p in clone.glob("data_D-*")]
    start = min(df.header["checkpoint_scn"] for df in copies)
    logs = sorted((redo.read_archivelog_header(p)["sequence"], p) for p in (clone / "archivelog").iterdir())
    needed = [p for _s, p in logs if redo.read_archivelog_header(p)["next_change"] > start]
    _flip(needed[0], 200)
    with pytest.raises(AssertionError) as failure:
        restore_until(sim, clone, tmp_path / "scratch", float(int(after[7][1]) + 1))   # inside the archived redo
    text = str(failure.value)
    for line in ("RMAN-03002: failure of recover command", "ORA-00283: recovery session canceled due to errors",
                 "ORA-00368: checksum error in redo log block", "ORA-00353: log corruption near block",
                 f"ORA-00334: archived log: '{needed[0]}'"):
        assert line in text


def test_standby_apply_stops_on_a_corrupt_block_and_the_primary_goes_on(sim):
    """Managed recovery runs the same change-vector checks: it stops (alert log), it does not heal the block."""
    from oracle_sim import standby
    sim.create_db("orcl")
    standby.create_standby(sim.state, primary="orcl", name="orclsb", oradata=sim.root / "sbo", fra=sim.root / "sbf")
    prim = sim.db("orcl")
    table = prim.dictionary()["tables"]["APP.TRANSACTIONS"]
    f, b = table["file"], table["blocks"][-1]            # every transaction adds a row to this block
    sb = sim.db("orclsb")
    before = sb.cf.doc["current_scn"]
    sb.corrupt_block(f, b, path=Path(sb.cf.datafile(f)["name"]))
    prim.workload(3, rng=random.Random(1))
    with prim.changing():
        prim.switch_logfile()                            # ships and delivers at once (no delay)
    sb = sim.db("orclsb")
    assert sb.cf.doc["current_scn"] == before            # nothing applied past the error
    alert = next((sim.state / "diag").rglob("alert_orclsb.log")).read_text()
    assert "MRP0: Background Media Recovery terminated with error" in alert
    assert f"ORA-10567: Redo is inconsistent with data block (file# {f}, block# {b}" in alert
    assert prim.cf.doc["current_scn"] > before           # the primary went on
