"""The simulated RMAN client: output shapes against real 12.1 logs, and that the backups are right.

Every test drives ``bin/rman`` as a subprocess with the script on stdin, as
the toolset does.  Where a real log exists (tests/fixtures/rman_*.txt, cut
from the published 12.1 session logs), the simulated output is compared
with it line by line after dates, keys and random names are normalised.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from oracle_sim import blocks, simfile, truth
from oracle_sim.datafile import Datafile
from oracle_sim.instance import Instance

from sim.rman_helpers import failed, fixture, normalise, ok, script, section

CONFIG_SAMPLE = """SET ECHO ON
CONNECT TARGET /@orcl

CONFIGURE ARCHIVELOG DELETION POLICY TO NONE;
CONFIGURE RETENTION POLICY TO RECOVERY WINDOW OF 2 DAYS;
CONFIGURE BACKUP OPTIMIZATION ON;
CONFIGURE DEFAULT DEVICE TYPE TO DISK;
CONFIGURE CONTROLFILE AUTOBACKUP ON;
CONFIGURE DEVICE TYPE DISK PARALLELISM 4 BACKUP TYPE TO BACKUPSET;
CONFIGURE CHANNEL DEVICE TYPE DISK FORMAT '{bk}/%U';
CONFIGURE CONTROLFILE AUTOBACKUP FORMAT FOR DEVICE TYPE DISK TO '{bk}/%F';
CONFIGURE SNAPSHOT CONTROLFILE NAME TO '{bk}/snapcf_orcl.f';
EXIT
"""

CYCLE = """SET ECHO ON
CONNECT TARGET /@orcl
run {{
backup incremental level 1 for recover of copy with tag 'image_copy_backup' database;
recover copy of database with tag 'image_copy_backup';
delete noprompt backupset tag 'image_copy_backup';
delete noprompt force archivelog until time 'sysdate-2';
backup spfile tag 'image_copy_backup';
backup current controlfile format '{bk}/after_backup_controlfile.cf' reuse tag 'image_copy_backup';
delete noprompt obsolete recovery window of 2 days;
show all;
}}

EXIT
"""


@pytest.fixture
def area(orcl, tmp_path) -> Path:
    """The backup area, configured as the toolset's config action does."""
    bk = tmp_path / "backup" / "orcl"
    (bk / "archivelog").mkdir(parents=True)
    ok(orcl.rman(CONFIG_SAMPLE.format(bk=bk), sid="orcl"))
    return bk


def switch(sim, sid: str = "orcl") -> dict:
    db = sim.db(sid)
    with db.changing():
        return db.switch_logfile()


def copies(sim, sid: str = "orcl") -> dict[int, dict]:
    return {c["file"]: c for c in sim.db(sid).cf.live_copies("IMAGE_COPY_BACKUP")}


def assert_copies_match_production_history(sim) -> None:
    """Each copy holds exactly production's blocks as of the copy's checkpoint SCN."""
    db = sim.db("orcl")
    dbid = db.cf.doc["dbid"]
    rows = copies(sim)
    assert sorted(rows) == [d["file"] for d in db.cf.datafiles()]
    for file_no, row in rows.items():
        copy = Datafile(Path(row["name"]))
        assert copy.header["checkpoint_scn"] == row["checkpoint_scn"]
        expected = truth.blocks_as_of(sim.state, dbid, file_no, row["checkpoint_scn"], header=copy.header)
        assert truth.differing_blocks(copy.path, expected) == []


# -- configure / show ----------------------------------------------------------------------------

def test_configure_twice_shows_old_and_new_parameters_like_the_sample(orcl, tmp_path):
    text = """SET ECHO ON
CONNECT TARGET /@orcl

CONFIGURE ARCHIVELOG DELETION POLICY TO NONE;
CONFIGURE RETENTION POLICY TO RECOVERY WINDOW OF 2 DAYS;
CONFIGURE CHANNEL DEVICE TYPE DISK FORMAT '{bk}/%U';
EXIT
""".format(bk="/nfs/backup/orcl")
    first = ok(orcl.rman(text, sid="orcl"))
    assert "old RMAN configuration parameters" not in first
    second = ok(orcl.rman(text, sid="orcl"))
    assert normalise(second) == normalise("\n".join(fixture("rman_config_excerpt.txt")) + "\n")
    assert orcl.db().cf.doc["rman_config"]["CHANNEL"] == "DEVICE TYPE DISK FORMAT   '/nfs/backup/orcl/%U'"


