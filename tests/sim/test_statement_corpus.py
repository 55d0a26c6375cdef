"""The statement corpus: what the toolset emits parses in the simulator; what Oracle rejects, it rejects.

Every template in ``templates/`` is rendered with each of its options on and
off (as the toolset renders them), split into what SQL*Plus and RMAN would
see, and each query, PL/SQL block and RMAN command is parsed by the
simulator's Oracle grammar.  Then variants of those statements with the
mistakes people make (typos, missing keywords, extra commas, clauses out of
order) must each fail with the code Oracle gives, written beside the case.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from oracle_sim.plsql.parser import parse_block
from oracle_sim.rman import statements as rst
from oracle_sim.rman.client import parse_tokens
from oracle_sim.rman.lexer import EOF, statement_end, tokenize
from oracle_sim.rman.parser import ParseError
from oracle_sim.sql.grammar import check_query
from oracle_sim.sql.query import PositionedError
from oracle_sim.sqlplus.client import PLSQL_CREATE
from oracle_sim.sqlplus.client import statement_end as sql_end

from imagecopy.templates import Templates

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
COMMON = {
    "recoverywindow": 7, "parallel": 2, "backupdest": "/backup/orcl", "configname": "orcl",
    "archdir": "/backup/orcl/archivelog", "targettns": "orcl", "catalogconnect": "rman/pw@rcat", "dbid": 1433672784,
    "tnspath": "/etc/tns", "tns": "orcl", "logfile": "/tmp/x.log", "cfgdestination": "/mnt/orcl",
    "scratch": "/mnt/orcl/restore_x", "mountdestination": "/mnt/orcl",
    "lasttime": "2026-12-01 10:00:00", "customverifydate": "select max(createtime) from app.transactions",
    "scheduleuser": "C##BACKUPEXEC", "userpassword": "Pw-1", "osuser": "oracle", "ospassword": "secret",
    "backupscript": "/opt/oib/backup.py", "numberofarguments": 2, "schedulebackup": "FREQ=DAILY;BYHOUR=1",
    "schedulearchlog": "FREQ=HOURLY", "backupjobenabled": "true", "compatible": "12.1.0.2", "db_block_size": 8192,
    "db_files": 200, "db_name": "orcl", "pga_size": "1G", "sga_size": "2G", "undo_tablespace": "UNDOTBS1",
    "logdir": "/var/log/oib", "instancenumber": 1, "thread": 1, "extraparameters": "",
    "sectionsize": "", "catalogclause": "", "restorenew": "", "renamebct": "",
    "imagecopyconfigargument": "", "archlogconfigargument": "",
    "until": "time \"to_date('2026-12-01 10:00:00', 'yyyy-mm-dd hh24:mi:ss')\"",
}
CONFIG_ARG = ("dbms_scheduler.define_program_argument(program_name => 'C##BACKUPEXEC.{}', argument_position => 3, "
              "argument_name => 'config', argument_type => 'VARCHAR2', default_value => '--config=/etc/oib.cfg');")
# each option of the toolset, on (the values it renders); off is COMMON's empty value
OPTIONS = [
    {"sectionsize": "section size 32G"},
    {"catalogclause": "catalog rman/pw@rcat"},
    {"restorenew": "run {\nset newname for database to new;\nrestore datafile 5,7;\n}"},
    {"renamebct": "alter database rename file '/u01/bct.chg' to '/mnt/orcl/restore_x/bct.bct';"},
    {"imagecopyconfigargument": CONFIG_ARG.format("IMAGECOPY_PRG"),
     "archlogconfigargument": CONFIG_ARG.format("ARCHLOGBACKUP_PRG"), "numberofarguments": 3},
    {"backupjobenabled": "false"},
    {"until": "scn 1433672"},                   # restore.py --scn
]
SQLPLUS_COMMANDS = {"WHENEVER", "CONN", "CONNECT", "SET", "COL", "COLUMN", "EXEC", "EXECUTE", "EXIT", "STARTUP",
                    "SHUTDOWN", "PROMPT", "SPOOL", "DEFINE", "REM", "REMARK"}


def renderings() -> list[tuple[str, str]]:
    """(template, text) for every template with every option off, then each option on."""
    out = []
    for values in [{}, *OPTIONS]:
        t = Templates(TEMPLATES, {**COMMON, **values})
        for path in sorted(TEMPLATES.iterdir()):
            if path.suffix in (".sql", ".rman"):
                out.append((path.name, t.render(path.name)))
    # used inside RUN by backup.py missingarchlog, with the copies it adds
    archlog = Templates(TEMPLATES, COMMON).render("rman_archlog_channel.rman")
    out.append(("rman_archlog_channel.rman (in run)",
                f"run {{\n{archlog}BACKUP force as copy archivelog sequence 7 thread 1;\n}}\n"))
    return [(name, text) for name, text in out if name != "rman_archlog_channel.rman"]


def sql_pieces(text: str) -> list[tuple[str, str]]:
    """(kind, text) of a SQL*Plus script: 'command', 'plsql', 'sql' - as SQL*Plus splits it."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        line = lines[i].strip()
        word = re.split(r"[\s;(]", line, maxsplit=1)[0].upper()
        if not line or line.startswith("--"):
            i += 1
        elif word in ("BEGIN", "DECLARE") or PLSQL_CREATE.match(line.upper()):
            end = next(j for j in range(i, len(lines)) if lines[j].strip() == "/")
            out.append(("plsql", "\n".join(lines[i:end])))
            i = end + 1
        elif word in SQLPLUS_COMMANDS:
            out.append(("command", line))
            i += 1
        else:
            j = i
            while sql_end("\n".join(lines[i:j + 1])) is None:
                j += 1
            body = "\n".join(lines[i:j + 1])
            out.append(("sql", body[:sql_end(body)]))
            i = j + 1
    return out


