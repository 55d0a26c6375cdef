"""The netapp driver against the ONTAP test server: what the contract suite cannot see.

TLS (an unknown CA is refused, ``cacert`` makes it trusted, the old ``certs/``
place), the old configuration and credentials files, ONTAP's errors and jobs
(a failed job's message, a stalled job's timeout, 401, 5xx, a dropped
connection), pagination, multi-volume databases (one snapshot on every volume,
clones across all of them, a failure part way undone) and a fault at every
storage call of a daily backup's and a nightly restore test's storage work.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apiservers.tls import session_pki

from imagecopy import config as config_module
from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError
from restorecommon import find_params, find_volumes
from storage import create_snapper

from .backend_netapp import PASSWORD, USER, NetappBackend, make, netapp_section, start_server
from .facilities import need


@pytest.fixture
def netapp(tmp_path: Path):
    backend = make("netapp", tmp_path)
    yield backend
    backend.close()


@pytest.fixture
def netapp3(tmp_path: Path):
    backend = make("netapp-3vol", tmp_path)
    yield backend
    backend.close()


def server_of(backend: NetappBackend):
    assert backend.server is not None
    return backend.server


def fill(backend: NetappBackend, db: str = "orcl") -> None:
    area = backend.backupdest / db
    (area / "archivelog").mkdir(exist_ok=True)
    (area / "autorestore.cfg").write_text("[dbparams]\ndb_name: ORCL\n")
    (area / "data_D-ORCL_I-1_TS-SYSTEM_FNO-1_01").write_bytes(os.urandom(200_000))


# -- TLS and configuration -----------------------------------------------------------------------
def test_an_unknown_ca_is_refused_and_cacert_makes_the_filer_trusted(netapp: NetappBackend):
    netapp.rewrite_config("netapp", cacert=str(session_pki().other_ca_file))
    with pytest.raises(StorageError, match=r"not trusted.*set \[netapp\] cacert") as err:
        netapp.driver().snapshots()
    assert "\n" not in str(err.value) and PASSWORD not in str(err.value)
    netapp.rewrite_config("netapp", cacert="")          # the system's CAs do not know the test CA either
    with pytest.raises(StorageError, match="not trusted"):
        netapp.driver().snapshots()
    netapp.rewrite_config("netapp", cacert=str(session_pki().ca_file))
    assert netapp.driver().snapshots() == []


OLD_MAIN = """[generic]
backupdest: {backupdest}
snappermodule: netapp
snapperclass: Netapp

[netapp]
# what the main file said; the credentials file's [netapp] is read first
filer: 192.0.2.1
mounthost: nfs.example.com
volumeprefix: wrong_

[orcl]
snapexpirationdays: 7
snapexpirationmonths: 0
"""

OLD_CREDENTIALS = """[netappcredentials]
user: {user}
password: {password}

