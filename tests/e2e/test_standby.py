"""backup.py on a physical standby: archive commands on the primary, everything else on the standby.

The standby is a real one of the simulator (made from the primary, fed by redo
transport with a settable delay, kept current by apply).  The daily job
switches logs on the primary, then waits (bounded by ``standbyarchivewait``)
until the standby has archived the primary's last log into the backup area,
so the snapshot holds the redo its recovery target needs.  The BCT file it
records is the standby's own.
"""
from __future__ import annotations

import configparser
import time
from pathlib import Path

import pytest
from oracle_sim import standby, truth
from oracle_sim.datafile import Datafile

from . import siteconfig
from .conftest import Env, ok

pytestmark = pytest.mark.slow

DBID = 1433672784


def write_config(env: Env, **keys: object) -> None:
    env.config.write_text(siteconfig.render(
        env.root, env.sim.home, {"orclsb": DBID}, generic={"maxlockwait": 0.05},
        autorestore={"autorestoremountmethod": None},
        database={"orclsb": {"primarytns": "orcl", **keys}}))


@pytest.fixture
def sbenv(sim, tmp_path) -> Env:
    """Primary orcl with block change tracking, its mounted standby orclsb configured for backups."""
    sim.create_db("orcl", dbid=DBID)
    ok(sim.sqlplus("conn /@orcl as sysdba\nalter database enable block change tracking;\nexit\n"))
    standby.create_standby(sim.state, primary="orcl", name="orclsb", oradata=tmp_path / "sboradata",
                           fra=tmp_path / "sbfra")
    siteconfig.make_dirs(tmp_path)
    env = Env(sim=sim, root=tmp_path, config=tmp_path / "backup.cfg", db="orclsb")
    write_config(env)
    ok(env.backup("config"))
    return env


def primary_workload(env: Env, n: int = 10) -> None:
    env.sim.db("orcl").workload(n, advance=1.0)


def snapshots(env: Env) -> list[Path]:
    base = env.root / "snapshots" / env.db
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")) if base.exists() else []


def primary_sequence(env: Env) -> int:
    return env.sim.db("orcl").cf.thread(1)["sequence"]


def cfg(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path / "autorestore.cfg")
    return parser["dbparams"]


def test_three_daily_cycles_on_a_standby(sbenv):
    env = sbenv
    for _ in range(3):
        primary_workload(env)
        current = primary_sequence(env)
        out = ok(env.backup("imagecopywithsnap"))       # the harness asserts the backup invariants
        assert "Waiting for the standby" not in out
        # the snapshot holds the log of the primary's switch
        names = [p.name for p in (snapshots(env)[-1] / "archivelog").iterdir()]
        assert any(n.startswith(f"1_{current}_") for n in names), (current, names)
        time.sleep(1.1)
    log = sorted((env.area / "backup_logs").glob("orclsb_*_imagecopywithsnap.log"))[-1].read_text()
    assert "Oracle processes started: rman 1, sqlplus 3" in log     # no poll when the logs are there at once
    assert len(snapshots(env)) == 3
    db = env.database()
    assert db.cf.doc["database_role"] == "PHYSICAL STANDBY"
    copies = db.cf.live_copies("IMAGE_COPY_BACKUP")
    assert {c["file"] for c in copies} == {d["file"] for d in db.cf.datafiles()}
    for c in copies:
        df = Datafile(Path(c["name"]))
        expected = truth.blocks_as_of(db.state, DBID, c["file"], df.header["checkpoint_scn"], header=df.header)
        assert truth.differing_blocks(df.path, expected) == []
    # the archive destination config set on the standby takes the logs it receives
    dest = [v for n in range(1, 32) if (v := db.instance.param(f"log_archive_dest_{n}")) and "archivelog" in v]
    assert dest and "VALID_FOR=(ALL_LOGFILES,ALL_ROLES)" in dest[0]


def test_autorestore_cfg_names_the_standbys_own_bct_file(sbenv):
    env = sbenv
    primary_bct = env.sim.db("orcl").cf.doc["bct"]["filename"]
    standby_bct = env.database().cf.doc["bct"]["filename"]
    assert primary_bct and standby_bct and primary_bct != standby_bct
    for _ in range(2):
        primary_workload(env)
        ok(env.backup("imagecopywithsnap"))
        time.sleep(1.1)
    assert cfg(snapshots(env)[-1])["bctfile"] == standby_bct


