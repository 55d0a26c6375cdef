"""The huawei (Dorado) driver against its HTTPS test server: what the contract suite cannot see.

Certificates, the three places of the login in the old order, the token (-401
answered by one more login), the error envelope (every non-zero code, negative
ones too), pages, exact filters checked again, a clone failing part way undone,
the order of a drop, the array's own refusals, the old configuration and
credentials files, and a fault at each call.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from apiservers.huawei import REST, DoradoServer
from apiservers.tls import session_pki

from imagecopy import config as config_module
from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError, UsageError
from storage import create_snapper
from storage.huawei import HuaweiDorado, read_credentials

from .backend_base import Backend
from .backend_huawei import PASSWORD, USER, VSTORE, make, write_credentials


@pytest.fixture
def dorado(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))         # no ~/.dbbackupsuite_storage.cfg of the host's
    for name in ("DBBACKUPSUITE_HUAWEI_USER", "DBBACKUPSUITE_HUAWEI_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "home").mkdir()
    backend = make("huawei", tmp_path)
    yield backend
    backend.close()


def server_of(backend: Backend) -> DoradoServer:
    return backend.server           # type: ignore[attr-defined]


def calls(server: DoradoServer, method: str | None = None) -> list[tuple[str, str]]:
    """(method, object path below the device id) of every call after the login."""
    out = []
    for m, path, _, _ in server.calls:
        tail = path.split(f"{REST}/", 1)[-1].split("/", 1)[-1]
        if (method is None or m == method) and not tail.lower().startswith("sessions"):
            out.append((m, tail))
    return out


def fill(backend: Backend, db: str = "orcl") -> None:
    (backend.backupdest / db / "autorestore.cfg").write_text("[dbparams]\ndb_name: ORCL\n")


# -- TLS and credentials ------------------------------------------------------------------------------
def test_an_unknown_ca_is_refused_and_cacert_makes_the_array_trusted(dorado: Backend):
    dorado.rewrite_config("huaweidorado", cacert=str(session_pki().other_ca_file))
    server_of(dorado).calls.clear()
    with pytest.raises(StorageError, match=r"not trusted.*set \[huaweidorado\] cacert") as err:
        dorado.driver().snapshots()
    assert "\n" not in str(err.value) and server_of(dorado).calls == []
    dorado.rewrite_config("huaweidorado", cacert=str(session_pki().ca_file))
    assert dorado.driver().snapshots() == []


def test_the_login_is_read_in_the_old_order(dorado: Backend, tmp_path: Path, monkeypatch):
    config = dorado.config()
    home = tmp_path / "home"
    assert read_credentials(config, env={}).source.endswith("huaweidoradocredentials.cfg [credentials]")
    # ~/.dbbackupsuite_storage.cfg: without [huaweicredentials] it holds other storages' logins only
    (home / ".dbbackupsuite_storage.cfg").write_text("[softnascredentials]\nuser: x\npassword: y\n")
    assert read_credentials(config, env={}, home=home).user == USER
    (home / ".dbbackupsuite_storage.cfg").write_text("[huaweicredentials]\nuser: fromhome\npassword: pw-home\n")
    creds = read_credentials(config, env={}, home=home)
    assert (creds.user, creds.password) == ("fromhome", "pw-home")
    env = {"DBBACKUPSUITE_HUAWEI_USER": "fromenv", "DBBACKUPSUITE_HUAWEI_PASSWORD": "pw-env"}
    assert read_credentials(config, env=env, home=home).user == "fromenv"
    with pytest.raises(ConfigError, match="set both DBBACKUPSUITE_HUAWEI_USER and DBBACKUPSUITE_HUAWEI_PASSWORD"):
        read_credentials(config, env={"DBBACKUPSUITE_HUAWEI_USER": "u"}, home=home)
    (home / ".dbbackupsuite_storage.cfg").write_text("[huaweicredentials]\nuser: fromhome\n")
    with pytest.raises(ConfigError, match=r"\[huaweicredentials\] key 'password' is missing"):
        read_credentials(config, env={}, home=home)
    (home / ".dbbackupsuite_storage.cfg").unlink()
    (tmp_path / "huaweidoradocredentials.cfg").unlink()
    with pytest.raises(ConfigError, match=r"no Dorado credentials: create .*huaweidoradocredentials\.cfg with "
                                          r"\[credentials\] user and password.*DBBACKUPSUITE_HUAWEI_USER"):
        dorado.driver()
    # the environment's login is the one used
    monkeypatch.setenv("DBBACKUPSUITE_HUAWEI_USER", USER)
    monkeypatch.setenv("DBBACKUPSUITE_HUAWEI_PASSWORD", PASSWORD)
    assert dorado.driver().snapshots() == []


def test_a_wrong_password_is_one_line_that_never_shows_it(dorado: Backend, tmp_path: Path, caplog):
    secret = "Very-s3cret-but-wrong"
    write_credentials(tmp_path / "huaweidoradocredentials.cfg", USER, secret)
    server_of(dorado).calls.clear()
    with caplog.at_level(logging.DEBUG), pytest.raises(StorageError) as err:
        dorado.driver().snapshots()
    text = str(err.value)
    assert "login to 127.0.0.1" in text and "refused: error 1077949061" in text and "check the credentials in" in text
    assert secret not in text and "\n" not in text
    assert all(secret not in r.getMessage() for r in caplog.records)
    assert [m for m, p, _, _ in server_of(dorado).calls] == ["POST"], "a refused login is not repeated"


def test_the_password_is_never_logged(dorado: Backend, caplog):
    with caplog.at_level(logging.DEBUG):
        d = dorado.driver()
        d.clone(d.snap(), "c1")
        d.dropclone("c1")
    assert caplog.records and all(PASSWORD not in r.getMessage() for r in caplog.records)


# -- the token and the envelope -----------------------------------------------------------------------
def test_an_expired_token_logs_in_once_more(dorado: Backend):
    server = server_of(dorado)
    server.calls.clear()
    d = dorado.driver()
    snapid = d.snap()
    logins = lambda: [c for c in server.calls if c[1].lower().endswith("/sessions")]  # noqa: E731
    assert len(logins()) == 1
    server.expire_tokens()
    assert [s.id for s in d.snapshots()] == [snapid]
    assert len(logins()) == 2 and server.expired_answers == 1
    server.token_lifetime = 0.0                   # every token is stale at once: one more login, then an error
    with pytest.raises(StorageError, match=r"error -401: The user is offline") as err:
        d.snapshots()
    assert "\n" not in str(err.value) and len(logins()) == 3


@pytest.mark.parametrize("code", [-1, -50331651, 1077949002])
def test_every_non_zero_code_is_an_error_negative_ones_too(dorado: Backend, code: int):
    d = dorado.driver()
    server_of(dorado).fail_code(code, method="GET", path="FSSNAPSHOT$", description="something went wrong")
    with pytest.raises(StorageError, match=rf"huaweidorado: GET {REST}/\d+/FSSNAPSHOT failed: error {code}: "
                                           r"something went wrong \(Check the parameters"):
        d.snapshots()


def test_an_http_error_page_and_a_busy_array(dorado: Backend):
    server = server_of(dorado)
    d = dorado.driver()
    server.fail(status=503, method="GET")
    server.fail(action="drop", method="GET")
    assert d.snapshots() == []
    server.fail(status=500, method="POST", path="FSSNAPSHOT$")
    with pytest.raises(StorageError, match=r"POST .*/FSSNAPSHOT failed: HTTP 500: error 500: injected HTTP 500"):
        d.snap()
    assert d.snapshots() == []


def test_every_list_is_paged(dorado: Backend):
    """More snapshots and file systems than one page: all are seen, each list asked with range."""
    server = server_of(dorado)
    fill(dorado)
    d = dorado.driver()
    fsid = d._fsid()
    for i in range(130):        # hand-made, old ids: no one-second wait between them
        d._call("POST", "FSSNAPSHOT", body={"NAME": f"orcl-2020{1 + i // 28:02d}{1 + i % 28:02d}T000000",
                                            "PARENTID": fsid, "PARENTTYPE": "40", **d._scoped()})
    for i in range(100):
        d._call("POST", "filesystem", body={"NAME": f"unrelated{i}", "PARENTID": "0", "CAPACITY": "2097152",
                                            **d._scoped()})
    newest = d.snap()
    d.clone(newest, "zz_last")                     # after 102 file systems, on the second page
    server.calls.clear()
    infos = d.snapshots()
    assert len(infos) == 131 and infos[-1].id == newest and infos[-1].numclones == 1
    assert [c.clonename for c in d.clones()] == ["zz_last"]
    lists = [q for m, p, q, _ in server.calls if m == "GET"]
    assert lists and all("range" in q for q in lists)
    assert {q["range"] for q in lists} >= {"[0-100]", "[100-200]"}
    # the array's cap on an unpaged answer, which the old driver never saw past
    unpaged = d.client.get(f"/{server.device}/FSSNAPSHOT", params={"PARENTID": fsid, "vstoreId": d._vstore()})
    assert len(unpaged.json()["data"]) == 100


def test_exact_filters_are_checked_again(dorado: Backend):
    """An array whose NAME::x matches like NAME:x must not make orcl2 (or orc) orcl."""
    server = server_of(dorado)
    server.exact_is_fuzzy = True
    for db in ("orcl2", "xorcl"):
        dorado.rewrite_config(db, snapexpirationdays="7")
    for db in ("orcl2", "xorcl"):
        dorado.driver(db).createvolume()
    d = dorado.driver()
    assert d.filesystem().clonename == "orcl" and d.mountstring("orcl") == "127.0.0.1:/orcl/"
    with pytest.raises(StorageError, match="file system orc not found"):
        d.filesystem_info("orc")
    snapid = dorado.driver("orcl2").snap()
    assert d.snapshots() == [] and [s.id for s in dorado.driver("orcl2").snapshots()] == [snapid]


# -- clones ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("step", ["NFSHARE", "NFS_SHARE_AUTH_CLIENT"])
def test_a_clone_failing_part_way_is_undone(dorado: Backend, step: str):
    server = server_of(dorado)
    d = dorado.driver()
    snapid = d.snap()
    server.fail_code(1077949006, method="POST", path=f"/{step}$", description="The system is busy.")
    with pytest.raises(StorageError, match=rf"POST .*/{step} failed: error 1077949006: The system is busy.*; "
                                           "nothing of autorestore is left"):
        d.clone(snapid, "autorestore")
    assert server.fs_named("autorestore") is None and server.share_of("autorestore") is None
    assert not (server.root / "autorestore").exists() and d.clones() == []
    assert d.snapshots()[0].numclones == 0
    d.clone(snapid, "autorestore")                 # nothing in the way of the next try
    d.dropclone("autorestore")


def test_a_clone_whose_undo_fails_says_what_is_left(dorado: Backend):
    server = server_of(dorado)
    d = dorado.driver()
    snapid = d.snap()
    server.fail_code(1077949006, method="POST", path="/NFSHARE$")
    server.fail(status=500, method="DELETE", path="/filesystem/")
    with pytest.raises(StorageError, match="; file system autorestore is left: .*HTTP 500"):
        d.clone(snapid, "autorestore")
    assert [c.clonename for c in d.clones()] == ["autorestore"]
    d.dropclone("autorestore")                     # the next drop finishes it
    assert server.fs_named("autorestore") is None


def test_a_clone_is_shared_to_the_restore_client_and_dropped_share_first(dorado: Backend):
    server = server_of(dorado)
    dorado.rewrite_config("huaweidorado", restorenfsclient="10.1.2.0/24")
    d = dorado.driver()
    d.clone(d.snap(), "c1")
    share = server.share_of("c1")
    assert share is not None and share.path == "/c1/"
    assert [(c["NAME"], c["ACCESSVAL"]) for c in share.clients.values()] == [("10.1.2.0/24", "1")]
    assert d.mountstring("c1") == "127.0.0.1:/c1/"
    server.calls.clear()
    d.dropclone("c1")
    assert [(m, p.split("/")[0]) for m, p in calls(server, "DELETE")] == [("DELETE", "NFSHARE"),
                                                                         ("DELETE", "filesystem")]
    assert server.share_of("c1") is None and server.fs_named("c1") is None


def test_the_array_refuses_what_would_break_a_clone(dorado: Backend):
    """The server's own rules, whatever a client asks: no snapshot with clones, no file system with a share."""
    server = server_of(dorado)
    d = dorado.driver()
    snapid = d.snap()
    d.clone(snapid, "c1")
    [snap] = [s for s in server.snapshots.values() if s.name == snapid]
    with pytest.raises(StorageError, match="error 1073754142: The snapshot .* has clone file systems"):
        d._call("DELETE", "FSSNAPSHOT", snap.id, params=d._scoped())
    with pytest.raises(StorageError, match="has NFS shares"):
        d._call("DELETE", "filesystem", server.fs_named("c1").id, params=d._scoped())     # type: ignore[union-attr]
    with pytest.raises(StorageError, match="has a clone"):
        d.dropsnap(snapid)
    d.dropclone("c1")
    d.dropsnap(snapid)


