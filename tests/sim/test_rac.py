"""RAC in the simulator: two instances, two redo threads, recovery merging both.

Each instance writes its own redo thread; ``archive log current`` switches
every thread (as Oracle does), ``switch logfile`` only the instance's own;
``alter system set`` reaches every instance; recovery needs every thread's
logs up to the target and applies their changes in SCN order.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from oracle_sim import clock, redo, truth
from oracle_sim.datafile import Datafile

from .test_roundtrip import ok, restore_until, rman_target, sql_conn

pytestmark = pytest.mark.slow


@pytest.fixture
def rac(sim):
    sim.create_db("orcl", instances=2)
    return sim


def workload(sim, n: int) -> list[tuple[int, float]]:
    """Transactions alternating between the two instances (threads)."""
    done = []
    for i in range(n):
        done += sim.db(f"orcl{i % 2 + 1}").workload(1, advance=1.0)
    return done


def archived(sim) -> set[tuple[int, int]]:
    return {(r["thread"], r["sequence"]) for r in sim.db("orcl1").cf.doc["archived_logs"]}


def test_archive_log_current_switches_every_thread_and_switch_logfile_one(rac):
    sim = rac
    workload(sim, 6)
    ok(sim.sqlplus(sql_conn("orcl", "alter system archive log current;")))
    assert archived(sim) == {(1, 1), (2, 1)}
    ok(sim.sqlplus(sql_conn("orcl2", "alter system switch logfile;")))
    assert archived(sim) == {(1, 1), (2, 1), (2, 2)}
    out = ok(sim.sqlplus(sql_conn("orcl", "select thread#||' '||sequence#||' '||status from v$thread order by 1;\n"
                                          "select count(*) from v$log;\n"
                                          "select instance_number||' '||thread# from v$instance;")))
    assert [line.strip() for line in out.splitlines()][:4] == ["1 2 OPEN", "2 3 OPEN", "6", "1 1"]
    out = ok(sim.sqlplus(sql_conn("orcl2", "select instance_number||' '||thread# from v$instance;")))
    assert out.strip() == "2 2"
    # each thread's log holds the changes of its own instance, none shared
    scns = {}
    for row in sim.db("orcl1").cf.doc["archived_logs"]:
        if row["sequence"] == 1:
            scns[row["thread"]] = {r["scn"] for r in redo.read_archivelog(Path(row["name"]))[1]}
    assert len(scns[2]) == 3 and len(scns[1]) >= 3 and not scns[1] & scns[2]   # thread 1 also created the db


def test_alter_system_set_reaches_every_instance(rac, tmp_path):
    sim = rac
    (tmp_path / "arch").mkdir()
    ok(sim.sqlplus(sql_conn("orcl", f"alter system set log_archive_dest_2='LOCATION={tmp_path}/arch/' scope=both;")))
    for sid in ("orcl1", "orcl2"):
        assert sim.db(sid).instance.param("log_archive_dest_2") == f"LOCATION={tmp_path}/arch/"
    assert sim.db("orcl2").instance.param("thread") == "2"       # instance-specific ones stay apart
    workload(sim, 4)
    ok(sim.sqlplus(sql_conn("orcl", "alter system archive log current;")))
    threads = {redo.read_archivelog_header(p)["thread"] for p in (tmp_path / "arch").iterdir()}
    assert threads == {1, 2}


@pytest.fixture
def rac_backed_up(rac, tmp_path):
    sim = rac
    area = tmp_path / "backup" / "orcl"
    (area / "archivelog").mkdir(parents=True)
    ok(sim.rman(rman_target("orcl", f"configure channel device type disk format '{area}/%U';")))
    ok(sim.sqlplus(sql_conn("orcl", f"alter system set log_archive_dest_2='LOCATION={area}/archivelog/' "
                                    "scope=both;")))
    workload(sim, 6)
    ok(sim.sqlplus(sql_conn("orcl", "alter system archive log current;")))
    ok(sim.rman(rman_target("orcl", f"""run {{
backup incremental level 1 for recover of copy with tag 'image_copy_backup' database;
backup current controlfile format '{area}/after_backup_controlfile.cf' reuse tag 'image_copy_backup';
}}""")))
    after = workload(sim, 10)
    ok(sim.sqlplus(sql_conn("orcl2", "alter system switch logfile;")))     # thread 2 ahead by one log
    after += workload(sim, 10)
    ok(sim.sqlplus(sql_conn("orcl", "alter system archive log current;")))
    return sim, area, after


def test_rac_point_in_time_restore_matches_production_block_for_block(rac_backed_up, tmp_path):
    sim, area, after = rac_backed_up
    clone = tmp_path / "clone"
    shutil.copytree(area, clone)
    pick = after[13]
    until = float(int(pick[1]) + 1)
    restore_until(sim, clone, tmp_path / "scratch", until)
    dbid = sim.db("orcl1").cf.doc["dbid"]
    scn = truth.scn_before(sim.state, dbid, until)
    assert scn == pick[0]
    restored = sim.db("rtest")
    for entry in restored.cf.datafiles():
        path = Path(entry["name"])
        expected = truth.blocks_as_of(sim.state, dbid, entry["file"], scn, header=Datafile(path).header)
        assert truth.differing_blocks(path, expected) == []
        assert Datafile(path).header["checkpoint_scn"] == scn
    out = ok(sim.sqlplus("conn / as sysdba\nset pages 0 feedback off\n"
                         "select to_char(max(createtime), 'yyyy-mm-dd hh24:mi:ss') from app.transactions;\nexit\n",
                         env=sim.env("rtest")))
    assert out.strip() == clock.fmt(pick[1])


def test_rac_recovery_stops_at_a_missing_log_of_the_second_thread(rac_backed_up, tmp_path):
    sim, area, after = rac_backed_up
    clone = tmp_path / "clone"
    shutil.copytree(area, clone)
    thread2 = sorted((redo.read_archivelog_header(p)["sequence"], p) for p in (clone / "archivelog").iterdir()
                     if redo.read_archivelog_header(p)["thread"] == 2)
    seq, victim = thread2[-2]
    victim.unlink()
    with pytest.raises(AssertionError) as failure:
        restore_until(sim, clone, tmp_path / "scratch", float(int(after[-1][1]) + 1))
    assert "RMAN-06054" in str(failure.value)
    assert f"thread 2 with sequence {seq}" in str(failure.value)


def test_a_restore_instance_on_a_thread_the_database_lacks_cannot_mount(rac_backed_up, tmp_path):
    sim, area, _after = rac_backed_up
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "init.ora").write_text(f"*.db_name='orcl'\n*.control_files='{scratch}/restore.cf'\n"
                                      f"*.db_block_size=8192\n*.thread=3\n*.instance_number=3\n")
    env = sim.env("rtest3")
    ok(sim.sqlplus(f"conn / as sysdba\nstartup nomount pfile='{scratch}/init.ora'\nexit\n", env=env))
    out = sim.rman(f"connect target /\nrestore controlfile from '{area}/after_backup_controlfile.cf';\n"
                   "alter database mount;\nexit\n", env=env)
    assert out.returncode == 1
    assert "ORA-01618" in out.stdout
