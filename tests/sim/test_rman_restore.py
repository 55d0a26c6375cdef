"""A point-in-time restore driven by RMAN alone, as the autorestore flow issues it.

Production changes are made in-process (workload, log switches, archive
destination); everything the restore does goes through ``bin/rman`` with
a fresh instance: startup nomount, restore controlfile, mount, uncatalog,
catalog, switch to copy, recover until time, open read only.  The result
is checked block by block against production's history, and the output
against the real 12.1 autorestore log.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from oracle_sim import clock, truth
from oracle_sim.datafile import Datafile
from oracle_sim.instance import Instance

from sim.rman_helpers import failed, fixture, normalise, ok, script, section, squash

CYCLE = """run {{
backup incremental level 1 for recover of copy with tag 'image_copy_backup' database;
recover copy of database with tag 'image_copy_backup';
delete noprompt backupset tag 'image_copy_backup';
backup spfile tag 'image_copy_backup';
backup current controlfile format '{bk}/after_backup_controlfile.cf' reuse tag 'image_copy_backup';
}}"""


def switch(sim) -> None:
    db = sim.db("orcl")
    with db.changing():
        db.switch_logfile()


@pytest.fixture
def backed_up(orcl, tmp_path):
    sim = orcl
    area = tmp_path / "backup" / "orcl"
    (area / "archivelog").mkdir(parents=True)
    ok(sim.rman(script(f"""configure controlfile autobackup on;
configure device type disk parallelism 4 backup type to backupset;
configure channel device type disk format '{area}/%U';
configure controlfile autobackup format for device type disk to '{area}/%F';
configure snapshot controlfile name to '{area}/snapcf_orcl.f';"""), sid="orcl"))
    Instance(sim.state, "orcl").set_parameter(
        "log_archive_dest_2", f"LOCATION={area}/archivelog/ VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)")
    db = sim.db("orcl")
    db.workload(6, advance=1.0)
    switch(sim)
    ok(sim.rman(script(CYCLE.format(bk=area)), sid="orcl"))
    db.workload(6, advance=1.0)
    switch(sim)
    ok(sim.rman(script(CYCLE.format(bk=area)), sid="orcl"))
    after = db.workload(10, advance=1.0)
    switch(sim)
    after += db.workload(6, advance=1.0)
    switch(sim)
    return sim, area, after


def start_nomount(sim, scratch: Path, sid: str) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "init.ora").write_text(
        f"*.db_name='orcl'\n*.control_files='{scratch}/restore.cf'\n*.db_block_size=8192\n"
        f"*.db_create_file_dest='{scratch}'\n*.compatible='12.1.0.2.0'\n*.undo_tablespace='UNDOTBS1'\n")
    out = ok(sim.rman(script(f"startup nomount pfile='{scratch}/init.ora';"), sid=sid))
    assert "connected to target database (not started)" in out and "Oracle instance started" in out


MOUNT = """set echo on
connect target /
run {{
allocate channel c1 device type disk;
restore controlfile from '{mnt}/after_backup_controlfile.cf';
}}
alter database mount;
change archivelog all uncatalog;
change backup device type disk unavailable;
change copy of database uncatalog;
catalog start with '{mnt}/' noprompt;
sql "alter database flashback off";
exit
"""

RECOVER = """set echo on
connect target /
switch database to copy;