def test_show_all_lists_configured_and_default_parameters(area, orcl):
    out = ok(orcl.rman(script("show all;"), sid="orcl"))
    lines = normalise(out, {str(area): "<BK>"})
    expected = normalise("\n".join(fixture("rman_showall_excerpt.txt")))
    assert section(lines, expected[0], len(expected)) == expected


def test_configure_clear_resets_to_default(area, orcl):
    out = ok(orcl.rman(script("configure retention policy clear;\nshow all;"), sid="orcl"))
    assert "RMAN configuration parameters are successfully reset to default value" in out
    assert "CONFIGURE RETENTION POLICY TO REDUNDANCY 1; # default" in out


# -- the image copy cycle --------------------------------------------------------------------------

def test_backup_cycle_keeps_copies_equal_to_production_and_prints_like_real_rman(area, orcl):
    db = orcl.db("orcl")
    db.workload(10)
    first = ok(orcl.rman(CYCLE.format(bk=area), sid="orcl"))
    for d in db.cf.datafiles():
        assert f"no parent backup or copy of datafile {d['file']} found" in first
        assert f"no copy of datafile {d['file']} found to recover" in first
    assert_copies_match_production_history(orcl)
    assert all(r["checkpoint_scn"] == orcl.db().cf.doc["current_scn"] for r in copies(orcl).values())

    db.workload(25)
    switch(orcl)
    db.workload(5)
    second = ok(orcl.rman(CYCLE.format(bk=area), sid="orcl"))
    assert "no parent backup" not in second
    assert_copies_match_production_history(orcl)
    current = orcl.db().cf.doc["current_scn"]
    for row in copies(orcl).values():
        assert row["checkpoint_scn"] == current
        live = Datafile(Path(orcl.db().cf.datafile(row["file"])["name"]))
        copy = Datafile(Path(row["name"]))
        for b in range(1, live.nblocks):
            assert copy.read(b) == live.read(b)

    lines = normalise(second, {str(area): "<BK>"})
    # The two excerpts are consecutive in the real log: backup, recover, autobackup, delete.
    expected = normalise("\n".join(fixture("rman_imagecopy_excerpt.txt") + fixture("rman_delete_excerpt.txt")))
    assert section(lines, expected[0], len(expected)) == expected
    expected = normalise("\n".join(fixture("rman_showall_excerpt.txt")))
    assert section(lines, expected[0], len(expected)) == expected

    cf = orcl.db().cf
    pieces = cf.doc["backup_pieces"]
    assert [p["status"] for p in pieces if p["type"] == "incremental"] == ["D"] * 4
    live = [p for p in cf.live_pieces()]
    assert {p["tag"] for p in live if not p["autobackup"]} == {"IMAGE_COPY_BACKUP"}
    assert len([p for p in live if p["autobackup"]]) == 4
    for p in live:
        assert simfile.kind_of(Path(p["handle"])) == "BACKUPPIECE"


def test_controlfile_backup_holds_the_controlfile_and_autobackup_follows(area, orcl):
    out = ok(orcl.rman(script(f"backup current controlfile format '{area}/cf.bkp' tag 'mine';"), sid="orcl"))
    assert "including current control file in backup set" in out
    assert f"piece handle={area}/cf.bkp tag=MINE comment=NONE" in out
    assert "Starting Control File and SPFILE Autobackup at" in out
    _kind, header, _ = simfile.read(area / "cf.bkp", "BACKUPPIECE")
    assert header["controlfile"]["dbid"] == orcl.db().cf.doc["dbid"]
    auto = [p for p in orcl.db().cf.live_pieces() if p["autobackup"]]
    assert len(auto) == 1 and Path(auto[0]["handle"]).name.startswith("c-1433672784-")
    # The same name again without REUSE is refused, as the file exists.
    again = failed(orcl.rman(script(f"backup current controlfile format '{area}/cf.bkp';"), sid="orcl"))
    assert "ORA-19504" in again and "RMAN-03002: failure of backup command" in again


