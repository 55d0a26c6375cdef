#!/usr/bin/env python3
"""restore.py <configfile> <db>: a point-in-time copy of a database on an isolated host.

Interactive: asks whether the host is isolated, where to mount the clone, the
target time (UTC or local) and a new instance SID; picks the oldest snapshot
created at or after the target, clones it as ``restore_<db>_<YYYYmmdd_HHMMSS>``,
prints the mount command to run as root and waits, restores into a fresh
directory inside the mount, opens the database read only, and prints the
verified time and the clean-up commands.  The same checks apply to the flags
for scripted use::

    restore.py <configfile> <db> --target "2026-11-25 03:00:00" [--utc] --sid ORCLR --mountdir /mnt/r --yes

``--validate`` also reads every block of the restored copy (as the nightly
test does on its validation days): a corrupt block that recovery never
touched fails the restore instead of opening unnoticed.  ``--scn N``
restores to an SCN instead of a time (RMAN ``set until scn N``).

``--plan --target TIME | --scn N [--json]`` prints what a restore would do
and clones nothing (see imagecopy/restoreplan.py): exit 0 when it would reach
the target, 1 when it would not.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from imagecopy import cli as runner
from imagecopy import confcheck, layout, logs, restoreplan
from imagecopy.catalog import open_catalog
from imagecopy.config import RESTORE_DEFAULTS, Configuration, locate
from imagecopy.errors import EXIT_USAGE, BackupError, UsageError
from imagecopy.oracle import OracleExec
from imagecopy.output import emit
from imagecopy.templates import Templates
from restorecommon import (
    MOUNT_METHODS,
    TIME_FORMAT,
    RestoreEngine,
    RestoreSettings,
    Terminated,
    raise_on_signals,
    refuse_without_clones,
)
from storage import create_snapper

SID = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,7}$")
# The old toolset's options for a clone holding datafiles ([autorestore] restoremountoptions).
MOUNT_OPTIONS = "rw,bg,hard,nointr,rsize=32768,wsize=32768,tcp,vers=3,timeo=600"


class Asker:
    """Questions on the terminal; a bad answer is asked again."""

    def __init__(self, read: Callable[[str], str] = input, write: Callable[[str], None] = print):
        self.read, self.write = read, write

    def ask(self, question: str, check: Callable[[str], str | None]) -> str:
        while True:
            answer = self.read(question).strip()
            problem = check(answer)
            if problem is None:
                return answer
            self.write(problem)

    def yes_no(self, question: str) -> bool:
        return self.ask(f"{question} (y/n) ", lambda a: None if a.lower() in ("y", "n") else
                        "Please answer y or n.").lower() == "y"


def check_directory(answer: str) -> str | None:
    if not answer:
        return "An answer is required."
    path = Path(answer)
    if not path.is_dir():
        return "That path does not exist or is not a directory."
    if not os.access(path, os.W_OK | os.X_OK):
        return "That directory is not writable."
    return None


def check_time(answer: str) -> str | None:
    try:
        datetime.strptime(answer, TIME_FORMAT)
        return None
    except ValueError:
        return "The time must look like 2026-11-25 03:00:00 (yyyy-mm-dd hh24:mi:ss)."


def check_sid(answer: str) -> str | None:
    return None if SID.match(answer) else "At most 8 letters and digits, starting with a letter."


USAGE = ("usage: restore.py [-h] [--target TARGET] [--utc] [--sid SID] [--mountdir MOUNTDIR] [--yes] "
         "[--validate] [--scn SCN] [--plan] [--json] configfile db")


def parser() -> runner.ArgParser:
    p = runner.ArgParser("restore.py", USAGE, description="Point-in-time copy of a database from a snapshot.")
    p.add_argument("configfile")
    p.add_argument("db")
    p.add_argument("--target", help="yyyy-mm-dd hh24:mi:ss")
    p.add_argument("--utc", action="store_true", help="the target time is UTC (default: this host's local time)")
    p.add_argument("--sid", help="SID of the new instance")
    p.add_argument("--mountdir", help="directory the clone is mounted in")
    p.add_argument("--yes", action="store_true", help="the host is isolated; do not ask for confirmation")
    p.add_argument("--validate", action="store_true",
                   help="also read every block (backup validate check logical database): a corrupt block "
                        "that recovery never touched fails the restore")
    p.add_argument("--scn", help="restore to this SCN instead of a time (RMAN set until scn)")
    p.add_argument("--plan", action="store_true", help="print what the restore would do, clone nothing")
    p.add_argument("--json", action="store_true", help="the plan as JSON (with --plan)")
    return p


def check_options(args: argparse.Namespace) -> int | None:
    """The options that only make sense together; the SCN as a number.

    :raises UsageError: naming what is wrong.
    """
    scn = None
    if args.scn is not None:
        if not re.fullmatch(r"\d{1,20}", args.scn.strip()) or int(args.scn) <= 0:
            raise UsageError(f"--scn must be a positive whole number, not '{args.scn}'")
        scn = int(args.scn)
        if args.target is not None:
            raise UsageError("--scn and --target exclude each other: restore to an SCN or to a time")
        if args.utc:
            raise UsageError("--utc applies to --target only")
    if args.plan and args.target is None and scn is None:
        raise UsageError("--plan needs --target TIME or --scn N")
    if args.json and not args.plan:
        raise UsageError("--json applies to --plan only")
    return scn


def main(argv: list[str] | None = None, asker: Asker | None = None) -> int:
    runner.start()
    args = runner.parse(parser(), sys.argv[1:] if argv is None else argv)
    if isinstance(args, int):
        return args
    if os.geteuid() == 0:
        print("No, I will not run as root.", file=sys.stderr)
        return EXIT_USAGE
    return runner.guarded(lambda: interactive(args, asker or Asker()))


def interactive(args: argparse.Namespace, asker: Asker) -> int:
    """Ask what the command line did not say, then plan or restore."""
    try:
        config = Configuration(locate(args.configfile), args.db, extra_defaults=RESTORE_DEFAULTS)
        confcheck.check(config, [args.db], restore=True)
        confcheck.warn_if_readable_secrets(config)
        confcheck.warn_unknown_keys(config)
        refuse_without_clones(config, args.db)      # a storage without clones: one line, exit 2
        scn = check_options(args)
        for value, check in ((args.target, check_time), (args.sid, check_sid), (args.mountdir, check_directory)):
            if value is not None and check(value):
                raise UsageError(check(value))
        if args.plan:
            return print_plan(config, args.db, args.target, args.utc, scn, args.mountdir, args.json)
        if not args.yes and not asker.yes_no("Is this host isolated from production (no access to its "
                                             "database storage)?"):
            print("Then do not restore here.")
            return 1
        method = config.getchoice("autorestoremountmethod", "autorestore", MOUNT_METHODS, "fstab")
        mountdir = args.mountdir
        if mountdir is None and method != "clonepath":
            mountdir = asker.ask("Directory to mount the clone in: ", check_directory)
        target_text = None if scn is not None else \
            args.target or asker.ask("Target time (yyyy-mm-dd hh24:mi:ss): ", check_time)
        utc = args.utc if args.target or scn is not None else asker.yes_no("Is that time in UTC?")
        sid = args.sid or asker.ask("New instance SID (at most 8 letters/digits): ", check_sid)
        return restore(config, args.db, target_text, utc, sid, Path(mountdir) if mountdir else None, method,
                       asker, confirm=not args.yes, validate=args.validate, scn=scn)
    except EOFError:                # the questions' input ended: nothing was done
        print("\nCancelled.", file=sys.stderr)
        return 1


def target_times(text: str, utc: bool) -> tuple[datetime, datetime]:
    """The target as this host's local time (naive, what RMAN is given) and as UTC (to pick the snapshot)."""
    naive = datetime.strptime(text, TIME_FORMAT)
    if utc:
        target_utc = naive.replace(tzinfo=timezone.utc)
        return target_utc.astimezone().replace(tzinfo=None), target_utc
    return naive, naive.astimezone(timezone.utc)


