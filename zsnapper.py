#!/usr/bin/env python3
"""zsnapper.py <db> <action> [name]: a database's snapshots and clones, by hand and for monitoring.

Actions: ``list``, ``create``, ``clone <snap>``, ``dropclone <clone>``,
``listclones``, ``clean [--dry-run]``, ``autoclone``, ``checkage``,
``pin <snap> --reason TEXT [--until YYYY-MM-DD]``, ``unpin <snap>``,
``checkverified``; ``--json`` on ``list``, ``listclones``, ``clean``,
``checkage`` and ``checkverified`` prints JSON instead of lines.  The
configuration file comes from ``$BACKUPCONFIG`` (else ``backup.cfg`` beside the
scripts; ``/etc/oracle-imagecopy-backup/backup.cfg`` for the installed command).

Exit codes: 0 success; 2 bad usage or configuration; the error's own code for
any other failure (one ``ERROR:`` line on stderr, never a traceback).
``checkage`` and ``checkverified`` (the age of the last snapshot a restore
test verified) follow the Nagios plugin convention instead: 0 OK, 1 WARNING,
2 CRITICAL (also when no snapshot exists), 3 UNKNOWN with the reason for
anything that kept it from judging, configuration errors included, so that a
broken setup is never mistaken for an old backup.
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

from imagecopy import cli as runner
from imagecopy.config import Configuration, locate
from imagecopy.errors import EXIT_USAGE, UsageError
from imagecopy.output import Listing, emit, unknown
from storage import create_snapper
from storage.base import SnapHandler, validate_name

log = logging.getLogger("zsnapper")

# action → number of names it takes
ACTIONS = {"list": 0, "create": 0, "clone": 1, "dropclone": 1, "listclones": 0, "clean": 0,
           "autoclone": 0, "checkage": 0, "pin": 1, "unpin": 1, "checkverified": 0}
JSON_ACTIONS = {"list", "listclones", "clean", "checkage", "checkverified"}
NAGIOS_ACTIONS = {"checkage", "checkverified"}
VALUE_OPTIONS = ("--reason", "--until")      # options that take a value (``--reason TEXT`` or ``--reason=TEXT``)
USAGE = ("Usage: zsnapper.py <db> <list|create|clone <snap>|dropclone <clone>|listclones|"
         "clean [--dry-run]|autoclone|checkage|pin <snap> --reason TEXT [--until YYYY-MM-DD]|unpin <snap>|"
         "checkverified> [--json]")
# The options the old toolset printed for Oracle datafiles over NFS (hard mount: never fail I/O silently).
NFS_OPTIONS = "rw,bg,hard,rsize=32768,wsize=32768,tcp,vers=3,timeo=600"


@dataclass(frozen=True)
class Command:
    db: str
    action: str
    name: str | None = None
    json: bool = False
    dry_run: bool = False
    reason: str | None = None
    until: date | None = None


def parser() -> runner.ArgParser:
    p = runner.ArgParser("zsnapper.py", USAGE, allow_abbrev=False,
                         description="A database's snapshots and clones, by hand and for monitoring.")
    p.add_argument("words", nargs="*", metavar="db action [name]",
                   help=f"the database (configuration section), one of {', '.join(ACTIONS)}, "
                        "and the snapshot id or clone name the action takes")
    p.add_argument("--json", action="store_true", help=f"JSON instead of lines ({', '.join(sorted(JSON_ACTIONS))})")
    p.add_argument("--dry-run", action="store_true", help="clean: what would be dropped and why; nothing dropped")
    p.add_argument("--reason", action="append", metavar="TEXT", help="pin: who asked for it, and why")
    p.add_argument("--until", action="append", metavar="YYYY-MM-DD", help="pin: the last day it protects")
    return p


def parse_args(argv: list[str]) -> Command | None:
    """The command line as a ``Command``; None for ``--help`` (wherever it is).

    :raises UsageError: with the reason, for anything that does not fit.
    """
    if any(a in ("-h", "--help") for a in argv):
        return None
    args, words, values = _read(argv)
    if len(words) < 2:
        raise UsageError("a database and an action are needed")
    db, action, names = words[0], words[1], words[2:]
    if action not in ACTIONS:
        raise UsageError(f"unknown action {action!r}")
    if len(names) != ACTIONS[action]:
        wanted = "a name" if ACTIONS[action] else "no name"
        raise UsageError(f"{action} takes {wanted}")
    if args.json and action not in JSON_ACTIONS:
        raise UsageError(f"--json does not apply to {action}")
    if args.dry_run and action != "clean":
        raise UsageError("--dry-run applies to clean only")
    if values and action != "pin":
        raise UsageError(f"{sorted(values)[0]} applies to pin only")
    if action == "pin" and not values.get("--reason", "").strip():
        raise UsageError("pin needs --reason TEXT (who asked for it, and why)")
    until = _until(values["--until"]) if "--until" in values else None
    validate_name(db, "database name")
    kind = "snapshot id" if action in ("clone", "pin", "unpin") else "clone name"
    name = validate_name(names[0], kind) if names else None
    return Command(db, action, name, args.json, args.dry_run, values.get("--reason", "").strip() or None, until)


def _read(argv: list[str]) -> tuple[argparse.Namespace, list[str], dict[str, str]]:
    """argparse's reading of ``argv`` (options before or after the words): the namespace, the
    words (database, action, name) and the value options given.

    :raises UsageError: for a value option given twice or without a value, or an unknown option.
    """
    argv = _attach_values(argv)
    odd = {a for a in argv if runner.misread_by_argparse(a, VALUE_OPTIONS)}
    # nor a bare value option to argparse: it has no value
    args, extras = parser().parse_known_intermixed_args([a for a in argv if a not in odd and a not in VALUE_OPTIONS])
    # (argparse before Python 3.12 reads the value "--" as an empty list)
    given = {name: [v if isinstance(v, str) else "--" for v in found] for name in VALUE_OPTIONS
             if (found := getattr(args, name[2:])) is not None}
    named = [a.partition("=")[0] for a in argv if "=" in a and a.partition("=")[0] in given]
    twice = [name for i, name in enumerate(named) if name in named[:i]]      # the first repeat named
    if twice:
        raise UsageError(f"{twice[0]} given twice")
    bare = [a for a in argv if a in VALUE_OPTIONS]
    if bare:
        raise UsageError(f"{bare[0]} needs a value")
    words = [*args.words, *extras]
    # "-1" and "-" reach argparse's words: options all the same.
    unknown = sorted({a for a in words if a.startswith("-")} | odd)
    if unknown:
        raise UsageError(f"unknown option {unknown[0]}")
    return args, words, {name: found[0] for name, found in given.items()}


def _attach_values(argv: list[str]) -> list[str]:
    """``--reason TEXT`` as ``--reason=TEXT``: the word after a value option is its value, whatever
    it looks like (``--reason -x``); a value option with nothing after it stays bare."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        value = next(args, None) if arg in VALUE_OPTIONS else None
        out.append(arg if value is None else f"{arg}={value}")
    return out


