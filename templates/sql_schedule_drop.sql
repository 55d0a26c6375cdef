-- Remove what an earlier setschedule created; each drop may find nothing to drop.
begin
  begin
    dbms_scheduler.drop_job(job_name => '${scheduleuser}.ARCHLOGBACKUP_JOB,${scheduleuser}.IMAGECOPY_JOB',
                            force => true, commit_semantics => 'ABSORB_ERRORS');
  exception when others then null;
  end;
  begin
    dbms_scheduler.drop_schedule(schedule_name => '${scheduleuser}.IMAGECOPY_SCHEDULE,${scheduleuser}.ARCHLOGBACKUP_SCHEDULE',
                                 force => true);
  exception when others then null;
  end;
  begin
    dbms_scheduler.drop_program(program_name => '${scheduleuser}.IMAGECOPY_PRG,${scheduleuser}.ARCHLOGBACKUP_PRG',
                                force => true);
  exception when others then null;
  end;
  begin
    dbms_scheduler.drop_credential(credential_name => '${scheduleuser}.OSCRED', force => true);
  exception when others then null;
  end;
  begin
    dbms_scheduler.drop_job_class(job_class_name => 'BACKUPEXEC_JOB', force => true);
  exception when others then null;
  end;
end;
/