def print_plan(config: Configuration, db: str, target_text: str | None, utc: bool, scn: int | None,
               mountdir: str | None, as_json: bool) -> int:
    """restore.py --plan: the plan on stdout, as text or JSON; exit 1 when the restore would not reach the target."""
    snapper = create_snapper(config, db)
    if scn is not None:
        plan = restoreplan.Plan(db, f"SCN {scn}", f"scn {scn}")
        plan.snapid, plan.why = restoreplan.choose_snapshot(snapper, None, scn)
        target = restoreplan.Target(scn=scn)
    else:
        assert target_text is not None
        local, target_utc = target_times(target_text, utc)
        plan = restoreplan.Plan(db, f"{local:%Y-%m-%d %H:%M:%S} (local), {target_utc:%Y-%m-%d %H:%M:%S} UTC",
                                f"time \"to_date('{local:%Y-%m-%d %H:%M:%S}', 'yyyy-mm-dd hh24:mi:ss')\"")
        plan.snapid, plan.why = restoreplan.choose_snapshot(snapper, target_utc, None)
        target = restoreplan.Target(time=local)
    if plan.snapid is None:
        plan.problem = "no snapshot covers the target"
        plan.why, plan.archivelogs = "", "not checked: no snapshot"
    else:
        plan.why += f" (created {snapper.getsnapcreation(plan.snapid):%Y-%m-%d %H:%M:%S} UTC)"
        restoreplan.check_logs(plan, snapper, target)
    plan.expected = restoreplan.catalog_duration(lambda: open_catalog(config, readonly=True), db)
    plan.mount = mount_plan(config, db, mountdir)
    emit(plan, as_json)
    return plan.exit_code


