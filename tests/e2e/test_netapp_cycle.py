"""The whole cycle on the NetApp ONTAP driver, against the HTTPS ONTAP test server.

The scripts run as the unprivileged test user and reach the server over HTTPS
(trusting it through ``cacert``), with the old toolset's ``netappcredentials.cfg``
beside them.  The server keeps its volumes as directories on the btrfs image, so
snapshots and FlexClones hold the real files: the nightly restore test mounts its
clone through a ``user`` line of an fstab (see appliance_site.py) and opens
exactly production as of the snapshot's target.  Faults are armed on the server
at each of its calls of a daily backup and of a nightly restore test.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from apiservers.tls import session_pki
from drivers.backend_netapp import PASSWORD, USER, netapp_section, start_server
from drivers.facilities import need

from . import appliance_checks as checks
from .appliance_site import Appliance, ApplianceSite, sandbox_fixture, site_fixture

pytestmark = pytest.mark.slow

CREDENTIALS = "[netappcredentials]\nuser: {user}\npassword: {password}\n"

OLD_STYLE_CONFIG = """[generic]
logretention: 20
backupdest: {backupdest}
warningsnapage: 26
criticalsnapage: 32
tnsadmin: {w}/tns
osuser: oracle
oraclehome: {w}/oh
maxlockwait: 30
snappermodule: netapp
snapperclass: Netapp

[netapp]
filer: 127.0.0.1:{port}
mounthost: 127.0.0.1
volumeprefix: oib_
cacert: ontap-ca.pem

[rman]
catalog: /@rman

[autorestore]
autorestoredestination: {w}/autorestore/dest
autorestoreclonename: autorestore
autorestoremountpoint: {w}/autorestore/mnt
autorestoresnapage: 0
autorestorelogdir: {w}/autorestore/log
autorestoremaxtoleranceminutes: 5
autorestorevalidatechance: 0
autorestoremodulus: 0
autorestoresid: ar

