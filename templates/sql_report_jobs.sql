-- report.py: state of the backup jobs created by "backup.py <db> setschedule".
-- Prints marker lines, parsed by report.py:
--   JOB: <job name>|<state>|<last start>|<last run duration>
--   LASTFAIL: <job name>|<time of the last failed run>
whenever sqlerror exit failure
conn /@${tns} as sysdba
set pages 0
set lines 500
set feedback off
set heading off
set trimout on
select 'JOB: '||job_name||'|'||state||'|'||to_char(last_start_date, 'yyyy-mm-dd hh24:mi:ss')||'|'||last_run_duration
  from dba_scheduler_jobs
 where owner like '%BACKUPEXEC' and job_name in ('IMAGECOPY_JOB', 'ARCHLOGBACKUP_JOB')
 order by last_start_date nulls first;
select 'LASTFAIL: '||job_name||'|'||to_char(max(log_date), 'yyyy-mm-dd hh24:mi:ss')
  from dba_scheduler_job_log
 where owner like '%BACKUPEXEC' and operation = 'RUN' and status = 'FAILED'
   and job_name in ('IMAGECOPY_JOB', 'ARCHLOGBACKUP_JOB')
 group by job_name;
exit
