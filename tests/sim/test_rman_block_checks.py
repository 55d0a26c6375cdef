"""RMAN checks every block it reads: image copies it restores, backup pieces it applies to copies."""
from __future__ import annotations

from pathlib import Path

from oracle_sim.datafile import Datafile
from oracle_sim.instance import Instance

from sim.rman_helpers import failed, ok, script

LEVEL1 = "backup incremental level 1 for recover of copy with tag 'image_copy_backup' database;"


def _setup(sim, area: Path) -> None:
    """orcl with level-0 copies in ``area``, then a level-1 piece of newer blocks not yet applied."""
    ok(sim.rman(script(f"configure channel device type disk format '{area}/%U';"), sid="orcl"))
    db = sim.db("orcl")
    db.workload(4)
    ok(sim.rman(script(LEVEL1), sid="orcl"))
    db.workload(6)
    ok(sim.rman(script(LEVEL1), sid="orcl"))


def test_recover_copy_refuses_a_corrupt_block_in_a_piece(orcl, tmp_path):
    area = tmp_path / "bk"
    area.mkdir()
    _setup(orcl, area)
    piece = next(p for p in area.iterdir() if not p.name.startswith("data_D-"))
    data = bytearray(piece.read_bytes())
    data[-100] ^= 0x01                                    # inside the last block the piece carries
    piece.write_bytes(bytes(data))
    text = failed(orcl.rman(script("recover copy of database with tag 'image_copy_backup';"), sid="orcl"))
    assert f"ORA-19870: error while restoring backup piece {piece}" in text
    assert "ORA-19599: block number " in text and f"is corrupt in backup piece {piece}" in text


def test_restore_from_a_copy_with_a_corrupt_block_fails_with_ora_19566(orcl, tmp_path):
    area = tmp_path / "bk"
    area.mkdir()
    _setup(orcl, area)
    copy = next(p for p in area.glob("data_D-*") if Datafile(p).file_no == 4)
    orcl.db("orcl").corrupt_block(4, 3, path=copy)
    inst = Instance(orcl.state, "orcl")
    inst.shutdown()
    ok(orcl.rman(script("startup mount;"), sid="orcl"))
    text = failed(orcl.rman(script("restore datafile 4;"), sid="orcl"))
    assert f"ORA-19566: exceeded limit of 0 corrupt blocks for file {copy}" in text


def test_restore_archivelog_validate_reads_every_redo_block(orcl):
    """A corrupt archived log is not a restorable one: validation names it as missing (RMAN-06025)."""
    db = orcl.db("orcl")
    db.workload(4)
    with db.changing():
        db.switch_logfile()
    db.reload()
    row = db.cf.live_archived_logs()[-1]
    path = Path(row["name"])
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01
    path.write_bytes(bytes(data))
    text = failed(orcl.rman(script("restore archivelog all validate;"), sid="orcl"))
    assert "RMAN-06026: some targets not found - aborting restore" in text
    assert (f"RMAN-06025: no backup of archived log for thread 1 with sequence {row['sequence']} "
            f"and starting SCN of {row['first_change']} found to restore") in text
