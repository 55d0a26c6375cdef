select 'CORRUPT: '||file#||' '||block#||' '||blocks||' '||corruption_type from v$$database_block_corruption;