def test_spfile_backup(area, orcl):
    out = ok(orcl.rman(script("backup spfile tag 'image_copy_backup';"), sid="orcl"))
    assert "including current SPFILE in backup set" in out
    row = [p for p in orcl.db().cf.live_pieces() if p["spfile_included"] and not p["autobackup"]][0]
    _kind, header, _ = simfile.read(Path(row["handle"]), "BACKUPPIECE")
    assert header["spfile"]["db_name"] == "orcl"


def test_archivelog_copy_into_the_backup_area(area, orcl):
    orcl.db().workload(3)
    header = switch(orcl)
    seq = header["sequence"]
    out = ok(orcl.rman(script(f"""run {{
allocate channel d1 device type disk format '{area}/archivelog/%U';
BACKUP force as copy archivelog sequence {seq} thread 1;
}}"""), sid="orcl"))
    assert "channel d1: starting archived log copy" in out
    assert f"input archived log thread=1 sequence={seq} RECID=" in out
    rows = [r for r in orcl.db().cf.live_archived_logs() if r["sequence"] == seq and r["dest_id"] == 0]
    assert len(rows) == 1
    copy = Path(rows[0]["name"])
    assert copy.parent == area / "archivelog" and copy.name.startswith(f"arch_D-ORCL_id-1433672784_S-{seq}_T-1_A-")
    assert rows[0]["creator"] == "RMAN"
    assert f"output file name={copy} RECID={rows[0]['recid']}" in out
    source = [r for r in orcl.db().cf.live_archived_logs() if r["sequence"] == seq and r["dest_id"] != 0][0]
    assert copy.read_bytes() == Path(source["name"]).read_bytes()
    missing = failed(orcl.rman(script("backup force as copy archivelog sequence 999 thread 1;"), sid="orcl"))
    assert "RMAN-20242: specification does not match any archived log in the repository" in missing


# -- delete, change, catalog -----------------------------------------------------------------------

def test_delete_archivelogs_and_a_datafile_copy(area, orcl):
    orcl.db().workload(3)
    switch(orcl)
    ok(orcl.rman(CYCLE.format(bk=area), sid="orcl"))
    out = ok(orcl.rman(script("delete noprompt force archivelog until time 'sysdate+1';"), sid="orcl"))
    assert "deleted archived log" in out and "Deleted 1 objects" in out
    row = orcl.db().cf.doc["archived_logs"][0]
    assert row["status"] == "D" and row["deleted"] == "YES" and not Path(row["name"]).exists()
    again = ok(orcl.rman(script("delete noprompt force archivelog until time 'sysdate+1';"), sid="orcl"))
    assert "specification does not match any archived log in the repository" in again

    victim = copies(orcl)[4]["name"]
    out = ok(orcl.rman(script(f"delete noprompt datafilecopy '{victim}';"), sid="orcl"))
    assert "deleted datafile copy" in out and f"datafile copy file name={victim} RECID=" in out
    assert "Deleted 1 objects" in out and not Path(victim).exists()
    assert 4 not in copies(orcl)
    gone = failed(orcl.rman(script(f"delete noprompt datafilecopy '{victim}';"), sid="orcl"))
    assert "RMAN-20230" in gone
    # Without a copy tagged T, the next backup makes a new level-0 copy of that file only.
    out = ok(orcl.rman(script("backup incremental level 1 for recover of copy with tag 'image_copy_backup' "
                              "database;"), sid="orcl"))
    assert "no parent backup or copy of datafile 4 found" in out
    assert "no parent backup or copy of datafile 1 found" not in out


def test_delete_obsolete_removes_old_controlfile_backups(area, orcl):
    from oracle_sim import clock
    ok(orcl.rman(script("backup spfile;\nbackup spfile;"), sid="orcl"))
    clock.set_offset(orcl.state, clock.offset(orcl.state) + 5 * 86400)
    ok(orcl.rman(script("backup spfile;"), sid="orcl"))
    out = ok(orcl.rman(script("delete noprompt obsolete recovery window of 2 days;"), sid="orcl"))
    assert "Deleting the following obsolete backups and copies:" in out
    assert "deleted backup piece" in out
    nothing = ok(orcl.rman(script("delete noprompt obsolete recovery window of 2 days;"), sid="orcl"))
    assert "no obsolete backups found" in nothing


