-- The image copies' checkpoints and the datafiles (checked before and after the refresh).
select 'COPYSCN: '||file#||' '||max(checkpoint_change#) from v$$datafile_copy
 where deleted = 'NO' and status = 'A' and tag = 'IMAGE_COPY_BACKUP' group by file#;
select 'DATAFILE: '||file# from v$$datafile;
