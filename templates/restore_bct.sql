-- Keep the restored instance off the controlfile's BCT path: the file is renamed into scratch, then disabled.
${renamebct}
alter database disable block change tracking;
select 'BCT: '||status from v$$block_change_tracking;
