"""The whole cycle on the Oracle ZFS Storage Appliance driver, against the HTTPS test appliance.

The scripts run as the unprivileged test user and reach the appliance over
HTTPS (trusting it through ``cacert``), with the old toolset's
``zfscredentials.cfg`` beside them.  The appliance keeps its shares as btrfs
subvolumes, so snapshots and clones hold the real files: the nightly restore
test mounts its clone through a ``user`` line of an fstab (see
appliance_site.py) and opens exactly production as of the snapshot's target.
Faults are armed on the appliance at each of its calls of a daily backup and
of a nightly restore test.
"""
from __future__ import annotations

import sqlite3
import subprocess
import time

import pytest
from drivers.backend_zfssa import (
    PASSWORD,
    POOL,
    PROJECT,
    USER,
    appliance_root,
    start_server,
    write_credentials,
    zfssa_section,
)

from .appliance_site import Appliance, ApplianceSite, build_http_sandbox
from .harness import assert_one_error_line

pytestmark = pytest.mark.slow

OLD_STYLE_CONFIG = """[generic]
logretention: 20
backupdest: {backupdest}
warningsnapage: 26
criticalsnapage: 32
tnsadmin: {w}/tns
osuser: oracle
oraclehome: {w}/oh
snappermodule: zfssa
snapperclass: ZFSSA

[zfssa]
url: {url}
pool: {pool}
project: {project}

[rman]
catalog: /@rman

[orcl]
dbid: 1433672784
recoverywindow: 2
parallel: 2
snapexpirationdays: 7
snapexpirationmonths: 0
gimanaged: false
"""


@pytest.fixture(scope="module")
def sandbox():
    box = build_http_sandbox()
    # The old toolset's credentials file, beside the scripts, private to the user that runs them.
    write_credentials(box.app / "zfscredentials.cfg")
    box.give(box.app / "zfscredentials.cfg")
    yield box
    subprocess.run(["rm", "-rf", str(box.base)], check=False)


def zfssa(site: ApplianceSite) -> Appliance:
    """The test appliance: project ``backup`` of ``pool1``, exported at /export/backup and seen
    here in its directory (backupdest); the driver trusts it through a copy of the test CA."""
    server = start_server(appliance_root())
    backupdest = server.local(server.projects[(POOL, PROJECT)])
    section = zfssa_section(server, None)
    section["cacert"] = str(site.ca_file())
    return Appliance(server, {"zfssa": section},
                     {"snappermodule": "zfssa", "snapperclass": "ZFSSA", "backupdest": backupdest},
                     clone_dir=lambda name: backupdest / name,
                     snapshot_root=server.snapshot_dir(POOL, PROJECT, "orcl"),
                     cleanups=[server.wipe, server.stop])


@pytest.fixture
def site(sandbox, request):
    s = ApplianceSite(sandbox, f"zfssa-{request.node.name[:40]}-{len(list(sandbox.base.iterdir()))}", zfssa)
    yield s
    s.close()