def test_the_job_waits_for_a_late_archivelog(sbenv):
    env = sbenv
    primary_workload(env)
    ok(env.backup("imagecopywithsnap"))
    time.sleep(1.1)
    standby.set_delay(env.sim.state, "orclsb", 3)
    primary_workload(env)
    current = primary_sequence(env)
    started = time.monotonic()
    out = ok(env.backup("imagecopywithsnap"))
    assert time.monotonic() - started >= 3
    assert "Waiting for the standby to archive thread 1 sequence" in out
    names = [p.name for p in (snapshots(env)[-1] / "archivelog").iterdir()]
    assert any(n.startswith(f"1_{current}_") for n in names)      # the log of the switch arrived in time


def test_an_archivelog_later_than_the_wait_fails_cleanly(sbenv):
    env = sbenv
    primary_workload(env)
    ok(env.backup("imagecopywithsnap"))
    time.sleep(1.1)
    before = snapshots(env)
    target_before = cfg(env.area).get("lastscn")
    write_config(env, standbyarchivewait=2)
    standby.set_delay(env.sim.state, "orclsb", 60)
    primary_workload(env)
    started = time.monotonic()
    result = env.backup("imagecopywithsnap")
    assert result.returncode == 1
    assert time.monotonic() - started < 30
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result.stderr
    assert "orclsb did not archive the primary's last log into" in errors[0]
    assert "within 2 s (standbyarchivewait): thread 1 sequence" in errors[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert not (env.area / "backup.lck").exists()
    assert snapshots(env) == before, "a snapshot was taken or lost"
    assert cfg(env.area).get("lastscn") == target_before, "a target its logs do not reach was recorded"


def test_a_bad_wait_is_one_line_and_exit_2(sbenv):
    write_config(sbenv, standbyarchivewait="soon")
    result = sbenv.backup("imagecopywithsnap")
    assert result.returncode == 2
    assert "key 'standbyarchivewait' must be an integer" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_standby_of_a_rac_primary_waits_for_every_thread(sim, tmp_path):
    sim.create_db("orcl", dbid=DBID, instances=2)
    standby.create_standby(sim.state, primary="orcl", name="orclsb", oradata=tmp_path / "sboradata",
                           fra=tmp_path / "sbfra")
    siteconfig.make_dirs(tmp_path)
    env = Env(sim=sim, root=tmp_path, config=tmp_path / "backup.cfg", db="orclsb")
    write_config(env)
    ok(env.backup("config"))
    standby.set_delay(sim.state, "orclsb", 2, thread=2)      # instance 2 ships late, instance 1 at once
    for _ in range(2):
        for n in range(6):
            sim.db(f"orcl{n % 2 + 1}").workload(1, advance=1.0)
        current = {t["thread"]: t["sequence"] for t in sim.db("orcl1").cf.threads()}
        out = ok(env.backup("imagecopywithsnap"))        # invariants: every thread covers the target
        assert "Waiting for the standby to archive thread 2 sequence" in out
        assert "Waiting for the standby to archive thread 1" not in out
        names = [p.name for p in (snapshots(env)[-1] / "archivelog").iterdir()]
        for thread, seq in current.items():
            assert any(n.startswith(f"{thread}_{seq}_") for n in names), (thread, seq, names)
        time.sleep(1.1)
    db = env.database()
    for c in db.cf.live_copies("IMAGE_COPY_BACKUP"):
        df = Datafile(Path(c["name"]))
        expected = truth.blocks_as_of(db.state, DBID, c["file"], df.header["checkpoint_scn"], header=df.header)
        assert truth.differing_blocks(df.path, expected) == []


def test_missingarchlog_on_a_standby_copies_a_received_log_back(sbenv):
    env = sbenv
    primary_workload(env)
    ok(env.backup("imagecopywithsnap"))
    victim = sorted((env.area / "archivelog").iterdir())[-1]
    seq = int(victim.name.split("_")[1])
    victim.unlink()
    out = ok(env.backup("missingarchlog"))
    assert f"thread 1 sequence {seq}" in out
    assert any(f"S-{seq}_" in p.name or p.name.startswith(f"1_{seq}_") for p in (env.area / "archivelog").iterdir())
