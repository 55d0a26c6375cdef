"""The simulated SQL*Plus, driven as a subprocess the way the toolset drives it.

Output is compared with excerpts of real 12.1 captures kept in tests/fixtures
(times, dates, SCNs, host names and paths normalised).
"""
from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest
from oracle_sim import clock
from oracle_sim.instance import Instance

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLE_ARCHDIR = "/nfs/backup/orcl/archivelog"

INSTANCE_QUERY = "select instance_name, host_name, version, status, database_status from v$instance;\n"
HEADER = """whenever sqlerror exit failure
conn /@{alias} as sysdba
set feedback on
set timing on
set echo on
set lines 300
set serverout on
col host_name format a24
col version format a10
"""


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def normalise(text: str, strip: bool = True) -> list[str]:
    text = re.sub(r"Elapsed: \d\d:\d\d:\d\d\.\d\d", "Elapsed: <t>", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "<date>", text)
    text = re.sub(r"SCN: \d+", "SCN: <scn>", text)
    text = re.sub(r"BCT FILE: \S+", "BCT FILE: <file>", text)
    lines = text.splitlines()
    return [line.rstrip() for line in lines] if strip else lines


def commands_of(capture: str) -> list[str]:
    """The script a capture echoes: ``SQL> x`` and ``  2  y`` lines."""
    out = []
    for line in capture.splitlines():
        if line.startswith("SQL> "):
            out.append(line[5:])
        else:
            m = re.match(r"^\s*\d+  (.*)$", line)
            if m and out:
                out.append(m.group(1))
    return out


def ok(result) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def host_is_backup(sim, sid: str = "orcl") -> None:
    """The captures come from a host called 'backup'."""
    inst = Instance(sim.state, sid)
    inst.doc["host"] = "backup"
    inst.save()


