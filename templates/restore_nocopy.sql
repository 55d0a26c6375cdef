-- Datafiles that have no image copy (created after the last refresh) are restored as new files.
select 'NOCOPY: '||file# from v$$datafile
 where file# not in (select file# from v$$datafile_copy where tag = 'IMAGE_COPY_BACKUP' and deleted = 'NO');
