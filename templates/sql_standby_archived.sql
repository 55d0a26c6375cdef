-- Per redo thread, the newest sequence archived into the backup area's destination (a standby's
-- receipt of the primary's last switch).
select 'STANDBYSEQ: '||thread#||' '||max(sequence#) from v$$archived_log
 where archived = 'YES' and deleted = 'NO' and status = 'A' and name like '${archdir}/%' group by thread#;
