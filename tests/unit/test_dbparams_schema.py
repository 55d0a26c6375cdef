"""autorestore.cfg comes from the backup storage: on the restore host it is untrusted input.

Every hostile file below must be refused with one clear line, before any value
reaches init.ora, SQL*Plus or RMAN.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from imagecopy import dbparams
from imagecopy.dbparams import ParamsError

GOOD = """[dbparams]
db_name: ORCL
undo_tablespace: UNDOTBS1
compatible: 19.0.0
db_block_size: 8192
db_files: 200
enable_pluggable_database: FALSE
backup-finished: 2026-11-30 03:10:00
lastscn: 2849817
lasttime: 2026-11-30 03:00:00
bctfile: /u01/oradata/ORCL/bct.f
"""


def line(key: str, value: str) -> str:
    """GOOD with ``key`` set to ``value``."""
    return "\n".join(f"{key}: {value}" if row.startswith(f"{key}:") else row for row in GOOD.splitlines()) + "\n"


HOSTILE = {
    "continuation_host_command": (line("db_name", "ORCL\n  host touch /tmp/pwned"), "'db_name' has an invalid"),
    "continuation_in_compatible": (line("compatible", "19.0.0\n  *.audit_file_dest='/etc'"), "'compatible'"),
    "quote_in_db_name": (line("db_name", "OR'CL"), "'db_name'"),
    "db_name_too_long": (line("db_name", "ABCDEFGHI"), "'db_name'"),
    "db_name_starts_with_digit": (line("db_name", "1ORCL"), "'db_name'"),
    "sql_in_undo": (line("undo_tablespace", "UNDO'; drop user x; --"), "'undo_tablespace'"),
    "scn_not_digits": (line("lastscn", "123 or 1=1"), "'lastscn'"),
    "scn_negative": (line("lastscn", "-5"), "'lastscn'"),
    "time_words": (line("lasttime", "yesterday"), "'lasttime'"),
    "time_impossible_date": (line("lasttime", "2026-13-45 25:61:00"), "'lasttime' is not a valid time"),
    "time_with_rman_command": (line("lasttime", "2026-11-30 03:00:00'; host 'id"), "'lasttime'"),
    "block_size_odd": (line("db_block_size", "8193"), "'db_block_size'"),
    "block_size_expression": (line("db_block_size", "8192\n  *.event='10046'"), "'db_block_size'"),
    "db_files_huge": (line("db_files", "99999999"), "'db_files'"),
    "pdb_flag_word": (line("enable_pluggable_database", "TRUE\n  *.x=1"),
                       "'enable_pluggable_database'"),
    "bct_relative": (line("bctfile", "relative/bct.f"), "'bctfile'"),
    "bct_with_quote": (line("bctfile", "/u01/bct'.f"), "'bctfile'"),
    "duplicate_key": (GOOD + "db_name: EVIL\n", "cannot parse"),
    "duplicate_key_other_case": (GOOD + "DB_NAME: EVIL\n", "cannot parse"),
    "duplicate_section": (GOOD + "[dbparams]\nlastscn: 1\n", "cannot parse"),
    "no_section": ("db_name: ORCL\n", "cannot parse"),
    "other_section_only": ("[params]\ndb_name: ORCL\n", "no \\[dbparams\\] section"),
    "default_section_poison": ("[DEFAULT]\nlasttime: X'\n" + GOOD, "DEFAULT"),
    "compatible_letters": (line("compatible", "19.0.0a"), "'compatible'"),
    "nul_byte": (line("db_name", "OR\x00CL"), "'db_name'"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused_in_one_line(tmp_path, name):
    text, message = HOSTILE[name]
    path = tmp_path / "autorestore.cfg"
    path.write_text(text)
    with pytest.raises(ParamsError, match=message) as info:
        dbparams.load(path)
    assert "\n" not in str(info.value)


def test_not_utf8_is_refused(tmp_path):
    path = tmp_path / "autorestore.cfg"
    path.write_bytes(GOOD.encode() + b"undo_tablespace: \xff\xfe\n")
    with pytest.raises(ParamsError, match="not UTF-8"):
        dbparams.load(path)


def test_oversized_file_is_refused(tmp_path):
    path = tmp_path / "autorestore.cfg"
    path.write_text(GOOD + "#" * (dbparams.MAX_BYTES + 1) + "\n")
    with pytest.raises(ParamsError, match="larger than"):
        dbparams.load(path)


def test_symlink_is_refused(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(GOOD)
    path = tmp_path / "autorestore.cfg"
    os.symlink(secret, path)
    with pytest.raises(ParamsError, match="symbolic link"):
        dbparams.load(path)


def test_good_file_is_read(tmp_path):
    path = tmp_path / "autorestore.cfg"
    path.write_text(GOOD)
    values = dbparams.load(path)
    assert values["db_name"] == "ORCL" and values["lasttime"] == "2026-11-30 03:00:00"


@pytest.mark.parametrize("bct", ["", "+DATA/ORCL/CHANGETRACKING/ctf.283.1089"])
def test_no_bct_file_or_an_asm_one_is_fine(tmp_path, bct):
    path = tmp_path / "autorestore.cfg"
    path.write_text(line("bctfile", bct))
    assert dbparams.load(path)["bctfile"] == bct


def test_unknown_keys_are_ignored_with_a_warning(tmp_path, caplog):
    path = tmp_path / "autorestore.cfg"
    path.write_text(GOOD + "future_key: 1\n")
    with caplog.at_level(logging.WARNING):
        values = dbparams.load(path)
    assert "future_key" not in values
    assert "unknown key 'future_key' ignored" in caplog.text


def test_the_backup_side_still_reads_its_own_file(tmp_path: Path):
    path = tmp_path / "autorestore.cfg"
    path.write_text(GOOD)
    assert dbparams.set_target(path, "1", "2026-12-01 00:00:00", None)
    assert dbparams.load(path)["lastscn"] == "1"
