"""The SoftNAS driver's own behaviour against its HTTPS test server: certificates, the login and its
session cookie, SoftNAS's answers and faults, pages, creation times and sizes, names, settings.

The storage contract (snapshots, the one answer to clone requests, retention, times, space) is
tests/drivers/test_contract.py.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apiservers.softnas import SoftnasServer
from apiservers.tls import session_pki

from imagecopy.errors import ConfigError, StorageError, UsageError
from storage.softnas import SoftNAS, parse_creation, parse_size

from .backend_base import Backend
from .backend_softnas import PASSWORD, POOL, USER, make, write_credentials

SNSERV = "/softnas/snserver/snserv.php"


@pytest.fixture
def nas(tmp_path: Path):
    backend = make("softnas", tmp_path)
    yield backend
    backend.close()


def server_of(backend: Backend) -> SoftnasServer:
    return backend.server           # type: ignore[attr-defined]


def paths(server: SoftnasServer) -> list[str]:
    return [p.rsplit("/", 1)[1] for _, p, _, _ in server.calls]


def opcodes(server: SoftnasServer) -> list[str]:
    return [body.get("opcode", "") for _, p, _, body in server.calls if p == SNSERV]


def driver(backend: Backend, db: str = "orcl") -> SoftNAS:
    d = backend.driver(db)
    assert isinstance(d, SoftNAS)
    return d


# -- certificates -------------------------------------------------------------------------------
def test_an_unknown_ca_is_refused_naming_cacert_and_nothing_is_sent(nas: Backend):
    nas.rewrite_config("softnas", cacert=str(session_pki().other_ca_file))
    server_of(nas).calls.clear()
    with pytest.raises(StorageError, match=r"not trusted.*\[softnas\] cacert") as err:
        driver(nas).snapshots()
    assert "\n" not in str(err.value) and server_of(nas).calls == []


def test_verifytls_false_works_and_warns(nas: Backend, caplog):
    nas.rewrite_config("softnas", cacert=str(session_pki().other_ca_file), verifytls="false")
    with caplog.at_level(logging.WARNING):
        d = driver(nas)
        snapid = d.snap()
    assert [s.id for s in d.snapshots()] == [snapid]
    assert any("verifytls is false" in r.getMessage() for r in caplog.records)


# -- the login ------------------------------------------------------------------------------------
def test_credentials_from_the_environment_win_and_must_come_in_pairs(nas: Backend, monkeypatch, tmp_path: Path):
    write_credentials(tmp_path / "softnascredentials.cfg", USER, "wrong-password")
    monkeypatch.setenv("SOFTNAS_USER", USER)
    monkeypatch.setenv("SOFTNAS_PASSWORD", PASSWORD)
    assert driver(nas).snapshots() == []
    monkeypatch.delenv("SOFTNAS_PASSWORD")
    with pytest.raises(ConfigError, match="set both SOFTNAS_USER and SOFTNAS_PASSWORD"):
        driver(nas)


def test_a_missing_or_incomplete_credentials_file_names_itself(nas: Backend, tmp_path: Path):
    creds = tmp_path / "softnascredentials.cfg"
    creds.unlink()
    with pytest.raises(ConfigError, match=rf"create {creds} with \[credentials\] user and password.*SOFTNAS_USER"):
        driver(nas)
    creds.write_text("[credentials]\nuser: x\n")
    with pytest.raises(ConfigError, match=r"\[credentials\] key 'password' is missing"):
        driver(nas)
    creds.write_text("no section\n")
    with pytest.raises(ConfigError, match="cannot read the SoftNAS login"):
        driver(nas)


def test_a_credentials_file_readable_by_others_is_warned_about(nas: Backend, tmp_path: Path, caplog):
    (tmp_path / "softnascredentials.cfg").chmod(0o644)
    with caplog.at_level(logging.WARNING):
        driver(nas)
    assert any("readable by others" in r.getMessage() for r in caplog.records)


def test_a_wrong_password_is_one_line_that_never_shows_it(nas: Backend, tmp_path: Path, caplog):
    secret = "Very-s3cret-but-wrong"
    write_credentials(tmp_path / "softnascredentials.cfg", USER, secret)
    server_of(nas).calls.clear()
    with caplog.at_level(logging.DEBUG), pytest.raises(StorageError) as err:
        driver(nas).snapshots()
    text = str(err.value)
    assert "login to 127.0.0.1" in text and "refused" in text and str(tmp_path / "softnascredentials.cfg") in text
    assert secret not in text and "\n" not in text
    assert all(secret not in r.getMessage() for r in caplog.records)
    assert paths(server_of(nas)) == ["login.php"], "a refused login is not repeated, nothing else is asked"


def test_the_password_is_never_logged(nas: Backend, caplog):
    with caplog.at_level(logging.DEBUG):
        d = driver(nas)
        d.dropsnap(d.snap())
        d.mountstring("orcl")
    assert caplog.records and all(PASSWORD not in r.getMessage() for r in caplog.records)
    assert all(body.get("password") in (None, "***") for *_, body in server_of(nas).calls)


def test_one_login_per_run_the_cookie_from_the_302_and_no_redirect_followed(nas: Backend):
    server = server_of(nas)
    server.calls.clear()
    d = driver(nas)
    d.snap()
    d.snapshots()
    d.mountstring("orcl")
    assert paths(server) == ["login.php", "snserv.php", "snserv.php", "snserv.php"]
    assert [c[0] for c in server.calls] == ["POST"] * 4, "the 302 of login.php is not followed"
    assert list(d.client.session.cookies.keys()) == ["PHPSESSID"]
    token = d.client.session.cookies["PHPSESSID"]
    assert token in server.sessions
    d._logout()
    assert paths(server)[-1] == "logout.php" and token not in server.sessions, "logout.php ended the session"


def test_an_expired_session_is_logged_in_again_once(nas: Backend):
    server = server_of(nas)
    d = driver(nas)
    d.snap()
    server.expire_sessions()
    server.calls.clear()
    assert len(d.snapshots()) == 1
    assert paths(server) == ["snserv.php", "login.php", "snserv.php"]
    # a session refused right after logging in: an error after that one login, never a loop
    server.accept_sessions = False
    server.calls.clear()
    with pytest.raises(StorageError, match=r"^softnas: login to 127\.0\.0\.1:\d+ refused: check the credentials"):
        d.snapshots()
    assert paths(server) == ["snserv.php", "login.php", "snserv.php"]
    # a redirect elsewhere than login.php is no answer either
    server.accept_sessions = True
    server.fail(nth=1, status=302, path="snserv", body=b"<html>moved</html>")
    with pytest.raises(StorageError, match="^softnas: snapshotlist: the server answered HTTP 302 to nowhere$"):
        d.snapshots()


# -- SoftNAS's answers, faults ------------------------------------------------------------------------
def test_success_false_is_one_line_with_softnas_message(nas: Backend):
    d = driver(nas)
    with pytest.raises(StorageError, match=r"^softnas: snapcommand failed: could not find snapshot to delete: "
                                           r"orcl-20000101T000000$"):
        d.dropsnap("orcl-20000101T000000")
    with pytest.raises(StorageError, match=r"^softnas: createvolume failed: Volume 'pool1/orcl' already exists$"):
        d.createvolume()
    server_of(nas).fail(nth=1, status=200, body={"success": False, "msg": "pool\nbusy"}, opcode="snapshotlist")
    with pytest.raises(StorageError, match=r"^softnas: snapshotlist failed: pool busy$"):
        d.snapshots()
    server_of(nas).fail(nth=1, status=200, body={"success": False, "msg": f"bad login {PASSWORD}"})
    with pytest.raises(StorageError, match=r"^softnas: snapshotlist failed: bad login \*\*\*$"):
        d.snapshots()                                   # whatever the server echoes, never the password
    server_of(nas).fail(nth=1, status=200, body=b"<b>Fatal error</b>: PHP", opcode="snapcommand")
    with pytest.raises(StorageError, match="snapcommand: the answer is not SoftNAS's JSON: <b>Fatal error</b>"):
        d.snap()
    assert d.snapshots() == []


@pytest.mark.parametrize("opcode", ["login", "snapcommand", "snapshotlist", "volumes"])
def test_a_500_is_one_line_a_503_and_a_dropped_connection_are_tried_again(nas: Backend, opcode: str):
    server = server_of(nas)
    d = driver(nas)
    calls = {"snapcommand": d.snap, "snapshotlist": d.snapshots, "volumes": lambda: d.mountstring("orcl"),
             "login": d.snapshots}
    kw = {"path": "login"} if opcode == "login" else {"opcode": opcode}
    server.fail(nth=1, status=500, **kw)
    with pytest.raises(StorageError) as err:
        calls[opcode]()
    text = str(err.value)
    assert text.startswith("softnas: POST /softnas/") and "HTTP 500: injected HTTP 500" in text and "\n" not in text
    assert d.snapshots() == [], "nothing changed"
    server.fail(nth=1, status=503, **kw)
    server.fail(nth=1, action="drop", **kw)
    d = driver(nas)
    calls = {**calls, "snapcommand": d.snap, "snapshotlist": d.snapshots, "volumes": lambda: d.mountstring("orcl"),
             "login": d.snapshots}
    calls[opcode]()
    assert not server.faults


# -- pages, times, sizes, names ---------------------------------------------------------------------
def test_listings_follow_the_pages_when_the_server_gives_fewer_than_asked(tmp_path: Path):
    backend = make("softnas", tmp_path, page_cap=10)
    server = server_of(backend)
    try:
        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        ids = [f"hourly{i:02d}" for i in range(25)]
        for i, name in enumerate(ids):
            server.add_snapshot(POOL, "orcl", name, start + timedelta(hours=i))
        d = driver(backend)
        for i in range(12):
            d._call("createvolume", vol_name=f"db{i:02d}", pool=POOL, vol_type="filesystem")
        server.calls.clear()
        assert [s.id for s in d.snapshots()] == ids, "every snapshot, the server's own included"
        assert opcodes(server) == ["snapshotlist"] * 3
        assert [s.creation for s in d.snapshots()][-1] == start + timedelta(hours=24)
        assert d.mountstring("db11") == "127.0.0.1:/pool1/db11", "the volume on the third page"
        server.calls.clear()
        results = d.clean(now=start + timedelta(days=30))
        dropped = [r.snapid for r in results if r.status == "dropped"]
        assert dropped == ids[:-1], "the newest snapshot is never dropped"
        assert opcodes(server) == ["snapshotlist"] * 3 + ["snapcommand"] * 24
    finally:
        backend.close()


@pytest.mark.parametrize("style", ["numeric", "text"])
def test_creation_without_datesort(tmp_path: Path, style: str):
    backend = make("softnas", tmp_path, creation_style=style)
    try:
        d = driver(backend)
        before = datetime.now(timezone.utc)
        snapid = d.snap()
        [info] = d.snapshots()
        assert info.id == snapid and info.creation.utcoffset() == timedelta(0)
        resolution = timedelta(seconds=1) if style == "numeric" else timedelta(minutes=1)
        assert before - resolution <= info.creation <= datetime.now(timezone.utc)
    finally:
        backend.close()


def test_creation_and_size_parsing():
    assert parse_creation({"datesort": 1389574800, "creation": "Sun Jan 12 19:00 2014 "}) == \
        datetime(2014, 1, 13, 1, 0, tzinfo=timezone.utc)
    assert parse_creation({"creation": "1389574800"}) == datetime(2014, 1, 13, 1, 0, tzinfo=timezone.utc)
    assert parse_creation({"creation": "Sun Jan  5 19:00 2014"}) == datetime(2014, 1, 5, 19, 0, tzinfo=timezone.utc)
    with pytest.raises(StorageError, match="creation time 'yesterday' is not understood"):
        parse_creation({"snapshot_name": "x", "creation": "yesterday"})
    assert [parse_size(v) for v in ("136K", "1.5M", "2G", "512B", "0", 4096, "1.00TiB", "-", "", None, "lots")] == \
        [136 << 10, 3 << 19, 2 << 30, 512, 0, 4096, 1 << 40, None, None, None, None]


def test_the_server_names_snapshots_and_the_driver_reads_the_name(tmp_path: Path):
    backend = make("softnas", tmp_path, names="auto")
    try:
        d = driver(backend)
        first, second = d.snap(), d.snap()
        assert first.startswith("auto-") and second == f"{first}-1"
        assert [s.id for s in d.snapshots()] == [first, second]
        d.dropsnap(first)
        assert [s.id for s in d.snapshots()] == [second]
    finally:
        backend.close()


def test_bad_names_never_reach_the_server(nas: Backend):
    d = driver(nas)
    server = server_of(nas)
    server.calls.clear()
    for name in ["a/b", "..", "a b", 'a"b', "a'b", "-x", "$(id)", "", "a@b"]:
        for call in (d.dropsnap, d.filesystem_info, d.mountstring, d.getsnapinfo):
            with pytest.raises(UsageError, match="invalid"):
                call(name)
    assert server.calls == []


def test_volumes_of_another_pool_are_not_ours_and_mounthost(nas: Backend):
    server = server_of(nas)
    server.add_pool("pool2")
    d = driver(nas)
    d._call("createvolume", vol_name="shared", pool="pool2", vol_type="filesystem")
    with pytest.raises(StorageError, match="^softnas: volume shared not found in pool pool1$"):
        d.mountstring("shared")
    assert d.filesystem().clonename == "orcl" and d.filesystem().origin is None
    nas.rewrite_config("softnas", mounthost="nfs.example.com")
    assert driver(nas).mountstring("orcl") == "nfs.example.com:/pool1/orcl"


def test_another_api_path_and_raw_json_bodies(tmp_path: Path):
    backend = make("softnas", tmp_path, prefix="/buurst")
    try:
        backend.rewrite_config("softnas", apipath="softnas")
        with pytest.raises(StorageError, match="POST /softnas/login.php failed: HTTP 404"):
            driver(backend).snapshots()
        backend.rewrite_config("softnas", apipath="buurst")
        d = driver(backend)
        d.snap()
        # the server takes a raw JSON body as well as a form (the old driver sent deletevolume so)
        answer = d.client.request("POST", "/snserver/snserv.php", json={"opcode": "volumes", "limit": 5},
                                  allow_redirects=False).json()
        assert answer["success"] is True and {v["vol_name"] for v in answer["records"]} == {"orcl", "other"}
    finally:
        backend.close()


@pytest.mark.parametrize("key,value,said", [
    ("serveraddress", "https://softnas.example.com/x", "key 'serveraddress' must be a host name"),
    ("serveraddress", "user@host", "key 'serveraddress' must be a host name"),
    ("serveraddress", "", "key 'serveraddress' must be a host name"),
    ("pool", "a/b", "key 'pool' must be a ZFS pool name"),
    ("apipath", "../etc", "key 'apipath' must be a plain path"),
    ("cacert", "/nonexistent/ca.pem", "cacert '/nonexistent/ca.pem': no such file"),
    ("timeout", "soon", "key 'timeout' must be a number"),
])
def test_bad_settings_are_configuration_errors(nas: Backend, key: str, value: str, said: str):
    nas.rewrite_config("softnas", **{key: value})
    with pytest.raises(ConfigError, match=said):
        driver(nas)