def test_the_whole_cycle_with_every_zsnapper_action(site: ApplianceSite):
    out = site.setup()
    assert out.strip() == "Backup volume for orcl created: 127.0.0.1:/export/backup/orcl"
    site.ok(site.backup("config"))
    site.daily_backups(3)
    snaps = site.snapshots()
    assert len(snaps) == 3 and all(s["numclones"] == 0 and s["space_total"] > 0 for s in snaps)
    assert [s["creation"] for s in snaps] == sorted(s["creation"] for s in snaps)
    assert [p.name for p in site.checker().snapshots()] == [s["id"] for s in snaps]
    listing = site.ok(site.zsnapper("list"))
    assert all(s["id"] in listing for s in snaps) and "unknown" not in listing
    assert site.ok(site.zsnapper("checkage")).startswith("OK: The latest snapshot age")
    assert site.ok(site.zsnapper("clean", "--dry-run")).count(" valid") == 3

    # zsnapper clone: the appliance's export and the NFS mount command
    out = site.ok(site.zsnapper("clone", snaps[0]["id"]))
    [clone] = site.clones()
    assert clone["origin"] == snaps[0]["id"]
    assert f"Mount point: /export/backup/{clone['clonename']}" in out
    assert f" 127.0.0.1:/export/backup/{clone['clonename']} <mount_directory_here>" in out
    assert site.ok(site.zsnapper("list", "--json")).count('"numclones": 1') == 1
    site.ok(site.zsnapper("dropclone", clone["clonename"]))
    # autoclone: the restore test's clone; dropclone refuses the database's own share
    site.ok(site.zsnapper("autoclone"))
    assert [(c["clonename"], c["origin"]) for c in site.clones()] == [("autorestore", snaps[-1]["id"])]
    site.ok(site.zsnapper("dropclone", "autorestore"))
    own = site.zsnapper("dropclone", "orcl")
    assert own.returncode == 1 and "not a clone of orcl" in own.stderr
    # no pins on this appliance: said in one line, and checkverified finds none
    pin = site.zsnapper("pin", snaps[0]["id"], "--reason", "audit")
    assert pin.returncode == 1 and "cannot pin" in pin.stderr and "Traceback" not in pin.stderr
    assert site.zsnapper("unpin", snaps[0]["id"]).returncode == 1
    verified = site.zsnapper("checkverified")
    assert verified.returncode == 2 and verified.stdout.startswith("CRITICAL")

    # the nightly restore test: clone, mounted through fstab, restored byte for byte, dropped
    lasttime = site.lasttime(snaps[-1]["id"])
    result = site.autorestore_run(ORASIM_RECORD_OPEN="1")
    out = site.ok(result)
    assert "Exitstatus is 0" in out
    assert site.clones() == [], "the restore test left its clone"
    site.assert_opened_at(lasttime)
    assert not any(site.appliance.clone_dir("autorestore").parent.glob("autorestore")), "the clone's share is gone"
    assert site.ok(site.zsnapper("clean")).count(" valid") == 3


def test_a_failed_restore_test_drops_its_clone(site: ApplianceSite):
    site.setup(verify="select to_date('2001-01-01 00:00:00', 'yyyy-mm-dd hh24:mi:ss') from dual")
    site.ok(site.backup("config"))
    site.daily_backups(2)
    result = site.autorestore_run()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Exitstatus is 1" in result.stdout
    assert site.clones() == [], "the failed restore test left its clone"
    assert [s["numclones"] for s in site.snapshots()] == [0, 0]
    con = sqlite3.connect(site.w / "autorestore" / "log" / "autorestore.db")
    [(success, log)] = list(con.execute("select success, logfilecontents from restoreaction"))
    assert success == 0 and "more than 5 minutes" in log, log


def test_an_old_style_configuration_and_credentials_file_work_unchanged(site: ApplianceSite):
    """The old sample's keys only (no cacert: the appliance's CA is one the host trusts, here
    through REQUESTS_CA_BUNDLE as a system store would), per-database pool and project as the
    old sample overrides them, and zfscredentials.cfg beside the scripts."""
    server = site.server
    server.add_project("oldpool-0", "databases-11g-backup")        # type: ignore[attr-defined]
    backupdest = server.local("/export/databases-11g-backup")       # type: ignore[attr-defined]
    site.appliance.generic["backupdest"] = backupdest
    site.appliance.snapshot_root = server.snapshot_dir("oldpool-0", "databases-11g-backup", "orcl")  # type: ignore
    site.create_database()
    site.write_config(OLD_STYLE_CONFIG.format(backupdest=backupdest, w=site.w, url=server.url, pool=POOL,
                                              project=PROJECT)
                      + "zfssapool: oldpool-0\nzfssaproject: databases-11g-backup\n")
    site.extra_env["REQUESTS_CA_BUNDLE"] = str(site.ca_file())
    out = site.ok(site.script("zvolume.py", "orcl", "create"))
    assert out.strip() == "Backup volume for orcl created: 127.0.0.1:/export/databases-11g-backup/orcl"
    site.give_area()
    site.ok(site.backup("config"))
    site.daily_backups(1)
    [snap] = site.snapshots()
    assert snap["id"].startswith("orcl-")
    creds = site.box.app / "zfscredentials.cfg"
    assert creds.read_text().startswith(f"[zfscredentials]\nzfsuser: {USER}\n")
    del site.extra_env["REQUESTS_CA_BUNDLE"]            # without a trusted CA: refused, naming cacert
    refused = site.zsnapper("list")
    assert refused.returncode == 1 and "cacert" in refused.stderr and "Traceback" not in refused.stderr


