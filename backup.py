#!/usr/bin/env python3
"""backup.py <db> <action> [--dry-run] [--config=FILE]: the backup side of the toolset.

Actions: config, setschedule, imagecopywithsnap, missingarchlog,
generaterestore, report, validatebackup, backupimagecopy, verifysnapshots.
Exit status 0 only on success; 2 for bad usage, configuration, a backup area
that does not exist (nothing is created: a failed mount must not be backed up
to local disk) or a lock not obtained; 143 on SIGTERM, 130 on Ctrl-C; 1 for
any other failure, a session log that could not be written included.  Every
error is one ``ERROR:`` line on stderr, also after the session log exists.

``verifysnapshots [--json]`` is a monitoring check instead (see
imagecopy/snapcheck.py): no lock, no session log, no Oracle; Nagios exit
codes 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the configuration or the
storage kept it from judging); bad arguments still exit 2.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import datetime
from pathlib import Path

from imagecopy import area, confcheck, layout, logs, runtime, snapcheck
from imagecopy import cli as runner
from imagecopy.backupjob import ACTIONS, BackupContext, BackupJob, template_values
from imagecopy.config import Configuration, locate
from imagecopy.errors import EXIT_USAGE, BackupError, UsageError
from imagecopy.lock import BackupLock
from imagecopy.oracle import OracleExec, marker_values
from imagecopy.output import emit, unknown
from imagecopy.templates import Templates
from storage import create_snapper

# The datafiles' names, to warn when the backup area shares their filesystem.
DATAFILE_NAMES_SQL = "select 'DATAFILENAME: '||name from v$datafile;\n"
USAGE = f"Usage: backup.py <config> <{'|'.join(ACTIONS)}> [--dry-run] [--config=FILE] [--json]"


def parser() -> runner.ArgParser:
    p = runner.ArgParser("backup.py", USAGE, description="Image copy backups of one database.")
    p.add_argument("db", help="database (configuration section, TNS alias)")
    p.add_argument("action", type=str.lower, choices=ACTIONS, metavar="action", help=" | ".join(ACTIONS))
    p.add_argument("--dry-run", action="store_true", help="print what would run, change nothing")
    p.add_argument("--config", metavar="FILE", help="the configuration file (as $BACKUPCONFIG)")
    p.add_argument("--json", action="store_true", help="verifysnapshots: the result as JSON")
    return p


def check_args(args: argparse.Namespace) -> None:
    """What argparse cannot say: the options that fit only some actions, an empty --config.

    :raises UsageError: naming what is wrong.
    """
    if args.config is not None and not args.config.strip():
        # Not "use the default": a scheduler entry that lost its file name must not back up
        # with another environment's configuration.
        raise UsageError("--config= needs a file name")
    if args.json and args.action != "verifysnapshots":
        raise UsageError("--json applies to verifysnapshots only")
    if args.dry_run and args.action == "verifysnapshots":
        raise UsageError("--dry-run does not apply to verifysnapshots (it changes nothing)")


def verify_snapshots(db: str, config_name: str | None, as_json: bool) -> int:
    """The monitoring check of every snapshot's archivelogs; its Nagios exit code.

    Nothing is written and no Oracle runs: it may run beside the daily job, without its lock.
    """
    try:
        config = Configuration(locate(config_name), db)
        confcheck.check(config)
        report = snapcheck.verify(create_snapper(config, db), db)
    except (BackupError, OSError) as exc:
        return unknown(exc, as_json, database=db)
    emit(report, as_json)
    return report.exit_code


def open_session_log(config: Configuration, db: str, logfile: Path) -> logging.Logger:
    """The session log, announced first; old logs removed."""
    print(f"Log file for this session: {logfile}", flush=True)
    log = logs.setup(db, logfile)
    logs.remove_old_logs(logfile.parent, config.getint("logretention", "generic", default=30, minimum=0), log)
    return log


def run(db: str, action: str, dry_run: bool, config_name: str | None, state: dict) -> None:
    """The action, under the backup area's lock; ``state`` learns the log file as soon as it exists.

    The whole configuration is checked (also under --dry-run) before the backup area is
    required to exist, and both before anything is written.
    """
    config = Configuration(locate(config_name), db)
    confcheck.check(config)
    maxlockwait = config.getfloat("maxlockwait", "generic", default=30)
    backup_area = layout.backup_area(config, db)
    logfile = None if dry_run else \
        backup_area / layout.LOG_DIR / f"{db}_{datetime.now():%Y%m%dT%H%M%S}_{action}.log"
    templates = Templates(values=template_values(config, db, backup_area, logfile))
    snapper = None
    if action == "imagecopywithsnap" and config.getbool("dosnapshot"):
        snapper = create_snapper(config, db)
    area.require(config, db, action)
    log = logs.session_logger(db)
    if logfile is not None:
        log = open_session_log(config, db, logfile)
        state["logfile"] = logfile
    oraclehome = Path(config.get("oraclehome", "generic"))
    log.debug("Oracle home: %s", oraclehome)
    log.info("Configuration file: %s", config.path)
    confcheck.warn_if_readable_secrets(config)
    confcheck.warn_unknown_keys(config)
    oracle = OracleExec(oraclehome, layout.tns_admin(config), logfile, dry_run=dry_run)
    job = BackupJob(BackupContext(config, db, backup_area, oracle, templates, snapper, templates.values))
    if dry_run:
        job.run(action)
        return
    with BackupLock(backup_area, maxlockwait):
        job.run(action)
        if action in ("imagecopywithsnap", "report"):
            warn_same_filesystem(job, backup_area, action)


def warn_same_filesystem(job: BackupJob, backup_area: Path, action: str) -> None:
    """WARNING when the area shares a filesystem with a (local) datafile: that is no backup at all.

    The daily job compares the datafiles its RMAN refresh read (no extra Oracle session);
    ``report`` asks SQL*Plus for them.
    """
    log = logs.session_logger(job.ctx.db)
    names = job.oracle.datafile_names
    if action == "report":
        try:
            names = marker_values(job.sqlplus(DATAFILE_NAMES_SQL, quiet=True), "DATAFILENAME: ")
        except BackupError as exc:   # the check of a warning never fails the action
            log.warning("Could not compare the backup area's filesystem with the datafiles': %s", exc)
            return
    warning = area.same_filesystem(backup_area, names)
    if warning:
        log.warning("%s", warning)


def report_error(message: str, details: list[str], logfile: Path | None, log: logging.Logger) -> None:
    """In the session log when there is one, and always one line on stderr: where the operator looks."""
    if logfile is not None:
        log.error("%s", message)
        for line in details:
            log.error("  %s", line)
        unwritable = logs.log_write_failure()
        where = f"the log file could not be written: {unwritable}" if unwritable else f"log: {logfile}"
        print(f"ERROR: {runtime.one_line(message)} ({where})", file=sys.stderr)
    else:
        runner.print_error(message, details)


def main(argv: list[str] | None = None) -> int:
    runner.start()
    args = runner.parse(parser(), sys.argv[1:] if argv is None else argv)
    if isinstance(args, int):
        return args
    try:
        check_args(args)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    db, action, dry_run, config_name = args.db, args.action, args.dry_run, args.config
    if action == "verifysnapshots":
        return verify_snapshots(db, config_name, args.json)
    if action == "setschedule" and not os.environ.get("OSPASSWORD"):
        print("Environment variable OSPASSWORD must be set.", file=sys.stderr)
        return EXIT_USAGE
    runtime.lead_process_group()
    # Nothing reaches the screen through logging until the session log exists: errors before
    # that are one line on stderr.
    log = logs.session_logger(db)
    state: dict = {}

    def work() -> int:
        run(db, action, dry_run, config_name, state)
        return 0
    try:
        code = runner.guarded(work, lambda message, details: report_error(message, details,
                                                                           state.get("logfile"), log))
    finally:
        runtime.kill_own_group()
        logs.close()
        show_log(state.get("logfile"))
    if code == 0 and logs.log_write_failure():
        # The action ran, but its log (RMAN's output, the errors) is lost: not a success.
        print(f"ERROR: cannot write the log file {logs.log_write_failure()}", file=sys.stderr)
        code = 1
    return code


def show_log(logfile: Path | None) -> None:
    """With BACKUP_LOG_TO_SCREEN=TRUE (Jenkins), the whole session log at the end."""
    if logfile is not None and os.environ.get("BACKUP_LOG_TO_SCREEN", "").upper() == "TRUE":
        print("\n\n======================\nBACKUP LOG FILE OUTPUT\n======================\n\n")
        try:
            print(logfile.read_text(errors="replace"))
        except OSError:
            print("Log file not found")


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
