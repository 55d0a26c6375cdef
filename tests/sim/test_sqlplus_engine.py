"""The SQL*Plus simulator's engine in-process: values, functions, queries, PL/SQL, DDL, scheduler, layout."""
from __future__ import annotations

import time
from datetime import datetime

import pytest
from oracle_sim import session as sim_session
from oracle_sim.instance import Instance, OraError
from oracle_sim.plsql.interpreter import CompileError, Interpreter
from oracle_sim.sql import functions as F
from oracle_sim.sql import values as V
from oracle_sim.sql.context import DbSession
from oracle_sim.sql.query import Column, ResultSet, run_query
from oracle_sim.sql.scheduler import next_run
from oracle_sim.sql.statements import execute
from oracle_sim.sqlplus import format as fmt


@pytest.fixture
def s(orcl) -> DbSession:
    session = DbSession(orcl.home, {"NLS_DATE_FORMAT": "yyyy-mm-dd hh24:mi:ss"})
    session.connect("orcl", "SYS", True)
    return session


def rows(s: DbSession, sql: str) -> list[tuple]:
    return run_query(s, sql).rows


def block(s: DbSession, src: str) -> list[str]:
    s.dbms_output.clear()
    s.dbms_output_enabled = True  # SET SERVEROUTPUT ON
    Interpreter(s, execute).run_source(src)
    return list(s.dbms_output)


def ora(fn, *args) -> str:
    with pytest.raises(OraError) as info:
        fn(*args)
    return info.value.lines[0]


# -- values and functions ---------------------------------------------------------------------

def test_date_masks_round_trip():
    d = V.parse_date("2016-11-08 22:39:45", "yyyy-mm-dd hh24:mi:ss")
    assert V.format_date(d, "DD-MON-RR") == "08-NOV-16"
    assert V.format_date(d, "fmDay dd Month yyyy hh:mi:ss PM") == "Tuesday 8 November 2016 10:39:45 PM"
    assert V.format_date(d, "yyyymmdd\"T\"hh24miss") == "20161108T223945"
    assert V.parse_date("08-NOV-16", "DD-MON-RR") == V.date_value(datetime(2016, 11, 8))
    assert ora(V.parse_date, "2016-13-01", "yyyy-mm-dd") == "ORA-01843: not a valid month"
    assert ora(V.parse_date, "2016-11-08 extra", "yyyy-mm-dd") .startswith("ORA-01830")
    assert ora(V.format_date, d, "yyyy-qq-zz") == "ORA-01821: date format not recognized"


def test_numbers_display_like_sqlplus():
    assert [V.display_number(x) for x in (1 / 3, 3600.0, 1433672784, 12345678901, -0.5)] == \
        [".333333333", "3600", "1433672784", "1.2346E+10", "-.5"]
    assert V.format_number(1234.5, "FM9,999.00") == "1,234.50"
    assert V.format_number(42, "FM0000") == "0042"
    assert V.format_number(12345, "999") == "####"


def test_functions_follow_oracle_null_and_conversion_rules(s):
    assert F.op_concat(s, "a", None) == "a" and F.op_concat(s, None, None) is None
    assert F.f_substr(s, "hello", 2, 3) == "ell" and F.f_substr(s, "hello", -3) == "llo"
    assert F.f_instr(s, "a.b.c", ".", 1, 2) == 4 and F.f_instr(s, "a.b.c", ".", -1) == 4
    assert F.f_replace(s, "log_archive_dest_2", "log_archive_dest_", "log_archive_dest_state_") == \
        "log_archive_dest_state_2"
    assert F.f_replace(s, "abc", "b") == "ac" and F.f_replace(s, "b", "b") is None
    assert F.f_decode(s, None, None, "null matched", "other") == "null matched"
    assert F.f_nvl(s, None, "C##") == "C##"
    assert F.op_div(s, 10, 4) == 2.5 and F.op_div(s, 8, 4) == 2
    assert ora(F.op_div, s, 1, 0) == "ORA-01476: divisor is equal to zero"
    assert ora(F.op_add, s, "abc", 1) == "ORA-01722: invalid number"
    day = V.parse_date("2016-11-08 22:39:45", "yyyy-mm-dd hh24:mi:ss")
    assert F.op_sub(s, day, 1) == V.parse_date("2016-11-07 22:39:45", "yyyy-mm-dd hh24:mi:ss")
    assert F.op_mul(s, F.op_sub(s, day, F.f_trunc(s, day)), 86400) == 81585
    assert F.f_lpad(s, "7", 3, "0") == "007" and F.f_to_char(s, 0.5) == ".5"