@pytest.fixture
def archdir(orcl) -> Iterator[Path]:
    """A short path: the captured block keeps the destination in a VARCHAR2(100)."""
    path = Path(tempfile.mkdtemp(prefix="arch", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def config_script(capture: str, archdir: Path, spool: Path | None) -> str:
    body = [c.replace(SAMPLE_ARCHDIR, str(archdir)) for c in commands_of(capture)]
    head = HEADER.format(alias="orcl") + (f"spool {spool} append\n" if spool else "")
    return head + "\n".join(body) + "\nexit\n"


# -- the captured sessions -----------------------------------------------------------------

def test_config_session_matches_capture_and_is_idempotent(orcl, archdir, tmp_path):
    host_is_backup(orcl)
    capture = fixture("sqlplus_config_excerpt.txt")
    first = ok(orcl.sqlplus(config_script(capture, archdir, None), "/nolog"))
    assert f"Setting log_archive_dest_2 to {archdir}/" in first
    assert "\nBCT already enabled" not in first
    db = orcl.db()
    assert db.cf.doc["bct"]["status"] == "ENABLED" and Path(db.cf.doc["bct"]["filename"]).exists()
    assert db.instance.param("log_archive_dest_2") == \
        f"LOCATION={archdir}/ VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)"

    spool = tmp_path / "config.log"
    second = ok(orcl.sqlplus(config_script(capture, archdir, spool), "/nolog"))
    assert "\nSetting" not in second
    ours = spool.read_text().replace(str(archdir), SAMPLE_ARCHDIR)
    assert normalise(ours) == normalise(capture)
    # without TRIMSPOOL the spool pads query rows to the line size
    assert "\nSYS" + " " * 297 + "\n" in ours

    out = ok(orcl.sqlplus("conn / as sysdba\nset pages 0 feedback off lines 200\n"
                          "select name||'='||value from v$parameter where name like 'log\\_archive\\_dest\\__' "
                          "escape '\\' and value is not null;\nalter system switch logfile;\n", sid="orcl"))
    assert out.splitlines()[0:2] == ["log_archive_dest_1=LOCATION=USE_DB_RECOVERY_FILE_DEST",
                                     f"log_archive_dest_2=LOCATION={archdir}/ VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)"]
    logs = orcl.db().cf.doc["archived_logs"]
    assert sorted(a["dest_id"] for a in logs) == [1, 2]
    assert any(Path(a["name"]).parent == archdir and Path(a["name"]).exists() for a in logs)


def test_config_block_fails_like_oracle_when_the_destination_is_too_long(orcl):
    """'LOCATION=<dir>/ VALID_FOR=(...)' must fit the block's VARCHAR2(100): a real limit of the old SQL."""
    archdir = orcl.root / ("x" * 40) / "archivelog"
    archdir.mkdir(parents=True)
    result = orcl.sqlplus(config_script(fixture("sqlplus_config_excerpt.txt"), archdir, None), "/nolog")
    assert result.returncode == 1
    assert "ORA-06502: PL/SQL: numeric or value error: character string buffer too small" in result.stdout
    assert orcl.db().instance.param("log_archive_dest_2") is None


def test_archive_current_silent_output_and_markers(orcl, archdir):
    host_is_backup(orcl)
    db = orcl.db()
    with db.changing():
        bct = db.enable_bct()
        db.instance.set_parameter("log_archive_dest_2", f"LOCATION={archdir}/", "both")
    scn_before = db.cf.doc["current_scn"]
    script = HEADER.format(alias="orcl") + INSTANCE_QUERY + """
set pages 0
select user from dual;
select 'CURRENT DATABASE TIME: '||to_char(sysdate, 'yyyy-mm-dd hh24:mi:ss') from dual union all
select 'CURRENT DATABASE SCN: '||to_char(current_scn) from v$database union all
select 'BCT FILE: '||filename from v$block_change_tracking;
exec dbms_lock.sleep(1);
alter system archive log current;
spool off
exit
"""
    started = clock.now(orcl.state)
    out = ok(orcl.sqlplus(script))
    expected = fixture("sqlplus_archivelogs_silent_excerpt.txt")
    assert normalise(out) == normalise(expected) + ["not spooling currently"]
    markers = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in out.splitlines() if ": " in line}
    assert int(markers["CURRENT DATABASE SCN"]) == scn_before
    assert markers["BCT FILE"] == bct
    assert abs(clock.parse(markers["CURRENT DATABASE TIME"]) - started) < 5
    assert "Elapsed: 00:00:01." in out  # the sleep really sleeps

    db.reload()
    rows = [a for a in db.cf.doc["archived_logs"] if a["sequence"] == 1]
    assert sorted(a["dest_id"] for a in rows) == [1, 2]
    assert all(Path(a["name"]).exists() for a in rows)
    assert any(Path(a["name"]).parent == archdir for a in rows)


def test_archived_logs_visible_per_destination(orcl, archdir):
    ok(orcl.sqlplus(f"""whenever sqlerror exit failure
conn / as sysdba
alter system set log_archive_dest_2='LOCATION={archdir}/ VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)' scope=both;
alter system set log_archive_dest_state_2=enable scope=both;
alter system switch logfile;
alter system archive log current;
""", sid="orcl"))
    out = ok(orcl.sqlplus("""conn / as sysdba
set pages 0 feedback off lines 200
select dest_id||' '||sequence#||' '||name from v$archived_log order by sequence#, dest_id;
select dest_id||' '||status||' '||destination from v$archive_dest where dest_id <= 2;
""", sid="orcl"))
    rows = [line.split() for line in out.splitlines() if re.match(r"\d+ \d+ /", line)]
    assert [(r[0], r[1]) for r in rows] == [("1", "1"), ("2", "1"), ("1", "2"), ("2", "2")]
    assert rows[1][2] == f"{archdir}/1_1_{orcl.db().cf.doc['resetlogs_id']}.dbf"
    assert "1 VALID USE_DB_RECOVERY_FILE_DEST" in out
    assert f"2 VALID {archdir}/" in out


def test_bct_block_only_enables_on_enterprise_edition(sim):
    sim.create_db("orcl", edition="SE")
    block = "\n".join(commands_of(fixture("sqlplus_config_excerpt.txt"))[4:17])
    assert block.startswith("declare") and block.endswith("/")
    out = ok(sim.sqlplus(f"conn / as sysdba\nset serveroutput on\n{block}\n"
                         "select banner from v$version where rownum = 1;\n", sid="orcl"))
    assert "BCT already enabled or database is not EE" in out
    assert "Oracle Database 12c Standard Edition Release 12.1.0.2.0 - 64bit Production" in out
    assert sim.db().cf.doc["bct"]["status"] == "DISABLED"
    out = sim.sqlplus("conn / as sysdba\nalter database enable block change tracking;\n", sid="orcl").stdout
    assert "ORA-00439: feature not enabled: Block Change Tracking" in out


def test_startup_nomount_matches_capture_then_shutdown(orcl, tmp_path):
    out = ok(orcl.sqlplus("conn / as sysdba\nshutdown abort\n", sid="orcl"))
    assert out.splitlines() == ["ORACLE instance shut down."]   # -S: no "Connected."
    out = orcl.sqlplus("conn / as sysdba\nselect * from v$instance;\n", sid="orcl").stdout
    assert "Connected to an idle instance." not in out      # -S suppresses it too
    assert "ORA-01034: ORACLE not available\nORA-27101: shared memory realm does not exist" in out

    pfile = tmp_path / "init.ora"
    pfile.write_text("*.db_name='orcl'\n*.control_files='/nonexistent/restore.cf'\n*.db_block_size=8192\n"
                     "*.sga_target=2G\n")
    spool = tmp_path / "startup.log"
    ok(orcl.sqlplus(f"set pages 0\nset lines 200\nset timing on\nset echo on\nspool {spool} append\n"
                    f"conn / as sysdba\nwhenever sqlerror exit failure\nstartup nomount pfile='{pfile}'\n"
                    "spool off\nexit\n", "/nolog", sid="orcl"))
    capture = fixture("sqlplus_startup_nomount_excerpt.txt").replace("/nfs/autorestore/dest/init.ora", str(pfile))
    assert spool.read_text() == capture  # SGA lines padded to LINESIZE 200, as captured

    out = orcl.sqlplus("whenever sqlerror exit failure\nconn / as sysdba\nset pages 0\n"
                       "select status from v$instance;\nselect name from v$database;\n", sid="orcl")
    assert out.returncode == 1
    assert out.stdout.splitlines()[0] == "STARTED"
    assert "ORA-01507: database not mounted" in out.stdout

    out = ok(orcl.sqlplus("conn / as sysdba\nshutdown abort\nstartup\nselect open_mode from v$database;\n",
                          sid="orcl"))
    assert "ORACLE instance shut down.\nORACLE instance started.\n" in out
    assert "Database mounted.\nDatabase opened.\n" in out
    assert "READ WRITE" in out


def test_shutdown_immediate_and_mount_states(orcl):
    out = ok(orcl.sqlplus("conn / as sysdba\nshutdown immediate\nstartup mount\n"
                          "select count(*) from dba_users;\nalter database open read only;\n"
                          "select open_mode from v$database;\n", sid="orcl"))
    assert "Database closed.\nDatabase dismounted.\nORACLE instance shut down." in out
    assert "ORA-01219: database or pluggable database not open: queries allowed on fixed tables or views only" in out
    assert "Database altered." in out and "READ ONLY" in out


# -- errors ------------------------------------------------------------------------------

def test_invalid_sql_fails_with_oracles_code_and_whenever_exits_1(orcl):
    result = orcl.sqlplus("whenever sqlerror exit failure\nconn / as sysdba\nselect * frm dual;\n"
                          "prompt not reached\n", sid="orcl")
    assert result.returncode == 1
    assert "ORA-00923: FROM keyword not found where expected" in result.stdout      # as Oracle says
    assert "not reached" not in result.stdout

    result = orcl.sqlplus("whenever sqlerror exit failure\nconn / as sysdba\n"
                          "begin\n  execute immediate 'frobnicate the database';\nend;\n/\nprompt not reached\n",
                          sid="orcl")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0:4] == ["begin", "*", "ERROR at line 1:", "ORA-00900: invalid SQL statement"]
    assert "ORA-06512: at line 2" in result.stdout


