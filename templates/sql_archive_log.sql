alter system archive log current;
