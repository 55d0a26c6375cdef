-- Image copies whose datafile no longer exists (its tablespace was dropped).
select 'DELETECOPY: '||name from v$$datafile_copy
 where deleted = 'NO' and tag = 'IMAGE_COPY_BACKUP'
   and (file#, creation_change#) not in (select file#, creation_change# from v$$datafile);
