-- Facts the config action decides on (in Python).
select 'BCT: '||status from v$$block_change_tracking;
select 'EDITION: '||banner from v$$version where banner like 'Oracle Database%';
select 'ARCHDEST: '||name||'='||value from v$$parameter
 where name like 'log\_archive\_dest\__' escape '\' or name like 'log\_archive\_dest\___' escape '\';