def test_uncatalog_unavailable_and_catalog_again(area, orcl):
    orcl.db().workload(3)
    switch(orcl)
    ok(orcl.rman(CYCLE.format(bk=area), sid="orcl"))
    before = {r["file"]: r["name"] for r in copies(orcl).values()}
    out = ok(orcl.rman(script("change archivelog all uncatalog;\nchange backup device type disk unavailable;\n"
                              "change copy of database uncatalog;"), sid="orcl"))
    assert "uncataloged archived log" in out and "Uncataloged 1 objects" in out
    assert "changed backup piece unavailable" in out and "objects to UNAVAILABLE status" in out
    assert "uncataloged datafile copy" in out and "Uncataloged 4 objects" in out
    cf = orcl.db().cf
    assert cf.live_archived_logs() == [] and cf.live_copies() == [] and cf.live_pieces() == []
    assert all(Path(n).exists() for n in before.values())

    (area / "backup_logs").mkdir()
    (area / "backup_logs" / "x.log").write_text("not an oracle file\n")
    (area / "autorestore.cfg").write_text("[dbparams]\n")
    out = ok(orcl.rman(script(f"catalog start with '{area}/' noprompt;"), sid="orcl"))
    assert out.count("  RMAN-07517: Reason: The file header is corrupted") == 2
    for name in before.values():
        assert out.count(f"File Name: {name}") == 2  # unknown, then catalogued
    assert {r["file"]: r["name"] for r in copies(orcl).values()} == before  # tags came back from the headers
    again = ok(orcl.rman(script(f"catalog start with '{area}/data_' noprompt;"), sid="orcl"))
    assert "no files found to be unknown to the database" in again


def test_catalog_output_shape_matches_the_sample(area, orcl, tmp_path):
    orcl.db().workload(3)
    switch(orcl)
    ok(orcl.rman(CYCLE.format(bk=area), sid="orcl"))
    mnt = tmp_path / "mnt"
    import shutil
    shutil.copytree(area, mnt)
    (mnt / "backup_logs").mkdir(exist_ok=True)
    (mnt / "autorestore.cfg").write_text("[dbparams]\n")
    (mnt / "backup_logs" / "a.log").write_text("log\n")
    (mnt / "backup_logs" / "b.log").write_text("log\n")
    out = ok(orcl.rman(f"set echo on\nconnect target /\ncatalog start with '{mnt}/' noprompt;\n"
                       "sql \"alter database flashback off\";\nexit\n", sid="orcl"))
    from sim.rman_helpers import squash
    # In the sample an earlier command of the session had already said which repository it uses.
    lines = squash([x for x in normalise(out, {str(mnt): "<MNT>"})
                    if x != "using target database control file instead of recovery catalog"])
    expected = squash(normalise("\n".join(fixture("rman_autorestore_catalog_excerpt.txt"))))
    assert section(lines, expected[0], len(expected)) == expected


# -- validate -------------------------------------------------------------------------------------

def test_validate_reports_a_corrupt_block_and_records_it(area, orcl):
    out = ok(orcl.rman(script("backup validate check logical database;"), sid="orcl"))
    assert "FAILED" not in out and orcl.db().cf.doc["block_corruption"] == []
    lines = normalise(out)
    expected = normalise("\n".join(fixture("rman_validate_excerpt.txt")))
    head = expected[:expected.index("List of Datafiles")]
    got = section(lines, head[0], len(head))
    assert got[:len(head) - 1] == head[:-1]  # the channel that finishes first may differ
    start = lines.index("List of Datafiles")
    assert lines[start:start + 13] == expected[len(head):len(head) + 13]

    orcl.db().corrupt_block(4, 7)
    out = ok(orcl.rman(script("backup validate check logical database;"), sid="orcl"))
    row = next(line for line in out.splitlines() if line.startswith("4    "))
    assert row.split()[1] == "FAILED"
    assert "validate found one or more corrupt blocks" in out
    assert orcl.db().cf.doc["block_corruption"] == [
        {"file": 4, "block": 7, "blocks": 1, "corruption_change": 0, "corruption_type": "CHECKSUM"}]
    # A backup refuses to copy a corrupt block.
    bad = failed(orcl.rman(script("backup incremental level 1 for recover of copy with tag 't' database;"),
                           sid="orcl"))
    assert "ORA-19566" in bad and "RMAN-03009: failure of backup command on ORA_DISK_" in bad