def test_createvolume_compression_dedup_and_its_share(dorado: Backend):
    server = server_of(dorado)
    dorado.rewrite_config("newdb", snapexpirationdays="7")
    dorado.rewrite_config("huaweidorado", volumesize="2G", storagepool="3")
    server.calls.clear()
    dorado.driver("newdb").createvolume()
    [(_, _, _, body)] = [c for c in server.calls if c[0] == "POST" and c[1].endswith("/filesystem")]
    assert {k: body[k] for k in ("NAME", "PARENTID", "CAPACITY", "ENABLECOMPRESSION", "ENABLEDEDUP")} == \
        {"NAME": "newdb", "PARENTID": "3", "CAPACITY": str(2 * 2097152), "ENABLECOMPRESSION": "true",
         "ENABLEDEDUP": "true"}
    assert body["vstoreId"] == next(i for i, n in server.vstores.items() if n == VSTORE)
    assert server.share_of("newdb").path == "/newdb/"                  # type: ignore[union-attr]
    with pytest.raises(StorageError, match="file system newdb already exists"):
        dorado.driver("newdb").createvolume()


# -- names and configuration -------------------------------------------------------------------------
def test_bad_names_never_reach_the_array(dorado: Backend):
    d = dorado.driver()
    snapid = d.snap()
    server = server_of(dorado)
    server.calls.clear()
    for name in ["a/b", "..", "a b", "a?b=c", "a%2Fb", "a#b", "-x", "$(id)", "", "a:b", "a::b"]:
        for call, args in ((d.clone, (snapid, name)), (d.dropclone, (name,)), (d.dropsnap, (name,)),
                           (d.clone, (name, "c1")), (d.filesystem_info, (name,)), (d.mountstring, (name,))):
            with pytest.raises(UsageError, match="invalid"):
                call(*args)
    assert server.calls == []


