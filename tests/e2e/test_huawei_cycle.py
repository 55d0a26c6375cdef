"""The whole cycle on the Huawei OceanStor Dorado driver, against the HTTPS Dorado test server.

The scripts run as the unprivileged test user and reach the server over HTTPS
(trusting it through ``cacert``), with the old toolset's
``huaweidoradocredentials.cfg`` beside them.  The server keeps its file systems
as btrfs subvolumes, so snapshots and clones hold the real files: the nightly
restore test mounts its clone through a ``user`` line of an fstab (see
appliance_site.py) and opens exactly production as of the snapshot's target,
and restore.py restores to a point in time from a clone that root mounts where
it says (here, in the restore's own mount namespace), block for block.
"""
from __future__ import annotations

import re
import sqlite3
import subprocess
import time

import pytest
from drivers.backend_huawei import PASSWORD, USER, dorado_root, dorado_section, start_server, write_credentials
from oracle_sim import clock
from oracle_sim.database import Database
from oracle_sim.instance import Instance

from .appliance_site import Appliance, ApplianceSite, build_http_sandbox
from .test_autorestore import Pty

pytestmark = pytest.mark.slow

OLD_STYLE_CONFIG = """[generic]
logretention: 20
backupdest: {backupdest}
warningsnapage: 26
criticalsnapage: 32
tnsadmin: {w}/tns
osuser: oracle
oraclehome: {w}/oh
snappermodule: huawei
snapperclass: HuaweiDorado

[huaweidorado]
url: {url}
vstore: OIBVSTORE
mounthost: 127.0.0.1
restorenfsclient: *

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
    write_credentials(box.app / "huaweidoradocredentials.cfg")
    box.give(box.app / "huaweidoradocredentials.cfg")
    yield box
    subprocess.run(["rm", "-rf", str(box.base)], check=False)


def dorado(site: ApplianceSite) -> Appliance:
    """The Dorado test server: file system <name> shared as /<name>/, seen here in <root>/<name>
    (backupdest is the root); the driver trusts it through a copy of the test CA."""
    server = start_server(dorado_root())
    section = dorado_section(server, None)
    section["cacert"] = str(site.ca_file())
    return Appliance(server, {"huaweidorado": section},
                     {"snappermodule": "huawei", "snapperclass": "HuaweiDorado", "backupdest": server.root},
                     clone_dir=lambda name: server.root / name, snapshot_root=server.snapshot_dir("orcl"),
                     cleanups=[server.wipe, server.stop])


@pytest.fixture
def site(sandbox, request):
    s = ApplianceSite(sandbox, f"dorado-{request.node.name[:40]}-{len(list(sandbox.base.iterdir()))}", dorado)
    yield s
    s.close()


def test_the_whole_cycle_with_every_zsnapper_action(site: ApplianceSite):
    out = site.setup()
    assert out.strip() == "Backup volume for orcl created: 127.0.0.1:/orcl/"
    site.ok(site.backup("config"))
    site.daily_backups(3)
    snaps = site.snapshots()
    assert len(snaps) == 3 and all(s["numclones"] == 0 and s["space_total"] is None for s in snaps)
    assert [s["creation"] for s in snaps] == sorted(s["creation"] for s in snaps)
    assert [p.name for p in site.checker().snapshots()] == [s["id"] for s in snaps]
    listing = site.ok(site.zsnapper("list"))
    assert all(f"{s['id']} [" in listing for s in snaps) and "total=unknown unique=unknown" in listing
    assert site.ok(site.zsnapper("checkage")).startswith("OK: The latest snapshot age")
    assert site.ok(site.zsnapper("clean", "--dry-run")).count(" valid") == 3

    # zsnapper clone: the clone's share and the NFS mount command
    out = site.ok(site.zsnapper("clone", snaps[0]["id"]))
    [clone] = site.clones()
    assert clone["origin"] == snaps[0]["id"]
    assert f"Mount point: /{clone['clonename']}/" in out
    assert f" 127.0.0.1:/{clone['clonename']}/ <mount_directory_here>" in out
    assert site.ok(site.zsnapper("list", "--json")).count('"numclones": 1') == 1
    site.ok(site.zsnapper("dropclone", clone["clonename"]))
    site.ok(site.zsnapper("autoclone"))
    assert [(c["clonename"], c["origin"]) for c in site.clones()] == [("autorestore", snaps[-1]["id"])]
    site.ok(site.zsnapper("dropclone", "autorestore"))
    own = site.zsnapper("dropclone", "orcl")
    assert own.returncode == 1 and "not a clone of orcl" in own.stderr
    pin = site.zsnapper("pin", snaps[0]["id"], "--reason", "audit")
    assert pin.returncode == 1 and "cannot pin" in pin.stderr and "Traceback" not in pin.stderr
    assert site.zsnapper("checkverified").returncode == 2

    # the nightly restore test: clone, mounted through fstab, restored byte for byte, dropped
    lasttime = site.lasttime(snaps[-1]["id"])
    out = site.ok(site.autorestore_run(ORASIM_RECORD_OPEN="1"))
    assert "Exitstatus is 0" in out
    assert site.clones() == [], "the restore test left its clone"
    site.assert_opened_at(lasttime)
    assert not site.appliance.clone_dir("autorestore").exists(), "the clone's file system is gone"
    assert site.server.share_of("autorestore") is None           # type: ignore[attr-defined]
    assert site.ok(site.zsnapper("clean")).count(" valid") == 3


def test_a_token_expiring_in_the_middle_of_a_restore_test(site: ApplianceSite):
    """The token ends once the clone is shared: the array answers the next call -401, the driver logs
    in once more and the restore test goes on, restores, and drops its clone."""
    site.setup()
    site.ok(site.backup("config"))
    site.daily_backups(2)
    server = site.server
    lasttime = site.lasttime(site.snapshots()[-1]["id"])
    server.expire_after.append(("POST", "/NFS_SHARE_AUTH_CLIENT$"))    # type: ignore[attr-defined]
    server.calls.clear()
    out = site.ok(site.autorestore_run(ORASIM_RECORD_OPEN="1"))
    assert "Exitstatus is 0" in out
    site.assert_opened_at(lasttime)
    assert site.clones() == [] and server.fs_named("autorestore") is None      # type: ignore[attr-defined]
    paths = [p for _, p, _, _ in server.calls]
    shared = max(i for i, p in enumerate(paths) if p.endswith("/NFS_SHARE_AUTH_CLIENT"))
    dropped = max(i for i, p in enumerate(paths) if "/filesystem/" in p)
    assert any(p.endswith("/sessions") for p in paths[shared:dropped]), "no new login between clone and drop"
    assert server.expired_answers >= 1                                       # type: ignore[attr-defined]


def test_a_failed_restore_test_drops_its_clone_and_share(site: ApplianceSite):
    site.setup(verify="select to_date('2001-01-01 00:00:00', 'yyyy-mm-dd hh24:mi:ss') from dual")
    site.ok(site.backup("config"))
    site.daily_backups(2)
    result = site.autorestore_run()
    assert result.returncode == 1 and "Exitstatus is 1" in result.stdout, result.stdout + result.stderr
    assert site.clones() == [] and site.server.share_of("autorestore") is None   # type: ignore[attr-defined]
    con = sqlite3.connect(site.w / "autorestore" / "log" / "autorestore.db")
    [(success, log)] = list(con.execute("select success, logfilecontents from restoreaction"))
    assert success == 0 and "more than 5 minutes" in log, log


def _rows(site: ApplianceSite) -> list[list]:
    return Database(Instance(site.state, "orcl")).table_rows("APP.TRANSACTIONS")


def test_restore_py_to_a_point_in_time_on_dorado(site: ApplianceSite):
    """restore.py as the test user: it clones the snapshot covering the target, prints the NFS mount of
    the clone's share and waits; root mounts it (in the restore's own mount namespace); the database
    opens exactly production as of the target, block for block; the printed clean-up drops the clone."""
    site.setup()
    site.ok(site.backup("config"))
    site.daily_backups(1)
    site.simctl("workload", "--sid", "orcl", "-n", "8", "--sleep", "1.02")
    rows = _rows(site)
    target = clock.fmt(clock.parse(rows[-4][1]) + 1)          # between two transactions of the workload
    time.sleep(1.1)
    site.ok(site.backup("imagecopywithsnap"))
    mountdir = site.w / "autorestore" / "mnt"
    inner = site.box.argv(site.box.python, site.box.script("restore.py"), str(site.cfg), "orcl", "--target",
                          target, "--sid", "pitr1", "--mountdir", str(mountdir), "--yes")
    term = Pty(["unshare", "-m", "--propagation", "private", *inner], site.env(ORASIM_RECORD_OPEN="1"))
    before = term.expect("Is the clone mounted? (y/n)")
    [mount] = [line.split() for line in before.splitlines() if line.strip().startswith("mount -t nfs")]
    host, export = mount[-2].split(":", 1)
    clonename = export.strip("/")
    assert host == "127.0.0.1" and re.fullmatch(r"restore_orcl_\d{8}_\d{6}", clonename) and mount[-1] == str(mountdir)
    assert export == f"/{clonename}/" and site.server.share_of(clonename) is not None   # type: ignore[attr-defined]
    subprocess.run(["nsenter", "-t", str(term.proc.pid), "-m", "mount", "--bind",
                    str(site.appliance.clone_dir(clonename)), str(mountdir)], check=True)
    term.send("y")
    code, out = term.finish()
    assert code == 0, out
    verified = [line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Verified time:")]
    assert verified == [rows[-4][1]], out
    site.assert_opened_at(target, sid="pitr1")
    lines = out.splitlines()
    commands = [line.strip() for line in lines[lines.index("When you are done with it, clean up:") + 1:]
                if line.strip()]
    assert f"umount {mountdir}      # as root" in commands      # the namespace went with the restore
    drop = commands[-1]
    assert drop.endswith(f"zsnapper.py orcl dropclone {clonename}")
    site.ok(site.box.run("bash", "-c", drop, env=site.env()))
    assert site.clones() == [] and site.server.fs_named(clonename) is None   # type: ignore[attr-defined]


def test_an_old_style_configuration_and_credentials_file_work_unchanged(site: ApplianceSite):
    """The old sample's [huaweidorado] keys only (url, vstore in another case, mounthost,
    restorenfsclient; no cacert: the array's CA is one the host trusts, here through
    REQUESTS_CA_BUNDLE as a system store would) and huaweidoradocredentials.cfg beside the scripts."""
    site.create_database()
    site.write_config(OLD_STYLE_CONFIG.format(backupdest=site.appliance.generic["backupdest"], w=site.w,
                                              url=site.server.url))
    site.extra_env["REQUESTS_CA_BUNDLE"] = str(site.ca_file())
    out = site.ok(site.script("zvolume.py", "orcl", "create"))
    assert out.strip() == "Backup volume for orcl created: 127.0.0.1:/orcl/"
    site.give_area()
    site.ok(site.backup("config"))
    site.daily_backups(2)
    assert [s["id"][:5] for s in site.snapshots()] == ["orcl-", "orcl-"]
    creds = site.box.app / "huaweidoradocredentials.cfg"
    assert creds.read_text() == f"[credentials]\nuser: {USER}\npassword: {PASSWORD}\n"
    site.write_fstab()
    assert "Exitstatus is 0" in site.ok(site.autorestore_run())
    assert site.clones() == []
    del site.extra_env["REQUESTS_CA_BUNDLE"]            # without a trusted CA: refused, naming cacert
    refused = site.zsnapper("list")
    assert refused.returncode == 1 and "cacert" in refused.stderr and "Traceback" not in refused.stderr


def _other_database_clone(site: ApplianceSite) -> None:
    """Another database's file system with a clone, which no fault may touch."""
    from imagecopy.config import Configuration
    from storage.huawei import HuaweiDorado
    cfg = site.w / "other.cfg"
    creds = write_credentials(site.w / "other-credentials.cfg")
    cfg.write_text(site.cfg.read_text() + f"[other]\ndbid: 1\nhuaweidoradocredentialsfile: {creds}\n")
    other = HuaweiDorado(Configuration(cfg, "other", env={}), "other")
    other.createvolume()
    other.clone(other.snap(), "other_keep")


