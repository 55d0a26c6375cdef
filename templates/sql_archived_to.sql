-- Per redo thread, how far the archivelogs in the backup area reach (the snapshot's redo).
select 'ARCHIVEDTO: '||thread#||' '||max(next_change#) from v$$archived_log
 where archived = 'YES' and deleted = 'NO' and status = 'A' and name like '${archdir}/%' group by thread#;