def rman_statements(text: str) -> list[rst.Stmt | ParseError]:
    tokens = tokenize(text)
    out, pos = [], 0
    while tokens[pos].kind != EOF:
        end = statement_end(tokens, text, pos)
        assert end is not None, f"an incomplete RMAN statement: {text[tokens[pos].start:]!r}"
        out.append(parse_tokens(text, tokens[pos:end]))
        pos = end
    return out


CORPUS = renderings()


def test_the_corpus_covers_every_template():
    names = {name.split(" ")[0] for name, _ in CORPUS}
    assert names == {p.name for p in TEMPLATES.iterdir() if p.suffix in (".sql", ".rman")}
    assert len(CORPUS) >= 7 * 40


@pytest.mark.parametrize("name, text", [c for c in CORPUS if ".rman" in c[0]], ids=lambda v: v[:40])
def test_every_rman_statement_the_toolset_emits_parses(name, text):
    for stmt in rman_statements(text):
        assert not isinstance(stmt, ParseError), f"{name}: {stmt.lines()}"
        if isinstance(stmt, rst.NotSimulated):
            # the emergency restore runs on a real database host only: valid RMAN, not simulated
            assert name == "rman_emergency_restore.rman", stmt.text


@pytest.mark.parametrize("name, text", [c for c in CORPUS if c[0].endswith(".sql")], ids=lambda v: v[:40])
def test_every_query_and_plsql_block_the_toolset_emits_parses(name, text):
    for kind, body in sql_pieces(text):
        if kind == "plsql" and not PLSQL_CREATE.match(body.upper()):
            parse_block(body)
        elif kind == "sql" and body.split(None, 1)[0].upper() in ("SELECT", "WITH"):
            check_query(body)


def test_the_corpus_holds_the_toolsets_queries():
    queries = {body for name, text in CORPUS if name.endswith(".sql")
               for kind, body in sql_pieces(text) if kind == "sql" and body.split(None, 1)[0].upper() == "SELECT"}
    assert len(queries) >= 30


