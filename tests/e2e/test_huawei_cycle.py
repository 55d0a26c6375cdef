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
import subprocess
import time

import pytest
from drivers.backend_huawei import PASSWORD, USER, dorado_root, dorado_section, start_server, write_credentials
from oracle_sim import clock
from oracle_sim.database import Database
from oracle_sim.instance import Instance

from . import appliance_checks as checks
from .appliance_site import Appliance, ApplianceSite, sandbox_fixture, site_fixture
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


sandbox = sandbox_fixture("huaweidoradocredentials.cfg", write_credentials)


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


site = site_fixture("dorado", dorado)


def test_the_whole_cycle_with_every_zsnapper_action(site: ApplianceSite):
    snaps, listing = checks.daily_cycle(site, "/orcl/")
    assert all(s["space_total"] is None for s in snaps) and "total=unknown unique=unknown" in listing

    # zsnapper clone: the clone's share and the NFS mount command
    checks.clone_actions(site, snaps[0]["id"], "/{name}/", newest=snaps[-1]["id"], own="orcl")
    pin = site.zsnapper("pin", snaps[0]["id"], "--reason", "audit")
    assert pin.returncode == 1 and "cannot pin" in pin.stderr and "Traceback" not in pin.stderr
    assert site.zsnapper("checkverified").returncode == 2

    checks.restore_test_opens(site, site.lasttime(snaps[-1]["id"]))
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
    checks.restore_test_opens(site, lasttime)
    assert server.fs_named("autorestore") is None                            # type: ignore[attr-defined]
    paths = [p for _, p, _, _ in server.calls]
    shared = max(i for i, p in enumerate(paths) if p.endswith("/NFS_SHARE_AUTH_CLIENT"))
    dropped = max(i for i, p in enumerate(paths) if "/filesystem/" in p)
    assert any(p.endswith("/sessions") for p in paths[shared:dropped]), "no new login between clone and drop"
    assert server.expired_answers >= 1                                       # type: ignore[attr-defined]


def test_a_failed_restore_test_drops_its_clone_and_share(site: ApplianceSite):
    checks.failed_restore_test_drops_its_clone(site)
    assert site.server.share_of("autorestore") is None           # type: ignore[attr-defined]


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
    checks.old_style_site(site, OLD_STYLE_CONFIG.format(backupdest=site.appliance.generic["backupdest"], w=site.w,
                                                        url=site.server.url), "/orcl/", backups=2)
    assert [s["id"][:5] for s in site.snapshots()] == ["orcl-", "orcl-"]
    creds = site.box.app / "huaweidoradocredentials.cfg"
    assert creds.read_text() == f"[credentials]\nuser: {USER}\npassword: {PASSWORD}\n"
    site.write_fstab()
    assert "Exitstatus is 0" in site.ok(site.autorestore_run())
    assert site.clones() == []
    del site.extra_env["REQUESTS_CA_BUNDLE"]            # without a trusted CA: refused, naming cacert
    checks.refused_without_a_trusted_ca(site)


def _other_config(site: ApplianceSite) -> str:
    return f"huaweidoradocredentialsfile: {write_credentials(site.w / 'other-credentials.cfg')}\n"


def _shares(site: ApplianceSite) -> None:
    """The other database's clone keeps its share; no share of the restore test's clone outlives it."""
    assert site.server.share_of("other_keep") is not None                               # type: ignore[attr-defined]
    assert site.server.share_of("autorestore") is None                                  # type: ignore[attr-defined]


# Another database's file system with a clone, which no fault may touch.
OTHER = checks.OtherDatabase("storage.huawei.HuaweiDorado", _other_config,
                             volumes=lambda server: [f.name for f in list(server.filesystems.values())],
                             keep={"orcl", "other", "other_keep"}, also=_shares)


def _is_logout(call: tuple[str, str]) -> bool:
    return call[0] == "DELETE" and call[1].endswith("/sessions")


def test_a_fault_at_each_call_of_a_daily_backup(site: ApplianceSite):
    checks.fault_at_each_call_of_a_daily_backup(site, "huaweidorado", other=OTHER, harmless=checks.where(_is_logout),
                                                made=[checks.post_to("/FSSNAPSHOT")])


def _dropping(calls: list[tuple]) -> range:
    """The drop's calls: from its first look-up after the clone was shared."""
    shared = max(i for i, (_, p) in enumerate(calls) if p.endswith("/NFS_SHARE_AUTH_CLIENT"))
    return range(next(i for i in range(shared + 1, len(calls)) if calls[i][0] == "GET"), len(calls))


def test_a_fault_at_each_call_of_a_nightly_restore_test(site: ApplianceSite):
    checks.fault_at_each_call_of_a_nightly_restore_test(site, OTHER, dropping=_dropping,
                                                        harmless=checks.where(_is_logout))