def mount_plan(config: Configuration, db: str, mountdir: str | None) -> str:
    """How the clone would be mounted, as restore.py would print it."""
    method = config.getchoice("autorestoremountmethod", "autorestore", MOUNT_METHODS, "fstab")
    if method == "clonepath":
        return "none: the clone's own directory is used (autorestoremountmethod: clonepath)"
    options = config.get("restoremountoptions", "autorestore", default=MOUNT_OPTIONS).strip()
    option_args = f"-o {options} " if options else ""
    return (f"mount -t nfs {option_args}<the clone's export, printed once the clone exists> "
            f"{mountdir or '<mount directory>'}   (as root)")


def restore(config: Configuration, db: str, target_text: str | None, utc: bool, sid: str, mountdir: Path | None,
            method: str, asker: Asker, confirm: bool, validate: bool = False, scn: int | None = None) -> int:
    snapper = create_snapper(config, db)
    if scn is None:
        assert target_text is not None
        target_local, target_utc = target_times(target_text, utc)
        shown = ("Target time:", f"{target_local:%Y-%m-%d %H:%M:%S} (local), {target_utc:%Y-%m-%d %H:%M:%S} UTC")
    else:
        target_local, target_utc, shown = None, None, ("Target SCN:", str(scn))
    snapid, _ = restoreplan.choose_snapshot(snapper, target_utc, scn)
    if snapid is None:
        missing = f"No snapshot records a recovery target at or past SCN {scn}" if target_utc is None else \
            f"No snapshot was created at or after {target_utc:%Y-%m-%d %H:%M:%S} UTC"
        print(f"{missing}. Create one first:\n  {zsnapper_command(config)} {db} create")
        return 1
    clonename = f"restore_{db}_{datetime.now():%Y%m%d_%H%M%S}"
    print(f"\nDatabase:        {db}\n{shown[0]:<17}{shown[1]}\nSnapshot:        {snapid}\n"
          f"Clone:           {clonename}\nNew instance:    {sid}\nMount directory: {mountdir or '(the clone path)'}\n")
    if confirm and not asker.yes_no("Continue?"):
        print("Nothing was done.")
        return 1
    logdir = Path(config.get("autorestorelogdir", "autorestore"))
    logfile = logdir / f"{datetime.now():%Y%m%dT%H%M%S}-restore-{db}.log"
    logs.setup(db, logfile)
    settings = RestoreSettings.from_config(config, db, sid=sid)
    settings.clonename, settings.sid, settings.tolerance_minutes = clonename, sid, None
    settings.validate = validate
    settings.target_scn = scn
    settings.mount_method = method
    if mountdir is not None:
        settings.mountpoint = mountdir
    oracle = OracleExec(Path(config.get("oraclehome", "generic")), layout.tns_admin(config), logfile, sid=sid)
    engine = RestoreEngine(settings, snapper, oracle, Templates())
    try:
        run_restore(engine, config, snapid, target_local, asker)
    except (BackupError, Terminated, EOFError, KeyboardInterrupt) as exc:
        print(f"\n{engine.outcome.fail(str(exc) or 'cancelled')}", file=sys.stderr)
        for line in getattr(exc, "details", []):
            print(f"  {line}", file=sys.stderr)
    finally:
        # The outcome says how far the restore got, whatever stopped it; it goes to the log.
        engine.outcome.finish_time = datetime.now()
        o = engine.outcome
        logs.session_logger(db).debug("Restore %s: snapshot %s, clone %s, target %s",
                                      "successful" if o.success else f"failed at step {o.step}", o.snapid,
                                      o.clone, o.restore_target)
        logs.close()
    return report(config, engine, target_local, logfile, mountdir, method)