def test_restore_validate_preview_and_reports(area, orcl):
    orcl.db().workload(3)
    switch(orcl)
    ok(orcl.rman(CYCLE.format(bk=area), sid="orcl"))
    out = ok(orcl.rman(script("REPORT NEED BACKUP RECOVERY WINDOW OF 2 DAYS;\nREPORT UNRECOVERABLE;\n"
                              "RESTORE DATABASE PREVIEW;\nRESTORE DATABASE VALIDATE HEADER;\n"
                              "RESTORE CONTROLFILE VALIDATE;\nRESTORE ARCHIVELOG ALL VALIDATE;\n"
                              "RESTORE DATABASE VALIDATE;"), sid="orcl"))
    assert "Report of files whose recovery needs more than 2 days of archived logs" in out
    assert "List of Datafile Copies" in out and "Media recovery start SCN is" in out
    assert "channel ORA_DISK_1: scanning datafile copy" in out
    assert "channel ORA_DISK_1: scanning archived log" in out
    victim = copies(orcl)[3]["name"]
    Path(victim).unlink()
    bad = failed(orcl.rman(script("RESTORE DATABASE VALIDATE;"), sid="orcl"))
    assert f'ORA-19505: failed to identify file "{victim}"' in bad
    ok(orcl.rman(script("change copy of database uncatalog;"), sid="orcl"))
    bad = failed(orcl.rman(script("RESTORE DATABASE PREVIEW;"), sid="orcl"))
    assert "RMAN-06026: some targets not found - aborting restore" in bad
    assert "RMAN-06023: no backup or copy of datafile 1 found to restore" in bad


# -- client behaviour ------------------------------------------------------------------------------

def test_syntax_error_prints_the_parse_stack_and_later_statements_run(orcl):
    result = orcl.rman(script("backup databse;\nshow all;"), sid="orcl")
    out = failed(result)
    assert ("RMAN-00571: ===========================================================\n"
            "RMAN-00569: =============== ERROR MESSAGE STACK FOLLOWS ===============\n"
            "RMAN-00571: ===========================================================\n"
            "RMAN-00558: error encountered while parsing input commands\n"
            'RMAN-01009: syntax error: found "identifier": expecting one of: ') in out
    assert "RMAN-01008: the bad identifier was: databse" in out
    assert "RMAN-01007: at line 1 column 8 file: standard input" in out
    assert "RMAN configuration parameters for database with db_unique_name ORCL are:" in out
    assert out.endswith("Recovery Manager complete.\n")


def test_syntax_error_inside_run_reports_the_line_and_runs_none_of_it(orcl):
    out = failed(orcl.rman(script("run {\nconfigure backup optimization on;\nbackup spfile;\nbogus x;\n}"),
                           sid="orcl"))
    assert "RMAN-01007: at line 4 column 1 file: standard input" in out
    assert "new RMAN configuration parameters" not in out
    assert orcl.db().cf.doc["rman_config"] == {}


def test_error_in_run_block_skips_the_rest_and_exit_is_1(area, orcl):
    out = failed(orcl.rman(script("""run {
allocate channel c1 device type disk;
delete noprompt datafilecopy '/no/such/copy';
configure backup optimization off;
}
configure maxsetsize to unlimited;"""), sid="orcl"))
    stack = out.index("RMAN-00569")
    assert "released channel: c1" in out[:stack]
    assert "RMAN-03002: failure of delete command at " in out
    assert "CONFIGURE BACKUP OPTIMIZATION OFF;" not in out
    assert "CONFIGURE MAXSETSIZE TO UNLIMITED;" in out


