"""dbinfo.py writes ``srvctl add service`` in the syntax of the Oracle home's version."""
from __future__ import annotations

import pytest

from .conftest import ok

pytestmark = pytest.mark.slow

SERVICES = [{"name": "app1", "preferred": "orcl1", "available": "orcl2", "clb": "SHORT", "rlb": "SERVICE_TIME"},
            {"name": "batch", "preferred": "orcl1", "enabled": False}]


def set_banner(benv, version: str) -> None:
    (benv.sim.home / "bin" / "oracle").write_bytes(
        b"\0\0ELF-simulated\0" + b"x" * 70000 + f"NLSRTL Version {version} - Production\0".encode())


@pytest.fixture
def gi(benv):
    from oracle_sim import tools
    benv.config.write_text(benv.config.read_text().replace("gimanaged: false", "gimanaged: true"))
    tools.gi_register(benv.sim.home, "orcl", SERVICES)
    return benv


@pytest.mark.parametrize("version, expected", [
    ("11.2.0.4.0", "srvctl add service -d orcl -s app1 -r orcl1 -a orcl2 -j SHORT -B SERVICE_TIME"),
    ("12.1.0.2.0", "srvctl add service -database orcl -service app1 -preferred orcl1 -available orcl2"),
    ("19.0.0.0.0", "srvctl add service -database orcl -service app1 -preferred orcl1 -available orcl2"),
])
def test_add_service_syntax_follows_the_version(gi, version, expected):
    set_banner(gi, version)
    out = ok(gi.script("dbinfo.py", "orcl"))
    parsed = out.split("== Service configuration parsed ==\n", 1)[1].strip().splitlines()
    assert parsed == [expected]


def test_too_old_version_is_refused(gi):
    set_banner(gi, "10.2.0.5.0")
    result = gi.script("dbinfo.py", "orcl")
    assert result.returncode == 1
    assert result.stderr == "Detected Oracle software version 10.2.0.5.0 is too old\n"


def test_unknown_version_says_so_and_uses_the_long_options(gi):
    (gi.sim.home / "bin" / "oracle").write_bytes(b"no banner here")
    out = ok(gi.script("dbinfo.py", "orcl"))
    assert "Oracle version of" in out and "unknown" in out
    assert "srvctl add service -database orcl -service app1" in out


def test_banner_across_a_read_chunk_is_found(tmp_path):
    from imagecopy import clusterware
    (tmp_path / "bin").mkdir()
    banner = b"NLSRTL Version 11.2.0.4.0 - Production"
    (tmp_path / "bin" / "oracle").write_bytes(b"\0" * (clusterware._CHUNK - 10) + banner + b"\0" * 100)
    assert clusterware.oracle_version(tmp_path) == (11, 2, 0, 4, 0)
    assert clusterware.oracle_version(tmp_path / "nosuchhome") is None
