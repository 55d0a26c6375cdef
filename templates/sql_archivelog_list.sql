-- Every archivelog in the backup area, for the manifest the next snapshot holds (thread, sequence,
-- first and next change, first and next time, name): what verifysnapshots and restore.py --plan check.
select 'ARCHLOG: '||thread#||' '||sequence#||' '||first_change#||' '||next_change#||' '||
       to_char(first_time, 'yyyymmddhh24miss')||' '||to_char(next_time, 'yyyymmddhh24miss')||' '||name
  from v$$archived_log
 where archived = 'YES' and deleted = 'NO' and status = 'A' and name like '${archdir}/%'
 order by thread#, sequence#;
