alter session set nls_date_format='yyyy-mm-dd hh24:mi:ss';
select 'CUSTOM VERIFICATION TIME: '||to_char((${customverifydate}), 'yyyy-mm-dd hh24:mi:ss') from dual;
