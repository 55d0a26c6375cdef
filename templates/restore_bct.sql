-- Keep the restored instance off production paths: the BCT file is renamed into scratch, then disabled.
${renamebct}
alter database disable block change tracking;
select 'BCT: '||status from v$$block_change_tracking;
-- Datafiles that have no image copy (created after the last refresh) are restored as new files.
select 'NOCOPY: '||file# from v$$datafile
 where file# not in (select file# from v$$datafile_copy where tag = 'IMAGE_COPY_BACKUP' and deleted = 'NO');