def _until(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--until must be a date like 2027-06-30, not {text!r}") from None


def _configuration(db: str) -> Configuration:
    return Configuration(locate(), section=db)


def _show_clone(snapper: SnapHandler, clonename: str) -> None:
    """Where the new clone is and how to reach it: a local path, or an NFS mount command."""
    fs = snapper.filesystem(clonename)
    print(f"Clone name: {clonename}")
    print(f"Mount point: {fs.mountpoint}")
    local = snapper.local_path(clonename)
    if local is not None:
        print(f"Local path (use it directly, no mount needed): {local}")
    else:
        print("Mount command (execute as root and replace the mount directory):")
        print(f"mount -t nfs -o {NFS_OPTIONS} {snapper.mountstring(clonename)} <mount_directory_here>")


# -- actions: each prints its result and returns the exit code ---------------------------
def do_list(snapper: SnapHandler, cmd: Command) -> int:
    infos = snapper.snapshots()
    pins: dict[str, list] = {}
    for pin in snapper.pins():
        pins.setdefault(pin.snapid, []).append(pin)
    # The old line first; pins after it, so scripts reading the old fields still work.
    emit(Listing([{**i.to_dict(), "pins": [p.to_dict() for p in pins.get(i.id, [])]} for i in infos],
                 tuple(snapper.snap2str(i) + "".join(f" [{p.describe()}]" for p in pins.get(i.id, []))
                       for i in infos)), cmd.json)
    return 0


def do_pin(snapper: SnapHandler, cmd: Command) -> int:
    if cmd.until is not None and cmd.until < date.today():
        raise UsageError(f"--until {cmd.until} is in the past: such a pin would protect nothing")
    pin = snapper.pin(str(cmd.name), str(cmd.reason), cmd.until)
    print(f"Snapshot {pin.snapid} {pin.describe()}")
    return 0


def do_unpin(snapper: SnapHandler, cmd: Command) -> int:
    if not snapper.unpin(str(cmd.name)):
        print(f"ERROR: snapshot {cmd.name} has no pin", file=sys.stderr)
        return 1
    print(f"Snapshot {cmd.name} unpinned.")
    return 0


def do_create(snapper: SnapHandler, cmd: Command) -> int:
    print(f"Snapshot created: {snapper.snap()}")
    return 0


def do_clone(snapper: SnapHandler, cmd: Command) -> int:
    snapid = str(cmd.name)  # parse_args made sure there is one
    clonename = f"{snapid}_clone_{datetime.now():%Y%m%dT%H%M%S}"
    snapper.clone(snapid, clonename)
    print("Clone created.")
    _show_clone(snapper, clonename)
    return 0


def do_dropclone(snapper: SnapHandler, cmd: Command) -> int:
    snapper.dropclone(str(cmd.name))
    print("Clone dropped.")
    return 0


def do_listclones(snapper: SnapHandler, cmd: Command) -> int:
    clones = snapper.clones()
    emit(Listing([c.to_dict() for c in clones], tuple(snapper.clone2str(c) for c in clones)), cmd.json)
    return 0


def do_clean(snapper: SnapHandler, cmd: Command) -> int:
    results = snapper.clean(dry_run=cmd.dry_run)
    # The plain line is the old one; a dry run also says why.
    emit(Listing({"dry_run": cmd.dry_run, "snapshots": [r.to_dict() for r in results]},
                 tuple(f"{r.infostring} ({r.reason})" if cmd.dry_run else r.infostring for r in results)), cmd.json)
    return 1 if any(r.status == "DROP FAILED" for r in results) else 0


def do_autoclone(snapper: SnapHandler, cmd: Command) -> int:
    config = snapper.config
    clonename = config.get("autorestoreclonename", "autorestore")
    min_age = config.getfloat("autorestoresnapage", "autorestore")
    snapid = snapper.autoclone(clonename, min_age)
    print("Clone created.")
    print(f"Source snapshot: {snapid}")
    _show_clone(snapper, clonename)
    return 0


def do_checkage(cmd: Command) -> int:
    """Nagios check of the newest (checkage) or the last verified (checkverified) snapshot's age.

    Every failure is UNKNOWN (3), one line.
    """
    try:
        config = _configuration(cmd.db)
        if cmd.action == "checkverified":
            warning = config.getfloat("warningverifiedage", "generic", default="50")
            critical = config.getfloat("criticalverifiedage", "generic", default="74")
            result = create_snapper(config, cmd.db).check_verified(warning, critical)
        else:
            warning = config.getfloat("warningsnapage", "generic")
            critical = config.getfloat("criticalsnapage", "generic")
            result = create_snapper(config, cmd.db).check_age(warning, critical)
    except Exception as exc:  # noqa: BLE001 - the plugin contract: anything unexpected is UNKNOWN
        return unknown(exc, cmd.json)
    emit(result, cmd.json)
    return result.exit_code


DISPATCH: dict[str, Callable[[SnapHandler, Command], int]] = {
    "list": do_list, "create": do_create, "clone": do_clone, "dropclone": do_dropclone,
    "listclones": do_listclones, "clean": do_clean, "autoclone": do_autoclone, "pin": do_pin, "unpin": do_unpin,
}


def _setup_logging() -> None:
    # Diagnostics on stderr, results on stdout; only warnings and errors by default.
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)


def usage_error(argv: list[str], exc: UsageError) -> int:
    """A Nagios check's bad usage is UNKNOWN (3, one line, as a plugin answers); any other
    action's is ``ERROR: <reason>`` and the usage line on stderr, exit 2."""
    words = [a for a in _attach_values(argv) if not a.startswith("-")]
    if set(words[1:2]) & NAGIOS_ACTIONS:
        return unknown(f"bad usage: {exc}", "--json" in argv)
    print(f"ERROR: {exc}", file=sys.stderr)
    print(USAGE, file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    """Run one zsnapper command; return its exit code (never raises, never exits)."""
    runner.start()
    args = sys.argv[1:] if argv is None else list(argv)
    _setup_logging()
    try:
        cmd = parse_args(args)
    except UsageError as exc:
        return usage_error(args, exc)
    if cmd is None:
        print(parser().format_help(), end="")
        return 0
    if cmd.action in NAGIOS_ACTIONS:
        return runner.guarded(lambda: do_checkage(cmd))
    return runner.guarded(lambda: DISPATCH[cmd.action](create_snapper(_configuration(cmd.db), cmd.db), cmd))


def cli() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
