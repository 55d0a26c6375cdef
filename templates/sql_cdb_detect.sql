-- Is this a container database (then scheduler users need the common-user prefix)?
-- Plain parameters, so the same query works on 11g (no CDB_NAME in USERENV there).
select 'CDB-PARAM: '||upper(value) from v$$parameter where name = 'enable_pluggable_database';
select 'CDB-PREFIX: '||value from v$$parameter where name = 'common_user_prefix';
select 'SCHEDULEUSER: '||username from dba_users where username like '%BACKUPEXEC';
