#!/usr/bin/env python3
"""autorestore.py <configfile> [db | !db | --createcatalog | --listvalidationdates]

The nightly restore test: for every database with ``autorestoreenabled = 1``
(or only ``db``, or all but ``db``), clone the newest snapshot, restore and
recover it, open it read only, check it, validate its blocks on its
validation day, clean up, and record the result.  One database's failure
never stops the next.  Prints ``Exitstatus is N``; exit status 1 when any
restore failed, 2 for bad usage or configuration (or when run as root), 3
when the host is not declared a sandbox.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from imagecopy import cli as runner
from imagecopy import commands, confcheck, layout, logs, runtime
from imagecopy.catalog import open_catalog
from imagecopy.config import RESTORE_DEFAULTS, Configuration, locate
from imagecopy.errors import EXIT_SANDBOX, EXIT_USAGE, BackupError, UsageError
from imagecopy.lock import BackupLock
from imagecopy.metrics import write_textfile
from imagecopy.oracle import OracleExec
from imagecopy.restorerecord import RestoreResult
from imagecopy.templates import Templates
from imagecopy.validation import describe_schedule, setting_from_config, validation_day
from restorecommon import (
    RestoreEngine,
    RestoreSettings,
    Terminated,
    purge_diagnostics,
    raise_on_signals,
    refuse_without_clones,
)
from storage import create_snapper

USAGE = """\
Usage: autorestore.py <configuration file> [[!]db | --createcatalog | --listvalidationdates]
  db          restore only this database; !db: all enabled databases but this one
  --createcatalog        create the results catalog
  --listvalidationdates  when each database is next validated block by block"""

SANDBOX_WARNING = """\
THE RESTORE TEST CAN BE DANGEROUS ON A HOST THAT REACHES PRODUCTION DATABASE STORAGE:
A RESTORE MAY OVERWRITE OR DELETE FILES AT THE LOCATIONS ITS CONTROLFILE NAMES.
RUN IT ONLY ON A HOST SANDBOXED FROM THE PRODUCTION DATABASE ENVIRONMENT.
TO CONTINUE, SET THE ENVIRONMENT VARIABLE AUTORESTORE_SAFE_SANDBOX TO TRUE (CASE SENSITIVE)."""


def selected_databases(config: Configuration, choice: str | None) -> list[str]:
    names = config.database_sections()
    if choice and not choice.startswith("!"):
        if choice not in names:
            raise UsageError(f"No section [{choice}] in {config.path}")
        names = [choice]
    elif choice:
        names = [n for n in names if n != choice[1:]]
    return [n for n in names if config.for_section(n).getbool("autorestoreenabled")]


def restore_one(config: Configuration, db: str, slot: int | None = None) -> bool:
    """Restore one database, record the result; True on success."""
    cfg = config.for_section(db)
    logdir = Path(cfg.get("autorestorelogdir", "autorestore"))
    logfile = logdir / f"{datetime.now():%Y%m%dT%H%M%S}-{db}.log"
    log = logs.setup(db, logfile)
    log.info("Starting to restore")
    log.info("Logfile: %s", logfile)
    outcome = RestoreResult(db, start_time=datetime.now())
    engine = None
    interrupted: Terminated | None = None
    try:
        engine = prepare(config, db, slot, logfile, outcome)
        engine.restore(max_age_hours=cfg.getfloat("autorestoresnapage", "autorestore"))
    except Terminated as exc:
        interrupted = exc
        log.error(outcome.fail(str(exc)))
    except BackupError as exc:
        log.error(outcome.fail(str(exc)))
        for line in exc.details:
            log.error("  %s", line)
    except Exception as exc:  # a bug must not stop the next database's restore
        log.debug("Unexpected error", exc_info=True)
        log.error(outcome.fail(f"unexpected error {type(exc).__name__}: {exc}"))
    finally:
        # The engine's outcome holds what was known when it stopped (snapshot, target, step):
        # it is recorded whatever happened, after the clean-up.
        if engine is not None:
            engine.cleanup()
            if outcome.success:
                keep_verified(engine, outcome, log)
        outcome.finish_time = datetime.now()
        log.info("Restore %s, elapsed time: %s", "successful" if outcome.success else "failed",
                 outcome.finish_time - outcome.start_time)
        recorded = record(cfg, outcome, logfile, log)
        purge_old_files(cfg, engine, logdir, log)
        logs.close()
    if interrupted is not None:
        raise interrupted
    if not recorded:
        print(f"ERROR: {db}: the restore result was not recorded in the catalog (log: {logfile})",
              file=sys.stderr)
    return outcome.success and recorded


def prepare(config: Configuration, db: str, slot: int | None, logfile: Path, outcome: RestoreResult
            ) -> RestoreEngine:
    """The engine for one nightly restore of ``db``, its validation decided; it fills ``outcome``."""
    log = logs.session_logger(db)
    cfg = config.for_section(db)
    settings = RestoreSettings.from_config(config, db, slot)
    setting = setting_from_config(config, db)
    settings.validate = setting.should_validate(date.today(), random.SystemRandom())
    if settings.validate:
        log.debug("Database will be validated during this restore session")
    elif setting.modulus > 0:
        _today, days, when = validation_day(setting.key, setting.modulus, date.today())
        log.debug("Next database validation in %d days: %s", days, when)
    snapper = create_snapper(cfg, db)
    oracle = OracleExec(Path(cfg.get("oraclehome", "generic")), layout.tns_admin(cfg), logfile, sid=settings.sid)
    return RestoreEngine(settings, snapper, oracle, Templates(), outcome)


def keep_verified(engine: RestoreEngine, outcome: RestoreResult, log: logging.Logger) -> None:
    """Pin the snapshot just proven to restore as the database's last verified one (the pin moves on).

    Retention then keeps it whatever its age, so one snapshot known to restore always
    exists.  A storage that cannot pin leaves the restore a success, with a warning.
    """
    try:
        engine.snapper.pin_verified(str(outcome.snapid))
        log.info("Snapshot %s pinned as the last verified one", outcome.snapid)
    except Exception as exc:  # noqa: BLE001 - the restore itself succeeded
        log.warning("Could not pin snapshot %s as the last verified one: %s", outcome.snapid, exc)


def purge_old_files(cfg: Configuration, engine: RestoreEngine | None, logdir: Path, log: logging.Logger) -> None:
    """Session logs and diagnostic files older than ``[generic] logretention`` days, as backup logs are."""
    try:
        days = cfg.getint("logretention", "generic", default=30, minimum=0)
    except BackupError as exc:
        log.error("Old logs not purged: %s", exc)
        return
    if engine is not None:
        purge_diagnostics(engine.oracle, logdir, days)
    logs.remove_old_logs(logdir, days, log)


def record(cfg: Configuration, outcome: RestoreResult, logfile: Path, log: logging.Logger) -> bool:
    """The result into the catalog (with the whole log) and the Prometheus textfile.

    :returns: False when the catalog could not be written: the run must not pass then, since
        nobody would ever see this result.
    """
    outcome.logfile = logfile.name
    log.debug("Logging the result to catalog.")
    for handler in logging.getLogger().handlers:
        handler.flush()
    recorded = True
    try:
        outcome.log_contents = logfile.read_text(errors="replace")
        with open_catalog(cfg) as catalog:
            catalog.create()
            catalog.record(outcome)
    except (BackupError, OSError, sqlite3.Error) as exc:
        log.error("Logging the result to catalog failed: %s", runtime.one_line(str(exc)))
        log.error("The result of this restore was NOT recorded in the catalog")
        recorded = False
    metrics = cfg.get("autorestoremetricsfile", "autorestore", default="").strip()
    if metrics:
        try:
            write_textfile(Path(metrics), [outcome])
        except (BackupError, OSError) as exc:
            log.error("Writing metrics to %s failed: %s", metrics, exc)
    return recorded


def run_parallel(config: Configuration, cfgfile: Path, dbs: list[str], parallel: int) -> int:
    """Restores in child processes, at most ``parallel`` at once, each in its own slot."""
    failed = 0
    free = list(range(1, parallel + 1))
    running: dict[subprocess.Popen, tuple[str, int]] = {}
    queue = list(dbs)
    script = Path(__file__).resolve()

    def forward(signum, _frame):
        for proc in running:
            proc.send_signal(signum)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while queue or running:
        while queue and free:
            db, slot = queue.pop(0), free.pop(0)
            proc = subprocess.Popen([sys.executable, str(script), str(cfgfile), db, f"--slot={slot}"],
                                    env=commands.child_env(), preexec_fn=commands.die_with_parent())
            running[proc] = (db, slot)
        finished = None
        while finished is None:
            for proc in running:
                if proc.poll() is not None:
                    finished = proc
                    break
            else:
                try:
                    next(iter(running)).wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
        db, slot = running.pop(finished)
        free.append(slot)
        if finished.returncode != 0:
            failed += 1
    return failed


def parser() -> runner.ArgParser:
    p = runner.ArgParser("autorestore.py", USAGE.splitlines()[0], allow_abbrev=False,
                         description="The nightly restore test of every database with autorestoreenabled.")
    p.add_argument("config", nargs="?", metavar="configuration file", help="the configuration file")
    p.add_argument("choice", nargs="?", metavar="[!]db",
                   help="restore only this database; !db: all enabled databases but this one")
    p.add_argument("--createcatalog", dest="listing", action="append_const", const="--createcatalog",
                   help="create the results catalog")
    p.add_argument("--listvalidationdates", dest="listing", action="append_const", const="--listvalidationdates",
                   help="when each database is next validated block by block")
    p.add_argument("--slot", action="append", help=argparse.SUPPRESS)     # internal: a child of a parallel run
    return p


def parse_args(argv: list[str]) -> tuple[str, str | None, int | None] | None:
    """(configuration file, choice, slot), None after ``--help``; ``--slot=N`` is internal: a child of a
    parallel run.  The choice is a database, ``!db``, ``--createcatalog`` or ``--listvalidationdates``.

    :raises UsageError: with the usage text, or the reason a slot or an option is refused.
    """
    # "--slot" without "=N" has no value: refused as an unknown option, as before
    odd = [a for a in argv if a == "--slot" or runner.misread_by_argparse(a, ("--slot",))]
    try:
        args, extras = parser().parse_known_intermixed_args([a for a in argv if a not in odd])
    except runner.HelpShown:
        return None
    slot = None
    for value in args.slot or []:
        value = value if isinstance(value, str) else "--"    # argparse before Python 3.12 reads "--" as []
        if not value.isdigit() or not 1 <= int(value) <= 999:
            raise UsageError(f"--slot must be a number from 1 to 999, not {value!r}")
        slot = int(value)
    unknown = [a for a in argv if a in odd or (a in extras and a.startswith("-"))]
    words = [w for w in (args.config, args.choice) if w is not None] + [a for a in extras if a not in unknown]
    given = [*words, *(args.listing or []), *unknown]
    first = next((a for a in argv if not a.startswith("--slot=")), "-")
    # The configuration file comes first, then at most one more argument.
    if len(given) not in (1, 2) or first.startswith("-") or not words or not words[0].strip():
        raise UsageError(USAGE)
    choice = given[1] if len(given) == 2 else None
    if slot is not None and (choice is None or choice.startswith(("-", "!"))):
        raise UsageError("--slot needs one database name")
    if unknown:
        raise UsageError(f"unknown option {unknown[0]} (see autorestore.py without arguments)")
    return words[0], choice, slot


def listing(config: Configuration, choice: str) -> int:
    """--listvalidationdates, --createcatalog."""
    if choice == "--listvalidationdates":
        settings = [setting_from_config(config, db) for db in selected_databases(config, None)]
        for line in describe_schedule(settings, date.today()):
            print(line)
        return 0
    if choice == "--createcatalog":
        with open_catalog(config) as catalog:
            catalog.create()
            print(f"Catalog ready: {catalog.describe()}")
        return 0
    raise UsageError(f"unknown option {choice} (see autorestore.py without arguments)")


def restore_all(config: Configuration, dbs: list[str]) -> int:
    """Every selected database under the restore host's lock; how many failed."""
    logdir = Path(config.get("autorestorelogdir", "autorestore"))
    logdir.mkdir(parents=True, exist_ok=True)
    parallel = config.getint("autorestoreparallel", "autorestore", default=1, minimum=1)
    failed = 0
    with BackupLock(logdir, config.getfloat("maxlockwait", "generic", default=30), name="autorestore.lck"):
        if parallel > 1 and len(dbs) > 1:
            return run_parallel(config, Path(config.path), dbs, parallel)
        raise_on_signals()
        for db in dbs:
            try:
                if not restore_one(config, db):
                    failed += 1
            except Terminated:
                # The database being restored is cleaned up and recorded; the run ends as a
                # stopped job does (exit 143 through the runner), the rest not started.
                print("Interrupted: the remaining databases are not restored.", file=sys.stderr)
                raise
    return failed


