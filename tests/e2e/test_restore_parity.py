"""The restore side behaves as the old toolset did where it was right, end to end through the scripts.

Block change tracking is decided from the restored controlfile (Standard
Edition, a standby's file), a failed restore keeps its snapshot and target,
a verified time newer than the target only warns, every volume of a
multi-volume clone is catalogued, old logs and catalog rows are purged, and
restore.py prints the NFS mount options and runnable clean-up commands.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from oracle_sim import clock
from oracle_sim.instance import Instance

from . import siteconfig
from . import test_autorestore as ar
from .test_autorestore import Pty, Site, _fault, configured

# the same fixtures as the restore tests (the session's sandbox user, a fresh site per test)
sandbox = ar.sandbox
site = ar.site

pytestmark = pytest.mark.slow

OLD_MOUNT_OPTIONS = "rw,bg,hard,nointr,rsize=32768,wsize=32768,tcp,vers=3,timeo=600"


def cfg_value(snap: Path, key: str) -> str:
    """A ``key: value`` line of the autorestore.cfg somewhere in the snapshot."""
    cfg = next(snap.rglob("autorestore.cfg"))
    return next(line.split(":", 1)[1].strip() for line in cfg.read_text().splitlines()
                if line.split(":", 1)[0].strip() == key)


def session_log(site: Site, db: str = "orcl") -> str:
    logs = sorted((site.w / "autorestore" / "log").glob(f"*T*-{db}.log"))
    return logs[-1].read_text()


def rewrite_config(site: Site, autorestore: dict[str, object]) -> None:
    """The site's configuration with extra or changed [autorestore] keys."""
    site.cfg.write_text(siteconfig.render(
        site.w, site.w / "oh", site.dbs,
        autorestore={"autorestoresid": "ar", **autorestore}))
    site.box.give(site.cfg)


