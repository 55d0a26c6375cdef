whenever sqlerror exit failure
conn /@${tns} as sysdba
set feedback on
set timing on
set echo on
set lines 300
set serverout on
col host_name format a24
col version format a10
select instance_name, host_name, version, status, database_status from v$$instance;
set pages 0
select user from dual;
