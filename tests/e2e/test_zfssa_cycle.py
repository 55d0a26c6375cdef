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

from . import appliance_checks as checks
from .appliance_site import Appliance, ApplianceSite, sandbox_fixture, site_fixture

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


sandbox = sandbox_fixture("zfscredentials.cfg", write_credentials)


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


site = site_fixture("zfssa", zfssa)


def test_the_whole_cycle_with_every_zsnapper_action(site: ApplianceSite):
    snaps, listing = checks.daily_cycle(site, "/export/backup/orcl")
    assert all(s["space_total"] > 0 for s in snaps) and "unknown" not in listing

    # zsnapper clone: the appliance's export and the NFS mount command; autoclone: the restore
    # test's clone; dropclone refuses the database's own share
    checks.clone_actions(site, snaps[0]["id"], "/export/backup/{name}", newest=snaps[-1]["id"], own="orcl")
    # no pins on this appliance: said in one line, and checkverified finds none
    pin = site.zsnapper("pin", snaps[0]["id"], "--reason", "audit")
    assert pin.returncode == 1 and "cannot pin" in pin.stderr and "Traceback" not in pin.stderr
    assert site.zsnapper("unpin", snaps[0]["id"]).returncode == 1
    verified = site.zsnapper("checkverified")
    assert verified.returncode == 2 and verified.stdout.startswith("CRITICAL")

    checks.restore_test_opens(site, site.lasttime(snaps[-1]["id"]))
    assert not any(site.appliance.clone_dir("autorestore").parent.glob("autorestore")), "the clone's share is gone"
    assert site.ok(site.zsnapper("clean")).count(" valid") == 3


def test_a_failed_restore_test_drops_its_clone(site: ApplianceSite):
    checks.failed_restore_test_drops_its_clone(site)


def test_an_old_style_configuration_and_credentials_file_work_unchanged(site: ApplianceSite):
    """The old sample's keys only (no cacert: the appliance's CA is one the host trusts, here
    through REQUESTS_CA_BUNDLE as a system store would), per-database pool and project as the
    old sample overrides them, and zfscredentials.cfg beside the scripts."""
    server = site.server
    server.add_project("oldpool-0", "databases-11g-backup")        # type: ignore[attr-defined]
    backupdest = server.local("/export/databases-11g-backup")       # type: ignore[attr-defined]
    site.appliance.generic["backupdest"] = backupdest
    site.appliance.snapshot_root = server.snapshot_dir("oldpool-0", "databases-11g-backup", "orcl")  # type: ignore
    checks.old_style_site(site, OLD_STYLE_CONFIG.format(backupdest=backupdest, w=site.w, url=server.url, pool=POOL,
                                                        project=PROJECT)
                          + "zfssapool: oldpool-0\nzfssaproject: databases-11g-backup\n",
                          "/export/databases-11g-backup/orcl", backups=1)
    [snap] = site.snapshots()
    assert snap["id"].startswith("orcl-")
    creds = site.box.app / "zfscredentials.cfg"
    assert creds.read_text().startswith(f"[zfscredentials]\nzfsuser: {USER}\n")
    del site.extra_env["REQUESTS_CA_BUNDLE"]            # without a trusted CA: refused, naming cacert
    checks.refused_without_a_trusted_ca(site)


# Another database's share with a clone, which no fault may touch.
OTHER = checks.OtherDatabase("storage.zfssa.ZFSSA", f"\n[zfscredentials]\nzfsuser: {USER}\nzfspassword: {PASSWORD}\n",
                             volumes=lambda server: (s.name for s in server.shares.values()),
                             keep={"orcl", "other", "other_keep"})


def test_a_fault_at_each_call_of_a_daily_backup(site: ApplianceSite):
    checks.fault_at_each_call_of_a_daily_backup(
        site, "zfssa", "ERR_INTERNAL", other=OTHER,
        made=[("POST", "/api/storage/v1/pools/pool1/projects/backup/filesystems/orcl/snapshots")])


def test_a_fault_at_each_call_of_a_nightly_restore_test(site: ApplianceSite):
    # dropping the clone: its check (is it a clone of orcl's?) and the DELETE; each leaves the clone
    checks.fault_at_each_call_of_a_nightly_restore_test(
        site, OTHER, dropping=checks.where(lambda call: call[1].endswith("/filesystems/autorestore")),
        drop_keeps_clone=True,
        made=[("DELETE", "/api/storage/v1/pools/pool1/projects/backup/filesystems/autorestore")])


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
