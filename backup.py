#!/usr/bin/env python3
"""backup.py <db> <action> [--dry-run] [--config=FILE]: the backup side of the toolset.

Actions: config, setschedule, imagecopywithsnap, missingarchlog,
generaterestore, report, validatebackup, backupimagecopy.  Exit status 0
only on success; 2 for bad usage, configuration or a lock not obtained.
"""
from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

from imagecopy import layout, logs
from imagecopy.backupjob import ACTIONS, BackupContext, BackupJob, template_values
from imagecopy.config import Configuration, locate
from imagecopy.errors import EXIT_USAGE, BackupError, UsageError
from imagecopy.lock import BackupLock
from imagecopy.oracle import OracleExec
from imagecopy.templates import Templates

USAGE = f"Usage: backup.py <config> <{'|'.join(ACTIONS)}> [--dry-run] [--config=FILE]"


def parse_args(argv: list[str]) -> tuple[str, str, bool, str | None]:
    dry_run = "--dry-run" in argv
    config = None
    rest = []
    for a in argv:
        if a == "--dry-run":
            continue
        if a.startswith("--config="):
            config = a.split("=", 1)[1]
            continue
        rest.append(a)
    if len(rest) != 2 or rest[1].lower() not in ACTIONS or rest[0].startswith("-"):
        raise UsageError(USAGE)
    return rest[0], rest[1].lower(), dry_run, config


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        db, action, dry_run, config_name = parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if action == "setschedule" and not os.environ.get("OSPASSWORD"):
        print("Environment variable OSPASSWORD must be set.", file=sys.stderr)
        return EXIT_USAGE
    logfile: Path | None = None
    lock: BackupLock | None = None
    # Nothing reaches the screen through logging until the session log exists: errors before
    # that are one line on stderr.
    log = logs.session_logger(db)
    code = 0
    try:
        config = Configuration(locate(config_name), db)
        area = layout.backup_area(config, db)
        if not dry_run:
            logfile = area / layout.LOG_DIR / f"{db}_{datetime.now():%Y%m%dT%H%M%S}_{action}.log"
            print(f"Log file for this session: {logfile}")
            log = logs.setup(db, logfile)
            logs.remove_old_logs(logfile.parent, config.getint("logretention", "generic", minimum=0), log)
        oraclehome = Path(config.get("oraclehome", "generic"))
        log.debug("Oracle home: %s", oraclehome)
        log.info("Configuration file: %s", config.path)
        oracle = OracleExec(oraclehome, layout.tns_admin(config), logfile, dry_run=dry_run)
        templates = Templates(values=template_values(config, db, area, logfile))
        snapper = None
        if action == "imagecopywithsnap" and config.getbool("dosnapshot"):
            from storage import create_snapper
            snapper = create_snapper(config, db)
        ctx = BackupContext(config, db, area, oracle, templates, snapper, templates.values)
        job = BackupJob(ctx)
        if dry_run:
            job.run(action)
        else:
            lock = BackupLock(area, config.getfloat("maxlockwait", "generic"))
            with lock:
                job.run(action)
    except BackupError as exc:
        if logfile is None:
            print(f"ERROR: {exc}" + "".join(f"\n  {line}" for line in exc.details), file=sys.stderr)
        else:
            log.error("%s", exc)
            for line in exc.details:
                log.error("  %s", line)
        code = exc.exit_code
    except KeyboardInterrupt:
        log.error("Interrupted")
        code = 130
    except Exception as exc:  # a bug: say what happened in one line and keep the traceback in the log
        log.debug("Unexpected error", exc_info=True)
        log.error("Unexpected error: %s: %s", type(exc).__name__, exc)
        code = 1
    finally:
        logs.close()
        if logfile is not None and os.environ.get("BACKUP_LOG_TO_SCREEN", "").upper() == "TRUE":
            print("\n\n======================\nBACKUP LOG FILE OUTPUT\n======================\n\n")
            print(logfile.read_text(errors="replace") if logfile.exists() else "Log file not found")
    return code


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