def test_standard_edition_database_restores_without_block_change_tracking(site):
    site.simctl("create", "--name", "orcl", "--dbid", "1433672784", "--oradata", str(site.w / "oradata"),
                "--fra", str(site.w / "fra"), "--edition", "SE")
    site.dbs["orcl"] = 1433672784
    site.write_config()
    site.ok(site.backup("config"))
    site.cycles(2, workload=("-n", "3"))
    target = clock.fmt(time.time())
    time.sleep(1.1)
    site.ok(site.backup("imagecopywithsnap"))
    out = site.ok(site.autorestore())
    assert "Exitstatus is 0" in out
    site.assert_clean()
    log = session_log(site)
    assert "ORA-19759" not in log and "disable block change tracking" not in log
    # the restore init.ora carries what 4K-sector NFS storage and the recovery area need
    assert "*._disk_sector_size_override=TRUE" in log and "*.db_recovery_file_dest=" in log
    # restore.py too
    result = site.box.py(site.box.script("restore.py"), str(site.cfg), "orcl", "--target", target, "--sid", "se1",
                         "--yes", env=site.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert Instance(site.state, "se1").open_mode == "READ ONLY"
    run_cleanup_commands(site, result.stdout)


def run_cleanup_commands(site: Site, out: str) -> None:
    """Run the shutdown and drop-clone lines restore.py printed, as printed; nothing is left."""
    lines = out.splitlines()
    commands = [line.strip() for line in lines[lines.index("When you are done with it, clean up:") + 1:]
                if line.strip()]
    oh = site.w / "oh"
    for command in (commands[0], commands[-1]):
        site.ok(site.box.run("bash", "-c", command,
                             env=site.box.env(ORACLE_HOME=str(oh), PATH=f"{oh}/bin:{os.environ['PATH']}")))
    site.assert_clean()
    for sid_file in (site.state / "instances").glob("*.json"):
        if sid_file.stem not in site.dbs:
            assert Instance(site.state, sid_file.stem).status == "idle", sid_file.stem


def test_block_change_tracking_file_comes_from_the_restored_controlfile(site):
    """A bctfile in autorestore.cfg that the restored controlfile does not know (an older backup of a standby
    recorded the primary's): the restore must go by the controlfile, not by it."""
    configured(site)
    snap = site.snapshots("orcl")[-1]
    real = cfg_value(snap, "bctfile")
    assert real
    cfg = snap / "autorestore.cfg"
    cfg.write_text(cfg.read_text().replace(real, "/primary/PRIM/changetracking/o1_mf_primary_.chg"))
    out = site.ok(site.autorestore())
    assert "Exitstatus is 0" in out
    log = session_log(site)
    assert (f"Block change tracking file in the restored controlfile: {real} "
            f"(renamed to {site.w}/autorestore/dest/bct.bct)") in log
    assert "BCT: DISABLED" in log and "/primary/PRIM" not in log
    site.assert_clean()


@pytest.mark.parametrize("fault, step", [
    ("bad_query", "verify"),
    ("missing_archivelog", "recover"),
])
def test_a_failed_restore_keeps_its_snapshot_target_and_step_in_the_catalog(site, fault, step):
    configured(site)
    snap = site.snapshots("orcl")[-1]
    if fault == "bad_query":
        site.write_config(verify={"orcl": "select no_such_column from dual"})
    else:
        _fault(site, fault)
    result = site.autorestore()
    assert result.returncode == 1, result.stdout + result.stderr
    site.assert_clean()
    (row,) = site.catalog()
    assert row["success"] == 0
    assert row["snapid"] == snap.name
    assert row["restore_target"] == cfg_value(snap, "lasttime").replace(" ", "T")
    assert f"Restore failed at step {step}:" in row["logfilecontents"]
    prom = (site.w / "autorestore" / "oib.prom").read_text()
    assert 'oib_autorestore_last_run_success{database="orcl"} 0' in prom


def test_a_verified_time_newer_than_the_target_passes_with_a_warning(site):
    configured(site, verify={"orcl": "select to_date('2099-01-01 00:00:00', 'yyyy-mm-dd hh24:mi:ss') from dual"})
    out = site.ok(site.autorestore())
    assert "Exitstatus is 0" in out
    (row,) = site.catalog()
    assert row["success"] == 1 and row["verificationtimediffseconds"] < -300
    assert "WARNING" in row["logfilecontents"] and "newer than the target" in row["logfilecontents"]


def split_into_volumes(site: Site, snap: Path) -> None:
    """Lay a snapshot out as a multi-volume clone would be: ``vol1`` (autorestore.cfg, the
    controlfile, half the datafile copies and archivelogs) and ``vol2`` (the other halves)."""
    vol1, vol2 = snap / "vol1", snap / "vol2"
    entries = list(snap.iterdir())
    vol1.mkdir()
    for entry in entries:
        entry.rename(vol1 / entry.name)
    (vol2 / "archivelog").mkdir(parents=True)
    copies = sorted(vol1.glob("data_D-*"))
    logs = sorted((vol1 / "archivelog").iterdir())
    assert len(copies) >= 2 and len(logs) >= 2
    for path in copies[1::2]:
        path.rename(vol2 / path.name)
    for path in logs[1::2]:
        path.rename(vol2 / "archivelog" / path.name)
    site.box.give(snap)


def test_multi_volume_clone_catalogs_every_volume(site):
    configured(site)
    split_into_volumes(site, site.snapshots("orcl")[-1])
    out = site.ok(site.autorestore())
    assert "Exitstatus is 0" in out
    log = session_log(site)
    assert "vol2/archivelog/" in log and "vol2/data_" in log
    assert "have no image copy" not in log
    site.assert_clean()


def test_old_session_logs_and_catalog_rows_are_purged(site):
    configured(site)
    logdir = site.w / "autorestore" / "log"
    old, recent = logdir / "20200101T000000-orcl.log", logdir / "20200102T000000-orcl.log"
    for path, days in ((old, 21), (recent, 19)):    # logretention is 20 days
        path.write_text("an old session\n")
        os.utime(path, (time.time() - days * 86400,) * 2)
    site.box.give(logdir)
    site.ok(site.autorestore("--createcatalog"))
    insert_rows(site, {"d400": 400, "d200": 200})
    site.ok(site.autorestore())
    assert not old.exists() and recent.exists()
    names = [r["db_unique_name"] for r in site.catalog()]
    assert names == ["d200", "orcl"]        # the default keeps 365 days


def insert_rows(site: Site, ages: dict[str, int]) -> None:
    """Catalog rows started ``ages[name]`` days ago, written as the restore user (WAL files stay its own)."""
    rows = [(name, time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - days * 86400)))
            for name, days in ages.items()]
    code = ("import sqlite3, sys\ncon = sqlite3.connect(sys.argv[1])\n"
            f"con.executemany(\"insert into restoreaction (db_unique_name, start_time, finish_time, success, "
            f"validated_corruption) values (?, ?, ?, 0, 0)\", [(n, t, t) for n, t in {rows!r}])\n"
            "con.commit()\n")
    site.ok(site.box.py("-c", code, str(site.w / "autorestore" / "log" / "autorestore.db")))


