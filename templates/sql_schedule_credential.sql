-- Run without echo or spool: the OS password must not reach any log.
begin
  dbms_scheduler.create_credential(credential_name => '${scheduleuser}.OSCRED',
                                   username => '${osuser}', password => '${ospassword}');
end;
/
