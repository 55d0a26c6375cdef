"""The corruption matrix: damage in a snapshot must fail the restore test, never pass with wrong data.

Each case damages the newest snapshot of a backed-up database the way
storage or a careless hand could (a flipped byte in a redo block, a record
taken out of a log, a truncated log, the redo of two logs exchanged, a
corrupt block in an image copy that redo changes later or never), then runs
the public ``autorestore.py`` (validation on: modulus 1) and ``restore.py``.
Each must fail (exit 1), the failure recorded, with Oracle's error lines in
the message.  The table below is the matrix; its size is checked so that a
case cannot silently drop out.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from oracle_sim import clock, redo, simfile, truth
from oracle_sim.datafile import Datafile

from . import test_autorestore
from .test_busy_database import background_workload

pytestmark = pytest.mark.slow

sandbox = test_autorestore.sandbox
site = test_autorestore.site
DBID = 1433672784

# fault -> the lines Oracle prints for it (each must be in the failure's message)
MATRIX: dict[str, list[str]] = {
    "flipped_redo_byte": ["ORA-00283: recovery session canceled due to errors",
                          "ORA-00368: checksum error in redo log block",
                          "ORA-00353: log corruption near block", "ORA-00334: archived log: "],
    "deleted_redo_record": ["ORA-00283: recovery session canceled due to errors",
                            "ORA-00355: change numbers out of order",
                            "ORA-00353: log corruption near block", "ORA-00334: archived log: "],
    "truncated_archivelog": ["ORA-00283: recovery session canceled due to errors",
                             "ORA-00354: corrupt redo log block header",
                             "ORA-00353: log corruption near block", "ORA-00334: archived log: "],
    "swapped_archivelogs": ["ORA-00283: recovery session canceled due to errors",
                            "ORA-00310: archived log contains sequence", "ORA-00334: archived log: "],
    "corrupt_copy_block_redo_changes": ["ORA-00283: recovery session canceled due to errors",
                                        "ORA-10567: Redo is inconsistent with data block",
                                        "ORA-10564: tablespace ", "ORA-01110: data file "],
    "corrupt_copy_block_redo_never_touches": ["corrupt block ranges found", "CHECKSUM"],
}
# An untouched corrupt block opens as it would with real Oracle: only validation finds it (the nightly
# test with validation on, restore.py with --validate).
VALIDATION_ONLY = {"corrupt_copy_block_redo_never_touches"}


def test_the_matrix_has_every_case():
    assert len(MATRIX) == 6


def _lasttime(snap: Path) -> float:
    text = (snap / "autorestore.cfg").read_text().splitlines()
    return clock.parse(next(line.split(": ", 1)[1] for line in text if line.startswith("lasttime")))


def _needed(site, snap: Path) -> tuple[int, int, list[Path], list[Path]]:
    """The copies' start SCN, the target SCN, the snapshot's archivelogs in sequence order, and those
    recovery to the snapshot's lasttime reads."""
    start = min(Datafile(p).header["checkpoint_scn"] for p in snap.glob("data_D-*"))
    target = truth.scn_before(site.state, DBID, _lasttime(snap))
    logs = [p for _s, p in sorted((redo.read_archivelog_header(p)["sequence"], p)
                                  for p in (snap / "archivelog").iterdir())]
    needed = [p for p in logs if redo.read_archivelog_header(p)["next_change"] > start
              and redo.read_archivelog_header(p)["first_change"] <= target]
    assert needed, "no archivelog to recover from"
    return start, target, logs, needed


def _copy_of(snap: Path, file_no: int) -> Path:
    return next(p for p in snap.glob("data_D-*") if Datafile(p).file_no == file_no)


def _swap_bodies(a: Path, b: Path) -> None:
    """The redo of two logs exchanged, each file keeping its own header (what ``catalog`` reads)."""
    (_ka, ha, ba), (_kb, hb, bb) = simfile.read(a), simfile.read(b)
    simfile.write(a, "ARCHIVELOG", ha, bb)
    simfile.write(b, "ARCHIVELOG", hb, ba)


