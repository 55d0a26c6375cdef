"""The RMAN grammar in-process: statement boundaries, statement objects, syntax errors."""
from __future__ import annotations

import pytest
from oracle_sim.rman import statements as st
from oracle_sim.rman.client import parse_tokens
from oracle_sim.rman.lexer import EOF, LexError, statement_end, tokenize
from oracle_sim.rman.parser import ParseError
from oracle_sim.rman.timeexpr import evaluate


def parse(text: str):
    tokens = tokenize(text)
    end = statement_end(tokens, text, 0)
    assert end is not None, "statement not complete"
    return parse_tokens(text, tokens[:end])


def test_statement_boundaries():
    text = "CONNECT TARGET /@orcl\nrun {\nbackup spfile;\n}\nbackup\n database;"
    tokens = tokenize(text + "\n")
    first = statement_end(tokens, text + "\n", 0)
    assert tokens[first].is_word("RUN")
    second = statement_end(tokens, text + "\n", first)
    assert tokens[second].is_word("BACKUP")
    assert tokens[statement_end(tokens, text + "\n", second)].kind == EOF
    assert statement_end(tokenize("run {\nbackup spfile;\n"), "run {\nbackup spfile;\n", 0) is None
    with pytest.raises(LexError):
        tokenize("sql 'alter system")


def test_backup_statement_objects():
    b = parse("backup section size 100M incremental level 1 for recover of copy with tag 'image_copy_backup' "
              "database;")
    assert isinstance(b, st.Backup)
    assert (b.level, b.recover_of_copy, b.copy_tag, b.section_size) == (1, True, "IMAGE_COPY_BACKUP", 100 << 20)
    assert [s.kind for s in b.specs] == ["DATABASE"]
    c = parse("backup current controlfile format '/b/cf' reuse tag 'x';")
    assert (c.specs[0].kind, c.specs[0].format, c.specs[0].reuse, c.specs[0].tag) == ("CONTROLFILE", "/b/cf", True, "X")
    a = parse("BACKUP force as copy archivelog sequence 90 thread 1;")
    assert (a.force, a.as_copy, a.specs[0].sequence, a.specs[0].thread) == (True, True, 90, 1)


def test_configure_values_are_stored_as_v_rman_configuration_spells_them():
    assert parse("CONFIGURE CHANNEL DEVICE TYPE DISK FORMAT '/b/%U';").value == "DEVICE TYPE DISK FORMAT   '/b/%U'"
    cfg = parse("configure device type disk parallelism 4;")
    assert (cfg.name, cfg.value) == ("DEVICE TYPE", "DISK PARALLELISM 4 BACKUP TYPE TO BACKUPSET")
    assert parse("configure archivelog deletion policy to applied on all standby;").value == \
        "TO APPLIED ON ALL STANDBY"
    assert parse("configure retention policy clear;").value is None


def test_run_block_and_set_commands():
    run = parse("run {\nallocate channel c1 device type disk;\nset newname for database to new;\n"
                "set until time \"to_date('2016-11-08 22:39:45', 'yyyy-mm-dd hh24:mi:ss')\";\nrecover database;\n}")
    assert [type(s) for s in run.body] == [st.Allocate, st.SetNewname, st.SetUntil, st.RecoverDatabase]
    assert run.body[0].name == "c1" and run.body[3].line == 5


def test_syntax_errors_name_what_was_found_and_where():
    err = parse("backup databse;")
    assert isinstance(err, ParseError)
    lines = err.lines()
    assert lines[1].startswith('RMAN-01009: syntax error: found "identifier": expecting one of: "archivelog, ')
    assert lines[2:] == ["RMAN-01008: the bad identifier was: databse",
                         "RMAN-01007: at line 1 column 8 file: standard input"]
    err = parse("run {\nbackup spfile;\nallocate channel c1 device type tape;\n}")
    assert err.lines()[1] == 'RMAN-01009: syntax error: found "identifier": expecting one of: "disk"'
    assert err.lines()[-1] == "RMAN-01007: at line 3 column 33 file: standard input"
    err = parse("allocate channel c1 device type disk;")  # only inside RUN
    assert isinstance(err, ParseError) and 'found "allocate"' in err.lines()[1]
    text = "delete noprompt backupset tag 'x'"  # the input ended without the semicolon
    err = parse_tokens(text, tokenize(text)[:-1])
    assert isinstance(err, ParseError) and 'found "end-of-file": expecting one of: ";"' in err.lines()[1]


def test_time_expressions():
    now = 1_700_000_000.0
    assert evaluate("sysdate-2", now) == now - 2 * 86400
    assert evaluate("SYSDATE - 1/24", now) == now - 3600
    env = {"NLS_DATE_FORMAT": "yyyy-mm-dd hh24:mi:ss"}
    t = evaluate("to_date('2016-11-08 22:39:45', 'yyyy-mm-dd hh24:mi:ss')", now)
    assert evaluate("'2016-11-08 22:39:45'", now, env) == t
    from oracle_sim.instance import OraError
    with pytest.raises(OraError, match="ORA-00904"):
        evaluate("yesterday", now)
