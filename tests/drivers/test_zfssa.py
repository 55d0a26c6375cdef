"""The ZFSSA driver's own behaviour against its HTTPS test appliance: certificates, credentials,
sessions, faults at each call, names, and what the configuration may say.

The storage contract (snapshots, clones, retention, times, space) is tests/drivers/test_contract.py.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from apiservers.tls import session_pki
from apiservers.zfssa import ZfssaServer

from imagecopy.errors import ConfigError, StorageError, UsageError
from storage.zfssa import ZFSSA

from .backend_base import Backend
from .backend_zfssa import PASSWORD, USER, make, write_credentials


@pytest.fixture(params=["zfssa", "zfssa-session"])
def appliance(request, tmp_path: Path):
    backend = make(request.param, tmp_path)
    yield backend
    backend.close()


@pytest.fixture
def basic(tmp_path: Path):
    backend = make("zfssa", tmp_path)
    yield backend
    backend.close()


def server_of(backend: Backend) -> ZfssaServer:
    return backend.server           # type: ignore[attr-defined]


def storage_calls(server: ZfssaServer) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _, _ in server.calls if p.startswith("/api/storage/")]


# -- certificates -------------------------------------------------------------------------------
def test_an_unknown_ca_is_refused_naming_cacert(basic: Backend):
    basic.rewrite_config("zfssa", cacert=str(session_pki().other_ca_file))
    server_of(basic).calls.clear()
    with pytest.raises(StorageError, match=r"not trusted.*\[zfssa\] cacert") as err:
        basic.driver().snapshots()
    assert "\n" not in str(err.value)
    assert server_of(basic).calls == [], "nothing was sent to an appliance that is not trusted"
    basic.rewrite_config("zfssa", cacert=str(session_pki().ca_file))
    assert basic.driver().snapshots() == []


def test_without_cacert_the_system_cas_do_not_trust_a_private_ca(basic: Backend, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    text = basic.config_path.read_text().replace(f"cacert: {session_pki().ca_file}\n", "")
    basic.config_path.write_text(text)
    server_of(basic).calls.clear()
    with pytest.raises(StorageError, match="cacert"):
        basic.driver().snap()
    assert server_of(basic).calls == []


def test_verifytls_false_works_and_warns(basic: Backend, caplog):
    basic.rewrite_config("zfssa", cacert=str(session_pki().other_ca_file), verifytls="false")
    with caplog.at_level(logging.WARNING):
        d = basic.driver()
        snapid = d.snap()
    assert [s.id for s in d.snapshots()] == [snapid]
    assert any("verifytls is false" in r.getMessage() and "NOT verified" in r.getMessage() for r in caplog.records)


# -- credentials ----------------------------------------------------------------------------------
def test_credentials_from_the_environment_win(basic: Backend, monkeypatch, tmp_path: Path):
    write_credentials(tmp_path / "zfscredentials.cfg", USER, "wrong-password")
    monkeypatch.setenv("ZFSSA_USER", USER)
    monkeypatch.setenv("ZFSSA_PASSWORD", PASSWORD)
    assert basic.driver().snapshots() == []
    monkeypatch.delenv("ZFSSA_PASSWORD")
    with pytest.raises(ConfigError, match="ZFSSA_USER and ZFSSA_PASSWORD"):
        basic.driver()


def test_missing_credentials_name_the_file_and_the_variables(basic: Backend, tmp_path: Path):
    (tmp_path / "zfscredentials.cfg").unlink()
    with pytest.raises(ConfigError, match=r"zfscredentials\.cfg with \[zfscredentials\] zfsuser.*ZFSSA_USER"):
        basic.driver()
    (tmp_path / "zfscredentials.cfg").write_text("[zfscredentials]\nzfsuser: x\n")
    with pytest.raises(ConfigError, match="key 'zfspassword' is missing"):
        basic.driver()


def test_credentials_pasted_into_the_main_file_work(basic: Backend, tmp_path: Path):
    (tmp_path / "zfscredentials.cfg").unlink()
    basic.rewrite_config("zfscredentials", zfsuser=USER, zfspassword=PASSWORD)
    assert basic.driver().snapshots() == []


@pytest.mark.parametrize("auth", ["basic", "session"])
def test_a_wrong_password_is_one_line_that_never_shows_it(basic: Backend, tmp_path: Path, caplog, auth: str):
    secret = "Very-s3cret-but-wrong"
    write_credentials(tmp_path / "zfscredentials.cfg", USER, secret)
    basic.rewrite_config("zfssa", auth=auth)
    with caplog.at_level(logging.DEBUG), pytest.raises(StorageError) as err:
        basic.driver().snapshots()
    text = str(err.value)
    assert "401" in text and "check the credentials in" in text and str(tmp_path / "zfscredentials.cfg") in text
    assert secret not in text and "\n" not in text
    assert all(secret not in r.getMessage() for r in caplog.records)
    logins = [c for c in server_of(basic).calls if c[1] == "/api/access/v1"]
    assert len(logins) == (1 if auth == "session" else 0), "a refused login is not repeated"


def test_the_password_is_never_logged(appliance: Backend, caplog):
    with caplog.at_level(logging.DEBUG):
        d = appliance.driver()
        d.clone(d.snap(), "c1")
        d.dropclone("c1")
    assert caplog.records and all(PASSWORD not in r.getMessage() for r in caplog.records)


# -- sessions ---------------------------------------------------------------------------------------
def test_a_session_logs_in_once_and_again_after_it_expired(tmp_path: Path):
    backend = make("zfssa-session", tmp_path)
    server = server_of(backend)
    try:
        server.calls.clear()
        d = backend.driver()
        d.snap()
        d.snapshots()
        assert [c[0] for c in server.calls if c[1] == "/api/access/v1"] == ["POST"]
        assert all(c[1] == "/api/access/v1" or "X-Auth-Session" in d.client.session.headers for c in server.calls)
        server.expire_sessions()
        assert len(d.snapshots()) == 1
        assert [c[0] for c in server.calls if c[1] == "/api/access/v1"] == ["POST", "POST"]
        # a 401 that logging in again does not cure is an error, after one more login only
        server.fail(nth=1, status=401, path="/snapshots$")
        server.fail(nth=1, status=401, path="/snapshots$")    # the retry after the new login
        with pytest.raises(StorageError, match="HTTP 401"):
            d.snapshots()
        assert [c[0] for c in server.calls if c[1] == "/api/access/v1"] == ["POST"] * 3
        token = d._session
        d._logout()
        assert server.calls[-1][:2] == ("DELETE", "/api/access/v1") and token not in server.sessions
    finally:
        backend.close()


def test_basic_auth_answers_401_once_and_no_session_is_made(basic: Backend):
    server = server_of(basic)
    server.fail(nth=1, status=401)
    with pytest.raises(StorageError, match="HTTP 401.*check the credentials"):
        basic.driver().snapshots()
    assert basic.driver().snapshots() == []
    assert not [c for c in server.calls if c[1] == "/api/access/v1"]


# -- faults at each call --------------------------------------------------------------------------
CALLS = [
    ("snap", "POST", r"/snapshots$"),
    ("list", "GET", r"/snapshots$"),
    ("clone", "PUT", r"/clone$"),
    ("listclones", "GET", r"/filesystems$"),
    ("dropclone", "DELETE", r"/filesystems/c1$"),
    ("dropsnap", "DELETE", r"/snapshots/orcl-\d+T\d+$"),
]


def _step(d: ZFSSA, step: str, snapid: str) -> None:
    if step == "snap":
        d.snap()
    elif step == "list":
        d.snapshots()
    elif step == "clone":
        d.clone(snapid, "c1")
    elif step == "listclones":
        d.clones()
    elif step == "dropclone":
        d.dropclone("c1")
    else:
        d.dropsnap(snapid)


def _ready(d: ZFSSA, step: str) -> str:
    """A snapshot, and the clone the step needs."""
    snapid = d.snap()
    if step in ("dropclone", "listclones"):
        d.clone(snapid, "c1")
    return snapid


@pytest.mark.parametrize("step,method,path", CALLS)
def test_a_500_at_each_call_is_one_clear_line_and_nothing_else_changes(basic: Backend, step, method, path):
    d = basic.driver()
    snapid = _ready(d, step)
    before = ([s.id for s in d.snapshots()], d.clones())
    server_of(basic).fail(nth=1, status=500, method=method, path=path)
    with pytest.raises(StorageError) as err:
        _step(d, step, snapid)
    text = str(err.value)
    assert "\n" not in text and text.startswith("zfssa: ") and "HTTP 500" in text and "ERR_INTERNAL" in text
    assert method in text and PASSWORD not in text
    assert ([s.id for s in d.snapshots()], d.clones()) == before


@pytest.mark.parametrize("step,method,path", CALLS)
def test_a_busy_appliance_is_asked_again(basic: Backend, step, method, path):
    d = basic.driver()
    snapid = _ready(d, step)
    server = server_of(basic)
    server.fail(nth=1, status=503, method=method, path=path)
    server.fail(nth=1, status=503, method=method, path=path)    # the retry's turn: 503 again
    _step(d, step, snapid)
    assert not server.faults, "both 503 answers were used"


def test_retries_are_bounded(basic: Backend):
    server = server_of(basic)
    for _ in range(3):
        server.fail(nth=1, status=503, path="/snapshots$")
    with pytest.raises(StorageError, match="HTTP 503.*ERR_BUSY"):
        basic.driver().snapshots()
    assert len([c for c in server.calls if c[1].endswith("/snapshots")]) == 3, "one call and two retries"


def test_a_timeout_repeats_a_read_never_a_write(basic: Backend):
    basic.rewrite_config("zfssa", timeout="1")
    server = server_of(basic)
    server.stall_seconds = 2
    d = basic.driver()
    server.fail(nth=1, action="stall", method="GET", path="/snapshots$")
    assert d.snapshots() == []
    server.fail(nth=1, action="stall", method="POST", path="/snapshots$")
    with pytest.raises(StorageError, match="POST .*/snapshots failed: .*timed out"):
        d.snap()
    posts = [c for c in server.calls if c[0] == "POST" and c[1].endswith("/snapshots")]
    assert len(posts) == 1, "a snapshot request that timed out is not sent twice"


def test_a_dropped_connection_is_retried(basic: Backend):
    server_of(basic).fail(nth=1, action="drop", method="GET")
    assert basic.driver().snapshots() == []


# -- names and configuration ------------------------------------------------------------------------
def test_bad_names_never_reach_the_appliance(basic: Backend):
    d = basic.driver()
    snapid = d.snap()
    server = server_of(basic)
    server.calls.clear()
    for name in ["a/b", "..", "a b", "a?b=c", "a%2Fb", "a#b", "-x", "$(id)", ""]:
        for call, args in ((d.clone, (snapid, name)), (d.dropclone, (name,)), (d.dropsnap, (name,)),
                           (d.clone, (name, "c1")), (d.filesystem_info, (name,)), (d.mountstring, (name,))):
            with pytest.raises(UsageError, match="invalid"):
                call(*args)
    for snapid in ("orcl-2020", "other-20200101T000000", "orcl-20200101T000000x"):     # not our snapshots' names
        for call, args in ((d.clone, (snapid, "c1")), (d.dropsnap, (snapid,))):
            with pytest.raises(UsageError, match="invalid snapshot id"):
                call(*args)
    assert server.calls == []


def test_a_clone_of_another_projects_share_of_the_same_name_is_refused(basic: Backend):
    """Only this pool, project and share are this database's: a clone whose origin is a share
    called orcl in another project is someone else's."""
    server = server_of(basic)
    server.add_project("pool1", "elsewhere")
    d = basic.driver()
    basic.rewrite_config("orcl", zfssaproject="elsewhere")
    foreign = basic.driver()
    foreign.createvolume()
    snapid = foreign.snap()
    foreign.client.put(f"/pools/pool1/projects/elsewhere/filesystems/orcl/snapshots/{snapid}/clone",
                       json={"project": "backup", "share": "theirs"})
    assert d.clones() == []
    with pytest.raises(StorageError, match="not a clone of orcl"):
        d.dropclone("theirs")
    assert "theirs" in {s.name for s in server.shares.values()}


