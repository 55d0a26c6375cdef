"""autorestore.py and restore.py end to end, run as an unprivileged user as they demand."""
from __future__ import annotations

import json
import os
import re
import select
import sqlite3
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
from oracle_sim import clock, redo
from oracle_sim.database import read_history
from oracle_sim.datafile import Datafile
from oracle_sim.instance import Instance

from . import siteconfig
from .harness import SandboxSite
from .sandbox import Sandbox, build_sandbox

pytestmark = pytest.mark.slow

@pytest.fixture(scope="session")
def sandbox():
    box = build_sandbox()
    yield box
    subprocess.run(["rm", "-rf", str(box.base)], check=False)


class Site(SandboxSite):
    """localfs storage in the work directory: databases, backups, and the restore-test host's dirs."""

    def __init__(self, box: Sandbox, name: str):
        super().__init__(box, name)
        self.dbs: dict[str, int] = {}

    def write_config(self, modulus: int = 0, parallel: int = 1, verify: dict[str, str] | None = None) -> None:
        self.save_config(siteconfig.render(
            self.w, self.w / "oh", self.dbs,
            autorestore={"autorestoremodulus": modulus, "autorestoreparallel": parallel,
                         "autorestoremetricsfile": f"{self.w}/autorestore/oib.prom", "autorestoresid": "ar"},
            database={db: {"customverifydate": query} for db, query in (verify or {}).items()}))

    def add_db(self, db: str, dbid: int) -> None:
        self.simctl("create", "--name", db, "--dbid", str(dbid), "--oradata", str(self.w / "oradata"),
                    "--fra", str(self.w / "fra"))
        self.dbs[db] = dbid

    def cycles(self, n: int = 3, workload: tuple[str, ...] = ("-n", "8", "--advance", "1")) -> None:
        for _ in range(n):
            for db in self.dbs:
                self.simctl("workload", "--sid", db, *workload)
                self.ok(self.backup("imagecopywithsnap", db=db))
            time.sleep(1.1)

    def autorestore(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return self.script("autorestore.py", str(self.cfg), *args, **env)

    def snapshots(self, db: str) -> list[Path]:
        return sorted(p for p in (self.w / "snapshots" / db).iterdir() if not p.name.startswith("."))

    def catalog(self) -> list[sqlite3.Row]:
        con = sqlite3.connect(self.w / "autorestore" / "log" / "autorestore.db")
        con.row_factory = sqlite3.Row
        return list(con.execute("select * from restoreaction order by start_time"))

    @staticmethod
    def lasttime(snap: Path) -> str:
        """The recovery target time a snapshot's autorestore.cfg names."""
        return next(line.split(": ", 1)[1] for line in (snap / "autorestore.cfg").read_text().splitlines()
                    if line.startswith("lasttime"))

    def assert_clean(self) -> None:
        clones = [p for p in (self.w / "clones").iterdir() if not p.name.startswith(".")]
        assert clones == [], "a clone was left behind"
        for sid_file in (self.state / "instances").glob("ar*.json"):
            assert json.loads(sid_file.read_text())["status"] == "idle", f"instance {sid_file.stem} still up"


@pytest.fixture
def site(sandbox, request):
    name = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:50]
    return Site(sandbox, f"{name}-{len(list(sandbox.base.iterdir()))}")


def configured(site: Site, dbs=(("orcl", 1433672784),), **config) -> Site:
    for db, dbid in dbs:
        site.add_db(db, dbid)
    site.write_config(**config)
    for db, _ in dbs:
        site.ok(site.backup("config", db=db))
    site.cycles(3)
    return site


def test_nightly_restore_is_byte_for_byte_production_at_lasttime(site):
    configured(site)
    snap = site.snapshots("orcl")[-1]
    lasttime = [line.split(": ", 1)[1] for line in (snap / "autorestore.cfg").read_text().splitlines()
                if line.startswith("lasttime")][0]
    # an old diagnostic file (logretention is 20 days): the run purges it with adrci
    old_trace = site.w / "autorestore" / "log" / "diag" / "rdbms" / "orcl" / "autorest" / "trace" / "old.trc"
    old_trace.parent.mkdir(parents=True)
    old_trace.write_text("old")
    month_ago = time.time() - 30 * 86400
    os.utime(old_trace, (month_ago, month_ago))
    site.box.give(site.w / "autorestore" / "log")
    result = site.autorestore(ORASIM_RECORD_OPEN="1")
    out = site.ok(result)
    assert "Exitstatus is 0" in out
    site.assert_clean()
    assert not old_trace.exists()
    assert (site.w / "autorestore" / "log" / "diag" / "rdbms" / "orcl" / "ar" / "trace" / "alert_ar.log").exists()
    # what the restored instance held when it opened read only
    assert len((site.state / "opened" / "ar.jsonl").read_text().splitlines()) == 1
    site.assert_opened_at(lasttime, dbid=1433672784)
    rows = site.catalog()
    assert len(rows) == 1 and rows[0]["success"] == 1
    assert rows[0]["snapid"] == snap.name
    assert abs(rows[0]["verificationtimediffseconds"]) <= 300
    log = rows[0]["logfilecontents"]
    assert "VERIFY: Time difference" in log and "Restore successful" in log and "media recovery complete" in log
    assert (site.w / "autorestore" / "log" / rows[0]["logfile"]).read_text().startswith(log[:200])
    prom = (site.w / "autorestore" / "oib.prom").read_text()
    assert 'oib_autorestore_last_run_success{database="orcl"} 1' in prom