def _assert_kept(site: ApplianceSite, snapids: list[str]) -> None:
    server = site.server
    assert all(server.fs_named(n) is not None for n in ("orcl", "other", "other_keep"))   # type: ignore[attr-defined]
    assert server.share_of("other_keep") is not None                                     # type: ignore[attr-defined]
    assert set(snapids) <= {s["id"] for s in site.snapshots()}, "a fault cost a snapshot"


def _is_logout(call: tuple[str, str]) -> bool:
    return call[0] == "DELETE" and call[1].endswith("/sessions")


def test_a_fault_at_each_call_of_a_daily_backup(site: ApplianceSite):
    site.setup()
    site.ok(site.backup("config"))
    site.daily_backups(1)
    _other_database_clone(site)
    before = len(site.server.calls)
    site.daily_backups(1)
    calls = [(m, p) for m, p, _, _ in site.server.calls[before:]]
    assert any(m == "POST" and p.endswith("/FSSNAPSHOT") for m, p in calls)
    for nth in range(1, len(calls) + 1):
        kept = [s["id"] for s in site.snapshots()]
        site.server.fail(nth=nth, status=500)
        result = site.script("backup.py", "orcl", "imagecopywithsnap")
        site.checker().forget()
        assert not site.server.faults, f"call {nth} of {calls} was not made"
        said = result.stdout + result.stderr
        assert "Traceback" not in said, said
        if _is_logout(calls[nth - 1]):                              # at exit, best effort: the backup stands
            assert result.returncode == 0, said
        else:
            assert result.returncode != 0 and any("huaweidorado: " in line and "HTTP 500" in line
                                                  for line in said.splitlines()), said
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
    calls = [(m, p) for m, p, _, _ in site.server.calls[before:]]
    shared = max(i for i, (_, p) in enumerate(calls) if p.endswith("/NFS_SHARE_AUTH_CLIENT"))
    drop_from = next(i for i in range(shared + 1, len(calls)) if calls[i][0] == "GET")     # the drop's look-ups
    for nth in range(1, len(calls) + 1):
        site.server.fail(nth=nth, status=500)
        result = site.autorestore_run()
        assert not site.server.faults, f"call {nth} of {calls} was not made"
        said = result.stdout + result.stderr
        assert "Traceback" not in said, said
        if _is_logout(calls[nth - 1]):
            assert result.returncode == 0 and site.clones() == [], said
            continue
        assert result.returncode == 1 and "Exitstatus is 1" in result.stdout, said
        clones = [c["clonename"] for c in site.clones()]
        if nth - 1 >= drop_from and clones:        # the drop itself failed: the clone stays, and the run said so
            assert clones == ["autorestore"] and "HTTP 500" in said
            site.ok(site.zsnapper("dropclone", "autorestore"))
        else:
            assert clones == [], f"call {nth} ({calls[nth - 1]}): the restore test left its clone"
        assert site.server.share_of("autorestore") is None                                  # type: ignore[attr-defined]
        _assert_kept(site, kept)
