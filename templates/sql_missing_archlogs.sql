-- Archivelogs in the recovery area, and those recorded in the backup area's destination.
-- The toolset copies what the first list has and the second lacks (or lacks on disk).  Only
-- available logs count: an expired one (status X after a crosscheck) has no file to copy from.
select 'FRALOG: '||l.thread#||' '||l.sequence# from v$$archived_log l
  join v$$archive_dest d on l.dest_id = d.dest_id
  join v$$archive_dest_status s on d.dest_id = s.dest_id
 where l.archived = 'YES' and l.deleted = 'NO' and l.status = 'A' and upper(d.destination) = 'USE_DB_RECOVERY_FILE_DEST'
   and d.status = 'VALID' and s.type = 'LOCAL';
select 'BACKUPLOG: '||thread#||' '||sequence#||' '||name from v$$archived_log
 where archived = 'YES' and deleted = 'NO' and status = 'A' and name like '${archdir}/%';
