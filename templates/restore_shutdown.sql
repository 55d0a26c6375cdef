shutdown abort
