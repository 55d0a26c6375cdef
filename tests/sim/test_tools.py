"""The small simulated tools and simctl: sqlldr, adrci, srvctl, opatch."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from oracle_sim import tools


def simctl(sim, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oracle_sim.cli", "--home", str(sim.home), *args],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])


def test_simctl_create_workload_show_and_errors(sim):
    out = simctl(sim, "create", "--name", "cdb1", "--dbid", "888398667", "--oradata", str(sim.root / "od"),
                 "--fra", str(sim.root / "fra"), "--cdb", "--files", "USERS=2x16")
    assert out.returncode == 0 and "Database CDB1 created" in out.stdout
    out = simctl(sim, "workload", "--sid", "cdb1", "-n", "5", "--switch-every", "2")
    assert out.returncode == 0 and "5 transactions" in out.stdout
    out = simctl(sim, "show", "--sid", "cdb1")
    assert "app_rows: 5" in out.stdout and out.stdout.count("USERS") == 2
    assert simctl(sim, "drop-tablespace", "--sid", "cdb1", "--tablespace", "SYSTEM").returncode == 1
    assert simctl(sim, "workload", "--sid", "nosuch", "-n", "1").returncode == 1


def test_srvctl_without_and_with_clusterware(orcl):
    r = orcl.run("srvctl", "", "config", "database", "-d", "orcl")
    assert r.returncode == 1 and r.stdout.startswith("****Unable to retrieve Oracle Clusterware home.")
    tools.gi_register(orcl.home, "orcl", [{"name": "app1", "preferred": "orcl1"},
                                         {"name": "app2", "preferred": "orcl1", "enabled": False}])
    r = orcl.run("srvctl", "", "config", "service", "-d", "orcl")
    assert r.returncode == 0
    assert "Service name: app1" in r.stdout and "Service is disabled" in r.stdout
    assert "Services: app1,app2" in orcl.run("srvctl", "", "config", "database", "-d", "orcl").stdout


def test_adrci_lists_and_purges_homes(orcl, tmp_path):
    base = tmp_path / "adr"
    trace = base / "diag" / "rdbms" / "orcl" / "orcl" / "trace"
    trace.mkdir(parents=True)
    old, new = trace / "old.trc", trace / "new.trc"
    old.write_text("x")
    new.write_text("y")
    week_ago = time.time() - 7 * 86400
    os.utime(old, (week_ago, week_ago))
    r = orcl.run("adrci", "", f"exec=set base {base}; show homes")
    assert r.stdout.splitlines() == ["ADR Homes: ", "diag/rdbms/orcl/orcl"]
    r = orcl.run("adrci", "", f"exec=set base {base}; set homepath diag/rdbms/orcl/orcl; purge -age 1440")
    assert r.returncode == 0 and not old.exists() and new.exists()
    assert orcl.run("adrci", "", "exec=frobnicate").returncode == 1


def test_sqlldr_loads_into_a_table_created_through_sqlplus(orcl, tmp_path):
    r = orcl.sqlplus("whenever sqlerror exit failure\nconn / as sysdba\n"
                     "create user rman identified by x;\ngrant create session, create table to rman;\n"
                     "create table rman.restorelob (logfile varchar2(200), note varchar2(100));\nexit\n", sid="orcl")
    assert r.returncode == 0, r.stdout
    data = tmp_path / "rows.csv"
    data.write_text('"/log/a.log","first"\n"/log/b.log","second, with a comma"\n')
    ctl = tmp_path / "load.ctl"
    ctl.write_text(f"LOAD DATA INFILE '{data}' APPEND INTO TABLE restorelob FIELDS TERMINATED BY ',' "
                   "OPTIONALLY ENCLOSED BY '\"' (logfile CHAR(200), note)")
    r = orcl.run("sqlldr", "", "userid=/@orcl", f"control={ctl}")
    assert r.returncode == 0, r.stdout
    assert "2 Rows successfully loaded." in r.stdout
    rows = orcl.db().sidecar()["tables"]["RMAN.RESTORELOB"]["rows"]
    assert rows == [["/log/a.log", "first"], ["/log/b.log", "second, with a comma"]]
    ctl.write_text(ctl.read_text().replace("restorelob", "nosuch"))
    r = orcl.run("sqlldr", "", "userid=/@orcl", f"control={ctl}")
    assert r.returncode == 1 and "SQL*Loader-941" in r.stdout


def test_opatch_and_the_oracle_banner(orcl):
    r = orcl.run("opatch", "", "lsinventory")
    assert r.returncode == 0 and r.stdout.rstrip().endswith("OPatch succeeded.")
    banner = (orcl.home / "bin" / "oracle").read_bytes()
    assert b"NLSRTL Version 12.1.0.2.0 - Production" in banner
