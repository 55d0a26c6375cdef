-- Runs on the primary: the recovery target of the snapshot that follows, then a log switch.
select 'CURRENT DATABASE TIME: '||to_char(sysdate, 'yyyy-mm-dd hh24:mi:ss') from dual union all
select 'CURRENT DATABASE SCN: '||to_char(current_scn) from v$$database;
exec dbms_lock.sleep(1);
alter system archive log current;
-- Per redo thread, the last sequence the switch archived: a standby being backed up must have it
-- in the backup area's destination before the snapshot.
select 'PRIMARYSEQ: '||thread#||' '||(sequence# - 1) from v$$log where status = 'CURRENT';
