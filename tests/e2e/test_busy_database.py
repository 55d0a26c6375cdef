"""A busy database: transactions run during the whole daily job, and the restore is still exact.

A quiet test database hides a class of bugs: a recovery target read after
the log switch instead of before it lies beyond the snapshot's last
archivelog only when redo was generated in between.  Here a workload runs
in the background through three daily jobs (between the SCN query and the
log switch, during the snapshot, during the refresh), and the nightly
restore test must restore exactly production as of ``lasttime``.
"""
from __future__ import annotations

import subprocess
import time

import pytest
from oracle_sim import redo
from oracle_sim.database import read_history

from . import test_autorestore
from .test_autorestore import Site

pytestmark = pytest.mark.slow
DBID = 1433672784
# The nightly-restore fixtures: a sandbox user running the scripts, and a site in it.
sandbox = test_autorestore.sandbox
site = test_autorestore.site


def background_workload(site: Site, db: str) -> subprocess.Popen:
    """Transactions every 20 ms on the real clock until stopped."""
    argv = site.box.argv(site.box.python, "-m", "oracle_sim.cli", "--home", str(site.w / "oh"), "workload",
                         "--sid", db, "-n", "1000000", "--sleep", "0.02", "--blocks", "2")
    return subprocess.Popen(argv, env=site.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_busy_database_restores_exactly_to_lasttime(site):
    site.add_db("orcl", DBID)
    site.write_config()
    site.ok(site.backup("config"))
    worker = background_workload(site, "orcl")
    try:
        for _ in range(3):
            site.ok(site.backup("imagecopywithsnap"))      # the backup invariants are asserted after each
            time.sleep(1.1)
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=60)
    assert worker.returncode in (0, -15), err
    snaps = site.snapshots("orcl")
    # Redo was generated between a snapshot's SCN query and its log switch: the snapshot's newest
    # archivelog holds changes past its recovery target.  (On a loaded machine one switch may find the
    # workload between transactions; the scenario must have happened at least once.)
    busy_at_switch = []
    for snap in snaps[1:]:
        target = int(next(line.split(": ", 1)[1] for line in (snap / "autorestore.cfg").read_text().splitlines()
                          if line.startswith("lastscn")))
        newest = max((snap / "archivelog").iterdir(), key=lambda p: redo.read_archivelog_header(p)["next_change"])
        busy_at_switch.append(any(r["scn"] > target for r in redo.read_archivelog(newest)[1]))
    assert any(busy_at_switch), "no redo between the SCN query and the log switch in any snapshot"
    # ... and during the refresh that followed (changes newer than the log switch, before the next snapshot).
    history = read_history(site.state, DBID)
    assert len({r["scn"] for r in history}) > 50, "the workload hardly ran"
    lasttime = site.lasttime(snaps[-1])
    out = site.ok(site.autorestore(ORASIM_RECORD_OPEN="1"))
    assert "Exitstatus is 0" in out
    site.assert_clean()
    site.assert_opened_at(lasttime, dbid=DBID)