def run(config_name: str, choice: str | None, slot: int | None) -> int:
    config = Configuration(locate(config_name), None, extra_defaults=RESTORE_DEFAULTS)
    confcheck.warn_if_readable_secrets(config)
    confcheck.warn_unknown_keys(config)
    if choice is not None and choice.startswith("--"):
        return listing(config, choice)
    dbs = selected_databases(config, choice)
    # Every value is checked before the first restore: a bad one is a configuration error
    # (exit 2), not a failed restore recorded for each database.
    confcheck.check(config, dbs, restore=True)
    for db in dbs:
        RestoreSettings.from_config(config, db, slot)
        refuse_without_clones(config, db)       # a storage without clones: one line, exit 2
    if slot is not None:            # a child: the parent holds the lock
        if not dbs:
            raise UsageError(f"database {choice} is not enabled for autorestore in {config.path}")
        raise_on_signals()
        return 0 if restore_one(config, dbs[0], slot) else 1
    status = 1 if restore_all(config, dbs) else 0
    print(f"Exitstatus is {status}")
    return status


def main(argv: list[str] | None = None) -> int:
    runner.start()
    argv = sys.argv[1:] if argv is None else argv
    try:
        parsed = parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if parsed is None:
        return 0
    config_name, choice, slot = parsed
    if os.geteuid() == 0:
        # The old toolset exited 0 here; a cron job run as root would then "succeed" every night.
        print("No, I will not run as root.", file=sys.stderr)
        return EXIT_USAGE
    if os.environ.get("AUTORESTORE_SAFE_SANDBOX") != "TRUE":
        print(SANDBOX_WARNING)
        return EXIT_SANDBOX
    runtime.lead_process_group()
    try:
        return runner.guarded(lambda: run(config_name, choice, slot))
    finally:
        runtime.kill_own_group()


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
