whenever sqlerror exit failure
conn ${catalogconnect}
set pages 0
select 'DATABASE IS REGISTERED IN RC' from rc_database where dbid = ${dbid};
exit