def test_unknown_table_and_column_errors_mark_the_position(orcl):
    out = orcl.sqlplus("conn / as sysdba\nselect * from nosuch;\nselect foo from dual;\n", sid="orcl").stdout
    assert out.splitlines()[0:4] == ["select * from nosuch", "              *", "ERROR at line 1:",
                                     "ORA-00942: table or view does not exist"]
    assert 'select foo from dual\n       *\nERROR at line 1:\nORA-00904: "FOO": invalid identifier' in out


def test_sp2_errors_do_not_trigger_whenever_sqlerror(orcl):
    result = orcl.sqlplus("whenever sqlerror exit failure\nselect 1 from dual;\nfrobnicate now\n"
                          "set nosuchoption on\nconn / as sysdba\nprompt reached\nexit\n", sid="orcl")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "SP2-0640: Not connected",
        'SP2-0734: unknown command beginning "frobnicate..." - rest of line ignored.',
        'SP2-0158: unknown SET option "nosuchoption"', "reached"]


def test_unknown_alias_is_ora_12154(orcl):
    result = orcl.sqlplus("conn /@nosuch as sysdba\nselect 1 from dual;\n")
    assert result.stdout.splitlines() == [
        "ERROR:", "ORA-12154: TNS:could not resolve the connect identifier specified ", "", "",
        "SP2-0640: Not connected"]
    result = orcl.sqlplus("whenever sqlerror exit failure\nconn /@nosuch as sysdba\nprompt not reached\n")
    assert result.returncode == 1


