"""The library behind the oracle-imagecopy-backup scripts.

Modules have one job each: ``errors`` (the exception tree and exit codes),
``config`` (the INI file and its lookup rule), ``logs`` (session logs),
``lock`` (the backup area lock), ``templates`` (user-editable RMAN/SQL text),
``oracle`` (running rman and sqlplus), ``commands`` (running anything else).
``backupcommon`` at the top level re-exports them for the scripts and for
storage drivers written against the older toolset.
"""