# -- queries -------------------------------------------------------------------------------

def test_toolset_queries(s, orcl):
    db = orcl.db()
    with db.changing() as cf:
        cf.doc["datafile_copies"].append({"recid": 1, "stamp": 1, "file": 4, "name": "/copies/gone.dbf",
                                          "tag": "IMAGE_COPY_BACKUP", "creation_scn": 1, "checkpoint_scn": 5,
                                          "checkpoint_time": time.time(), "status": "A", "deleted": "NO"})
        db.switch_logfile()
    assert rows(s, "select 'DELETECOPY: delete noprompt datafilecopy '''||name||''';' cmd from v$datafile_copy "
                   "where deleted='NO' and tag='IMAGE_COPY_BACKUP' and (file#,CREATION_CHANGE#) not in "
                   "(select file#,CREATION_CHANGE# from v$datafile)") == \
        [("DELETECOPY: delete noprompt datafilecopy '/copies/gone.dbf';",)]
    missing = rows(s, "select q'[BACKUP force as copy archivelog sequence ]'||sequence#||' thread '||thread#||';' "
                      "from (select thread#,sequence# from v$archived_log l join v$archive_dest d on "
                      "l.dest_id=d.dest_id join v$archive_dest_status s on d.dest_id=s.dest_id where "
                      "l.archived='YES' and l.deleted='NO' and upper(d.destination)='USE_DB_RECOVERY_FILE_DEST' "
                      "and d.status='VALID' and s.type='LOCAL' minus select thread#,sequence# from v$archived_log l "
                      "where l.archived='YES' and l.deleted='NO' and l.name like '/nfs/backup%' order by 1,2)")
    assert missing == [("BACKUP force as copy archivelog sequence 1 thread 1;",)]
    assert rows(s, "select min(name) from v$parameter where name like 'log\\_archive\\_dest\\__' escape '\\' "
                   "and value is null") == [("log_archive_dest_2",)]
    assert rows(s, "select 'CDB-DETECT: '||nvl(max(value), 'C##') from v$parameter where name = "
                   "'common_user_prefix' and sys_context('USERENV', 'CDB_NAME') is not null union all "
                   "select 'CDB-DETECT: NO' from dual where sys_context('USERENV', 'CDB_NAME') is null") == \
        [("CDB-DETECT: C##",), ("CDB-DETECT: NO",)]


def test_sql_semantics(s):
    assert rows(s, "select file# from v$datafile where rownum <= 2 order by file#") == [(1,), (2,)]
    assert rows(s, "select count(*) from v$datafile where name like '%USERS%'") == [(0,)]  # case-sensitive
    assert rows(s, "select dest_id from v$archive_dest where dest_id = '2'") == [(2,)]
    assert rows(s, "select decode(cdb, 'NO', 'non-cdb', 'cdb'), nvl2(null, 1, 2), 7/2 from v$database") == \
        [("non-cdb", 2, 3.5)]
    assert rows(s, "select count(distinct ts#) from v$datafile") == [(4,)]
    assert rows(s, "select case when count(*) > 3 then 'many' end from v$tablespace") == [("many",)]
    created = rows(s, "select to_char(created, 'yyyy') from v$database")[0][0]
    assert created == str(datetime.now().year)
    assert rows(s, "select 1 from dual where sysdate - 1 < sysdate and trunc(sysdate) <= sysdate") == [(1,)]
    rs = run_query(s, "select name, bytes from v$datafile where file# = 1")
    assert [(c.name, c.kind, c.width) for c in rs.columns] == [("NAME", "CHAR", 513), ("BYTES", "NUMBER", None)]
    assert run_query(s, "select count(*) n, max(file#) from v$datafile").columns[1].name == "MAX(FILE#)"


@pytest.mark.parametrize("sql, error", [
    ("select name, count(*) from v$datafile", "ORA-00937: not a single-group group function"),
    ("select name, count(*) from v$datafile group by ts#", "ORA-00979: not a GROUP BY expression"),
    ("select 1", "ORA-00923: FROM keyword not found where expected"),
    ("select nosuch(1) from dual", 'ORA-00904: "NOSUCH": invalid identifier'),
    ("select l.nosuch from v$archived_log l", 'ORA-00904: "L"."NOSUCH": invalid identifier'),
    ("select * from v$datafile a, v$tablespace b where a.ts# = b.ts#(+)", "ORA-03001: unimplemented feature"),
    ("select * from app.nosuch", "ORA-00942: table or view does not exist"),
    ("select 1 from dual union select 1, 2 from dual",
     "ORA-01789: query block has incorrect number of result columns"),
])
def test_sql_errors(s, sql, error):
    assert ora(run_query, s, sql) == error