# Variants of the corpus's queries with the mistakes people make, each with the error Oracle's parser gives.
INVALID_SQL = [
    # extra or missing commas
    ("select 'ROLE: '||database_role, from v$database", "ORA-00936"),               # missing expression
    ("select instance_name, host_name, version, status, database_status, from v$instance", "ORA-00936"),
    ("select instance_name,, host_name from v$instance", "ORA-00936"),
    ("select 'dbconfig-'||name||': '||value from v$parameter where name in ('db_name','compatible',)", "ORA-00936"),
    ("select 'dbconfig-'||name from v$parameter where name in ('db_name' 'compatible')", "ORA-00907"),
    ("select instance_name host_name version from v$instance", "ORA-00923"),        # FROM keyword not found
    ("select * , instance_name from v$instance", "ORA-00923"),
    # missing operands and keywords
    ("select 'ROLE: '|| from v$database", "ORA-00936"),
    ("select from v$database", "ORA-00936"),
    ("select 'ROLE: '||database_role from", "ORA-00903"),                            # invalid table name
    ("select 'ROLE: '||database_role from v$database where", "ORA-00936"),
    ("select 'BCT FILE: '||filename from v$block_change_tracking where status == 'ENABLED'", "ORA-00936"),
    ("select 'X' from v$database where dbid = 1 and", "ORA-00936"),
    ("select 'X' from v$database where dbid = 1 or or dbid = 2", "ORA-00936"),
    ("select 'DATAFILE: '||file# from v$datafile order file#", "ORA-00924"),          # missing BY keyword
    ("select 'COPYSCN: '||file#||' '||max(checkpoint_change#) from v$datafile_copy group file#", "ORA-00924"),
    ("select 'COPYSCN: '||max(checkpoint_change#) from v$datafile_copy group by file# having", "ORA-00936"),
    ("select 'DATAFILE: '||file# from v$datafile order by", "ORA-00936"),
    ("select 'EDITION: '||banner from v$version where banner like", "ORA-00936"),
    ("select 'A: '||name from v$parameter where name like 'log\\_%' escape", "ORA-00936"),
    ("select 'F: '||l.thread# from v$archived_log l join v$archive_dest d l.dest_id = d.dest_id", "ORA-00905"),
    ("select 'F: '||l.thread# from v$archived_log l join v$archive_dest d on", "ORA-00936"),
    ("select 'F: '||l.thread# from v$archived_log l join on l.dest_id = d.dest_id", "ORA-00903"),
    ("select case when status = 'A' then 1 from v$archived_log", "ORA-00905"),      # missing keyword (END)
    ("select case status when 'A' 1 end from v$archived_log", "ORA-00905"),
    ("select 'S: '||sequence# from v$archived_log where sequence# between 1 10", "ORA-00905"),
    ("select 'S: '||sequence# from v$archived_log where next_change# is not", "ORA-00908"),   # missing NULL
    ("select 'X' from dual where exists select 1 from dual", "ORA-00906"),          # missing left parenthesis
    ("select 'CURRENT DATABASE TIME: '||to_char(sysdate, 'yyyy-mm-dd hh24:mi:ss') from dual union all", "ORA-00928"),
    ("select 'T' from dual union all from v$database", "ORA-00928"),                 # missing SELECT keyword
    # parentheses
    ("select 'COPYSCN: '||max(checkpoint_change# from v$datafile_copy", "ORA-00907"),  # missing right parenthesis
    ("select to_char(max(time_dp) 'yyyy-mm-dd hh24:mi:ss') from sys.smon_scn_time", "ORA-00907"),
    ("select 'NOCOPY: '||file# from v$datafile where file# not in (select file# from v$datafile_copy", "ORA-00907"),
    ("select 'COPYSCN: '||max(checkpoint_change#)) from v$datafile_copy", "ORA-00923"),
    # typos and words that are not Oracle's
    ("select 'ROLE: '||database_role form v$database", "ORA-00923"),
    ("select 'ROLE: '||database_role v$database", "ORA-00923"),
    ("select true from dual", "ORA-00904"),                                          # invalid identifier
    ("select 'X' from dual where false", "ORA-00904"),
    ("select 'ROLE: '||database_role from v$database limit 1", "ORA-00933"),         # not properly ended
    ("select 'S: '||max(sequence#) from v$archived_log group by thread# limit 5", "ORA-00933"),
    ("select user from dual dual2 dual3", "ORA-00933"),
    ("select 'X' from dual where 1 = 1 = 1", "ORA-00933"),
    # clauses in the wrong order
    ("select 'C: '||file# from v$datafile_copy where deleted = 'NO' group by file# where status = 'A'", "ORA-00933"),
    ("select 'J: '||job_name from dba_scheduler_jobs order by last_start_date nulls first where owner = 'X'",
     "ORA-00933"),
    ("select 'C: '||file# from v$datafile_copy having count(*) > 1 group by file#", "ORA-00933"),
    ("select 'D: '||file# where file# > 1 from v$datafile", "ORA-00923"),
]


def test_the_invalid_corpus_is_large_enough():
    assert len(INVALID_SQL) >= 40


@pytest.mark.parametrize("sql, code", INVALID_SQL)
def test_an_invalid_variant_fails_with_oracles_code(sql, code):
    with pytest.raises(PositionedError) as err:
        check_query(sql)
    assert err.value.lines[0].startswith(code + ":"), err.value.lines


INVALID_RMAN = [
    "recover copy of databse with tag 'image_copy_backup';",
    "backup incremental level for recover of copy with tag 'image_copy_backup' database;",
    "delete noprompt obsolete recovery window of days;",
    "configure controlfile autobackup onn;",
    "restore database validate headr;",
    "backup current controlfile format reuse tag 'image_copy_backup';",
]


