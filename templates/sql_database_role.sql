-- PRIMARY or PHYSICAL STANDBY: which logs the backup area's archive destination must be valid for.
select 'ROLE: '||database_role from v$$database;
