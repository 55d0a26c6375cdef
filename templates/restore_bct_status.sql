-- Block change tracking as the restored controlfile has it (status, then the file name).
select 'BCT: '||status||' '||filename from v$$block_change_tracking;
