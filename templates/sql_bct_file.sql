-- The block change tracking file of the database backed up (a standby's own, not its primary's).
select 'BCT FILE: '||filename from v$$block_change_tracking;