def run_restore(engine: RestoreEngine, config: Configuration, snapid: str, target: datetime | None,
                asker: Asker) -> None:
    """Clone, have the clone mounted (by root, or its own path), restore into a fresh directory in it."""
    engine.clone(snapid)
    settings = engine.s
    if settings.mount_method == "clonepath":
        base = engine.mount()
    else:
        engine.step("mount")
        options = config.get("restoremountoptions", "autorestore", default=MOUNT_OPTIONS).strip()
        option_args = f"-o {options} " if options else ""
        print(f"Now mount the clone, as root:\n  mount -t nfs {option_args}"
              f"{engine.snapper.mountstring(settings.clonename)} {settings.mountpoint}")
        while not asker.yes_no("Is the clone mounted?"):
            pass
        base = settings.mountpoint
    settings.scratch = Path(tempfile.mkdtemp(prefix="restore_", dir=base))
    raise_on_signals()
    engine.restore_from(base, target=target)


def report(config: Configuration, engine: RestoreEngine, target_local: datetime | None, logfile: Path,
           mountdir: Path | None, method: str) -> int:
    """What was restored (or how far it got), and how to clean up; the exit status."""
    outcome, sid = engine.outcome, engine.s.sid
    if outcome.success and target_local is None:
        print(f"\nDatabase {outcome.db_unique_name} restored as instance {sid}, open read only.")
        print(f"Requested SCN:   {engine.s.target_scn} (the changes below it)")
        print(f"Verified time:   {outcome.verified}")
        print(f"Datafiles in:    {engine.mountdir}; instance files in {engine.s.scratch}")
    elif outcome.success:
        print(f"\nDatabase {outcome.db_unique_name} restored as instance {sid}, open read only.")
        print(f"Requested time:  {target_local:%Y-%m-%d %H:%M:%S}")
        print(f"Verified time:   {outcome.verified}")
        print(f"Difference:      {outcome.restore_target - outcome.verified if outcome.verified else 'unknown'}")
        print(f"Datafiles in:    {engine.mountdir}; instance files in {engine.s.scratch}")
    print(f"The log: {logfile}")
    if engine.cloned:
        cleanup_help(config, outcome.db_unique_name, sid, engine.s.clonename, mountdir, method)
    if not outcome.success:
        return 1
    if outcome.verified and target_local is not None and outcome.verified > target_local:
        print("WARNING: the verified time is after the target: the data is newer than asked for.")
        return 1
    return 0


def zsnapper_command(config: Configuration) -> str:
    """zsnapper as the user can run it from anywhere: the configuration file named, and the script by its
    full path (beside this one; or the installed ``zsnapper`` command beside the installed ``restore``)."""
    here = Path(sys.argv[0]).resolve().parent if sys.argv and sys.argv[0] else None
    candidates = [Path(__file__).resolve().parent / "zsnapper.py"]
    if here is not None:
        candidates[:0] = [here / "zsnapper.py", here / "zsnapper"]
    script = next((c for c in candidates if c.is_file()), candidates[-1])
    # A script without its executable bit is still runnable through this interpreter.
    command = str(script) if os.access(script, os.X_OK) else f"{sys.executable} {script}"
    return f"BACKUPCONFIG={Path(config.path).resolve()} {command}"


def cleanup_help(config: Configuration, db: str, sid: str, clonename: str, mountdir: Path | None,
                 method: str) -> None:
    print("\nWhen you are done with it, clean up:")
    print(f"  echo 'shutdown abort' | ORACLE_SID={sid} sqlplus -S / as sysdba")
    if method != "clonepath":
        print(f"  umount {mountdir}      # as root")
    print(f"  {zsnapper_command(config)} {db} dropclone {clonename}")


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
