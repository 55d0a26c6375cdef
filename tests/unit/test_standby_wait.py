"""Backing up a physical standby: what is waited for, how long, and the archive destination config sets."""
from __future__ import annotations

from pathlib import Path

import pytest

from imagecopy.backupjob import config_statements, lagging, standby_archive_wait, takes_standby_logs
from imagecopy.config import Configuration
from imagecopy.errors import ConfigError

EE = "EDITION: Oracle Database 12c Enterprise Edition Release 12.1.0.2.0 - 64bit Production\n"
FRA = "ARCHDEST: log_archive_dest_1=LOCATION=USE_DB_RECOVERY_FILE_DEST MANDATORY\n"


@pytest.mark.parametrize("wanted, archived, expected", [
    ({1: 57}, {1: 57}, ""),
    ({1: 57}, {1: 58}, ""),
    ({1: 57}, {1: 56}, "thread 1 sequence 57 (newest there: 56)"),
    ({1: 57}, {}, "thread 1 sequence 57 (newest there: none)"),
    # per thread: one thread's progress does not cover another's
    ({1: 57, 2: 31}, {1: 60, 2: 30}, "thread 2 sequence 31 (newest there: 30)"),
    ({1: 57, 2: 31}, {1: 50}, "thread 1 sequence 57 (newest there: 50); thread 2 sequence 31 (newest there: none)"),
    ({1: 0}, {}, ""),           # a thread that never switched has nothing to wait for
])
def test_lagging_is_per_thread(wanted, archived, expected):
    assert lagging(wanted, archived) == expected


@pytest.mark.parametrize("generic, own, expected", [
    ("", "", 120),
    ("standbyarchivewait: 30\n", "", 30),
    ("standbyarchivewait: 30\n", "standbyarchivewait: 5\n", 5),
    ("standbyarchivewait: 30\n", "genericstandbyarchivewait: 7\n", 7),
    ("", "standbyarchivewait: 0\n", 0),
])
def test_standby_archive_wait_follows_the_override_rule(tmp_path: Path, generic, own, expected):
    cfg = tmp_path / "backup.cfg"
    cfg.write_text(f"[generic]\n{generic}[orclsb]\ndbid: 1\n{own}")
    assert standby_archive_wait(Configuration(cfg, "orclsb")) == expected


@pytest.mark.parametrize("value", ["soon", "-1", "1.5"])
def test_a_bad_standby_archive_wait_names_the_key(tmp_path: Path, value):
    cfg = tmp_path / "backup.cfg"
    cfg.write_text(f"[generic]\n[orclsb]\ndbid: 1\nstandbyarchivewait: {value}\n")
    with pytest.raises(ConfigError, match="standbyarchivewait"):
        standby_archive_wait(Configuration(cfg, "orclsb"))


@pytest.mark.parametrize("setting, takes", [
    ("LOCATION=/b/", True),
    ("LOCATION=/b/ VALID_FOR=(ALL_LOGFILES,ALL_ROLES)", True),
    ("LOCATION=/b/ VALID_FOR=(STANDBY_LOGFILES,STANDBY_ROLE)", True),
    ("LOCATION=/b/ VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)", False),
    ("LOCATION=/b/ valid_for=( all_logfiles , primary_role )", False),
])
def test_takes_standby_logs(setting, takes):
    assert takes_standby_logs(setting) is takes


def test_config_on_a_standby_makes_the_backup_destination_take_received_logs():
    facts = "BCT: ENABLED\n" + EE + FRA + "ROLE: PHYSICAL STANDBY\n"
    assert config_statements(facts, Path("/b/orclsb/archivelog")) == [
        "alter system set log_archive_dest_2='LOCATION=/b/orclsb/archivelog/ VALID_FOR=(ALL_LOGFILES,ALL_ROLES)' "
        "scope=both;",
        "alter system set log_archive_dest_state_2=enable scope=both;"]


def test_config_on_a_standby_fixes_a_primary_only_backup_destination_once():
    dest = "ARCHDEST: log_archive_dest_3=LOCATION=/b/orclsb/archivelog/ VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)\n"
    facts = "BCT: ENABLED\n" + EE + FRA + dest + "ROLE: PHYSICAL STANDBY\n"
    assert config_statements(facts, Path("/b/orclsb/archivelog")) == [
        "alter system set log_archive_dest_3='LOCATION=/b/orclsb/archivelog/ VALID_FOR=(ALL_LOGFILES,ALL_ROLES)' "
        "scope=both;"]
    fixed = facts.replace("(ONLINE_LOGFILE,PRIMARY_ROLE)", "(ALL_LOGFILES,ALL_ROLES)")
    assert config_statements(fixed, Path("/b/orclsb/archivelog")) == []
    # a primary keeps the old toolset's setting
    primary = facts.replace("ROLE: PHYSICAL STANDBY", "ROLE: PRIMARY")
    assert config_statements(primary, Path("/b/orclsb/archivelog")) == []