def damage(site, fault: str) -> None:
    """Apply ``fault`` to the newest snapshot of orcl."""
    snap = site.snapshots("orcl")[-1]
    start, target, logs, needed = _needed(site, snap)
    victim = max(needed, key=lambda p: len(redo.read_archivelog(p)[1]))      # the one with the most redo
    if fault == "flipped_redo_byte":
        data = bytearray(victim.read_bytes())
        data[-200] ^= 0x10                                   # inside the last redo block's records
        victim.write_bytes(bytes(data))
    elif fault == "deleted_redo_record":
        header, records = redo.read_archivelog(victim)
        assert len(records) >= 3, "too few records to take one from the middle"
        del records[len(records) // 2]
        redo.write_archivelog(victim, header, records)     # valid checksums: only continuity can tell
    elif fault == "truncated_archivelog":
        victim.write_bytes(victim.read_bytes()[:-700])
    elif fault == "swapped_archivelogs":
        i = logs.index(victim)
        _swap_bodies(victim, logs[i - 1] if i > 0 else logs[i + 1])
    elif fault == "corrupt_copy_block_redo_changes":
        rec = next((r for p in needed for r in redo.read_archivelog(p)[1]
                    if "b" in r and start < r["scn"] <= target), None)
        assert rec is not None, "no change between the copies' checkpoint and the target"
        site.simctl("corrupt-block", "--sid", "orcl", "--file", str(rec["f"]), "--block", str(rec["b"]),
                    "--path", str(_copy_of(snap, rec["f"])))
    else:
        test_autorestore._fault(site, "corrupt_block")
    site.box.give(snap)


def _restore_py(site, *extra: str) -> tuple[int, str]:
    """restore.py to the snapshot's lasttime, unattended; its exit status and everything it said."""
    snap = site.snapshots("orcl")[-1]
    result = site.box.py(site.box.script("restore.py"), str(site.cfg), "orcl", "--target",
                         clock.fmt(_lasttime(snap)), "--sid", "mtx1", "--yes", *extra, env=site.env())
    text = result.stdout + result.stderr
    logfile = next((line.split(": ", 1)[1] for line in result.stdout.splitlines()
                    if line.startswith("The log: ")), None)
    if logfile and Path(logfile).exists():
        text += Path(logfile).read_text()
    return result.returncode, text


def backed_up_three_times(site) -> None:
    """orcl backed up three times, validation on.  Database time is real time (no --advance), so that
    restore.py finds the newest snapshot for its lasttime; the last backup's transactions run a second
    before it (lasttime has whole seconds), so there is redo between the copies' checkpoint and the
    recovery target, and transactions run during it too, past the target."""
    site.add_db("orcl", DBID)
    site.write_config(modulus=1)
    site.ok(site.backup("config"))
    site.cycles(2, workload=("-n", "8"))
    site.simctl("workload", "--sid", "orcl", "-n", "8")
    time.sleep(1.1)
    worker = background_workload(site, "orcl")
    try:
        site.ok(site.backup("imagecopywithsnap"))
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=60)
    assert worker.returncode in (0, -15), err


@pytest.mark.parametrize("fault", sorted(MATRIX))
def test_damage_fails_the_restore_with_oracles_errors(site, fault):
    backed_up_three_times(site)
    damage(site, fault)
    result = site.autorestore()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Exitstatus is 1" in result.stdout
    site.assert_clean()
    rows = site.catalog()
    assert len(rows) == 1 and rows[0]["success"] == 0
    log = rows[0]["logfilecontents"]
    assert "Restore successful" not in log
    for line in MATRIX[fault]:
        assert line in log, f"{line!r} not in the recorded log"
    code, text = _restore_py(site, *(("--validate",) if fault in VALIDATION_ONLY else ()))
    assert code == 1, text
    for line in MATRIX[fault]:
        assert line in text, f"{line!r} not in what restore.py said"
