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
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from apiservers.tls import session_pki
from drivers.backend_netapp import PASSWORD, USER, netapp_section, start_server
from drivers.facilities import need

from .appliance_site import Appliance, ApplianceSite, build_http_sandbox
from .harness import assert_one_error_line

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


@pytest.fixture(scope="module")
def sandbox():
    box = build_http_sandbox()
    # The old toolset's credentials file, beside the scripts, private to the user that runs them.
    creds = box.app / "netappcredentials.cfg"
    creds.write_text(CREDENTIALS.format(user=USER, password=PASSWORD))
    creds.chmod(0o600)
    box.give(creds)
    yield box
    subprocess.run(["rm", "-rf", str(box.base)], check=False)


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


@pytest.fixture
def site(sandbox, request):
    s = ApplianceSite(sandbox, f"netapp-{request.node.name[:40]}-{len(list(sandbox.base.iterdir()))}", netapp)
    yield s
    s.close()


def test_the_whole_cycle_with_every_zsnapper_action(site: ApplianceSite):
    out = site.setup()
    assert out.strip() == "Backup volume for orcl created: 127.0.0.1:/backup/orcl"
    site.ok(site.backup("config"))
    site.daily_backups(3)
    snaps = site.snapshots()
    assert len(snaps) == 3 and all(s["numclones"] == 0 and s["space_total"] > 0 for s in snaps)
    assert all(s["id"].startswith("orcl_") for s in snaps)
    assert [p.name for p in site.checker().snapshots()] == [s["id"] for s in snaps]
    listing = site.ok(site.zsnapper("list"))
    assert all(s["id"] in listing for s in snaps) and "unknown" not in listing
    assert site.ok(site.zsnapper("checkage")).startswith("OK: The latest snapshot age")
    assert site.ok(site.zsnapper("clean", "--dry-run")).count(" valid") == 3
    created = site.ok(site.zsnapper("create"))
    assert created.startswith("Snapshot created: orcl_")
    site.ok(site.zsnapper("clean"))                     # nothing expired: all four stay

    # zsnapper clone: the FlexClone's junction and the NFS mount command
    out = site.ok(site.zsnapper("clone", snaps[0]["id"]))
    [clone] = site.clones()
    assert clone["origin"] == snaps[0]["id"]
    assert f"Mount point: /{clone['clonename']}" in out
    assert f" 127.0.0.1:/{clone['clonename']} <mount_directory_here>" in out
    assert site.ok(site.zsnapper("list", "--json")).count('"numclones": 1') == 1
    site.ok(site.zsnapper("dropclone", clone["clonename"]))
    site.ok(site.zsnapper("autoclone"))
    assert [(c["clonename"], c["origin"]) for c in site.clones()] == [("autorestore", created.split()[-1])]
    site.ok(site.zsnapper("dropclone", "autorestore"))
    own = site.zsnapper("dropclone", "oib_orcl")
    assert own.returncode == 1 and "not a clone of orcl" in own.stderr
    # pins live in the snapshot's comment on the filer
    site.ok(site.zsnapper("pin", snaps[0]["id"], "--reason", "audit 2026", "--until", "2099-06-30"))
    assert "[pinned until 2099-06-30: audit 2026]" in site.ok(site.zsnapper("list"))
    site.ok(site.zsnapper("unpin", snaps[0]["id"]))
    assert site.zsnapper("unpin", snaps[0]["id"]).returncode == 1
    assert site.zsnapper("checkverified").returncode == 2

    # the nightly restore test: clone, mounted through fstab, restored byte for byte, dropped
    site.ok(site.zsnapper("clean"))
    site.daily_backups(1)                   # the newest snapshot is a backup's (zsnapper create's has no target)
    lasttime = site.lasttime(site.snapshots()[-1]["id"])
    out = site.ok(site.autorestore_run(ORASIM_RECORD_OPEN="1"))
    assert "Exitstatus is 0" in out
    assert site.clones() == [], "the restore test left its clone"
    site.assert_opened_at(lasttime)
    assert not site.appliance.clone_dir("autorestore").exists(), "the clone's junction is gone"
    assert site.ok(site.zsnapper("checkverified")).startswith("OK")


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
    refused = site.zsnapper("list")
    assert refused.returncode != 0 and "cacert" in refused.stderr and "Traceback" not in refused.stderr
    shutil.rmtree(certs)


