startup nomount pfile='${scratch}/init.ora'
