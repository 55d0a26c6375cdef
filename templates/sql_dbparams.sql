-- What a restore needs to build its init.ora (written to autorestore.cfg).
select 'dbconfig-'||name||': '||value from v$$parameter
 where name in ('db_name','undo_tablespace','compatible','db_block_size','db_files','enable_pluggable_database')
union all
select 'dbconfig-backup-finished: '||to_char(sysdate, 'yyyy-mm-dd hh24:mi:ss') from dual;
