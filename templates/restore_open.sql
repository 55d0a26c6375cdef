alter database open read only;
alter session set nls_date_format='yyyy-mm-dd hh24:mi:ss';
select 'CURRENT DATABASE SCN: '||to_char(current_scn) from v$$database;
select 'LAST ROW IN SCN TO TIME MAP: '||to_char(max(time_dp), 'yyyy-mm-dd hh24:mi:ss') from sys.smon_scn_time;
select 'BADFILE: '||file_name||' '||status||' '||online_status from dba_data_files
 where online_status not in ('SYSTEM', 'ONLINE') or status <> 'AVAILABLE';
