-- Runs on the primary: the recovery target of the snapshot that follows, then a log switch.
select 'CURRENT DATABASE TIME: '||to_char(sysdate, 'yyyy-mm-dd hh24:mi:ss') from dual union all
select 'CURRENT DATABASE SCN: '||to_char(current_scn) from v$$database union all
select 'BCT FILE: '||filename from v$$block_change_tracking;
exec dbms_lock.sleep(1);
alter system archive log current;
