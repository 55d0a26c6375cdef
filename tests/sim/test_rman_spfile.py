"""The simulated RMAN brings back a lost SPFILE from a %F controlfile autobackup, as real RMAN does."""
from __future__ import annotations

import pytest

FORMAT_CONFIG = """configure controlfile autobackup on;
configure controlfile autobackup format for device type disk to '{bk}/%F';
backup current controlfile tag 'x';
"""


@pytest.fixture
def lost(orcl, tmp_path):
    """orcl with one autobackup in tmp/bk, then shut down and its SPFILE gone."""
    bk = tmp_path / "bk"
    bk.mkdir()
    r = orcl.rman(FORMAT_CONFIG.format(bk=bk), "target", "/", sid="orcl")
    assert r.returncode == 0, r.stdout
    assert list(bk.glob("c-1433672784-*-*"))
    r = orcl.sqlplus("conn / as sysdba\nshutdown abort\nexit\n", sid="orcl")
    assert r.returncode == 0
    spfile = orcl.state / "spfiles" / "orcl.json"
    params = spfile.read_text()
    spfile.unlink()
    return orcl, bk, spfile, params


def run(sim, text: str):
    return sim.rman(text, "target", "/", sid="orcl")


def test_restore_spfile_from_autobackup_in_the_set_format(lost):
    sim, bk, spfile, params = lost
    r = run(sim, f"set dbid 1433672784;\nstartup nomount;\n"
                 f"set controlfile autobackup format for device type disk to '{bk}/%F';\n"
                 "restore spfile from autobackup;\nstartup force nomount;\n")
    assert r.returncode == 0, r.stdout
    assert "startup failed: ORA-01078: failure in processing system parameters" in r.stdout
    assert "starting Oracle instance without parameter file for retrieval of spfile" in r.stdout
    assert "AUTOBACKUP found: " + str(bk) in r.stdout
    assert spfile.read_text() == params


def test_without_the_format_nothing_is_found(lost):
    sim, _bk, spfile, _params = lost
    r = run(sim, "set dbid 1433672784;\nstartup nomount;\nrestore spfile from autobackup;\n")
    assert r.returncode == 1
    assert "no AUTOBACKUP in 7 days found" in r.stdout
    assert "RMAN-06172: no AUTOBACKUP found or specified handle is not a valid copy or piece" in r.stdout
    assert not spfile.exists()


def test_without_set_dbid_rman_asks_for_it(lost):
    sim, bk, _spfile, _params = lost
    r = run(sim, f"startup nomount;\nset controlfile autobackup format for device type disk to '{bk}/%F';\n"
                 "restore spfile from autobackup;\n")
    assert r.returncode == 1
    assert "RMAN-06495: must explicitly specify DBID with SET DBID command" in r.stdout


def test_an_instance_running_on_its_spfile_needs_the_to_clause(orcl):
    r = orcl.rman("set dbid 1433672784;\nrestore spfile from autobackup;\n", "target", "/", sid="orcl")
    assert r.returncode == 1
    assert "RMAN-06564: must use the TO clause when the instance is started with SPFILE" in r.stdout


def test_startup_mount_without_a_parameter_file_still_fails(lost):
    sim, _bk, _spfile, _params = lost
    r = run(sim, "startup mount;\n")
    assert r.returncode == 1
    assert "ORA-01078" in r.stdout and "retrieval of spfile" not in r.stdout