[netapp]
filer: 127.0.0.1:{port}
volumeprefix: oib_
cacert: ca.pem
"""


def test_an_old_configuration_and_credentials_file_work_unchanged(netapp: NetappBackend, tmp_path: Path,
                                                                  monkeypatch, caplog):
    """As the old toolset's users have them: no svm, the login and [netapp] in netappcredentials.cfg
    beside the configuration (installed layout), cacert a file name in certs/ there."""
    fill(netapp)
    etc = tmp_path / "etc"
    (etc / "certs").mkdir(parents=True)
    shutil.copy(session_pki().ca_file, etc / "certs" / "ca.pem")
    main = etc / "backup.cfg"
    main.write_text(OLD_MAIN.format(backupdest=netapp.backupdest))
    creds = etc / "netappcredentials.cfg"
    creds.write_text(OLD_CREDENTIALS.format(user=USER, password=PASSWORD, port=server_of(netapp).port))
    creds.chmod(0o600)
    monkeypatch.setattr(config_module, "is_checkout", lambda: False)
    monkeypatch.delenv("NETAPP_USER", raising=False)
    d = create_snapper(Configuration(main, section="orcl", env={}), "orcl")
    snapid = d.snap()
    assert [s.id for s in d.snapshots()] == [snapid]
    assert d.mountstring("orcl") == "nfs.example.com:/backup/orcl"
    # the environment's login wins over the file's
    monkeypatch.setenv("NETAPP_USER", USER)
    monkeypatch.setenv("NETAPP_PASSWORD", "wrong-one")
    with pytest.raises(StorageError, match="HTTP 401") as err:
        create_snapper(Configuration(main, section="orcl", env={}), "orcl").snapshots()
    assert "wrong-one" not in str(err.value)
    # half of the pair is a mistake, not a reason to fall back to the file
    monkeypatch.delenv("NETAPP_USER")
    with pytest.raises(ConfigError, match="set both NETAPP_USER and NETAPP_PASSWORD, or neither"):
        create_snapper(Configuration(main, section="orcl", env={}), "orcl")
    monkeypatch.delenv("NETAPP_PASSWORD")
    creds.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        create_snapper(Configuration(main, section="orcl", env={}), "orcl").snapshots()
    assert f"{creds} holds the NetApp password and is readable by others" in caplog.text
    creds.unlink()
    with pytest.raises(ConfigError, match="no NetApp login.*NETAPP_USER"):
        create_snapper(Configuration(main, section="orcl", env={}), "orcl")


def test_bad_settings_are_configuration_errors(netapp: NetappBackend):
    netapp.rewrite_config("netapp", volumeprefix="bad-prefix")
    with pytest.raises(ConfigError, match="volumeprefix"):
        netapp.driver()
    netapp.rewrite_config("netapp", volumeprefix="oib_", cacert="/nonexistent/ca.pem")
    with pytest.raises(ConfigError, match="cacert"):
        netapp.driver()
    netapp.rewrite_config("netapp", cacert=str(session_pki().ca_file), credentialsfile="/nonexistent/creds.cfg")
    with pytest.raises(ConfigError, match="credentialsfile /nonexistent/creds.cfg: no such file"):
        netapp.driver()


# -- ONTAP's answers -------------------------------------------------------------------------------
def test_errors_jobs_and_pages(netapp: NetappBackend):
    server = server_of(netapp)
    fill(netapp)
    d = netapp.driver()
    ids = [d.snap() for _ in range(5)]
    server.calls.clear()
    assert [s.id for s in netapp.driver().snapshots()] == ids, "every page read, sorted by creation"
    assert sum(1 for c in server.calls if "start.uuid" in c[2]) >= 2, "the server's pages are small"
    # a failed job: its message is the error
    server.fail_job(method="DELETE", message="Snapshot is locked by SnapMirror", code="13024")
    with pytest.raises(StorageError, match=r"dropping snapshot .* job .* failure: Snapshot is locked by "
                                           r"SnapMirror \(error 13024\)"):
        netapp.driver().dropsnap(ids[0])
    # an error body: message and code
    with pytest.raises(StorageError, match=r"HTTP 404: entry doesn't exist \(error 4, target uuid\)"):
        d.api.get("/api/storage/volumes/00000000-0000-0000-0000-000000000000")
    # a job that never ends
    netapp.rewrite_config("netapp", jobtimeout="1")
    server.stall_job(method="POST")
    with pytest.raises(StorageError, match=r"still running after 1 s \(\[netapp\] jobtimeout\)"):
        netapp.driver().snap()
    # 401: a clear error without the password
    server.users = {USER: "changed"}
    with pytest.raises(StorageError, match="HTTP 401: not authorized") as err:
        netapp.driver().snapshots()
    assert PASSWORD not in str(err.value)


def test_an_older_ontap_without_the_space_fields_reports_them_unknown(netapp: NetappBackend):
    server = server_of(netapp)
    fill(netapp)
    d = netapp.driver()
    d.snap()
    server.missing_fields = {"reclaimable_space"}              # ONTAP 9.9
    [info] = netapp.driver().snapshots()
    assert info.space_unique is None and info.space_total is not None and info.space_total >= 200_000
    server.missing_fields = {"reclaimable_space", "size"}      # ONTAP 9.8
    [info] = netapp.driver().snapshots()
    assert (info.space_total, info.space_unique) == (None, None)
    assert "unknown" in d.snap2str(info)


def test_busy_and_dropped_calls_are_retried_a_500_is_not(netapp: NetappBackend):
    server = server_of(netapp)
    d = netapp.driver()
    server.fail(status=503, method="GET")
    server.fail(action="drop", method="GET")
    assert d.snapshots() == []
    server.fail(status=500, method="POST")
    with pytest.raises(StorageError, match="creating snapshot .* HTTP 500"):
        d.snap()
    assert d.snapshots() == []


def test_a_stalled_answer_times_out(netapp: NetappBackend):
    server = server_of(netapp)
    netapp.rewrite_config("netapp", timeout="1", retries="0")
    server.stall_seconds = 2.5
    server.fail(action="stall", method="POST")
    with pytest.raises(StorageError, match="(?i)timed out"):
        netapp.driver().snap()


# -- multi-volume databases -------------------------------------------------------------------------
VOLUMES = ("oib_orcl", "oib_orcl_redo", "oib_orcl_arch")


def test_three_volumes_snapshot_clone_restore_layout_and_drop_together(netapp3: NetappBackend):
    server = server_of(netapp3)
    fill(netapp3)
    for suffix in ("_redo", "_arch"):
        (netapp3.backupdest / f"orcl{suffix}" / f"file{suffix}").write_bytes(os.urandom(50_000))
    d = netapp3.driver()
    snapid = d.snap()
    assert all(server.snapshot_names(v) == [snapid] for v in VOLUMES)
    [info] = d.snapshots()
    assert info.space_total is not None and info.space_total >= 300_000, "sizes summed over the volumes"
    d.clone(snapid, "autorestore")
    [c] = d.clones()
    assert (c.clonename, c.origin, c.mountpoint) == ("autorestore", snapid, "/autorestore")
    mount = netapp3.appliance_root / "autorestore"          # what one NFS mount of /autorestore shows
    cfg = find_params(mount)
    assert cfg == mount / "autorestore0" / "autorestore.cfg"
    assert [p.name for p in find_volumes(mount, cfg)] == ["autorestore0", "autorestore1", "autorestore2"]
    assert (mount / "autorestore1" / "file_redo").stat().st_size == 50_000
    with pytest.raises(StorageError, match="has a clone"):
        d.dropsnap(snapid)
    d.dropclone("autorestore")
    assert d.clones() == [] and not mount.exists()
    assert not any(server.volume_named(n) for n in ("autorestore", "autorestore0", "autorestore1", "autorestore2"))
    d.dropsnap(snapid)
    assert all(server.snapshot_names(v) == [] for v in VOLUMES)


def test_a_failure_on_the_second_volume_leaves_nothing_behind(netapp3: NetappBackend):
    server = server_of(netapp3)
    fill(netapp3)
    d = netapp3.driver()
    first = d.snap()
    # clone: the namespace volume, then the first volume's FlexClone, then the second's: it fails
    server.fail_job(nth=3, method="POST", path=r"^/api/storage/volumes$", message="FlexClone license missing",
                    code="14956")
    with pytest.raises(StorageError, match="FlexClone license missing.*nothing of clone autorestore is left"):
        d.clone(first, "autorestore")
    assert not any(server.volume_named(n) for n in ("autorestore", "autorestore0", "autorestore1"))
    assert not (netapp3.appliance_root / "autorestore").exists() and d.clones() == []
    # a snapshot failing on the second volume is removed from the first again
    server.fail(nth=1, status=500, method="POST", path=r"/snapshots$")     # counts from the next POST
    server.clear_faults()
    server.fail_job(nth=2, method="POST", path=r"/snapshots$")
    with pytest.raises(StorageError, match="oib_orcl_redo.*removed again from oib_orcl"):
        d.snap()
    assert all(server.snapshot_names(v) == [first] for v in VOLUMES)
    # a drop that fails on a further volume keeps the snapshot listed, so retention tries again
    server.fail_job(nth=1, method="DELETE")
    with pytest.raises(StorageError):
        d.dropsnap(first)
    assert [s.id for s in d.snapshots()] == [first]
    d.dropsnap(first)
    assert all(server.snapshot_names(v) == [] for v in VOLUMES)


# -- a fault at every storage call of a daily backup and of a nightly restore test ------------------
def _daily(backend: NetappBackend) -> None:
    """The daily job's storage work: a snapshot, then retention."""
    d = backend.driver()
    d.snap()
    results = d.clean(now=datetime.now(timezone.utc) + timedelta(days=30))
    failed = [r.snapid for r in results if r.status == "DROP FAILED"]
    if failed:
        raise StorageError(f"retention could not drop {failed}")