run {{
allocate channel c1 device type disk;
set newname for database to new;
set until time "to_date('{target}', 'yyyy-mm-dd hh24:mi:ss')";
recover database;
}}
exit
"""


def test_point_in_time_restore_through_rman(backed_up, tmp_path):
    sim, area, after = backed_up
    mnt = tmp_path / "mnt"
    shutil.copytree(area, mnt)
    (mnt / "autorestore.cfg").write_text("[dbparams]\n")
    scratch = tmp_path / "dest"
    start_nomount(sim, scratch, "rtest")
    paths = {str(mnt): "<MNT>", str(scratch): "<DEST>"}

    out = ok(sim.rman(MOUNT.format(mnt=mnt), sid="rtest"))
    lines = squash(normalise(out, paths))
    expected = squash(normalise("\n".join(fixture("rman_autorestore_mount_excerpt.txt"))))
    assert section(lines, expected[0], len(expected)) == expected

    pick = after[5]
    until = float(int(pick[1]) + 1)
    out = ok(sim.rman(RECOVER.format(target=clock.fmt(until)), sid="rtest"))
    lines = squash(normalise(out, paths))
    expected = squash(normalise("\n".join(fixture("rman_autorestore_recover_excerpt.txt"))))
    assert section(lines, expected[0], len(expected)) == expected

    out = ok(sim.rman(script("alter database open read only;"), sid="rtest"))
    assert "Statement processed" in out
    restored = sim.db("rtest")
    assert restored.instance.open_mode == "READ ONLY"
    dbid = restored.cf.doc["dbid"]
    scn = truth.scn_before(sim.state, dbid, until)
    assert scn == pick[0]
    for entry in restored.cf.datafiles():
        path = Path(entry["name"])
        assert path.parent == mnt, f"datafile {entry['file']} was not switched to its copy"
        expected_blocks = truth.blocks_as_of(sim.state, dbid, entry["file"], scn, header=Datafile(path).header)
        assert truth.differing_blocks(path, expected_blocks) == []
    rows = restored.table_rows("APP.TRANSACTIONS")
    assert rows[-1][1] == clock.fmt(pick[1])

    out = ok(sim.rman(script("backup validate check logical database;"), sid="rtest"))
    lines = normalise(out, paths)
    validate = normalise("\n".join(fixture("rman_validate_excerpt.txt")))
    start = lines.index("List of Datafiles")
    at = validate.index("List of Datafiles")
    assert lines[start:start + 13] == validate[at:at + 13]
    assert sim.db("rtest").cf.doc.get("block_corruption") == []


def test_missing_archivelog_stops_recovery_with_rman_06054(backed_up, tmp_path):
    sim, area, after = backed_up
    mnt = tmp_path / "mnt"
    shutil.copytree(area, mnt)
    copies = [Datafile(p) for p in mnt.glob("data_D-*")]
    start = min(c.header["checkpoint_scn"] for c in copies)
    from oracle_sim import redo
    logs = sorted((redo.read_archivelog_header(p)["sequence"], p) for p in (mnt / "archivelog").iterdir())
    needed = [(s, p) for s, p in logs if redo.read_archivelog_header(p)["next_change"] > start]
    missing_seq, missing = needed[1]
    missing.unlink()
    scratch = tmp_path / "dest"
    start_nomount(sim, scratch, "rtest")
    ok(sim.rman(MOUNT.format(mnt=mnt), sid="rtest"))
    out = failed(sim.rman(RECOVER.format(target=clock.fmt(after[-1][1] + 1)), sid="rtest"))
    assert f"archived log for thread 1 with sequence {needed[0][0]} is already on disk" in out
    assert f"unable to find archived log\narchived log thread=1 sequence={missing_seq}\n" in out
    assert (f"RMAN-06054: media recovery requesting unknown archived log for thread 1 with sequence {missing_seq}"
            " and starting SCN of ") in out
    # Inside RUN the channel is released before the stack; the fixture comes from a bare RECOVER.
    lines = [x for x in normalise(out) if x and x != "released channel: c1"]
    expected = [x for x in normalise("\n".join(fixture("rman_missing_archivelog.txt"))) if x]
    at = lines.index("unable to find archived log")
    assert lines[at:at + len(expected) - 3] == expected[2:-1]
    # The error ends the RUN block: its channel was released before the stack.
    assert out.index("released channel: c1") < out.index("RMAN-00569")
    # Open refuses the half-recovered files.
    out = failed(sim.rman(script("alter database open read only;"), sid="rtest"))
    assert "ORA-01113" in out or "ORA-01194" in out


def test_files_without_copies_are_created_and_switched(backed_up, tmp_path):
    sim, area, after = backed_up
    db = sim.db("orcl")
    with db.changing():
        new = db.add_datafile("USERS", 16)
    last = db.workload(4, advance=1.0)
    clock.set_offset(sim.state, clock.offset(sim.state) + 5)  # the log switch comes well after the target
    switch(sim)
    mnt = tmp_path / "mnt"
    shutil.copytree(area, mnt)
    scratch = tmp_path / "dest"
    start_nomount(sim, scratch, "rtest")
    ok(sim.rman(MOUNT.format(mnt=mnt), sid="rtest"))
    # After the restored controlfile is refreshed by catalog, the new file is still unknown to it,
    # so the flow above is repeated with a controlfile backup taken after the file was added.
    ok(sim.rman(script(f"backup current controlfile format '{area}/after_backup_controlfile.cf' reuse;"),
                sid="orcl"))
    shutil.copy2(area / "after_backup_controlfile.cf", mnt / "after_backup_controlfile.cf")
    ok(sim.rman(script("shutdown abort;"), sid="rtest"))
    start_nomount(sim, scratch, "rtest")
    ok(sim.rman(MOUNT.format(mnt=mnt), sid="rtest"))
    bad = failed(sim.rman(script("switch database to copy;"), sid="rtest"))
    assert f"RMAN-06571: datafile {new['file']} does not have recoverable copy" in bad
    out = ok(sim.rman(script(f"run {{\nset newname for database to new;\nrestore datafile {new['file']};\n}}\n"
                             "switch database to copy;"), sid="rtest"))
    assert f"creating datafile file number={new['file']} name={scratch}/ORCL/datafile/o1_mf_users_" in out
    until = float(int(last[-1][1]) + 2)
    out = ok(sim.rman(RECOVER.format(target=clock.fmt(until)).replace("switch database to copy;\n", ""),
                      sid="rtest"))
    assert "media recovery complete" in out
    ok(sim.rman(script("alter database open read only;"), sid="rtest"))
    restored = sim.db("rtest")
    dbid = restored.cf.doc["dbid"]
    scn = truth.scn_before(sim.state, dbid, until)
    assert scn == last[-1][0] == restored.cf.doc["recovered_scn"]
    assert sorted(d["file"] for d in restored.cf.datafiles()) == [1, 2, 3, 4, new["file"]]
    for entry in restored.cf.datafiles():
        path = Path(entry["name"])
        expected_blocks = truth.blocks_as_of(sim.state, dbid, entry["file"], scn, header=Datafile(path).header)
        assert truth.differing_blocks(path, expected_blocks) == []