@pytest.mark.parametrize("key,value,said", [
    ("url", "dorado.example.com:8088", "must look like https://host"),
    ("vstore", "a/b", "invalid vstore name"),
    ("cacert", "/nonexistent/ca.pem", "cacert '/nonexistent/ca.pem': no such file"),
    ("retries", "many", "key 'retries' must be an integer"),
])
def test_bad_settings_are_errors_before_any_call(dorado: Backend, key: str, value: str, said: str):
    dorado.rewrite_config("huaweidorado", **{key: value})
    server_of(dorado).calls.clear()
    with pytest.raises((ConfigError, UsageError), match=said):
        dorado.driver()
    assert server_of(dorado).calls == []


def test_an_unknown_vstore_or_filesystem_says_so(dorado: Backend):
    dorado.rewrite_config("huaweidorado", vstore="nosuchvstore")
    with pytest.raises(StorageError, match="vstore nosuchvstore not found"):
        dorado.driver().snapshots()
    dorado.rewrite_config("huaweidorado", vstore=VSTORE)
    dorado.rewrite_config("nodb", snapexpirationdays="7")
    with pytest.raises(StorageError, match=r"file system nodb not found in vstore oibvstore \(zvolume.py nodb "):
        dorado.driver("nodb").snapshots()
    dorado.rewrite_config("huaweidorado", restorenfsclient="a b")
    d = dorado.driver()
    with pytest.raises(ConfigError, match="restorenfsclient must be an IP, a host name or"):
        d.clone(d.snap(), "c1")