def _nightly(backend: NetappBackend) -> None:
    """The restore test's storage work: clone the newest snapshot, read it, drop the clone."""
    d = backend.driver()
    d.autoclone("autorestore", 0)
    try:
        assert (backend.local(d.filesystem("autorestore").mountpoint) / "autorestore.cfg").is_file()
    finally:
        d.dropclone("autorestore")


@pytest.mark.parametrize("kind", ["netapp", "netapp-3vol"])
def test_a_fault_at_each_storage_call(kind: str, tmp_path: Path):
    need("BTRFS")
    backend = make(kind, tmp_path)
    try:
        server = server_of(backend)
        fill(backend)
        fill(backend, "other")
        other = backend.driver("other")
        other.clone(other.snap(), "others_clone")
        held = backend.driver().snap()
        backend.driver().clone(held, "kept")              # retention must never drop a cloned snapshot
        time.sleep(1.1)
        backend.driver().snap()
        for work in (_daily, _nightly):
            server.calls.clear()
            work(backend)                                  # once without faults: which calls it makes
            calls = [c[0] for c in server.calls]
            # Three volumes: every change (their reads are the one-volume case's, already covered).
            chosen = [i for i, m in enumerate(calls) if kind == "netapp" or m != "GET"]
            for i in chosen:
                before = {s.id for s in backend.driver().snapshots()}
                nth = calls[:i + 1].count(calls[i])        # the nth call of that method
                server.fail(nth=nth, status=500, method=calls[i])
                try:
                    work(backend)
                except StorageError as exc:
                    assert "\n" not in str(exc) and PASSWORD not in str(exc)
                server.clear_faults()
                after = {s.id for s in backend.driver().snapshots()}
                where = f"call {i + 1} ({calls[i]}) of {work.__name__}"
                assert max(after) >= max(before), f"{where}: the newest snapshot was lost"
                assert held in after, f"{where}: the cloned snapshot was dropped"
                assert [c.clonename for c in other.clones()] == ["others_clone"], f"{where}: another database's"
                if "autorestore" in {c.clonename for c in backend.driver().clones()}:
                    backend.driver().dropclone("autorestore")   # a failed drop's clone goes on the next try
                vols = VOLUMES if kind == "netapp-3vol" else VOLUMES[:1]
                names = [server.snapshot_names(v) for v in vols]
                # No snapshot on a further volume that the first lacks (nobody would see or drop it); the
                # snapshots that stay are on every volume (a drop that failed part way is retried by retention).
                assert all(set(n) <= set(names[0]) for n in names), f"{where}: hidden snapshots: {names}"
                assert all({held, max(after)} <= set(n) for n in names), f"{where}: incomplete: {names}"
    finally:
        backend.close()


def test_a_second_server_keeps_its_own_volumes(tmp_path: Path):
    """The backends' servers are independent: a configuration naming another server sees nothing."""
    facts = need("BTRFS")
    top = Path(facts["OIB_BTRFS_MOUNT"]) / f"ontap-extra{os.getpid()}"
    top.mkdir()
    server = start_server(top)
    try:
        cfg = tmp_path / "b.cfg"
        section = "\n".join(f"{k}: {v}" for k, v in netapp_section(server).items())
        cfg.write_text(f"[generic]\nsnappermodule: netapp\nbackupdest: {top}/ns/backup\n[netapp]\n{section}\n"
                       f"[netappcredentials]\nuser: {USER}\npassword: {PASSWORD}\n[orcl]\n")
        with pytest.raises(StorageError, match="volume oib_orcl of orcl not found"):
            create_snapper(Configuration(cfg, "orcl", env={}), "orcl").snapshots()
    finally:
        server.stop()
        shutil.rmtree(top, ignore_errors=True)
