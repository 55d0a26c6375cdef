"""The configuration file: its location, defaults, the override rule and its errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from imagecopy.config import Configuration, locate
from imagecopy.errors import ConfigError

SAMPLE = """
[generic]
backupdest: /nfs/backup
oraclehome: /u01/oh
maxlockwait: 30
[zfssa]
pool: pool1
[orcl]
dbid: 1433672784
recoverywindow: 2
[olddb]
dbid: 12
genericoraclehome: /u01/oh11
zfssapool: oldpool
registercatalog: TRUE
parallel: four
"""


@pytest.fixture
def cfgfile(tmp_path: Path) -> Path:
    p = tmp_path / "backup.cfg"
    p.write_text(SAMPLE)
    return p


@pytest.mark.parametrize("section, param, where, expected", [
    ("orcl", "oraclehome", "generic", "/u01/oh"),       # no override: the section's value
    ("olddb", "oraclehome", "generic", "/u01/oh11"),    # <section><param> in the database section wins
    ("orcl", "pool", "zfssa", "pool1"),
    ("olddb", "pool", "zfssa", "oldpool"),
    ("orcl", "dbid", None, "1433672784"),               # get(param) reads the database's section
    ("orcl", "dosnapshot", None, "true"),               # defaults apply to every section
    ("orcl", "schedulearchlog", None, "FREQ=HOURLY;INTERVAL=6"),
    ("olddb", "registercatalog", None, "TRUE"),
    ("orcl", "sga_size", None, "2G"),
])
def test_lookup_rule(cfgfile, section, param, where, expected):
    assert Configuration(cfgfile, section, env={}).get(param, where) == expected


def test_oraclehome_defaults_to_environment(tmp_path):
    p = tmp_path / "c.cfg"
    p.write_text("[generic]\nbackupdest: /x\n[orcl]\ndbid: 1\n")
    assert Configuration(p, "orcl", env={"ORACLE_HOME": "/env/oh"}).get("oraclehome", "generic") == "/env/oh"
    with pytest.raises(ConfigError, match=r"\[generic\] key 'oraclehome' is missing"):
        Configuration(p, "orcl", env={}).get("oraclehome", "generic")


@pytest.mark.parametrize("call, message", [
    (lambda c: c.get("nosuch"), r"backup.cfg: \[orcl\] key 'nosuch' is missing"),
    (lambda c: c.get("url", "zfssa"), r"\[zfssa\] key 'url' is missing"),
    (lambda c: c.get("x", "netapp"), r"section \[netapp\] not found"),
    (lambda c: c.for_section("olddb").getint("parallel"), r"\[olddb\] key 'parallel' must be an integer, not 'four'"),
    (lambda c: c.getint("recoverywindow", minimum=3), r"must be at least 3"),
    (lambda c: c.for_section("olddb").getbool("dbid"), r"must be true or false"),
])
def test_errors_name_file_section_and_key(cfgfile, call, message):
    with pytest.raises(ConfigError, match=message):
        call(Configuration(cfgfile, "orcl", env={}))


def test_missing_section_and_file(cfgfile, tmp_path):
    with pytest.raises(ConfigError, match=r"section \[nodb\] not found"):
        Configuration(cfgfile, "nodb")
    with pytest.raises(ConfigError, match="not found"):
        Configuration(tmp_path / "none.cfg", "orcl")


def test_unparsable_file(tmp_path):
    p = tmp_path / "bad.cfg"
    p.write_text("no section header\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        Configuration(p)


def test_locate(cfgfile, tmp_path):
    assert locate(env={"BACKUPCONFIG": str(cfgfile)}) == cfgfile
    assert locate(str(cfgfile), env={}) == cfgfile
    with pytest.raises(ConfigError, match="not found"):
        locate(env={"BACKUPCONFIG": str(tmp_path / "missing.cfg")})


def test_database_sections(cfgfile):
    assert Configuration(cfgfile).database_sections() == ["orcl", "olddb"]


def test_database_sections_skip_every_storage_and_credentials_section(tmp_path):
    p = tmp_path / "backup.cfg"
    p.write_text("[generic]\nsnappermodule: mydrivers.acmestore\n[huaweidorado]\n[softnas]\n[ZFS]\n[btrfs]\n"
                 "[localfs]\n[netapp]\n[zfscredentials]\n[netappcredentials]\n[credentials]\n[acmestore]\n"
                 "[acmestorecredentials]\n[rman]\n[autorestore]\n[orcl]\n[prod2]\n")
    assert Configuration(p).database_sections() == ["orcl", "prod2"]


def test_default_configuration_is_not_taken_from_the_current_directory(tmp_path, monkeypatch):
    from imagecopy import config
    (tmp_path / "backup.cfg").write_text(SAMPLE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(config, "config_dir", lambda: tmp_path / "etc")
    with pytest.raises(ConfigError, match=f"{tmp_path / 'etc' / 'backup.cfg'} not found"):
        locate(env={})
    assert locate("backup.cfg", env={}) == (tmp_path / "backup.cfg").resolve()