@pytest.mark.parametrize("script, code", [
    ("exit failure", 1), ("exit warning", 2), ("exit 3", 3), ("exit", 0),
    ("conn / as sysdba\nselect * from nosuch;\nexit sql.sqlcode", 1),
    ("whenever sqlerror exit sql.sqlcode\nconn / as sysdba\nselect * from nosuch;\nexit 0", 1),
])
def test_exit_codes(orcl, script, code):
    assert orcl.sqlplus(script + "\n", sid="orcl").returncode == code


def test_plsql_errors_report_lines_and_compile_errors_run_nothing(orcl):
    out = orcl.sqlplus("""conn / as sysdba
set serveroutput on
declare
  n number;
begin
  dbms_output.put_line('ran');
  raise_application_error(-20000, 'Some data files have invalid status.');
end;
/
begin
  dbms_output.put_line('must not run');
  nosuch_procedure(1);
end;
/
""", sid="orcl").stdout
    assert "ran\ndeclare\n*\nERROR at line 1:\nORA-20000: Some data files have invalid status.\n" \
           "ORA-06512: at line 5\n" in out
    assert "must not run" not in out
    assert "  nosuch_procedure(1);\n  *\nERROR at line 3:\nORA-06550: line 3, column 3:\n" \
           "PLS-00201: identifier 'NOSUCH_PROCEDURE' must be declared\n" in out


# -- scheduler, users, CDB ------------------------------------------------------------------