def test_views_follow_instance_state(s, orcl):
    inst = Instance(orcl.state, "orcl")
    sim_session.shutdown(inst)
    assert ora(run_query, s, "select * from dual") == "ORA-01034: ORACLE not available"
    inst.start(None)
    assert rows(s, "select status from v$instance") == [("STARTED",)]
    assert ora(run_query, s, "select name from v$database") == "ORA-01507: database not mounted"
    sim_session.mount(inst)
    assert rows(s, "select open_mode, current_scn from v$database") == [("MOUNTED", 0)]
    assert ora(run_query, s, "select * from dba_users").startswith("ORA-01219")
    assert ora(run_query, s, "select * from sys.smon_scn_time").startswith("ORA-01219")


# -- PL/SQL --------------------------------------------------------------------------------

def test_plsql_control_flow_and_exceptions(s):
    out = block(s, """declare
  total number := 0;
  label varchar2(10);
  boom exception;
  cursor big(p number) is select file# from v$datafile where file# > p;
  function twice(x in number) return number is
  begin
    return x * 2;
  end;
  procedure bump(v in out number) is
  begin
    v := v + 100;
  end;
begin
  for r in big(2) loop total := total + twice(r.file#); end loop;
  bump(total);
  dbms_output.put_line('total='||total);
  for i in reverse 1..2 loop dbms_output.put_line('i='||i); end loop;
  begin
    select 'x' into label from dual where 1 = 0;
  exception when no_data_found then dbms_output.put_line(sqlcode||' '||sqlerrm);
  end;
  begin
    label := 'much too long for ten';
  exception when value_error then dbms_output.put_line('value_error');
  end;
  begin
    raise boom;
  exception when boom then dbms_output.put_line('boom '||sqlcode);
  end;
  execute immediate 'select count(*) from v$datafile where file# > :1' into total using 2;
  dbms_output.put_line(case when total = 2 then 'two' else 'other' end);
  loop
    total := total - 1;
    exit when total <= 0;
  end loop;
  dbms_output.put_line(nvl(to_char(null), 'null')||' '||upper(substr('scheduler', 1, 5)));
end;""")
    assert out == ["total=114", "i=2", "i=1", "100 ORA-01403: no data found", "value_error", "boom 1", "two",
                   "null SCHED"]


def test_plsql_compile_errors_stop_before_running(s):
    with pytest.raises(CompileError) as info:
        block(s, "begin\n  dbms_output.put_line('x');\n  dbms_scheduler.nosuch('a');\nend;")
    assert info.value.lines == ["ORA-06550: line 3, column 3:", "PLS-00302: component 'NOSUCH' must be declared",
                                "ORA-06550: line 3, column 3:", "PL/SQL: Statement ignored"]
    assert s.dbms_output == []
    with pytest.raises(CompileError) as info:
        block(s, "begin\n  if 1 = 1 then null;\nend;")
    assert info.value.lines[1].startswith('PLS-00103: Encountered the symbol ";"')
    with pytest.raises(OraError) as err:
        block(s, "declare n number; begin select file# into n from v$datafile; end;")
    assert err.value.lines == ["ORA-01422: exact fetch returns more than requested number of rows",
                               "ORA-06512: at line 1"]


# -- DDL and DML kept in the sidecar --------------------------------------------------------

