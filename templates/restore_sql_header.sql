whenever sqlerror exit failure
conn / as sysdba
set pages 0
set lines 300
set timing on
set echo on
set feedback on
