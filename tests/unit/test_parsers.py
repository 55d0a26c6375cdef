"""Parsing what SQL*Plus and RMAN print, fed real captured output (tests/fixtures)."""
from __future__ import annotations

from pathlib import Path

import pytest

from imagecopy.backupjob import config_statements, parse_dbparams, parse_missing
from imagecopy.oracle import error_lines, marker_value
from imagecopy.units import size2str

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_archive_current_markers_from_a_real_log():
    out = (FIXTURES / "sqlplus_archive_current.txt").read_text()
    assert marker_value(out, "CURRENT DATABASE TIME: ") == "2016-11-08 21:53:35"
    assert marker_value(out, "CURRENT DATABASE SCN: ") == "799175"
    assert marker_value(out, "BCT FILE: ") == "/u01/app/oracle/oradata/ORCL/changetracking/o1_mf_cn8pwrjs_.chg"


def test_markers_survive_sqlplus_blank_padding():
    out = "CURRENT DATABASE SCN: 804125" + " " * 180 + "\n"
    assert marker_value(out, "CURRENT DATABASE SCN: ") == "804125"
    assert marker_value(out, "BCT FILE: ") is None


def test_dbparams_from_a_real_log():
    params = parse_dbparams((FIXTURES / "sqlplus_dbparams.txt").read_text())
    assert params == {"db_block_size": "8192", "compatible": "12.1.0.2.0", "db_files": "200",
                      "undo_tablespace": "UNDOTBS1", "db_name": "orcl", "enable_pluggable_database": "FALSE",
                      "backup-finished": "2016-11-08 21:53:58"}


def test_missing_archivelogs():
    out = ("FRALOG: 1 93\nFRALOG: 1 94   \nFRALOG: 2 7\n3 rows selected.\n"
           "BACKUPLOG: 1 93 /b/archivelog/1_93_9.dbf\nBACKUPLOG: 1 94 /b/archivelog/1_94_9.dbf  \n")
    on_disk = {"/b/archivelog/1_93_9.dbf"}
    assert parse_missing(out, exists=on_disk.__contains__) == [(1, 94), (2, 7)]
    assert parse_missing("no rows selected") == []


def test_rman_error_lines_without_the_banner():
    lines = error_lines((FIXTURES / "rman_missing_archivelog.txt").read_text())
    assert lines == ["RMAN-03002: failure of recover command at 07/25/2018 17:55:44",
                     "RMAN-06054: media recovery requesting unknown archived log for thread 1 with sequence 15 "
                     "and starting SCN of 72611696"]


@pytest.mark.parametrize("facts, expected", [
    # nothing configured, Enterprise Edition: BCT on, FRA dest and backup dest on the first free numbers
    ("BCT: DISABLED\nEDITION: Oracle Database 12c Enterprise Edition Release 12.1.0.2.0 - 64bit Production\n"
     "ARCHDEST: log_archive_dest_1=\nARCHDEST: log_archive_dest_2=\n",
     ["alter database enable block change tracking;",
      "alter system set log_archive_dest_1='LOCATION=USE_DB_RECOVERY_FILE_DEST MANDATORY' scope=both;",
      "alter system set log_archive_dest_state_1=enable scope=both;",
      "alter system set log_archive_dest_2='LOCATION=/b/orcl/archivelog/ VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)' "
      "scope=both;",
      "alter system set log_archive_dest_state_2=enable scope=both;"]),
    # Standard Edition: no BCT; FRA already dest 1
    ("BCT: DISABLED\nEDITION: Oracle Database 12c Standard Edition Release 12.1.0.2.0 - 64bit Production\n"
     "ARCHDEST: log_archive_dest_1=LOCATION=USE_DB_RECOVERY_FILE_DEST\n",
     ["alter system set log_archive_dest_2='LOCATION=/b/orcl/archivelog/ VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)' "
      "scope=both;",
      "alter system set log_archive_dest_state_2=enable scope=both;"]),
    # everything in place: nothing to do (config is idempotent)
    ("BCT: ENABLED\nEDITION: Oracle Database 12c Enterprise Edition Release 12.1.0.2.0 - 64bit Production\n"
     "ARCHDEST: log_archive_dest_1=LOCATION=USE_DB_RECOVERY_FILE_DEST MANDATORY\n"
     "ARCHDEST: log_archive_dest_3=LOCATION=/b/orcl/archivelog/ VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)\n", []),
])
def test_config_statements(facts, expected):
    assert config_statements(facts, Path("/b/orcl/archivelog")) == expected


@pytest.mark.parametrize("size, text", [
    (0, "0B"), (1023, "1023B"), (1024, "1kB"), (276 * 1024 + 300, "276kB"), (165 * 1024**2, "165MB"),
    (int(1.6 * 1024**3), "2GB"), (2560, "3kB"), (3 * 1024**4, "3TB"), ("2048", "2kB"),
])
def test_size2str(size, text):
    assert size2str(size) == text


@pytest.mark.parametrize("output, prefix", [
    ("CDB-PARAM: TRUE\nCDB-PREFIX: C##\n", "C##"),
    ("CDB-PARAM: TRUE\nCDB-PREFIX: \n", "C##"),          # 12.1.0.1: no prefix parameter value
    ("CDB-PARAM: TRUE\nCDB-PREFIX: CX_\n", "CX_"),
    ("CDB-PARAM: FALSE\nCDB-PREFIX: \n", ""),
    ("no rows selected\n", ""),                          # 11g: no such parameter
])
def test_common_user_prefix(output, prefix):
    from imagecopy.schedule import common_user_prefix
    assert common_user_prefix(output) == prefix


def test_missing_archivelogs_of_two_threads_with_the_same_sequences():
    """RAC: both threads archive sequence 41 and 42; only thread 2's 42 is missing from the backup area."""
    out = ("FRALOG: 1 41\nFRALOG: 2 41\nFRALOG: 1 42\nFRALOG: 2 42\n"
           "BACKUPLOG: 1 41 /b/archivelog/1_41_9.dbf\nBACKUPLOG: 2 41 /b/archivelog/2_41_9.dbf\n"
           "BACKUPLOG: 1 42 /b/archivelog/1_42_9.dbf\nBACKUPLOG: 2 42 /b/archivelog/2_42_9.dbf\n")
    on_disk = {"/b/archivelog/1_41_9.dbf", "/b/archivelog/2_41_9.dbf", "/b/archivelog/1_42_9.dbf"}
    assert parse_missing(out, exists=on_disk.__contains__) == [(2, 42)]


def test_archived_to_per_thread_from_the_markers():
    from imagecopy.invariants import parse_pairs
    from imagecopy.oracle import marker_values
    out = "ARCHIVEDTO: 1 80412          \nARCHIVEDTO: 2 80415\n\n2 rows selected.\n"
    assert parse_pairs(marker_values(out, "ARCHIVEDTO: ")) == {1: 80412, 2: 80415}
