"""A RAC database (two instances, two redo threads) through the whole toolset.

Thread numbers matter wherever archivelogs are named: both threads archive
the same sequence numbers, so a log must always be known by (thread,
sequence).  Here: missingarchlog finds a log missing from one thread only;
the daily job on a database busy on both instances (the backup invariants,
per thread, are asserted after each run); the nightly restore test on the
second thread (``autorestoreinstancenumber``/``autorestorethread``), block
for block; and restore.py to a point in time.
"""
from __future__ import annotations

import json
import time

import pytest
from oracle_sim import clock, redo
from oracle_sim.database import Database
from oracle_sim.instance import Instance

from . import siteconfig, test_autorestore
from .test_autorestore import Site

pytestmark = pytest.mark.slow
DBID = 1433672784
sandbox = test_autorestore.sandbox
site = test_autorestore.site


def rac_site(site: Site, **database: object) -> Site:
    site.simctl("create", "--name", "orcl", "--dbid", str(DBID), "--oradata", str(site.w / "oradata"),
                "--fra", str(site.w / "fra"), "--instances", "2")
    site.dbs["orcl"] = DBID
    site.cfg.write_text(siteconfig.render(
        site.w, site.w / "oh", site.dbs, autorestore={"autorestoresid": "ar"}, database={"orcl": database}))
    site.box.give(site.cfg)
    site.ok(site.backup("config"))
    return site


def busy_cycles(site: Site, n: int, advance: str = "1") -> None:
    """Daily jobs with transactions on both instances before each (``advance``: simulated s each)."""
    for _ in range(n):
        for sid in ("orcl1", "orcl2"):
            site.simctl("workload", "--sid", sid, "-n", "4", "--advance", advance)
        site.ok(site.backup("imagecopywithsnap"))
        time.sleep(1.1)


def backup_area_logs(site: Site) -> dict[tuple[int, int], object]:
    logs = {}
    for path in (site.w / "backup" / "orcl" / "archivelog").iterdir():
        header = redo.read_archivelog_header(path)
        logs[(header["thread"], header["sequence"])] = path
    return logs


def test_missingarchlog_tells_the_threads_apart(site):
    rac_site(site)
    busy_cycles(site, 1)
    logs = backup_area_logs(site)
    shared = sorted(seq for (thread, seq) in logs if thread == 1 and (2, seq) in logs)
    assert shared, f"no sequence archived by both threads: {sorted(logs)}"
    seq = shared[-1]
    logs[(2, seq)].unlink()                       # thread 2's copy is lost; thread 1's same sequence stays
    out = site.ok(site.backup("missingarchlog"))
    assert f"thread 2 sequence {seq}" in out
    assert (2, seq) in backup_area_logs(site)


def test_rac_daily_jobs_and_the_nightly_restore_on_thread_2(site):
    rac_site(site, autorestoreinstancenumber=2, autorestorethread=2)
    busy_cycles(site, 3)
    for snap in site.snapshots("orcl")[1:]:
        threads = {redo.read_archivelog_header(p)["thread"] for p in (snap / "archivelog").iterdir()}
        assert threads == {1, 2}, snap.name
    snap = site.snapshots("orcl")[-1]
    lasttime = site.lasttime(snap)
    out = site.ok(site.autorestore(ORASIM_RECORD_OPEN="1"))
    assert "Exitstatus is 0" in out
    site.assert_clean()
    restored = json.loads((site.state / "instances" / "ar.json").read_text())
    assert (restored["params"]["thread"], restored["params"]["instance_number"]) == ("2", "2")
    site.assert_opened_at(lasttime, dbid=DBID)


def test_restore_py_on_rac_to_a_point_in_time(site):
    rac_site(site)
    busy_cycles(site, 2, advance="0")              # real time, so snapshot and database clocks agree
    for sid in ("orcl2", "orcl1"):
        site.simctl("workload", "--sid", sid, "-n", "3", "--sleep", "1.02")
    rows = sorted(Database(Instance(site.state, "orcl1")).table_rows("APP.TRANSACTIONS"), key=lambda r: r[1])
    # the next whole second after thread 2's last transaction, before thread 1's first (1.02 s later)
    target = clock.parse(rows[-4][1]) + 1
    time.sleep(1.1)
    site.ok(site.backup("imagecopywithsnap"))
    result = site.box.py(site.box.script("restore.py"), str(site.cfg), "orcl", "--target", clock.fmt(target),
                         "--sid", "pitr2", "--yes", env=site.env())
    assert result.returncode == 0, result.stdout + result.stderr
    verified = next(line.split(":", 1)[1].strip() for line in result.stdout.splitlines()
                    if line.startswith("Verified time:"))
    assert verified == rows[-4][1]
