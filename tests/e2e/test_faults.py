"""The fault matrix: a fault at each storage and Oracle call of the daily job and of a nightly restore.

Whatever fails (the driver raising, a tool exiting non-zero, a hang stopped by
SIGTERM as a scheduler's timeout would, SIGTERM mid-call): a clear error, an
exit status other than 0, the lock released, no clone or instance left behind,
no snapshot deleted, no process of the run left.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import faults, test_autorestore
from .conftest import REPO, ok
from .processes import alive_in_session
from .test_autorestore import Site

pytestmark = pytest.mark.slow
sandbox = test_autorestore.sandbox

# imagecopywithsnap with nothing missing: sqlplus (missing logs), sqlplus (target, log switch), snapshot,
# rman (refresh), sqlplus (archive, parameters), retention.
BACKUP_FAULTS = [
    ("oracle", "sqlplus:1:fail"), ("oracle", "sqlplus:2:fail"), ("oracle", "rman:1:fail"),
    ("oracle", "sqlplus:3:fail"),
    ("oracle", "sqlplus:2:sigterm"), ("oracle", "rman:1:sigterm"), ("oracle", "sqlplus:3:sigterm"),
    ("oracle", "rman:1:hang"), ("oracle", "sqlplus:1:hang"),
    ("storage", "snap:raise"), ("storage", "snap:crash"), ("storage", "snap:sigterm"),
    ("storage", "clean:raise"), ("storage", "clean:sigterm"), ("storage", "snap:hang"),
]


def script_pid(sid: int) -> int:
    """The Python script run under runuser: the process of the session whose command line names a .py file."""
    for pid in alive_in_session(sid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(cmdline) > 1 and cmdline[1].endswith(b".py"):
            return pid
    return sid


def snapshot_names(root: Path, db: str = "orcl") -> set[str]:
    base = root / "snapshots" / db
    return {p.name for p in base.iterdir() if not p.name.startswith(".")} if base.exists() else set()


def run_with_fault(argv: list[str], env: dict[str, str], counters: Path, hang: bool,
                   runner=None) -> tuple[int, str, str]:
    """Run ``argv`` in its own session; a hanging call is stopped with SIGTERM once it is reached."""
    proc = subprocess.Popen(runner(*argv) if runner else argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    if hang:
        deadline = time.monotonic() + 120
        while not (counters / "reached").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        os.kill(proc.pid if runner is None else script_pid(proc.pid), signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    deadline = time.monotonic() + 10
    while alive_in_session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive_in_session(proc.pid) == [], "a process of the run outlived it"
    return proc.returncode, out, err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
@pytest.mark.parametrize("kind, fault", BACKUP_FAULTS, ids=[f for _, f in BACKUP_FAULTS])
def test_daily_job_fault(configured, tmp_path, kind, fault):
    benv = configured
    drivers = faults.install_driver(tmp_path / "drivers")
    benv.config.write_text(benv.config.read_text().replace("snappermodule: localfs", "snappermodule: faultfs")
                           .replace("snapperclass: LocalFS", "snapperclass: FaultFS"))
    faults.wrap_tools(benv.sim.home, sys.executable)
    pythonpath = f"{drivers}:{REPO}"
    ok(benv.backup("imagecopywithsnap", env=benv.env(PYTHONPATH=pythonpath)))
    time.sleep(1.1)
    before = snapshot_names(benv.root)
    counters = tmp_path / "counters"
    counters.mkdir()
    variable = "OIB_ORACLE_FAULT" if kind == "oracle" else "OIB_STORAGE_FAULT"
    env = benv.env(PYTHONPATH=pythonpath, OIB_FAULT_COUNTER=str(counters), **{variable: fault})
    if kind == "storage" and fault.endswith("hang"):
        (counters / "reached").write_text("")     # the driver hangs at once: stop it after a moment
    code, out, err = run_with_fault([sys.executable, str(REPO / "backup.py"), "orcl", "imagecopywithsnap"], env,
                                    counters, hang=fault.endswith("hang"))
    assert code != 0, out + err
    assert "Traceback" not in out + err
    errors = [line for line in err.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: "), out + err
    if kind == "oracle" and fault.endswith("fail"):
        assert "exited with code 1" in errors[0]
    assert not (benv.area / "backup.lck").exists(), "the lock was not released"
    assert before <= snapshot_names(benv.root), "a snapshot was deleted"
    # the next run, without the fault, succeeds
    benv.checker().forget()
    time.sleep(1.1)
    ok(benv.backup("imagecopywithsnap", env=benv.env(PYTHONPATH=pythonpath)))


# A nightly restore: clone; sqlplus nomount; rman mount and catalog; sqlplus BCT; sqlplus no-copy files;
# rman recover; sqlplus open; sqlplus verify; clean-up (sqlplus shutdown, drop clone).
RESTORE_FAULTS = [
    ("storage", "clone:raise"), ("storage", "clone:sigterm"), ("storage", "clone:crash"),
    ("oracle", "sqlplus:1:fail"), ("oracle", "rman:1:fail"), ("oracle", "sqlplus:2:fail"),
    ("oracle", "sqlplus:3:fail"), ("oracle", "rman:2:fail"), ("oracle", "sqlplus:4:fail"),
    ("oracle", "sqlplus:5:fail"),
    ("oracle", "sqlplus:1:sigterm"), ("oracle", "rman:1:sigterm"), ("oracle", "rman:2:sigterm"),
    ("oracle", "sqlplus:5:sigterm"), ("oracle", "rman:2:hang"),
]


@pytest.fixture(scope="module")
def restore_site(sandbox):
    site = Site(sandbox, f"faults-{len(list(sandbox.base.iterdir()))}")
    test_autorestore.configured(site)
    drivers = faults.install_driver(site.w / "drivers")
    site.cfg.write_text(site.cfg.read_text().replace("snappermodule: localfs", "snappermodule: faultfs")
                        .replace("snapperclass: LocalFS", "snapperclass: FaultFS"))
    faults.wrap_tools(site.w / "oh", sandbox.python)
    sandbox.give(site.w)
    site.drivers = drivers
    return site


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
@pytest.mark.parametrize("kind, fault", RESTORE_FAULTS, ids=[f for _, f in RESTORE_FAULTS])
def test_nightly_restore_fault(restore_site, kind, fault):
    site = restore_site
    before = snapshot_names(site.w)
    counters = site.w / f"counters-{fault.replace(':', '-')}"
    counters.mkdir()
    site.box.give(counters)
    variable = "OIB_ORACLE_FAULT" if kind == "oracle" else "OIB_STORAGE_FAULT"
    env = site.box.env(BACKUPCONFIG=str(site.cfg), OIB_FAULT_COUNTER=str(counters), **{variable: fault})
    env["PYTHONPATH"] = f"{site.drivers}:{env['PYTHONPATH']}"
    rows_before = len(site.catalog()) if (site.w / "autorestore" / "log" / "autorestore.db").exists() else 0
    time.sleep(1.1)     # the catalog keeps one result per database and second
    code, out, err = run_with_fault([site.box.python, site.box.script("autorestore.py"), str(site.cfg)], env,
                                    counters, hang=fault.endswith("hang"), runner=site.box.argv)
    assert code != 0, out + err
    assert "Traceback" not in out + err
    site.assert_clean()
    assert not (site.w / "autorestore" / "log" / "autorestore.lck").exists(), "the lock was not released"
    assert before <= snapshot_names(site.w), "a snapshot was deleted"
    rows = site.catalog()
    assert len(rows) == rows_before + 1 and rows[-1]["success"] == 0, "the failure was not recorded"
