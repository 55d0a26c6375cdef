"""backup.py end to end: config, the daily cycle, missing archivelogs, faults."""
from __future__ import annotations

import configparser
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from oracle_sim import truth
from oracle_sim.datafile import Datafile

from imagecopy.backupjob import ACTIONS

from .conftest import REPO, ok
from .processes import wait_group_gone

pytestmark = pytest.mark.slow


def snapshots(benv) -> list[Path]:
    base = benv.root / "snapshots" / benv.db
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")) if base.exists() else []


def param(benv, name: str) -> str | None:
    return benv.database().instance.param(name)


def archive_dests(benv) -> dict[int, str]:
    inst = benv.database().instance
    return {n: inst.param(f"log_archive_dest_{n}") for n in range(1, 32) if inst.param(f"log_archive_dest_{n}")}


def test_config_is_idempotent(benv):
    first = ok(benv.backup("config"))
    assert "Log file for this session:" in first
    dests = archive_dests(benv)
    backup_dests = [v for v in dests.values() if str(benv.area / "archivelog") in v]
    assert len(backup_dests) == 1
    assert any("USE_DB_RECOVERY_FILE_DEST" in v for v in dests.values())
    doc = benv.database().cf.doc
    assert doc["bct"]["status"] == "ENABLED"
    config_before = dict(doc["rman_config"])
    ok(benv.backup("config"))
    assert archive_dests(benv) == dests
    assert benv.database().cf.doc["rman_config"] == config_before
    assert (benv.area / "archivelog").is_dir()
    log = sorted((benv.area / "backup_logs").glob("orcl_*_config.log"))[-1].read_text()
    assert "already configured" in log


def cycle(benv, n: int = 10) -> str:
    benv.workload(n)
    return ok(benv.backup("imagecopywithsnap"))


