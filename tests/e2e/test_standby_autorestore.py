"""The nightly restore test of a physical standby's snapshot (run as the sandbox's unprivileged user).

The snapshot holds image copies taken on the standby, the standby's controlfile
backup and the archivelogs the standby received; restored, the database must be
the primary's exactly as of the recorded target, block for block.
"""
from __future__ import annotations

import time

import pytest

from . import siteconfig, test_autorestore

pytestmark = pytest.mark.slow

sandbox = test_autorestore.sandbox
site = test_autorestore.site

DBID = 1433672784


def test_nightly_restore_of_a_standby_snapshot(site):
    w = site.w
    site.simctl("create", "--name", "orcl", "--dbid", str(DBID), "--oradata", str(w / "oradata"),
                "--fra", str(w / "fra"))
    site.simctl("create-standby", "--primary", "orcl", "--name", "orclsb", "--oradata", str(w / "sboradata"),
                "--fra", str(w / "sbfra"))
    site.dbs["orclsb"] = DBID
    site.cfg.write_text(siteconfig.render(
        w, w / "oh", site.dbs, autorestore={"autorestoremodulus": 0, "autorestoresid": "ar"},
        database={"orclsb": {"primarytns": "orcl"}}))
    site.box.give(site.cfg)
    site.ok(site.backup("config", db="orclsb"))
    for _ in range(3):
        site.simctl("workload", "--sid", "orcl", "-n", "8", "--advance", "1")
        site.ok(site.backup("imagecopywithsnap", db="orclsb"))          # backup invariants asserted by the harness
        time.sleep(1.1)
    snap = site.snapshots("orclsb")[-1]
    lasttime = site.lasttime(snap)
    out = site.ok(site.autorestore(ORASIM_RECORD_OPEN="1"))
    assert "Exitstatus is 0" in out
    site.assert_clean()
    rows = site.catalog()
    assert len(rows) == 1 and rows[0]["success"] == 1 and rows[0]["snapid"] == snap.name
    site.assert_opened_at(lasttime, dbid=DBID)