@pytest.mark.parametrize("text", INVALID_RMAN)
def test_an_invalid_rman_variant_is_a_syntax_error(text):
    (stmt,) = rman_statements(text)
    assert isinstance(stmt, ParseError)
    assert stmt.lines()[:2][0] == "RMAN-00558: error encountered while parsing input commands"
    assert stmt.lines()[1].startswith("RMAN-01009: syntax error: found ")


# Valid RMAN the simulator does not model: one distinct error, not a syntax error.
NOT_SIMULATED_RMAN = [
    "backup database plus archivelog;",
    "run {\nallocate channel c1 type disk;\nbackup database;\n}",
    "backup as compressed backupset database;",
    "alter database open resetlogs;",
    "duplicate target database to dup1;",
    "flashback database to scn 1000;",
    "list incarnation;",
    "list backup;",
]


def test_list_backup_summary_is_simulated(orcl):
    result = orcl.rman("connect target /\nlist backup summary;\nexit\n", sid="orcl")
    assert result.returncode == 0
    assert "specification does not match any backup in the repository" in result.stdout


@pytest.mark.parametrize("text", NOT_SIMULATED_RMAN)
def test_valid_but_unsimulated_rman_says_so(orcl, text):
    result = orcl.rman(f"connect target /\n{text}\nexit\n", sid="orcl")
    assert result.returncode == 1
    assert "is not simulated]" in result.stdout and "RMAN-00600: internal error" in result.stdout
    assert "RMAN-01009" not in result.stdout


def _sqlplus(orcl, body: str) -> str:
    return orcl.sqlplus(f"conn / as sysdba\n{body}\nexit\n", sid="orcl").stdout


@pytest.mark.parametrize("sql, code", [
    ("select name, from v$database;", "ORA-00936: missing expression"),
    ("select name from v$database limit 1;", "ORA-00933: SQL command not properly ended"),
    ("select 1 from dual where 1 == 1;", "ORA-00936: missing expression"),
    ("select true from dual;", 'ORA-00904: "TRUE": invalid identifier'),
    ("select a b c from dual;", "ORA-00923: FROM keyword not found where expected"),
])
def test_sqlplus_shows_oracles_error_with_its_marker(orcl, sql, code):
    out = _sqlplus(orcl, sql)
    assert f"ERROR at line 1:\n{code}" in out
    assert "*\nERROR at line 1:" in out


def test_comments_inside_any_statement_are_skipped_as_oracle_does(orcl):
    out = _sqlplus(orcl, "alter session /* the format */ set nls_date_format = 'yyyy-mm-dd';\n"
                         "alter session set -- the format\n nls_date_format = 'yyyy-mm-dd hh24:mi';\n"
                         "select /* hint-like */ to_char(sysdate, 'yyyy') -- the year\n from dual;")
    assert out.count("Session altered.") == 2
    assert "ORA-" not in out


# Statements other than queries, through SQL*Plus: the code Oracle gives for each mistake.
INVALID_OTHER = [
    ("alter sesion set nls_date_format = 'yyyy'", "ORA-00940"),          # invalid ALTER command
    ("alter system swich logfile", "ORA-02065"),                          # illegal option for ALTER SYSTEM
    ("alter database opne read only", "ORA-02231"),                       # missing or invalid option
    ("create usr x identified by y", "ORA-00901"),                        # invalid CREATE command
    ("insert into app.transactions values (1,", "ORA-00936"),            # missing expression
    ("insert app.transactions values (1, sysdate)", "ORA-00925"),         # missing INTO keyword
    ("insert into app.transactions (id, createtime) valeus (1, sysdate)", "ORA-00926"),   # missing VALUES
    ("insert into app.transactions values 1", "ORA-00906"),               # missing left parenthesis
    ("update app.transactions id = 1", "ORA-00971"),                      # missing SET keyword
    ("update app.transactions set id 1", "ORA-00927"),                    # missing equal sign
    ("update app.transactions set id = where id = 1", "ORA-00936"),
    ("delete from app.transactions where", "ORA-00936"),
    ("delete from app.transactions where id = 1 limit 1", "ORA-00933"),  # not properly ended
]


@pytest.mark.parametrize("sql, code", INVALID_OTHER)
def test_an_invalid_statement_fails_in_sqlplus_with_oracles_code(orcl, sql, code):
    out = _sqlplus(orcl, sql + ";")
    assert f"ERROR at line 1:\n{code}:" in out, out