def _fault(site: Site, fault: str) -> None:
    snap = site.snapshots("orcl")[-1]
    if fault == "corrupt_block":
        copy = next(p for p in snap.iterdir() if "_TS-USERS_" in p.name)
        header = Datafile(copy).header
        # a block recovery will not rewrite (a rewrite would heal it, as real redo would)
        touched = {rec["b"] for rec in read_history(site.state, 1433672784)
                   if rec.get("f") == header["file"] and "b" in rec and rec["scn"] > header["checkpoint_scn"]}
        block = next(b for b in range(header["blocks"] - 1, 0, -1) if b not in touched)
        site.simctl("corrupt-block", "--sid", "orcl", "--file", str(header["file"]), "--block", str(block),
                    "--path", str(copy))
    elif fault == "missing_archivelog":
        # the first archivelog recovery of this snapshot's copies needs
        start = min(Datafile(p).header["checkpoint_scn"] for p in snap.glob("data_D-*"))
        needed = [p for p in (snap / "archivelog").iterdir()
                  if redo.read_archivelog_header(p)["first_change"] <= start + 1
                  < redo.read_archivelog_header(p)["next_change"]]
        assert len(needed) == 1
        needed[0].unlink()
    elif fault == "tolerance":
        site.write_config(modulus=1, verify={"orcl": "select to_date('2001-01-01 00:00:00', "
                                                     "'yyyy-mm-dd hh24:mi:ss') from dual"})


@pytest.mark.parametrize("fault, message, step", [
    ("corrupt_block", "corrupt block", "validate"),
    ("missing_archivelog", "RMAN-06054", "recover"),
    ("tolerance", "more than 5 minutes", "verify"),
])
def test_a_failed_restore_is_recorded_cleaned_up_and_the_next_database_restored(site, fault, message, step):
    configured(site, dbs=(("orcl", 1433672784), ("prod2", 2000000002)), modulus=1)
    _fault(site, fault)
    result = site.autorestore()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Exitstatus is 1" in result.stdout
    site.assert_clean()
    rows = {r["db_unique_name"]: r for r in site.catalog()}
    assert rows["orcl"]["success"] == 0 and message in rows["orcl"]["logfilecontents"]
    assert rows["orcl"]["failed_step"] == step and f"Restore failed at step {step}: " in rows["orcl"]["logfilecontents"]
    assert rows["prod2"]["success"] == 1 and rows["prod2"]["validated_corruption"] == 1
    assert rows["prod2"]["failed_step"] is None