def test_restore_py_prints_nfs_mount_options_and_runnable_cleanup(site):
    site.add_db("orcl", 1433672784)
    site.write_config()
    site.ok(site.backup("config"))
    site.cycles(1)
    rewrite_config(site, {"autorestoremountmethod": "fstab"})
    mountdir = site.w / "autorestore" / "mnt"
    term = Pty(site.box.argv(site.box.python, site.box.script("restore.py"), str(site.cfg), "orcl",
                             "--target", clock.fmt(time.time() - 3600), "--sid", "nfs1", "--mountdir",
                             str(mountdir), "--yes"), site.env())
    before = term.expect("Is the clone mounted? (y/n)")
    mount = [line.strip() for line in before.splitlines() if line.strip().startswith("mount ")]
    clones = [p.name for p in (site.w / "clones").iterdir() if not p.name.startswith(".")]
    assert mount == [f"mount -t nfs -o {OLD_MOUNT_OPTIONS} localhost:{site.w}/clones/{clones[0]} {mountdir}"]
    term.send("y")          # nothing mounted: the restore fails, and says how to clean up
    code, out = term.finish()
    assert code == 1, out
    lines = [line.strip() for line in out.splitlines()]
    assert f"umount {mountdir}      # as root" in lines
    (drop,) = [line for line in lines if " dropclone " in line]
    # the configuration and the script by full path (through the interpreter when not executable)
    assert drop.startswith(f"BACKUPCONFIG={site.cfg} ")
    assert drop.endswith(f"{site.box.script('zsnapper.py')} orcl dropclone {clones[0]}")
    site.ok(site.box.run("bash", "-c", drop, env=site.box.env()))
    site.assert_clean()


def test_restore_py_mount_options_are_a_setting(site):
    site.add_db("orcl", 1433672784)
    site.write_config()
    site.ok(site.backup("config"))
    site.cycles(1)
    rewrite_config(site, {"autorestoremountmethod": "fstab", "restoremountoptions": "ro,vers=4.1"})
    mountdir = site.w / "autorestore" / "mnt"
    term = Pty(site.box.argv(site.box.python, site.box.script("restore.py"), str(site.cfg), "orcl",
                             "--target", clock.fmt(time.time() - 3600), "--sid", "nfs2", "--mountdir",
                             str(mountdir), "--yes"), site.env())
    assert "mount -t nfs -o ro,vers=4.1 localhost:" in term.expect("Is the clone mounted? (y/n)")
    term.send("y")
    code, out = term.finish()
    assert code == 1, out
    drop = [line.strip() for line in out.splitlines() if " dropclone " in line]
    site.ok(site.box.run("bash", "-c", drop[0], env=site.box.env()))
    site.assert_clean()