[orcl]
dbid: 1433672784
recoverywindow: 2
parallel: 2
snapexpirationdays: 7
snapexpirationmonths: 0
gimanaged: false
customverifydate: select max(createtime) from app.transactions
"""


def _write_credentials(path: Path) -> None:
    path.write_text(CREDENTIALS.format(user=USER, password=PASSWORD))
    path.chmod(0o600)


sandbox = sandbox_fixture("netappcredentials.cfg", _write_credentials)


def netapp(site: ApplianceSite) -> Appliance:
    """The ONTAP test server: volumes mounted at /backup/<db>, seen here in ``<ns>/backup`` (backupdest);
    clones at /<clone>, seen in ``<ns>/<clone>``; the driver trusts it through a copy of the test CA."""
    top = Path(need("BTRFS")["OIB_BTRFS_MOUNT"]) / f"ontap-{site.w.name[-40:]}"
    top.mkdir()
    top.chmod(0o755)
    server = start_server(top)
    section = netapp_section(server)
    section["cacert"] = str(site.ca_file())
    return Appliance(server, {"netapp": section},
                     {"snappermodule": "netapp", "snapperclass": "Netapp", "backupdest": top / "ns" / "backup"},
                     clone_dir=lambda name: top / "ns" / name, snapshot_root=server.snapshot_dir("oib_orcl"),
                     cleanups=[lambda: shutil.rmtree(top, ignore_errors=True), server.stop])


site = site_fixture("netapp", netapp)


def test_the_whole_cycle_with_every_zsnapper_action(site: ApplianceSite):
    snaps, listing = checks.daily_cycle(site, "/backup/orcl")
    assert all(s["space_total"] > 0 and s["id"].startswith("orcl_") for s in snaps) and "unknown" not in listing
    created = site.ok(site.zsnapper("create"))
    assert created.startswith("Snapshot created: orcl_")
    site.ok(site.zsnapper("clean"))                     # nothing expired: all four stay

    # zsnapper clone: the FlexClone's junction and the NFS mount command
    checks.clone_actions(site, snaps[0]["id"], "/{name}", newest=created.split()[-1], own="oib_orcl")
    # pins live in the snapshot's comment on the filer
    site.ok(site.zsnapper("pin", snaps[0]["id"], "--reason", "audit 2026", "--until", "2099-06-30"))
    assert "[pinned until 2099-06-30: audit 2026]" in site.ok(site.zsnapper("list"))
    site.ok(site.zsnapper("unpin", snaps[0]["id"]))
    assert site.zsnapper("unpin", snaps[0]["id"]).returncode == 1
    assert site.zsnapper("checkverified").returncode == 2

    site.ok(site.zsnapper("clean"))
    site.daily_backups(1)                   # the newest snapshot is a backup's (zsnapper create's has no target)
    checks.restore_test_opens(site, site.lasttime(site.snapshots()[-1]["id"]))
    assert not site.appliance.clone_dir("autorestore").exists(), "the clone's junction is gone"
    assert site.ok(site.zsnapper("checkverified")).startswith("OK")


def test_a_failed_restore_test_drops_its_clone(site: ApplianceSite):
    checks.failed_restore_test_drops_its_clone(site)


def test_an_old_style_configuration_and_credentials_file_work_unchanged(site: ApplianceSite):
    """The old sample's [netapp] keys only (no svm), cacert a file name in certs/ beside the scripts,
    netappcredentials.cfg beside them; the volume exists already, as the old toolset's users' do."""
    certs = site.box.app / "certs"
    certs.mkdir(exist_ok=True)
    shutil.copy(site.ca_file(), certs / "ontap-ca.pem")
    (certs / "ontap-ca.pem").chmod(0o644)
    site.create_database()
    site.write_config()                                  # the full section, for zvolume.py create
    site.ok(site.script("zvolume.py", "orcl", "create"))
    site.give_area()
    backupdest = site.appliance.generic["backupdest"]
    site.write_config(OLD_STYLE_CONFIG.format(backupdest=backupdest, w=site.w, port=site.server.port))
    site.ok(site.backup("config"))
    site.daily_backups(2)
    assert [s["id"][:5] for s in site.snapshots()] == ["orcl_", "orcl_"]
    site.write_fstab()
    assert "Exitstatus is 0" in site.ok(site.autorestore_run())
    shutil.copy(session_pki().other_ca_file, certs / "ontap-ca.pem")      # a CA that did not sign the filer's
    checks.refused_without_a_trusted_ca(site)
    shutil.rmtree(certs)


# Another database's volume with a clone, which no fault may touch.
OTHER = checks.OtherDatabase("storage.netapp.Netapp", f"\n[netappcredentials]\nuser: {USER}\npassword: {PASSWORD}\n",
                             volumes=lambda server: (v.name for v in server.volumes.values()),
                             keep={"oib_orcl", "oib_other", "other_keep"})


def test_a_fault_at_each_call_of_a_daily_backup(site: ApplianceSite):
    checks.fault_at_each_call_of_a_daily_backup(site, "netapp", other=OTHER, made=[checks.post_to("/snapshots")])


def _dropping(calls: list[tuple]) -> range:
    """Dropping the clone: its look-up (is it a clone of orcl's?), the unmount and the delete."""
    unmount = next(i for i, (m, _) in enumerate(calls) if m == "PATCH")
    return range(max(i for i, c in enumerate(calls[:unmount]) if c == ("GET", "/api/storage/volumes")), len(calls))


def _pinning(calls: list[tuple]) -> range:
    """After the clone's delete: pinning the proven snapshot, whose failure is a warning of a good restore."""
    deleted = max(i for i, (m, _) in enumerate(calls) if m == "DELETE")
    pin = next(i for i, (_, path) in enumerate(calls) if i > deleted and not path.startswith("/api/cluster/jobs"))
    return range(pin, len(calls))


def test_a_fault_at_each_call_of_a_nightly_restore_test(site: ApplianceSite):
    checks.fault_at_each_call_of_a_nightly_restore_test(site, OTHER, dropping=_dropping, harmless=_pinning,
                                                        harmless_words=("Could not pin snapshot", "HTTP 500"))


def test_three_volumes_backup_restore_test_and_drop(site: ApplianceSite):
    """A database on three volumes: each backup snapshots all three under one name, the restore test
    clones all three under one mount (the namespace volume), finds autorestore.cfg one directory down,
    catalogues every volume, opens production as of the target, and the clone goes whole."""
    site.database["orcl"] = {"additionalvolumesuffixes": "_redo,_arch"}
    out = site.setup()
    assert out.strip() == "Backup volume for orcl created: 127.0.0.1:/backup/orcl"
    site.ok(site.backup("config"))
    site.daily_backups(1)
    # the DBA keeps older archivelogs on the archive volume: the restore must catalogue it too
    arch = site.area.parent / "orcl_arch" / "archivelog"
    arch.mkdir()
    moved = sorted((site.area / "archivelog").iterdir())[:1]
    for log in moved:
        shutil.move(str(log), arch / log.name)
    site.daily_backups(1)
    snaps = site.snapshots()
    server = site.server
    assert all(server.snapshot_names(v) == [s["id"] for s in snaps]            # type: ignore[attr-defined]
               for v in ("oib_orcl", "oib_orcl_redo", "oib_orcl_arch"))
    text = (site.appliance.snapshot_root / snaps[-1]["id"] / "autorestore.cfg").read_text()
    lasttime = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("lasttime")][0]
    checks.restore_test_opens(site, lasttime)
    log = sorted((site.w / "autorestore" / "log").glob("*-orcl.log"))[-1].read_text()
    for n in range(3):
        assert f"/autorestore{n}" in log, f"volume {n} of the clone was not catalogued"
    assert site.clones() == []
    assert not any(server.volume_named(f"autorestore{n}") for n in ("", 0, 1, 2))   # type: ignore[attr-defined]
    assert not site.appliance.clone_dir("autorestore").exists()