def _other_database_clone(site: ApplianceSite) -> None:
    """Another database's share with a clone, which no fault may touch."""
    from imagecopy.config import Configuration
    from storage.zfssa import ZFSSA
    cfg = site.w / "other.cfg"
    cfg.write_text(site.cfg.read_text() + f"[other]\ndbid: 1\n\n[zfscredentials]\nzfsuser: {USER}\n"
                   f"zfspassword: {PASSWORD}\n")
    other = ZFSSA(Configuration(cfg, "other", env={}), "other")
    other.createvolume()
    other.clone(other.snap(), "other_keep")


def _assert_kept(site: ApplianceSite, snapids: list[str]) -> None:
    names = {s.name for s in site.server.shares.values()}       # type: ignore[attr-defined]
    assert {"orcl", "other", "other_keep"} <= names
    assert set(snapids) <= {s["id"] for s in site.snapshots()}, "a fault cost a snapshot"


def test_a_fault_at_each_call_of_a_daily_backup(site: ApplianceSite):
    site.setup()
    site.ok(site.backup("config"))
    site.daily_backups(1)
    _other_database_clone(site)
    before = len(site.server.calls)
    site.daily_backups(1)
    calls = site.storage_calls()[before:]
    assert ("POST", "/api/storage/v1/pools/pool1/projects/backup/filesystems/orcl/snapshots") in calls
    for nth in range(1, len(calls) + 1):
        kept = [s["id"] for s in site.snapshots()]
        site.server.fail(nth=nth, status=500)
        result = site.script("backup.py", "orcl", "imagecopywithsnap")
        site.checker().forget()
        assert not site.server.faults, f"call {nth} of {calls} was not made"
        assert_one_error_line(result, "zfssa: ", calls[nth - 1][0], "HTTP 500", "ERR_INTERNAL")
        _assert_kept(site, kept)
        time.sleep(1.1)


def test_a_fault_at_each_call_of_a_nightly_restore_test(site: ApplianceSite):
    site.setup()
    site.ok(site.backup("config"))
    site.daily_backups(2)
    _other_database_clone(site)
    kept = [s["id"] for s in site.snapshots()]
    before = len(site.server.calls)
    site.ok(site.autorestore_run())
    calls = site.storage_calls()[before:]
    # dropping the clone: its check (is it a clone of orcl's?) and the DELETE
    drop = {i for i, (_, path) in enumerate(calls) if path.endswith("/filesystems/autorestore")}
    assert ("DELETE", "/api/storage/v1/pools/pool1/projects/backup/filesystems/autorestore") in calls
    for nth in range(1, len(calls) + 1):
        # The catalog keeps one row per database, start second and result: a second apart.
        time.sleep(1.1)
        site.server.fail(nth=nth, status=500)
        result = site.autorestore_run()
        assert not site.server.faults, f"call {nth} of {calls} was not made"
        assert result.returncode == 1 and "Exitstatus is 1" in result.stdout, result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        clones = [c["clonename"] for c in site.clones()]
        if nth - 1 in drop:         # the drop itself failed: the clone stays, and the run said so
            assert clones == ["autorestore"] and "HTTP 500" in result.stdout + result.stderr
            site.ok(site.zsnapper("dropclone", "autorestore"))
        else:
            assert clones == [], f"call {nth} ({calls[nth - 1]}): the restore test left its clone"
        _assert_kept(site, kept)
    rows = sqlite3.connect(site.w / "autorestore" / "log" / "autorestore.db").execute(
        "select success from restoreaction order by start_time").fetchall()
    assert [r[0] for r in rows] == [1] + [0] * len(calls)


def test_the_appliance_answers_busy_then_works(site: ApplianceSite):
    """503 is retried with backoff, within bounds: a short busy spell costs nothing."""
    site.setup()
    site.ok(site.backup("config"))
    for _ in range(2):
        site.server.fail(nth=1, status=503, method="POST")
    site.daily_backups(1)
    assert len(site.snapshots()) == 1
    posts = [c for c in site.storage_calls() if c[0] == "POST" and c[1].endswith("/orcl/snapshots")]
    assert len(posts) == 3, "the snapshot was asked for three times: two busy answers, then done"