OLD_MAIN = """[generic]
backupdest: {backupdest}
snappermodule: huawei
snapperclass: HuaweiDorado

[huaweidorado]
url: {url}
vstore: {vstore}
mounthost: 10.1.1.5
restorenfsclient: *

[orcl]
snapexpirationdays: 7
snapexpirationmonths: 0
"""


def test_an_old_configuration_and_credentials_file_work_unchanged(dorado: Backend, tmp_path: Path, monkeypatch):
    """The old sample's keys only, huaweidoradocredentials.cfg beside the configuration (installed layout),
    the array's CA one the host trusts (here through REQUESTS_CA_BUNDLE, as a system store would)."""
    etc = tmp_path / "etc"
    etc.mkdir()
    main = etc / "backup.cfg"
    main.write_text(OLD_MAIN.format(backupdest=dorado.backupdest, url=server_of(dorado).url, vstore=VSTORE.upper()))
    write_credentials(etc / "huaweidoradocredentials.cfg")
    monkeypatch.setattr(config_module, "is_checkout", lambda: False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(session_pki().ca_file))
    d = create_snapper(Configuration(main, section="orcl", env={}), "orcl")
    assert isinstance(d, HuaweiDorado)
    snapid = d.snap()
    d.clone(snapid, "autorestore")
    assert [(c.clonename, c.origin, c.mountpoint) for c in d.clones()] == [("autorestore", snapid, "/autorestore/")]
    assert d.mountstring("orcl") == "10.1.1.5:/orcl/"
    d.dropclone("autorestore")
    assert [s.id for s in d.snapshots()] == [snapid]


