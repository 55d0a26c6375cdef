"""The appliance drivers' one HTTP client (storage/http.py) against a real HTTPS test server."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from apiservers.base import ApiServer, Request
from apiservers.tls import session_pki

from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError
from storage.http import ApiClient, HttpSettings, url_path


class EchoServer(ApiServer):
    """Answers ``/things/<name>`` with the name it received, and errors in a ``fault`` body."""

    name = "echo"

    def __init__(self) -> None:
        super().__init__()
        self.route("GET", r"/api/things/(?P<name>[^/]+)", self.thing)
        self.route("POST", r"/api/things", self.create)
        self.route("GET", r"/api/secret", self.leak)

    def thing(self, req: Request):
        if self.basic_user(req) is None and req.headers.get("x-token") != "good":
            return 401, {"fault": {"message": "ERR_UNAUTHORIZED"}}, {}
        return 200, {"name": req.params["name"], "raw": req.raw_path}, {}

    def create(self, req: Request):
        return 201, {"made": req.body}, {}

    def leak(self, req: Request):
        return 400, {"fault": {"message": f"bad password s3cret-Pa55 for {self.basic_user(req)}"}}, {}

    def fault_body(self, status: int):
        return {"fault": {"message": f"ERR_{status}", "code": status}}


@pytest.fixture(scope="module")
def server():
    srv = EchoServer().start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _reset(server):
    server.clear_faults()
    server.calls.clear()


def settings(server: EchoServer, verify: bool | str | None = None, retries: int = 2) -> HttpSettings:
    return HttpSettings(base_url=server.url + "/api", section="zfssa",
                        verify=str(session_pki().ca_file) if verify is None else verify,
                        timeout=2, retries=retries, backoff=0.01)


def fault_text(response) -> str:
    return response.json()["fault"]["message"]


def client(server: EchoServer, **kw) -> ApiClient:
    return ApiClient(settings(server, **{k: kw.pop(k) for k in ("verify", "retries") if k in kw}),
                     auth=("admin", "s3cret-Pa55"), secrets=["s3cret-Pa55"], error_text=fault_text, **kw)


def test_a_name_is_always_one_path_segment(server):
    for name in ("a/b", "../etc", "x?y=1", "sp ace", "%2F"):
        got = client(server).get(url_path("things", name)).json()
        assert got["name"] == name


def test_a_certificate_from_an_unknown_ca_is_refused_naming_cacert(server):
    with pytest.raises(StorageError, match=r"not trusted .*set \[zfssa\] cacert"):
        client(server, verify=str(session_pki().other_ca_file)).get(url_path("things", "x"))
    with pytest.raises(StorageError, match=r"cacert"):
        client(server, verify=True).get(url_path("things", "x"))      # the system's CAs do not know it
    assert server.calls == []                                         # nothing was sent


def test_verifytls_false_works_and_warns(server, caplog):
    with caplog.at_level(logging.WARNING):
        assert client(server, verify=False).get(url_path("things", "x")).status_code == 200
    assert "verifytls is false" in caplog.text


def test_503_is_retried_then_succeeds(server):
    server.fail(nth=1, status=503)
    server.fail(nth=1, status=503)
    c = client(server)
    assert c.get(url_path("things", "x")).json()["name"] == "x"
    assert len(server.calls) == 3


def test_503_beyond_the_retries_is_one_line_with_the_fault(server):
    for _ in range(3):
        server.fail(nth=1, status=503)
    with pytest.raises(StorageError) as err:
        client(server).get(url_path("things", "x"))
    assert str(err.value) == "zfssa: GET /api/things/x failed: HTTP 503: ERR_503"
    assert len(server.calls) == 3


def test_500_is_not_retried(server):
    server.fail(nth=1, status=500)
    with pytest.raises(StorageError, match="HTTP 500: ERR_500"):
        client(server).post(url_path("things"), json={"a": 1})
    assert len(server.calls) == 1


def test_a_dropped_connection_is_retried(server):
    server.fail(nth=1, action="drop")
    assert client(server).get(url_path("things", "y")).json()["name"] == "y"


def test_a_post_that_timed_out_is_not_sent_again(server):
    server.stall_seconds = 3
    server.fail(nth=1, action="stall", method="POST")
    with pytest.raises(StorageError, match="POST /api/things failed: .*timed out"):
        client(server).post(url_path("things"), json={"a": 1})
    assert [c[0] for c in server.calls] == ["POST"]


def test_a_get_that_timed_out_is_tried_again(server):
    server.stall_seconds = 3
    server.fail(nth=1, action="stall", method="GET")
    assert client(server).get(url_path("things", "z")).json()["name"] == "z"


def test_401_logs_in_again_once(server):
    logins = []

    def relogin(c: ApiClient) -> None:
        logins.append(1)
        c.session.headers["X-Token"] = "good"

    c = ApiClient(settings(server), error_text=fault_text, relogin=relogin)
    assert c.get(url_path("things", "q")).status_code == 200
    assert logins == [1]
    c.session.headers["X-Token"] = "expired"
    logins.clear()
    with pytest.raises(StorageError, match="HTTP 401: ERR_UNAUTHORIZED"):
        ApiClient(settings(server), error_text=fault_text, relogin=lambda c: logins.append(1)).get(
            url_path("things", "q"))
    assert logins == [1]


def test_the_password_never_reaches_an_error(server, caplog):
    with caplog.at_level(logging.DEBUG), pytest.raises(StorageError) as err:
        client(server).get(url_path("secret"))
    assert "s3cret" not in str(err.value) and "***" in str(err.value)
    assert "s3cret" not in caplog.text


def test_settings_from_configuration(tmp_path: Path):
    cfg = tmp_path / "b.cfg"
    cfg.write_text(f"[zfssa]\ncacert: {tmp_path}/nope.pem\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[zfssa\] cacert .*no such file"):
        HttpSettings.from_config(Configuration(cfg, env={}), "zfssa", "https://h:215")
    cfg.write_text("[zfssa]\nverifytls: no\ntimeout: 5\n", encoding="utf-8")
    s = HttpSettings.from_config(Configuration(cfg, env={}), "zfssa", "https://h:215/")
    assert (s.verify, s.timeout, s.base_url) == (False, 5.0, "https://h:215")
    with pytest.raises(ConfigError, match="must look like https://host"):
        HttpSettings.from_config(Configuration(cfg, env={}), "zfssa", "zfssa.example.com")