def test_tables_sequences_and_dml(s):
    assert execute(s, "create user autorestore identified by pw").message == "User created."
    execute(s, "create sequence autorestore.restoreaction_seq")
    execute(s, "create table autorestore.restoreaction (id number not null primary key, db_unique_name "
               "varchar2(10) not null, start_time date, success number(1) check (success in (0,1))) pctfree 0")
    out = block(s, """declare
  v_dbname autorestore.restoreaction.db_unique_name%type := 'orcl';
begin
  insert into autorestore.restoreaction (id, db_unique_name, start_time, success)
    values (autorestore.restoreaction_seq.nextval, v_dbname,
            to_date('2016-11-08 22:39:45', 'yyyy-mm-dd hh24:mi:ss'), 1);
  dbms_output.put_line('rows '||sql%rowcount);
  commit;
end;""")
    assert out == ["rows 1"]
    assert execute(s, "insert into autorestore.restoreaction values (autorestore.restoreaction_seq.nextval, "
                      "'cdb1', sysdate, 0)").message == "1 row created."
    assert rows(s, "select id, db_unique_name, to_char(start_time, 'yyyy') from autorestore.restoreaction "
                   "order by id") == [(1, "orcl", "2016"), (2, "cdb1", str(datetime.now().year))]
    assert execute(s, "update autorestore.restoreaction set success = 1 where success = 0").message == \
        "1 row updated."
    assert block(s, "declare n number; begin select autorestore.restoreaction_seq.nextval into n from dual; "
                    "dbms_output.put_line(n); end;") == ["3"]
    assert execute(s, "select autorestore.restoreaction_seq.nextval from dual").result.rows == [(4,)]
    assert ora(execute, s, "insert into autorestore.restoreaction values (3, 'much_too_long', sysdate, 1)") == \
        'ORA-12899: value too large for column "DB_UNIQUE_NAME" (actual: 13, maximum: 10)'
    assert execute(s, "delete from autorestore.restoreaction").message == "2 rows deleted."
    assert ora(execute, s, "drop user autorestore") == "ORA-01922: CASCADE must be specified to drop 'AUTORESTORE'"
    assert execute(s, "drop user autorestore cascade").message == "User dropped."
    assert ora(execute, s, "insert into app.transactions values (1, sysdate)") == "ORA-01031: insufficient privileges"


def test_alter_system_validates_like_oracle(s, orcl, tmp_path):
    assert ora(execute, s, "alter system set log_archive_dest_3='LOCATION=/no/such/dir' scope=both") == \
        "ORA-02097: parameter cannot be modified because specified value is invalid"
    assert ora(execute, s, "alter system set log_archive_dest_state_3=maybe") .startswith("ORA-02097")
    assert ora(execute, s, "alter system set db_block_size=4096 scope=both") == \
        "ORA-02095: specified initialization parameter cannot be modified"
    assert ora(execute, s, "alter system set no_such_parameter=1") == "ORA-02065: illegal option for ALTER SYSTEM"
    execute(s, f"alter system set log_archive_dest_3='LOCATION={tmp_path}' scope=both sid='*'")
    execute(s, "alter system set archive_lag_target=900 scope=both")
    inst = Instance(orcl.state, "orcl")
    assert inst.param("log_archive_dest_3") == f"LOCATION={tmp_path}"
    assert inst.read_spfile()["archive_lag_target"] == "900"
    assert execute(s, "alter session set nls_date_format='dd.mm.yyyy'").message == "Session altered."
    assert rows(s, "select to_char(sysdate) from dual")[0][0] == datetime.now().strftime("%d.%m.%Y")


def test_rename_datafile_needs_the_new_file(s, orcl, tmp_path):
    inst = Instance(orcl.state, "orcl")
    sim_session.shutdown(inst)
    inst.start(None)
    sim_session.mount(inst)
    old = orcl.db().cf.datafile(4)["name"]
    assert ora(execute, s, f"alter database rename file '{old}' to '{tmp_path}/users.dbf'") == \
        "ORA-01511: error in renaming log/data files"
    (tmp_path / "users.dbf").write_bytes(open(old, "rb").read())
    execute(s, f"alter database rename file '{old}' to '{tmp_path}/users.dbf'")
    assert orcl.db().cf.datafile(4)["name"] == f"{tmp_path}/users.dbf"


# -- scheduler ----------------------------------------------------------------------------

def test_scheduler_checks(s):
    execute(s, "create user c##x identified by y")
    run = Interpreter(s, execute).run_source
    run("begin dbms_scheduler.create_program('C##X.P', 'EXECUTABLE', '/bin/true', 2, false); end;")
    with pytest.raises(OraError) as info:
        run("begin dbms_scheduler.enable('C##X.P'); end;")
    assert info.value.lines[0] == 'ORA-27456: not all arguments of program "C##X.P" have been defined'
    run("begin dbms_scheduler.create_job(job_name => 'C##X.J', program_name => 'C##X.P'); end;")
    with pytest.raises(OraError) as info:
        run("begin dbms_scheduler.create_job(job_name => 'C##X.P', job_type => 'PLSQL_BLOCK', "
            "job_action => 'begin null; end;'); end;")
    assert info.value.lines[0] == 'ORA-27477: "C##X"."P" already exists'
    with pytest.raises(OraError) as info:
        run("begin dbms_scheduler.drop_program('C##X.P'); end;")
    assert info.value.lines[0] == 'ORA-27479: Cannot drop "C##X.P" because other objects depend on it'
    with pytest.raises(OraError) as info:
        run("begin dbms_scheduler.drop_job('C##X.NOSUCH'); end;")
    assert info.value.lines[0] == 'ORA-27475: "C##X.NOSUCH" must be a job'
    with pytest.raises(OraError) as info:
        run("begin dbms_scheduler.create_schedule('C##X.S', repeat_interval => 'FREQ=SOMETIMES'); end;")
    assert info.value.lines[0] == "ORA-27418: syntax error in repeat interval or calendar"
    run("begin dbms_scheduler.create_job('C##X.PL', 'PLSQL_BLOCK', 'begin dbms_lock.sleep(0); end;'); "
        "dbms_scheduler.run_job('C##X.PL'); end;")
    assert rows(s, "select run_count, state from dba_scheduler_jobs where job_name = 'PL'") == [(1, "DISABLED")]