def test_three_cycles_make_self_contained_snapshots(configured):
    benv = configured
    cycle(benv)                     # first run: level-0 copies, no snapshot holds copies yet
    time.sleep(1.1)                  # snapshot ids have one-second resolution
    cycle(benv)
    time.sleep(1.1)
    cycle(benv)
    snaps = snapshots(benv)
    assert len(snaps) == 3
    for snap in snaps[1:]:           # the first snapshot was taken before any copy existed
        names = {p.name for p in snap.iterdir()}
        assert "after_backup_controlfile.cf" in names
        assert any(n.startswith("data_D-ORCL_I-") for n in names)
        assert any((snap / "archivelog").iterdir())
        params = configparser.ConfigParser(interpolation=None)
        params.read(snap / "autorestore.cfg")
        assert params["dbparams"]["db_name"] == "orcl"
        assert re.fullmatch(r"\d+", params["dbparams"]["lastscn"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", params["dbparams"]["lasttime"])
    # the live copies equal production's blocks at their checkpoint SCN, byte for byte
    db = benv.database()
    dbid = db.cf.doc["dbid"]
    copies = db.cf.live_copies("IMAGE_COPY_BACKUP")
    assert {c["file"] for c in copies} == {d["file"] for d in db.cf.datafiles()}
    for c in copies:
        df = Datafile(Path(c["name"]))
        expected = truth.blocks_as_of(db.state, dbid, c["file"], df.header["checkpoint_scn"], header=df.header)
        assert truth.differing_blocks(df.path, expected) == []


def test_imagecopywithsnap_starts_four_oracle_processes(configured):
    benv = configured
    cycle(benv)
    time.sleep(1.1)
    cycle(benv)
    log = sorted((benv.area / "backup_logs").glob("orcl_*_imagecopywithsnap.log"))[-1].read_text()
    assert log.count("RMAN execution starts") == 1
    assert log.count("SQL*Plus execution starts") == 3
    assert "Oracle processes started: rman 1, sqlplus 3" in log


def test_missingarchlog_copies_a_deleted_archivelog_and_is_cheap_otherwise(configured):
    benv = configured
    cycle(benv)
    out = ok(benv.backup("missingarchlog"))
    log = sorted((benv.area / "backup_logs").glob("orcl_*_missingarchlog.log"))[-1].read_text()
    assert "RMAN execution starts" not in log, "RMAN ran although nothing was missing"
    victim = sorted((benv.area / "archivelog").iterdir())[0]
    seq = int(victim.name.split("_")[1])
    victim.unlink()
    out = ok(benv.backup("missingarchlog"))
    assert f"sequence {seq}" in out
    assert any(f"S-{seq}_" in p.name or p.name.startswith(f"1_{seq}_")
               for p in (benv.area / "archivelog").iterdir())


def test_added_datafile_gets_a_copy_and_dropped_tablespace_loses_its_copy(configured):
    benv = configured
    cycle(benv)
    db = benv.database()
    with db.changing():
        added = db.add_datafile("DATA2", 16)
    time.sleep(1.1)
    cycle(benv)
    copies = benv.database().cf.live_copies("IMAGE_COPY_BACKUP")
    assert added["file"] in {c["file"] for c in copies}
    copy_name = next(c["name"] for c in copies if c["file"] == added["file"])
    db = benv.database()
    with db.changing():
        db.drop_tablespace("DATA2")
    time.sleep(1.1)
    out = cycle(benv)
    assert "Deleting 1 expired datafile copies" in out
    assert not Path(copy_name).exists()
    assert added["file"] not in {c["file"] for c in benv.database().cf.live_copies()}


def test_rman_failure_reports_oracle_lines_and_releases_the_lock(configured):
    benv = configured
    cycle(benv)
    db = benv.database()
    victim = Path(db.cf.datafile(4)["name"])
    victim.rename(victim.with_suffix(".moved"))
    try:
        time.sleep(1.1)
        result = benv.backup("imagecopywithsnap")
    finally:
        victim.with_suffix(".moved").rename(victim)
    assert result.returncode == 1
    assert re.search(r"(RMAN|ORA)-\d{5}", result.stdout), result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not (benv.area / "backup.lck").exists()
    time.sleep(1.1)
    ok(benv.backup("imagecopywithsnap"))       # and the next run is fine


STEPS = ["Check if there are missing archivelogs", "Switch current log", "Snap the current backup area",
         "Refresh imagecopy", "Clean expired snapshots", "Write database parameters"]


@pytest.mark.parametrize("step", STEPS)
def test_kill_at_each_step_then_a_normal_run_succeeds(configured, step):
    """kill -9 of backup.py at each step, while RMAN or SQL*Plus runs: no process of the run outlives it,
    and the next run succeeds without losing a snapshot."""
    benv = configured
    cycle(benv)
    time.sleep(1.1)
    cycle(benv)
    before = {p.name for p in snapshots(benv)}
    benv.workload(5)
    time.sleep(1.1)
    env = benv.env(ORASIM_DELAY="3", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, str(REPO / "backup.py"), "orcl", "imagecopywithsnap"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    seen = ""
    assert proc.stdout is not None
    for line in proc.stdout:
        seen += line
        if step in line:
            if step != STEPS[-1]:            # (after the last step's line no Oracle tool runs)
                time.sleep(0.3)              # the step's Oracle tool (or storage copy) has started
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    # After the last step's line only a file write is left: the run may end before the signal lands.
    assert proc.returncode == -signal.SIGKILL or (step == STEPS[-1] and proc.returncode == 0), seen
    # The children die with the run (PR_SET_PDEATHSIG): an orphan would sleep on (ORASIM_DELAY), then run
    # its script to the end and write the backup area beside the next run.
    assert wait_group_gone(proc.pid) == [], "a process of the killed run outlived it"
    benv.checker().forget()     # the killed run's copies are not the ones the checker saw
    left_lock = (benv.area / "backup.lck").exists()
    time.sleep(1.1)
    out = ok(benv.backup("imagecopywithsnap"))
    assert before <= {p.name for p in snapshots(benv)}, "an earlier snapshot was lost"
    if left_lock:
        assert "Took over the stale lock" in out
    assert not (benv.area / "backup.lck").exists()
    params = configparser.ConfigParser(interpolation=None)   # strict: a duplicated key would fail here
    params.read(snapshots(benv)[-1] / "autorestore.cfg")     # the snapshot this run took
    assert params["dbparams"]["db_name"] == "orcl"
    assert params["dbparams"]["lastscn"]


def test_setschedule_in_a_cdb_keeps_the_password_out_of_logs(sim, tmp_path):
    from .conftest import make_env
    benv = make_env(sim, tmp_path, db="cdb1", dbid=888398667, cdb=True)
    ok(benv.backup("config"))
    secret = "Sup3r-Secret-OS-pw"
    result = benv.backup("setschedule", env=benv.env(OSPASSWORD=secret))
    ok(result)
    assert secret not in result.stdout + result.stderr
    out = ok(sim.sqlplus("conn /@cdb1 as sysdba\nset pages 0 feedback off\n"
                         "select owner||'.'||job_name||' '||enabled from dba_scheduler_jobs order by 1;\n"
                         "select username from dba_users where username like '%BACKUPEXEC';\nexit\n"))
    assert "C##BACKUPEXEC.IMAGECOPY_JOB TRUE" in out
    assert "C##BACKUPEXEC.ARCHLOGBACKUP_JOB TRUE" in out
    assert "C##BACKUPEXEC" in out
    for path in (benv.area / "backup_logs").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path
    for path in sim.home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_setschedule_needs_ospassword(benv):
    result = benv.backup("setschedule", env=benv.env(OSPASSWORD=""))
    assert result.returncode == 2
    assert "OSPASSWORD" in result.stderr


@pytest.mark.parametrize("breakage, message", [
    ("missing_file", "not found"),
    ("missing_section", "section [orcl] not found"),
    ("missing_key", "[orcl] key 'dbid' is missing"),
    ("bad_integer", "key 'parallel' must be an integer"),
    ("unknown_driver", "snappermodule"),
])
def test_bad_configuration_is_one_line_and_exit_2(benv, breakage, message):
    text = benv.config.read_text()
    if breakage == "missing_file":
        benv.config.unlink()
    elif breakage == "missing_section":
        benv.config.write_text(text.replace("[orcl]", "[other]"))
    elif breakage == "missing_key":
        benv.config.write_text(re.sub(r"(?m)^dbid: .*\n", "", text))
    elif breakage == "bad_integer":
        benv.config.write_text(text.replace("parallel: 2", "parallel: two"))
    elif breakage == "unknown_driver":
        benv.config.write_text(text.replace("snappermodule: localfs", "snappermodule: nosuchdriver"))
    action = "imagecopywithsnap"
    result = benv.backup(action)
    assert result.returncode == 2, result.stdout + result.stderr
    combined = (result.stdout + result.stderr).strip()
    assert "Traceback" not in combined
    error_lines = [line for line in combined.splitlines() if "ERROR" in line]
    assert len(error_lines) == 1 and message in error_lines[0], combined


@pytest.mark.parametrize("argv", [[], ["orcl"], ["orcl", "nosuchaction"], ["orcl", "config", "extra"]])
def test_usage(benv, argv):
    result = benv.script("backup.py", *argv)
    assert result.returncode == 2
    assert result.stderr.startswith("Usage: backup.py")


def test_dry_run_prints_scripts_and_changes_nothing(configured):
    benv = configured
    result = benv.backup("imagecopywithsnap", "--dry-run")
    out = ok(result)
    assert "backup  incremental level 1 for recover of copy with tag 'image_copy_backup' database;" in out
    assert "alter system archive log current;" in out
    assert snapshots(benv) == []
    assert not benv.database().cf.live_copies()


def test_lock_contention_exits_2(configured):
    benv = configured
    (benv.area / "backup.lck").write_text('{"host": "elsewhere", "pid": 1, "token": "x"}')
    result = benv.backup("imagecopywithsnap")
    assert result.returncode == 2
    assert "Did not get the lock" in result.stdout


def test_exec_all_runs_every_database_but_the_excluded(benv):
    from . import siteconfig
    benv.sim.create_db("prod2", dbid=2000000002)
    benv.config.write_text(siteconfig.render(benv.root, benv.sim.home, {"orcl": 1433672784, "prod2": 2000000002}))
    out = ok(benv.script("exec_all.py", "config"))
    assert "--- orcl: backup.py orcl config" in out and "--- prod2: backup.py prod2 config" in out
    out = ok(benv.script("exec_all.py", "missingarchlog", "prod2"))
    assert "--- prod2: skipped" in out and "--- orcl: backup.py orcl missingarchlog" in out
    assert benv.script("exec_all.py", "nosuchaction").returncode == 2


def test_dbinfo_prints_the_services_to_recreate(benv):
    from oracle_sim import tools
    benv.write_config()
    benv.config.write_text(benv.config.read_text().replace("gimanaged: false", "gimanaged: true"))
    tools.gi_register(benv.sim.home, "orcl", [{"name": "app1", "preferred": "orcl1", "available": "orcl2"}])
    out = ok(benv.script("dbinfo.py", "orcl"))
    assert "== Service configuration parsed ==" in out
    assert "srvctl add service -database orcl -service app1 -preferred orcl1 -available orcl2" in out


def test_zvolume_creates_the_backup_area(benv):
    assert not benv.area.exists()
    out = ok(benv.script("zvolume.py", "orcl", "create"))
    assert benv.area.is_dir() and str(benv.area) in out
    assert benv.script("zvolume.py", "orcl", "destroy").returncode == 2


def test_an_expired_archivelog_does_not_break_the_daily_job(configured):
    """A log whose files are gone from the recovery area and the backup area, marked expired by a
    crosscheck, has nothing to copy from: the daily job must go on (only available logs count)."""
    benv = configured
    cycle(benv)
    db = benv.database()
    victim = [r for r in db.cf.doc["archived_logs"] if not r["name"].startswith(str(benv.area))][-1]
    for row in db.cf.doc["archived_logs"]:
        if (row["thread"], row["sequence"]) == (victim["thread"], victim["sequence"]):
            Path(row["name"]).unlink(missing_ok=True)
    out = ok(benv.sim.rman("connect target /@orcl\ncrosscheck archivelog all;\nexit\n"))
    assert "validation failed for archived log" in out
    statuses = {r["status"] for r in benv.database().cf.doc["archived_logs"]
                if (r["thread"], r["sequence"]) == (victim["thread"], victim["sequence"])}
    assert statuses == {"X"}
    time.sleep(1.1)
    benv.workload(5)
    out = ok(benv.backup("imagecopywithsnap"))
    assert f"sequence {victim['sequence']}" not in out     # nothing to copy it from: not attempted
    ok(benv.backup("missingarchlog"))


def test_the_scheduler_procedure_starts_a_copy_only_for_available_logs(configured):
    benv = configured
    cycle(benv)
    ok(benv.backup("setschedule", env=benv.env(OSPASSWORD="x-Pw-1")))
    call = ("conn /@orcl as sysdba\nset pages 0 feedback off\nexec backupexec.check_archlog_copy;\n"
            "select count(*) from dba_scheduler_jobs where job_name like 'MISSINGARCH%';\nexit\n")
    logs = benv.database().cf.doc["archived_logs"]
    newest = max((r for r in logs if r["name"].startswith(str(benv.area))), key=lambda r: r["sequence"])
    # lost from the backup area and uncatalogued there; then expired in the recovery area too:
    # nothing to copy from, so no copy job
    ok(benv.sim.rman(f"connect target /@orcl\nchange archivelog '{newest['name']}' uncatalog;\nexit\n"))
    Path(newest["name"]).unlink()
    fra = next(r for r in benv.database().cf.doc["archived_logs"]
               if r["sequence"] == newest["sequence"] and r["name"] != newest["name"])
    Path(fra["name"]).unlink()
    ok(benv.sim.rman("connect target /@orcl\ncrosscheck archivelog all;\nexit\n"))
    assert ok(benv.sim.sqlplus(call)).split() == ["0"]
    benv.workload(3)
    ok(benv.sim.sqlplus("conn /@orcl as sysdba\nalter system archive log current;\nexit\n"))
    newest = max((r for r in benv.database().cf.doc["archived_logs"] if r["name"].startswith(str(benv.area))),
                 key=lambda r: r["sequence"])
    Path(newest["name"]).unlink()          # an available log in the recovery area: a copy job starts
    ok(benv.sim.rman("connect target /@orcl\ncrosscheck archivelog all;\nexit\n"))
    assert ok(benv.sim.sqlplus(call)).split() == ["1"]


def _tree(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under ``root`` (the simulator's home and state included) with size, mode and mtime."""
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mode, p.lstat().st_mtime_ns)
            for p in root.rglob("*")}


DRY_RUNS = [("new", "config")] + [(stage, a) for stage in ("configured", "backed-up") for a in ACTIONS
                                  if a != "verifysnapshots"]   # verifysnapshots only reads: no --dry-run


@pytest.mark.parametrize("stage, action", DRY_RUNS)
def test_a_dry_run_of_every_action_changes_nothing_on_disk(benv, stage, action):
    """--dry-run shows what would run; nothing is created, written or dropped: not the backup area's
    directories, not a log, not a lock, not a snapshot, not the database (its state files included)."""
    if stage != "new":
        ok(benv.backup("config"))
    if stage == "backed-up":
        # retention would drop all but the newest snapshot: the dry run must only say so
        benv.config.write_text(re.sub(r"(?m)^snapexpirationdays: .*$", "snapexpirationdays: 0",
                                      benv.config.read_text()))
        ok(benv.backup("imagecopywithsnap"))
        ok(benv.backup("imagecopywithsnap"))
        benv.workload(3)
    before = _tree(benv.root)
    result = benv.backup(action, "--dry-run", env=benv.env(OSPASSWORD="secret-os-pw"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert _tree(benv.root) == before