SCHEDULE_SETUP = """whenever sqlerror exit failure
conn / as sysdba
set serveroutput on
declare
  p_cnt number;
  p_value varchar2(20);
begin
  select 1 into p_cnt from dual where sys_context('USERENV','CDB_NAME') is not null
    and sys_context('USERENV','CON_NAME') = 'CDB$ROOT';
  select nvl(max(value), 'C##') into p_value from v$parameter where name = 'common_user_prefix';
  dbms_output.put_line('CDB-DETECT: '||p_value);
exception
  when others then
    dbms_output.put_line('CDB-DETECT: NO');
end;
/
declare
  i number;
begin
  select count(*) into i from dba_users where username = 'C##BACKUPEXEC';
  if i = 0 then
    execute immediate 'create user c##backupexec identified by backupexec account lock';
    execute immediate 'grant create job, create external job, create procedure, select any dictionary to c##backupexec';
  end if;
end;
/
begin
  begin
    dbms_scheduler.drop_job(job_name=>'C##BACKUPEXEC.ARCHLOGBACKUP_JOB,C##BACKUPEXEC.IMAGECOPY_JOB',
      force=>true, commit_semantics=>'ABSORB_ERRORS');
  exception when others then null;
  end;
  begin
    dbms_scheduler.drop_schedule(schedule_name=>'C##BACKUPEXEC.IMAGECOPY_SCHEDULE', force=>true);
  exception when others then null;
  end;
  begin
    dbms_scheduler.drop_program(program_name=>'C##BACKUPEXEC.IMAGECOPY_PRG', force=>true);
  exception when others then null;
  end;
  begin
    dbms_scheduler.drop_credential(credential_name=>'C##BACKUPEXEC.OSCRED', force=>true);
  exception when others then null;
  end;
  begin
    dbms_scheduler.drop_job_class(job_class_name=>'BACKUPEXEC_JOB', force=>true);
  exception when others then null;
  end;
end;
/
create or replace procedure c##backupexec.check_archlog_copy is
  i number;
begin
  select count(*) into i from v$archived_log where deleted = 'NO';
  if i > 1000 then
    dbms_output.put_line('many');
  end if;
end;
/
begin
  dbms_scheduler.create_job_class(job_class_name=>'BACKUPEXEC_JOB',
    logging_level=>dbms_scheduler.logging_full, log_history=>60, comments=>'RMAN jobs of BACKUPEXEC.');
  execute immediate 'grant execute on BACKUPEXEC_JOB to C##BACKUPEXEC';
  dbms_scheduler.create_credential(credential_name=>'C##BACKUPEXEC.OSCRED', username=>'oracle',
    password=>'{password}');
  dbms_scheduler.create_program(program_name=>'C##BACKUPEXEC.IMAGECOPY_PRG', program_type=>'EXECUTABLE',
    program_action=>'/opt/backup/backup.py', number_of_arguments=>2, enabled=>false,
    comments=>'This program executes the image copy refresh.');
  dbms_scheduler.define_program_argument(program_name=>'C##BACKUPEXEC.IMAGECOPY_PRG',
    argument_position=>1, argument_name=>'configname', argument_type=>'VARCHAR2', default_value=>'cdb1');
  dbms_scheduler.define_program_argument(program_name=>'C##BACKUPEXEC.IMAGECOPY_PRG',
    argument_position=>2, argument_name=>'action', argument_type=>'VARCHAR2',
    default_value=>'imagecopywithsnap');
  dbms_scheduler.enable('C##BACKUPEXEC.IMAGECOPY_PRG');
  dbms_scheduler.create_schedule(schedule_name=>'C##BACKUPEXEC.IMAGECOPY_SCHEDULE',
    repeat_interval=>'FREQ=DAILY;BYHOUR=10;BYMINUTE=0', comments=>'Image copy refresh.');
  dbms_scheduler.create_job(job_name=>'C##BACKUPEXEC.IMAGECOPY_JOB', program_name=>'C##BACKUPEXEC.IMAGECOPY_PRG',
    schedule_name=>'C##BACKUPEXEC.IMAGECOPY_SCHEDULE', job_class=>'BACKUPEXEC_JOB', enabled=>true,
    comments=>'This job executes image copy refresh.', credential_name=>'C##BACKUPEXEC.OSCRED');
  dbms_scheduler.create_job(job_name=>'C##BACKUPEXEC.ARCHLOGBACKUP_JOB', job_type=>'STORED_PROCEDURE',
    job_action=>'c##backupexec.check_archlog_copy', repeat_interval=>'FREQ=HOURLY;BYMINUTE=30',
    job_class=>'BACKUPEXEC_JOB', enabled=>true);
end;
/
exit
"""


