"""Values put into SQL and RMAN literals, and paths given to adrci."""
from __future__ import annotations

import pytest

from imagecopy.errors import ConfigError
from imagecopy.oracle import SQLPLUS_PREAMBLE, OracleExec
from imagecopy.quoting import literal, literal_body
from restorecommon import adrci_quote


@pytest.mark.parametrize("value, quoted", [
    ("plain", "'plain'"), ("it's", "'it''s'"), ("''", "''''''"), ('a"b&c$d e', "'a\"b&c$d e'"),
])
def test_literal_doubles_single_quotes(value, quoted):
    assert literal(value) == quoted


@pytest.mark.parametrize("value", ["a\nhost id", "a\rb", "a\x00b"])
def test_literal_refuses_line_breaks_and_nul(value):
    with pytest.raises(ConfigError, match="newline or NUL"):
        literal_body(value, "OSPASSWORD")


@pytest.mark.parametrize("path", ["/log;purge -age 0", '/log"x', "/log'x", "/log\nx"])
def test_adrci_refuses_what_could_add_commands(path):
    with pytest.raises(ConfigError, match="adrci"):
        adrci_quote(path)


def test_adrci_quotes_a_path_with_spaces():
    assert adrci_quote("/u01/restore logs") == '"/u01/restore logs"'


def test_sqlplus_scripts_start_with_define_off(tmp_path, capsys):
    OracleExec(tmp_path, dry_run=True).sqlplus("select '&x' from dual;\n")
    shown = capsys.readouterr().out
    assert SQLPLUS_PREAMBLE.strip() == "set define off"
    assert shown.splitlines()[1] == "set define off"