def _wait_for(path_glob: Path, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in path_glob.parent.glob(path_glob.name):
            if text in p.read_text(errors="replace"):
                return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in {path_glob}")


@pytest.mark.parametrize("victim", ["autorestore", "rman"])
def test_sigterm_mid_recover(site, victim):
    """SIGTERM to autorestore.py: clean-up, a failure recorded, the run stops (a service stop).
    SIGTERM to RMAN: that database fails and is cleaned up, the next one is still restored."""
    configured(site, dbs=(("orcl", 1433672784), ("prod2", 2000000002)))
    proc = subprocess.Popen(site.box.argv(site.box.python, site.box.script("autorestore.py"), str(site.cfg)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=site.env(ORASIM_DELAY="2"))
    _wait_for(site.w / "autorestore" / "log" / "*-orcl.log", "ACTION: switch and recover")
    time.sleep(0.5)
    # to the script itself, not to runuser (which would SIGKILL it two seconds later)
    # this test's RMAN only: other test files run at the same time, each with its own Oracle home
    pattern = (f"^{re.escape(site.box.python)} {re.escape(str(site.box.script('autorestore.py')))} "
               f"{re.escape(str(site.cfg))}"
               if victim == "autorestore" else f"{re.escape(str(site.w / 'oh'))}/bin/rman log")
    subprocess.run(["pkill", "-TERM", "-f", pattern], check=True)     # exit 1: nothing matched
    out, _ = proc.communicate(timeout=300)
    # autorestore.py stopped: 143 as any script stopped by SIGTERM; RMAN stopped: one restore failed
    assert proc.returncode == (143 if victim == "autorestore" else 1), out
    site.assert_clean()
    rows = {r["db_unique_name"]: r for r in site.catalog()}
    assert rows["orcl"]["success"] == 0
    if victim == "autorestore":
        assert list(rows) == ["orcl"]
        assert "received signal SIGTERM" in rows["orcl"]["logfilecontents"]
    else:
        assert rows["prod2"]["success"] == 1


def test_parallel_restores_of_two_databases(site):
    configured(site, dbs=(("orcl", 1433672784), ("prod2", 2000000002)), parallel=2)
    out = site.ok(site.autorestore())
    assert "Exitstatus is 0" in out
    site.assert_clean()
    rows = site.catalog()
    assert sorted((r["db_unique_name"], r["success"]) for r in rows) == [("orcl", 1), ("prod2", 1)]
    # They overlapped in time: the catalog keeps whole seconds, so read the session logs'
    # millisecond timestamps (first line: start; the "Restore successful" line: finish).
    spans = [restore_span(site.w / "autorestore" / "log" / r["logfile"]) for r in rows]
    (a_start, a_end), (b_start, b_end) = spans
    assert a_start < b_end and b_start < a_end, f"restores did not overlap: {spans}"


def restore_span(logfile: Path) -> tuple[datetime, datetime]:
    """When a restore's session log says it started and finished, to the millisecond."""
    def stamp(line: str) -> datetime:
        return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
    lines = logfile.read_text().splitlines()
    finished = [line for line in lines if "Restore successful, elapsed time" in line]
    assert finished, f"{logfile.name} has no success line"
    return stamp(lines[0]), stamp(finished[-1])


def test_refuses_root_and_needs_the_sandbox_interlock(site, sandbox):
    site.write_config()
    result = sandbox.py(sandbox.script("autorestore.py"), str(site.cfg),
                        env=sandbox.env(AUTORESTORE_SAFE_SANDBOX="yes"))
    assert result.returncode == 3
    assert "AUTORESTORE_SAFE_SANDBOX" in result.stdout
    if os.geteuid() == 0:
        as_root = subprocess.run([sandbox.python, sandbox.script("autorestore.py"), str(site.cfg)],
                                 capture_output=True, text=True, env=sandbox.env())
        assert as_root.returncode == 2
        assert "root" in as_root.stderr
        for script in ("restore.py",):
            r = subprocess.run([sandbox.python, sandbox.script(script), str(site.cfg), "orcl"],
                               capture_output=True, text=True, env=sandbox.env())
            assert r.returncode == 2 and "root" in r.stderr


def test_listvalidationdates_is_stable_across_hash_seeds(site):
    site.add_db("orcl", 1433672784)
    site.add_db("prod2", 2000000002)
    site.write_config(modulus=7)
    outs = {site.ok(site.autorestore("--listvalidationdates", PYTHONHASHSEED=seed)) for seed in ("1", "2", "3")}
    assert len(outs) == 1
    lines = outs.pop().splitlines()
    assert [line.split(":")[0] for line in lines] == ["orcl", "prod2"]
    assert all("(in " in line for line in lines)


class Pty:
    """Just enough of expect: a program on a pseudo-terminal, read until a prompt."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        import pty
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not seen; got:\n{self.seen}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096).decode(errors="replace")
                except OSError:
                    chunk = ""
                if not chunk:
                    assert text in self.seen, f"{text!r} not seen before the end; got:\n{self.seen}"
                self.seen += chunk
        before, _, after = self.seen.partition(text)
        self.seen = after
        return before

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self, timeout: float = 300) -> tuple[int, str]:
        rest = ""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None or select.select([self.master], [], [], 0)[0]:
            assert time.monotonic() < deadline
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(self.master, 4096).decode(errors="replace")
                except OSError:
                    break
                if not chunk:
                    break
                rest += chunk
        return self.proc.wait(), self.seen + rest


def test_restore_py_interactive_point_in_time_between_snapshots(site):
    site.add_db("orcl", 1433672784)
    site.write_config()
    site.ok(site.backup("config"))
    # Real time, not the simulated clock's offset: snapshot times and database times must agree here.
    site.cycles(2, workload=("-n", "3"))
    site.simctl("workload", "--sid", "orcl", "-n", "8", "--sleep", "1.02")
    db_rows = _rows(site)
    target = clock.parse(db_rows[-4][1]) + 1           # between two transactions of the last workload
    target_text = clock.fmt(target)
    time.sleep(1.1)
    site.ok(site.backup("imagecopywithsnap"))
    mountdir = site.w / "autorestore" / "mnt"
    term = Pty(site.box.argv(site.box.python, site.box.script("restore.py"), str(site.cfg), "orcl"),
               site.env())
    term.expect("(y/n)")
    term.send("maybe")
    term.expect("Please answer y or n.")
    term.expect("(y/n)")
    term.send("y")
    term.expect("Target time")
    term.send("yesterday")
    term.expect("The time must look like")
    term.expect("Target time")
    term.send(target_text)
    term.expect("UTC? (y/n)")
    term.send("n")
    term.expect("SID")
    term.send("much_too_long_sid")
    term.expect("At most 8 letters")
    term.expect("SID")
    term.send("pitr1")
    term.expect("Continue? (y/n)")
    term.send("y")
    code, out = term.finish()
    assert code == 0, out
    assert mountdir.exists()
    verified = [line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Verified time:")][0]
    assert clock.parse(verified) <= target
    assert target - clock.parse(verified) <= 1.5          # within one workload interval (1 s per transaction)
    assert verified == db_rows[-4][1]
    inst = Instance(site.state, "pitr1")
    assert inst.status == "open" and inst.open_mode == "READ ONLY"
    # the printed clean-up commands work
    commands = [line.strip() for line in out.splitlines()[out.splitlines().index("When you are done with it, "
                                                                                  "clean up:") + 1:]
                if line.strip()]
    shutdown, drop = commands[0], commands[-1]
    assert shutdown == "echo 'shutdown abort' | ORACLE_SID=pitr1 sqlplus -S / as sysdba"
    oh = site.w / "oh"
    site.ok(site.box.run("bash", "-c", shutdown,
                         env=site.env(ORACLE_HOME=str(oh), PATH=f"{oh}/bin:{os.environ['PATH']}")))
    assert Instance(site.state, "pitr1").status == "idle"
    # the configuration file and zsnapper.py by their full paths: runnable from any directory
    assert drop.startswith(f"BACKUPCONFIG={site.cfg} ") and " zsnapper.py orcl dropclone restore_orcl_" not in drop
    assert f"{site.box.script('zsnapper.py')} orcl dropclone restore_orcl_" in drop
    site.ok(site.box.run("bash", "-c", drop, env=site.box.env()))
    site.assert_clean()


def _rows(site: Site) -> list[list]:
    from oracle_sim.database import Database
    return Database(Instance(site.state, "orcl")).table_rows("APP.TRANSACTIONS")


def test_restore_py_says_when_no_snapshot_covers_the_target(site):
    site.add_db("orcl", 1433672784)
    site.write_config()
    site.ok(site.backup("config"))
    site.cycles(1)
    future = clock.fmt(time.time() + 86400)
    result = site.box.py(site.box.script("restore.py"), str(site.cfg), "orcl", "--target", future, "--sid", "x1",
                         "--yes", env=site.env())
    assert result.returncode == 1
    assert "zsnapper.py orcl create" in result.stdout


def test_report_after_backups_a_schedule_and_a_restore(site):
    configured(site)
    site.ok(site.box.py(site.box.script("backup.py"), "orcl", "setschedule", env=site.env(OSPASSWORD="pw-Secret1")))
    site.ok(site.autorestore())
    out = site.ok(site.script("report.py"))
    lines = out.splitlines()
    assert lines[0] == "orcl:"
    assert lines[1].startswith("  Backup job: SCHEDULED") and "last failure: none" in lines[1]
    assert lines[2].startswith("  Archivelog job: SCHEDULED")
    assert lines[3].startswith("  Snapshots: 3, latest: ")
    assert lines[4] == ("  Archivelog continuity: OK: archivelogs complete from the copies to the target in 3 of 3 "
                        "snapshots")
    assert "Last successful restore: 20" in lines[5] and "avg difference from target (s):" in lines[5]
    data = json.loads(site.ok(site.script("report.py", "orcl", "--json")))
    assert data


def test_a_clone_left_by_an_earlier_run_is_dropped_first(site):
    """An earlier night's drop failed (or its clone call timed out but was done): tonight must not fail
    at "already exists", nor any night after."""
    configured(site)
    snap = site.snapshots("orcl")[0].name
    code = (f"import sys\nsys.path.insert(0, {str(site.box.app)!r})\n"
            "from imagecopy.config import Configuration\nfrom storage import create_snapper\n"
            "create_snapper(Configuration(sys.argv[1], 'orcl'), 'orcl').clone(sys.argv[2], 'autorestore')\n")
    site.ok(site.box.py("-c", code, str(site.cfg), snap, env=site.env()))
    out = site.ok(site.autorestore())
    assert "Clone autorestore is left from an earlier run: dropping it before this restore" in out
    site.assert_clean()
    assert [r["success"] for r in site.catalog()] == [1]