# -- a fault at each call ---------------------------------------------------------------------------
STEPS = ["snap", "list", "clone", "listclones", "dropclone", "dropsnap"]


def _step(d: HuaweiDorado, step: str, snapid: str) -> None:
    {"snap": lambda: d.snap(), "list": lambda: d.snapshots(), "clone": lambda: d.clone(snapid, "c1"),
     "listclones": lambda: d.clones(), "dropclone": lambda: d.dropclone("c1"),
     "dropsnap": lambda: d.dropsnap(snapid)}[step]()


@pytest.mark.parametrize("step", STEPS)
def test_a_fault_at_each_call_is_one_line_and_nothing_is_lost(dorado: Backend, step: str):
    server = server_of(dorado)
    d = dorado.driver()
    snapid = d.snap()
    if step in ("dropclone", "listclones"):
        d.clone(snapid, "c1")
    before = ([s.id for s in d.snapshots()], d.clones())
    server.calls.clear()
    _step(d, step, snapid)                       # once without faults: which calls it makes
    made = [c[0] for c in server.calls]
    if step in ("snap", "clone"):
        d.dropclone("c1") if step == "clone" else d.dropsnap(d.latest_snapshot()[0])     # type: ignore[index]
    elif step in ("dropclone", "dropsnap"):
        if step == "dropsnap":
            snapid = d.snap()
        else:
            d.clone(snapid, "c1")
    before = ([s.id for s in d.snapshots()], d.clones())
    for nth in range(1, len(made) + 1):
        method = made[nth - 1]
        server.fail_code(1077949001, nth=made[:nth].count(method), method=method, description="injected")
        with pytest.raises(StorageError) as err:
            _step(dorado.driver(), step, snapid)
        server.clear_faults()
        assert "\n" not in str(err.value) and "error 1077949001: injected" in str(err.value)
        assert PASSWORD not in str(err.value)
        after = ([s.id for s in d.snapshots()], [c.clonename for c in d.clones()])
        assert after == (before[0], [c.clonename for c in before[1]]), f"call {nth} ({method}) of {step}"
        if step == "dropclone" and not d.filesystem("c1").mountpoint:
            d.dropclone("c1")           # the share went, the file system did not: the next drop finishes it
            d.clone(snapid, "c1")