def test_calendar_next_run():
    start = datetime(2016, 11, 8, 9, 15, 30).timestamp()
    def nxt(interval: str) -> str:
        return datetime.fromtimestamp(next_run(interval, start, start)).strftime("%Y-%m-%d %H:%M:%S")
    assert nxt("FREQ=DAILY;BYHOUR=10;BYMINUTE=0") == "2016-11-08 10:00:30"
    assert nxt("FREQ=DAILY;BYHOUR=3;BYMINUTE=0;BYSECOND=0") == "2016-11-09 03:00:00"
    assert nxt("FREQ=HOURLY;BYMINUTE=5") == "2016-11-08 10:05:30"
    assert nxt("FREQ=MINUTELY;INTERVAL=15") == "2016-11-08 09:30:30"
    assert nxt("FREQ=WEEKLY;BYDAY=SUN;BYHOUR=2;BYMINUTE=0;BYSECOND=0") == "2016-11-13 02:00:00"


# -- layout --------------------------------------------------------------------------------

def test_wide_rows_flow_like_the_capture():
    rs = ResultSet([Column("STATUS", "CHAR", 10), Column("FILENAME", "CHAR", 513), Column("BYTES", "NUMBER"),
                    Column("CON_ID", "NUMBER")], [("DISABLED", None, None, None)])
    settings = fmt.Settings(pagesize=0, linesize=200)
    lines = [text for text, _ in fmt.render(rs, settings, {})]
    assert [line.rstrip() for line in lines] == ["DISABLED", "", "", ""]
    assert [len(line) for line in lines] == [10, 200, 200, 135]


def test_pages_repeat_the_heading():
    rs = ResultSet([Column("N", "NUMBER")], [(i,) for i in range(15)])
    lines = [text for text, _ in fmt.render(rs, fmt.Settings(pagesize=14), {})]
    assert lines[:4] == ["", "         N", "----------", "         0"]
    assert lines.count("----------") == 2 and len(lines) == 15 + 2 * 3


def test_log_and_destination_views(s, orcl):
    db = orcl.db()
    with db.changing():
        db.switch_logfile()
        db.instance.set_parameter("log_archive_dest_1", None, "both")
    assert rows(s, "select group#, sequence#, status, archived from v$log order by group#") == \
        [(1, 1, "INACTIVE", "YES"), (2, 2, "CURRENT", "NO"), (3, 0, "UNUSED", "YES")]
    # with no destination set, the recovery area is archived to as destination 10
    assert rows(s, "select dest_id, status, destination from v$archive_dest where status <> 'INACTIVE'") == \
        [(10, "VALID", "USE_DB_RECOVERY_FILE_DEST")]


def test_privileges_of_users_created_through_sql(s):
    execute(s, "create user app2 identified by pw")
    execute(s, "grant create session, create table to app2")
    app = DbSession(s.home, {})
    app.connect("orcl", "APP2", False)
    assert execute(app, "create table t (x number)").message == "Table created."
    assert ora(execute, app, "create sequence q") == "ORA-01031: insufficient privileges"
    assert ora(execute, app, "create table other.t (x number)").startswith("ORA-01918")
    assert ora(execute, app, "create user x identified by y") == "ORA-01031: insufficient privileges"
    assert ora(run_query, app, "select * from v$database") == "ORA-00942: table or view does not exist"
    assert rows(app, "select count(*) from t") == [(0,)]
    with pytest.raises(OraError) as info:
        Interpreter(app, execute).run_source("begin dbms_scheduler.create_job('J', 'PLSQL_BLOCK', 'null;'); end;")
    assert info.value.lines[0] == "ORA-27486: insufficient privileges"