def test_per_database_pool_and_project_and_volume_properties(basic: Backend):
    server = server_of(basic)
    server.add_project("pool2", "olddb-backup")
    basic.rewrite_config("other", zfssapool="pool2", zfssaproject="olddb-backup")
    basic.rewrite_config("zfssa", root_permissions="750", root_user=str(os.getuid()), nfshost="nfs.example.com")
    d = basic.driver("other")
    d.createvolume()
    [(m, path, _, body)] = [c for c in server.calls if c[0] == "POST" and c[1].endswith("/filesystems")][-1:]
    assert path == "/api/storage/v1/pools/pool2/projects/olddb-backup/filesystems"
    assert body == {"name": "other", "root_permissions": "750", "root_user": str(os.getuid())}
    assert (server.local("/export/olddb-backup/other").stat().st_mode & 0o777) == 0o750
    assert d.mountstring("other") == "nfs.example.com:/export/olddb-backup/other"
    with pytest.raises(StorageError, match="already exists in pool2/olddb-backup"):
        d.createvolume()


@pytest.mark.parametrize("key,value,said", [
    ("url", "zfssa.example.com:215", "must look like https://host"),
    ("pool", "a/b", "key 'pool' must be an appliance name"),
    ("project", "", "key 'project' must be an appliance name"),
    ("auth", "kerberos", "key 'auth' must be one of basic, session"),
    ("cacert", "/nonexistent/ca.pem", "cacert '/nonexistent/ca.pem': no such file"),
    ("retries", "many", "key 'retries' must be an integer"),
])
def test_bad_settings_are_configuration_errors(basic: Backend, key: str, value: str, said: str):
    basic.rewrite_config("zfssa", **{key: value})
    with pytest.raises(ConfigError, match=said):
        basic.driver()