def test_scheduler_setup_in_a_cdb_never_stores_the_password(sim):
    sim.create_db("cdb1", dbid=2000000001, cdb=True)
    password = "Os-Pa55word-7x"
    script = SCHEDULE_SETUP.replace("{password}", password)
    first = ok(sim.sqlplus(script, sid="cdb1"))
    assert first.startswith("CDB-DETECT: C##\n")
    assert "Procedure created." in first
    ok(sim.sqlplus(script, sid="cdb1"))  # again: the drops make room, nothing fails
    out = ok(sim.sqlplus("""conn / as sysdba
set pages 0 feedback off lines 200
select 'USER '||username||' '||account_status||' '||common from dba_users where username like 'C##%';
select 'JOB '||job_name||' '||enabled||' '||state||' '||job_class||' '||program_name||' '||schedule_name
  from dba_scheduler_jobs order by job_name;
select 'NEXT '||to_char(next_run_date, 'hh24:mi') from dba_scheduler_jobs where job_name = 'IMAGECOPY_JOB';
select 'CRED '||owner||' '||credential_name||' '||username from dba_credentials;
select 'ARG '||argument_position||' '||default_value from dba_scheduler_program_args order by 1;
select 'PRIV '||privilege from dba_sys_privs where grantee = 'C##BACKUPEXEC' order by 1;
exec dbms_scheduler.run_job('C##BACKUPEXEC.ARCHLOGBACKUP_JOB');
select 'RUN '||job_name||' '||status from dba_scheduler_job_run_details;
""", sid="cdb1"))
    lines = out.splitlines()
    assert "USER C##BACKUPEXEC LOCKED YES" in lines
    assert "JOB ARCHLOGBACKUP_JOB TRUE SCHEDULED BACKUPEXEC_JOB" in lines
    assert "JOB IMAGECOPY_JOB TRUE SCHEDULED BACKUPEXEC_JOB IMAGECOPY_PRG IMAGECOPY_SCHEDULE" in lines
    assert "NEXT 10:00" in lines
    assert "CRED C##BACKUPEXEC OSCRED oracle" in lines
    assert ["ARG 1 cdb1", "ARG 2 imagecopywithsnap"] == [x for x in lines if x.startswith("ARG")]
    assert "PRIV CREATE EXTERNAL JOB" in lines and "PRIV SELECT ANY DICTIONARY" in lines
    assert "RUN ARCHLOGBACKUP_JOB SUCCEEDED" in lines
    for path in sim.root.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path
    assert password not in first + out


def test_common_users_need_the_prefix_in_a_cdb(sim):
    sim.create_db("cdb1", dbid=2000000001, cdb=True)
    out = sim.sqlplus("conn / as sysdba\ncreate user backupexec identified by x account lock;\n"
                      "create user c##ok identified by x;\n", sid="cdb1").stdout
    assert "ERROR at line 1:\nORA-65096: invalid common user or role name" in out
    assert "User created." in out


# -- data and output shapes -----------------------------------------------------------------

def test_application_table_query_after_workload(orcl):
    orcl.db().workload(5)
    out = ok(orcl.sqlplus("conn / as sysdba\nset pages 0 feedback off\n"
                          "select max(createtime) from app.transactions;\nselect count(*) from app.transactions;\n",
                          sid="orcl"))
    rows = orcl.db().table_rows("APP.TRANSACTIONS")
    assert out.splitlines() == [max(r[1] for r in rows), f"{len(rows):>10}"]


def test_feedback_off_and_pages_0_match_capture(orcl):
    host_is_backup(orcl)
    script = HEADER.format(alias="orcl") + INSTANCE_QUERY + """
set pages 0
select user from dual;
set pages 0
set lines 200
set feedback off
select 'dbconfig-'||name||': '||value from v$parameter
 where name in ('db_name','undo_tablespace','compatible','db_block_size','db_files','enable_pluggable_database')
union all
select 'dbconfig-backup-finished: '||to_char(sysdate, 'yyyy-mm-dd hh24:mi:ss') from dual;
exit
"""
    out = ok(orcl.sqlplus(script))
    assert normalise(out) == normalise(fixture("sqlplus_dbconfig_silent_excerpt.txt"))


def test_prompt_session_and_no_rows_shapes_match_capture(orcl):
    capture = fixture("sqlplus_openverify_silent_excerpt.txt")
    tail = capture[capture.index("Set time formatting"):]
    out = ok(orcl.sqlplus("""whenever sqlerror exit failure
conn / as sysdba
set pages 0
set lines 200
set timing on
set echo on
prompt Set time formatting
alter session set nls_date_format='yyyy-mm-dd hh24:mi:ss';
alter session set nls_timestamp_format='yyyy-mm-dd hh24:mi:ss';
prompt Query database timestamps
select 'CURRENT DATABASE SCN: '||to_char(current_scn) from v$database UNION ALL
select 'LAST ROW IN SCN TO TIME MAP: '||max(time_dp) from sys.smon_scn_time UNION ALL
select 'MIN/MAX TIME FROM ARCHLOGS: '||min(first_time)||'-'||min(next_time) from v$archived_log
 where (select current_scn from v$database) between first_change# and next_change# UNION ALL
select 'CUSTOM VERIFICATION TIME: '||(select max(time_dp) from sys.smon_scn_time) from dual;
col file_name format a100
prompt Datafiles where online_status not in ('SYSTEM','ONLINE') or status <> 'AVAILABLE'
select file_name, status, online_status from dba_data_files
 where online_status not in ('SYSTEM','ONLINE') or status <> 'AVAILABLE';
/*
declare
  i number;
begin
  select count(*) into i from dba_data_files;
end;
/ */
exit
""", sid="orcl", env=orcl.env("orcl", NLS_DATE_FORMAT="")))
    ours = out.replace("MIN/MAX TIME FROM ARCHLOGS: -", "MIN/MAX TIME FROM ARCHLOGS: <date>-<date>")
    assert normalise(ours) == normalise(tail)


