"""Physical standby in the simulator: made from a primary, fed by redo transport, kept current by apply.

The standby's datafiles must equal the primary's history at the standby's
checkpoint, block for block, so that image copies taken on it restore; logs
arrive only after the transport delay, into the standby's own destinations
valid for standby logs; a standby cannot switch logs itself.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from oracle_sim import standby, truth

from .test_roundtrip import ok

pytestmark = pytest.mark.slow


@pytest.fixture
def pair(sim):
    sim.create_db("orcl")
    standby.create_standby(sim.state, primary="orcl", name="orclsb", oradata=sim.root / "sboradata",
                           fra=sim.root / "sbfra")
    return sim


def query(sim, alias: str, sql: str) -> list[str]:
    out = ok(sim.sqlplus(f"conn /@{alias} as sysdba\nset pages 0 feedback off lines 300\n{sql}\nexit\n"))
    return [line.strip() for line in out.splitlines() if line.strip()]


def assert_in_sync(sim) -> None:
    sb = sim.db("orclsb")
    for d in sb.cf.datafiles():
        header = sb.datafile(d["file"]).header
        expected = truth.blocks_as_of(sim.state, sb.cf.doc["dbid"], d["file"], header["checkpoint_scn"], header=header)
        assert truth.differing_blocks(Path(d["name"]), expected) == [], d["file"]


def test_standby_is_mounted_receives_every_log_and_applies_it(pair):
    sim = pair
    assert query(sim, "orclsb", "select database_role||' '||open_mode||' '||db_unique_name from v$database;") \
        == ["PHYSICAL STANDBY MOUNTED ORCLSB"]
    for _ in range(3):
        sim.db("orcl").workload(5, advance=1.0)
        ok(sim.sqlplus("conn /@orcl as sysdba\nalter system archive log current;\nexit\n"))
    prim = {(r["thread"], r["sequence"]) for r in sim.db("orcl").cf.live_archived_logs()}
    rows = query(sim, "orclsb", "select thread#||' '||sequence#||' '||creator||' '||registrar||' '||applied||' '||name "
                                "from v$archived_log order by sequence#;")
    got = {(int(r.split()[0]), int(r.split()[1])) for r in rows}
    assert got == {key for key in prim if key[1] > 1}     # all but the log archived before it existed
    assert all(r.split()[2:5] == ["ARCH", "RFS", "YES"] for r in rows)
    assert all("/sbfra/ORCLSB/archivelog/" in r for r in rows)
    sb = sim.db("orclsb")
    assert sb.cf.doc["current_scn"] == sim.db("orcl").cf.doc["current_scn"]
    assert_in_sync(sim)


def test_archive_log_current_on_a_standby_fails(pair):
    result = pair.sqlplus("whenever sqlerror exit failure\nconn /@orclsb as sysdba\nalter system archive log current;\n"
                          "exit\n")
    assert result.returncode == 1
    assert "ORA-01109: database not open" in result.stdout


def test_read_only_standby_refuses_to_switch(sim):
    sim.create_db("orcl")
    standby.create_standby(sim.state, primary="orcl", name="orclsb", oradata=sim.root / "sbo", fra=sim.root / "sbf",
                           read_only=True)
    assert query(sim, "orclsb", "select open_mode from v$database;") == ["READ ONLY WITH APPLY"]
    result = sim.sqlplus("whenever sqlerror exit failure\nconn /@orclsb as sysdba\n"
                         "alter system switch logfile;\nexit\n")
    assert result.returncode == 1 and "ORA-16000" in result.stdout


def test_delayed_logs_arrive_when_due_at_the_next_session(pair):
    sim = pair
    standby.set_delay(sim.state, "orclsb", 1.5)
    sim.db("orcl").workload(3, advance=1.0)
    ok(sim.sqlplus("conn /@orcl as sysdba\nalter system archive log current;\nexit\n"))
    seq = max(r["sequence"] for r in sim.db("orcl").cf.live_archived_logs())
    count = f"select count(*) from v$archived_log where sequence# = {seq};"
    assert query(sim, "orclsb", count) == ["0"]
    time.sleep(1.6)
    assert query(sim, "orclsb", count) == ["1"]
    assert_in_sync(sim)


def test_only_destinations_valid_for_standby_logs_receive(pair):
    sim = pair
    primary_only, both = sim.root / "primary_only", sim.root / "both"
    primary_only.mkdir()
    both.mkdir()
    ok(sim.sqlplus(f"conn /@orclsb as sysdba\nalter system set log_archive_dest_2='LOCATION={primary_only}/ "
                   f"VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)';\nalter system set log_archive_dest_3='LOCATION={both}/ "
                   f"VALID_FOR=(ALL_LOGFILES,ALL_ROLES)';\nexit\n"))
    sim.db("orcl").workload(2, advance=1.0)
    ok(sim.sqlplus("conn /@orcl as sysdba\nalter system archive log current;\nexit\n"))
    assert list(primary_only.iterdir()) == []
    assert len(list(both.iterdir())) == 1


def test_datafile_added_on_the_primary_is_created_on_the_standby(pair):
    sim = pair
    prim = sim.db("orcl")
    with prim.changing():
        added = prim.add_datafile("DATA2", 16)
    sim.db("orcl").workload(5, advance=1.0)
    ok(sim.sqlplus("conn /@orcl as sysdba\nalter system archive log current;\nexit\n"))
    sb = sim.db("orclsb")
    entry = sb.cf.datafile(added["file"])
    assert entry is not None and "/sboradata/" in entry["name"]
    assert_in_sync(sim)


def test_image_copies_taken_on_the_standby_match_the_primary(pair, tmp_path):
    sim = pair
    sim.db("orcl").workload(5, advance=1.0)
    ok(sim.sqlplus("conn /@orcl as sysdba\nalter system archive log current;\nexit\n"))
    out = tmp_path / "copies"
    out.mkdir()
    ok(sim.rman(f"connect target /@orclsb\nbackup incremental level 1 for recover of copy with tag 'image_copy_backup' "
                f"database format '{out}/%U';\nexit\n"))
    sb = sim.db("orclsb")
    copies = sb.cf.live_copies("IMAGE_COPY_BACKUP")
    assert {c["file"] for c in copies} == {d["file"] for d in sb.cf.datafiles()}
    for c in copies:
        header = sb.datafile(c["file"]).header
        expected = truth.blocks_as_of(sim.state, sb.cf.doc["dbid"], c["file"], header["checkpoint_scn"], header=header)
        assert truth.differing_blocks(Path(c["name"]), expected) == []
    assert sim.db("orcl").cf.live_copies() == []       # the standby's controlfile records them, not the primary's


def test_rac_primary_threads_are_applied_in_scn_order_even_when_one_lags(sim):
    """A thread's log arriving before the other's waits for it: no change of either thread is lost."""
    sim.create_db("orcl", instances=2)
    standby.create_standby(sim.state, primary="orcl", name="orclsb", oradata=sim.root / "sbo", fra=sim.root / "sbf")
    standby.set_delay(sim.state, "orclsb", 1.5, thread=2)
    done = []
    for n in range(8):      # both instances insert into the same table blocks
        done += sim.db(f"orcl{n % 2 + 1}").workload(1, advance=1.0)
    applied_before = sim.db("orclsb").cf.doc["current_scn"]
    ok(sim.sqlplus("conn /@orcl as sysdba\nalter system archive log current;\nexit\n"))
    rows = query(sim, "orclsb", "select thread#||' '||applied from v$archived_log order by thread#;")
    assert rows == ["1 NO"]                   # thread 1 is there, thread 2 is not: nothing applied past it
    assert sim.db("orclsb").cf.doc["current_scn"] == applied_before
    time.sleep(1.6)
    rows = query(sim, "orclsb", "select thread#||' '||applied from v$archived_log order by thread#;")
    # thread 1's log is applied; thread 2's reaches one SCN further than anything thread 1 sent
    # so far, so it stays partly unapplied until thread 1's next log arrives (as Oracle's MRP)
    assert rows == ["1 YES", "2 NO"]
    assert sim.db("orclsb").cf.doc["current_scn"] > done[-1][0]      # every transaction is applied
    assert_in_sync(sim)
    ok(sim.sqlplus("conn /@orcl as sysdba\nalter system archive log current;\nexit\n"))
    time.sleep(1.6)
    rows = query(sim, "orclsb", "select thread#||' '||sequence#||' '||applied from v$archived_log "
                                "order by thread#, sequence#;")
    assert rows[:2] == ["1 2 YES", "1 3 YES"] and rows[2] == "2 2 YES"
