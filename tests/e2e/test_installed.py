"""The toolset installed with pip: the console commands work away from the checkout.

The package is built from a copy of the source tree and installed into a fresh
venv (no network: --no-deps --no-build-isolation --no-index, setuptools from
the system site-packages); the commands then run against the simulator from a
directory that is not the checkout, and the scheduler job setschedule creates
runs the installed ``backup`` command.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, ok

pytestmark = pytest.mark.slow

SOURCES = ("imagecopy", "storage", "templates")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with the package installed; returns its bin directory."""
    root = tmp_path_factory.mktemp("installed")
    src = root / "src"
    src.mkdir()
    for item in REPO.iterdir():
        if item.suffix == ".py" or item.name in ("README.md", "pyproject.toml"):
            shutil.copy2(item, src / item.name)
    for package in SOURCES:
        shutil.copytree(REPO / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps",
                           "--no-build-isolation", "--no-index", str(src)], capture_output=True, text=True,
                          timeout=600, cwd=str(root))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return venv / "bin"


def run(benv, bindir: Path, command: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    elsewhere = benv.root / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    return subprocess.run([str(bindir / command), *args], capture_output=True, text=True, env=benv.env(**env),
                          cwd=str(elsewhere), timeout=300)


def query(benv, sql: str) -> list[str]:
    out = ok(benv.sim.sqlplus(f"conn /@{benv.db} as sysdba\nset pages 0 feedback off lines 400\n{sql}\nexit\n"))
    return [line.strip() for line in out.splitlines() if line.strip()]


def test_installed_commands_configure_and_schedule(benv, installed):
    # A relative tnsadmin is read beside the configuration file, not in site-packages.
    benv.config.write_text(benv.config.read_text().replace(f"tnsadmin: {benv.root}/tns", "tnsadmin: tns"))
    out = ok(run(benv, installed, "backup", "orcl", "config"))
    assert "Log file for this session:" in out
    assert benv.database().cf.doc["bct"]["status"] == "ENABLED"
    script = ok(run(benv, installed, "backup", "orcl", "generaterestore"))
    assert f"export TNS_ADMIN={benv.root / 'tns'}" in script
    ok(run(benv, installed, "backup", "orcl", "setschedule", OSPASSWORD="Installed-pw-1"))
    actions = query(benv, "select program_name||' '||program_action from dba_scheduler_programs order by 1;")
    assert actions == [f"ARCHLOGBACKUP_PRG {installed / 'backup'}", f"IMAGECOPY_PRG {installed / 'backup'}"]
    args = query(benv, "select default_value from dba_scheduler_program_args "
                       "where program_name = 'IMAGECOPY_PRG' order by argument_position;")
    assert args == ["orcl", "imagecopywithsnap", f"--config={benv.config}"]
    # The job itself: run by the scheduler with an almost empty environment, from /.
    benv.workload(5)
    ok(benv.sim.sqlplus("conn /@orcl as sysdba\nwhenever sqlerror exit failure\n"
                        "exec dbms_scheduler.run_job('BACKUPEXEC.IMAGECOPY_JOB')\nexit\n"))
    assert [p.name for p in (benv.root / "snapshots" / "orcl").iterdir() if not p.name.startswith(".")]
    out = ok(run(benv, installed, "zsnapper", "orcl", "list"))
    assert out.startswith("orcl-")


def test_installed_commands_default_to_the_system_configuration(benv, installed):
    if Path("/etc/oracle-imagecopy-backup/backup.cfg").exists():
        pytest.skip("this machine has a system-wide configuration")
    env = benv.env()
    del env["BACKUPCONFIG"]
    for command, args in (("backup", ("orcl", "config")), ("zsnapper", ("orcl", "list")),
                          ("report", ()), ("exec-all", ("config",))):
        proc = subprocess.run([str(installed / command), *args], capture_output=True, text=True, env=env,
                              cwd=str(benv.root), timeout=120)
        assert proc.returncode == 2, (command, proc.stdout, proc.stderr)
        assert "Configuration file /etc/oracle-imagecopy-backup/backup.cfg not found" in proc.stderr, \
            (command, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_installed_exec_all_schedules_the_installed_command(benv, installed):
    ok(run(benv, installed, "exec-all", "config"))
    out = ok(run(benv, installed, "exec-all", "setschedule", OSPASSWORD="Installed-pw-2"))
    assert "--- orcl: backup.py orcl setschedule" in out
    actions = query(benv, "select distinct program_action from dba_scheduler_programs;")
    assert actions == [str(installed / "backup")]