def test_bct_rename_and_disable_match_capture(orcl, tmp_path):
    db = orcl.db()
    with db.changing():
        production_bct = db.enable_bct()
    capture = fixture("sqlplus_disablebct_excerpt.txt")
    target = tmp_path / "bct.bct"
    capture = capture.replace("/u01/app/oracle/oradata/ORCL/changetracking/o1_mf_cn8pwrjs_.chg", production_bct)
    capture = capture.replace("/nfs/autorestore/dest/bct.bct", str(target))
    spool = tmp_path / "bct.log"
    body = "\n".join(commands_of(capture))
    ok(orcl.sqlplus(f"set pages 0\nset lines 200\nset timing on\nset echo on\nspool {spool} append\n{body}\n",
                    "/nolog", sid="orcl"))
    assert normalise(spool.read_text(), strip=False) == normalise(capture, strip=False)
    assert Path(production_bct).exists()  # renamed away first, so disabling deleted nothing of production's
    assert orcl.db().cf.doc["bct"] == {"status": "DISABLED", "filename": None}


def test_banner_prompts_and_disconnect_without_silent(orcl):
    out = ok(orcl.sqlplus("conn / as sysdba\nselect 1 from dual;\n", "/nolog", sid="orcl"))
    lines = out.splitlines()
    assert lines[1].startswith("SQL*Plus: Release 12.1.0.2.0 Production on ")
    assert lines[3] == "Copyright (c) 1982, 2014, Oracle.  All rights reserved."
    assert "SQL> Connected." in lines
    assert lines[-2:] == ["SQL> Disconnected from Oracle Database 12c Enterprise Edition Release 12.1.0.2.0 - "
                          "64bit Production",
                          "With the Partitioning, OLAP, Advanced Analytics and Real Application Testing options"]
    out = ok(orcl.sqlplus("select status from v$instance;\n", "-S", "/", "as", "sysdba", sid="orcl"))
    assert out.splitlines() == ["", "STATUS", "------------", "OPEN", ""]


def test_timing_and_feedback_thresholds(orcl):
    out = ok(orcl.sqlplus("conn / as sysdba\nset timing on\nset feedback 3\n"
                          "select file# from v$datafile where file# < 3;\nselect file# from v$datafile;\n",
                          sid="orcl"))
    blocks = out.split("Elapsed: ")
    assert "selected" not in blocks[0] and re.match(r"\d\d:\d\d:\d\d\.\d\d\n", blocks[1])
    assert "\n4 rows selected.\n" in blocks[1]


def test_dbms_session_sleep_really_sleeps(orcl):
    start = time.time()
    out = ok(orcl.sqlplus("conn / as sysdba\nexec dbms_session.sleep(0.5)\n", sid="orcl"))
    assert time.time() - start >= 0.5
    assert "\nPL/SQL procedure successfully completed.\n" in out


def test_catalog_connect_through_the_wallet_alias(orcl):
    """``conn /@rman`` (no AS SYSDBA) logs in as the catalog owner, who can read RC_DATABASE."""
    rcat = orcl.create_db("rcat", dbid=77)
    with rcat.changing():
        side = rcat.sidecar()
        side["rman_catalog"] = {"databases": [{"db_key": 1, "dbid": 1433672784, "name": "ORCL"}]}
        rcat.save_sidecar(side)
    out = ok(orcl.sqlplus("whenever sqlerror exit failure\nconn /@rcat\nset pages 0\n"
                          "select 'DATABASE IS REGISTERED IN RC' from rc_database where dbid = 1433672784;\n"
                          "select user from dual;\nexit\n"))
    assert out.splitlines()[:4] == ["DATABASE IS REGISTERED IN RC", "", "RMAN", ""]