def _other_database_clone(site: ApplianceSite) -> None:
    """Another database's volume with a clone, which no fault may touch."""
    from imagecopy.config import Configuration
    from storage.netapp import Netapp
    cfg = site.w / "other.cfg"
    cfg.write_text(site.cfg.read_text() + f"[other]\ndbid: 1\n\n[netappcredentials]\nuser: {USER}\n"
                   f"password: {PASSWORD}\n")
    other = Netapp(Configuration(cfg, "other", env={}), "other")
    other.createvolume()
    other.clone(other.snap(), "other_keep")


def _assert_kept(site: ApplianceSite, snapids: list[str]) -> None:
    names = {v.name for v in site.server.volumes.values()}       # type: ignore[attr-defined]
    assert {"oib_orcl", "oib_other", "other_keep"} <= names
    assert set(snapids) <= {s["id"] for s in site.snapshots()}, "a fault cost a snapshot"


def test_a_fault_at_each_call_of_a_daily_backup(site: ApplianceSite):
    site.setup()
    site.ok(site.backup("config"))
    site.daily_backups(1)
    _other_database_clone(site)
    before = len(site.server.calls)
    site.daily_backups(1)
    calls = site.storage_calls()[before:]
    assert any(m == "POST" and p.endswith("/snapshots") for m, p in calls)
    for nth in range(1, len(calls) + 1):
        kept = [s["id"] for s in site.snapshots()]
        site.server.fail(nth=nth, status=500)
        result = site.script("backup.py", "orcl", "imagecopywithsnap")
        site.checker().forget()
        assert not site.server.faults, f"call {nth} of {calls} was not made"
        assert_one_error_line(result, "netapp: ", calls[nth - 1][0], "HTTP 500")
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
    # dropping the clone: its look-up (is it a clone of orcl's?), the unmount and the delete
    unmount = next(i for i, (m, _) in enumerate(calls) if m == "PATCH")
    drop_from = max(i for i, c in enumerate(calls[:unmount]) if c == ("GET", "/api/storage/volumes"))
    # after the clone's delete: pinning the proven snapshot, whose failure is a warning of a good restore
    deleted = max(i for i, (m, _) in enumerate(calls) if m == "DELETE")
    pin_from = next(i for i, (_, path) in enumerate(calls) if i > deleted and not path.startswith("/api/cluster/jobs"))
    assert pin_from < len(calls)
    for nth in range(1, len(calls) + 1):
        # The catalog keeps one row per database, start second and result: a second apart.
        time.sleep(1.1)
        site.server.fail(nth=nth, status=500)
        result = site.autorestore_run()
        assert not site.server.faults, f"call {nth} of {calls} was not made"
        said = result.stdout + result.stderr
        assert "Traceback" not in said
        if nth - 1 >= pin_from:
            assert result.returncode == 0 and "Could not pin snapshot" in said and "HTTP 500" in said, said
            assert site.clones() == []
            continue
        assert result.returncode == 1 and "Exitstatus is 1" in result.stdout, said
        clones = [c["clonename"] for c in site.clones()]
        if nth - 1 >= drop_from and clones:      # the drop itself failed: the clone stays, and the run said so
            assert clones == ["autorestore"] and "HTTP 500" in said
            site.ok(site.zsnapper("dropclone", "autorestore"))
        else:
            assert clones == [], f"call {nth} ({calls[nth - 1]}): the restore test left its clone"
        _assert_kept(site, kept)
    rows = sqlite3.connect(site.w / "autorestore" / "log" / "autorestore.db").execute(
        "select success from restoreaction order by start_time").fetchall()
    assert [r[0] for r in rows] == [1] + [0] * pin_from + [1] * (len(calls) - pin_from)


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
    out = site.ok(site.autorestore_run(ORASIM_RECORD_OPEN="1"))
    assert "Exitstatus is 0" in out
    site.assert_opened_at(lasttime)
    log = sorted((site.w / "autorestore" / "log").glob("*-orcl.log"))[-1].read_text()
    for n in range(3):
        assert f"/autorestore{n}" in log, f"volume {n} of the clone was not catalogued"
    assert site.clones() == []
    assert not any(server.volume_named(f"autorestore{n}") for n in ("", 0, 1, 2))   # type: ignore[attr-defined]
    assert not site.appliance.clone_dir("autorestore").exists()