def test_a_missing_filesystem_or_project_says_so(basic: Backend):
    basic.rewrite_config("zfssa", project="nosuchproject")
    with pytest.raises(StorageError, match="filesystem orcl not found in pool1/nosuchproject"):
        basic.driver().snapshots()
    with pytest.raises(StorageError, match="ERR_NOT_FOUND: project 'nosuchproject' not found"):
        basic.driver().clones()


def test_listing_is_one_call_and_retention_two_per_dropped_snapshot(basic: Backend):
    """zsnapper list costs one call for 3 snapshots as for 40; retention then asks each snapshot it
    drops for its clones (the appliance's refusal is not documented) and deletes it."""
    from datetime import datetime, timedelta, timezone
    server = server_of(basic)
    d = basic.driver()
    base = "/pools/pool1/projects/backup/filesystems/orcl/snapshots"
    counts = []
    for start, stop in ((0, 3), (3, 40)):
        for i in range(start, stop):       # hand-made, old ids: no one-second wait between them
            d.client.post(base, json={"name": f"orcl-2020{1 + i // 28:02d}{1 + i % 28:02d}T000000"})
        server.calls.clear()
        assert len(d.snapshots()) == stop
        counts.append(len(server.calls))
    assert counts == [1, 1]
    server.calls.clear()
    results = d.clean(now=datetime.now(timezone.utc) + timedelta(days=400))
    dropped = [r.snapid for r in results if r.status == "dropped"]
    assert len(dropped) >= 30
    methods = [m for m, _, _, _ in server.calls]
    assert methods.count("DELETE") == len(dropped) and methods.count("GET") == 1 + len(dropped)