def test_unsupported_syntax_is_an_error_not_a_silent_success(orcl):
    out = failed(orcl.rman(script("alter database open resetlogs;"), sid="orcl"))
    # valid RMAN the simulator lacks: its own error, not a syntax error blaming the caller
    assert "is not simulated]" in out and "RMAN-00558" not in out
    out = failed(orcl.rman(script('sql "alter database drop logfile group 1";'), sid="orcl"))
    assert "RMAN-11003" in out and "ORA-00940" in out


def test_log_file_append_writes_the_file_not_stdout(orcl, tmp_path):
    log = tmp_path / "session.log"
    log.write_text("earlier line\n")
    for _ in range(2):
        result = orcl.rman(script("show all;"), "log", str(log), "append", sid="orcl")
        assert result.returncode == 0 and result.stdout == ""
    text = log.read_text()
    assert text.startswith("earlier line\n")
    assert text.count("Recovery Manager: Release 12.1.0.2.0 - Production on") == 2
    assert text.count("Recovery Manager complete.") == 2


def test_command_line_target_and_echo_off_prompts(orcl):
    out = ok(orcl.rman("show all;\nrun {\nshow all;\n}\n", "target", "/", sid="orcl"))
    assert "All rights reserved.\n\nconnected to target database: ORCL (DBID=1433672784)\n\nRMAN> \n" in out
    assert "RMAN> 2> 3> \n" in out


def test_connect_reports_the_instance_state(orcl):
    inst = Instance(orcl.state, "orcl")
    out = ok(orcl.rman(script(""), sid="orcl"))
    assert "connected to target database: ORCL (DBID=1433672784)\n" in out
    inst.set_status("mounted")
    assert "ORCL (DBID=1433672784, not open)" in ok(orcl.rman(script(""), sid="orcl"))
    inst.set_status("started")
    assert "connected to target database: ORCL (not mounted)" in ok(orcl.rman(script(""), sid="orcl"))
    out = failed(orcl.rman(script("backup database;"), sid="orcl"))
    assert "ORA-01507: database not mounted" in out
    inst.shutdown()
    assert "connected to target database (not started)" in ok(orcl.rman(script(""), sid="orcl"))
    out = failed(orcl.rman(script("", "/@nosuchdb"), sid="orcl"))
    assert "RMAN-00554: initialization of internal recovery manager package failed" in out
    assert "RMAN-04005: error from target database: \nORA-12154: TNS:could not resolve the connect identifier" in out
    out = failed(orcl.rman("show all;\n", sid="orcl"))
    assert "RMAN-06171: not connected to target database" in out


def test_register_and_resync_in_the_catalog_database(orcl):
    orcl.create_db("rcat", dbid=77)
    text = "set echo on\nconnect target /\nconnect catalog /@rcat\nregister database;\nresync catalog;\nexit\n"
    out = ok(orcl.rman(text, sid="orcl"))
    assert "connected to recovery catalog database" in out
    assert "database registered in recovery catalog\nstarting full resync of recovery catalog\n" in out
    rows = orcl.db("rcat").sidecar()["rman_catalog"]["databases"]
    assert [(r["db_key"], r["dbid"], r["name"]) for r in rows] == [(1, 1433672784, "ORCL")]
    assert "registered" in rows[0]
    again = failed(orcl.rman(text, sid="orcl"))
    assert "RMAN-20002: target database already registered in recovery catalog" in again
    assert "using target database control file" not in again
    alone = failed(orcl.rman(script("resync catalog;"), sid="orcl"))
    assert "RMAN-06002" in alone


def test_output_goes_through_json_safe_controlfile(area, orcl):
    """The controlfile document stays plain JSON after a backup (SQL*Plus reads it as views)."""
    orcl.db().workload(2)
    ok(orcl.rman(CYCLE.format(bk=area), sid="orcl"))
    doc = orcl.db().cf.snapshot()
    json.dumps(doc)
    row = doc["datafile_copies"][0]
    assert {"recid", "stamp", "file", "name", "tag", "creation_scn", "checkpoint_scn", "checkpoint_time",
            "status", "deleted"} <= set(row)
    assert blocks.is_valid(Datafile(Path(row["name"])).read(1), row["file"], 1)
