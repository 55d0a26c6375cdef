"""The one way a script's ``main(argv) -> int`` runs its work and turns what happened into an exit code.

Every script calls :func:`guarded` around its work, after :func:`start`:

* ``BackupError`` (the exception tree of errors.py) → its own exit code, the
  message as one ``ERROR:`` line and its detail lines indented below;
* Ctrl-C → 130 and SIGTERM → 143 (the shell's codes for those signals), after
  the child process of the moment is stopped: ``commands.run`` kills its child
  on any exception, and SIGTERM arrives as ``runtime.Terminated``;
* an ``OSError`` (a full disk, a file system gone away) → 1, naming the file;
* any other exception is a bug: exit 1, one line, the traceback in the log.

Arguments are parsed by :class:`ArgParser`, an ``argparse`` parser whose
mistakes are ``UsageError`` (exit 2, one line and the usage) instead of
argparse's own ``sys.exit``: only a script's ``cli()`` ever exits.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable, NoReturn

from . import runtime
from .errors import EXIT_USAGE, BackupError, UsageError

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130      # 128 + SIGINT
EXIT_TERMINATED = 143       # 128 + SIGTERM

Reporter = Callable[[str, list[str]], None]


def start(*, sigterm: bool = True) -> None:
    """First thing in every ``main``: the umask, and SIGTERM as an exception (so clean-up runs)."""
    runtime.start()
    if sigterm:
        runtime.raise_on_signals()


def print_error(message: str, details: list[str]) -> None:
    """``ERROR: <message>`` on stderr, the details indented below it."""
    print(f"ERROR: {runtime.one_line(message)}" + "".join(f"\n  {line}" for line in details), file=sys.stderr)


def guarded(work: Callable[[], int], report: Reporter = print_error) -> int:
    """Run ``work`` and return its exit code, or the code of what it raised (module docstring)."""
    try:
        return work()
    except BackupError as exc:
        report(str(exc), exc.details)
        return exc.exit_code
    except KeyboardInterrupt:
        report("Interrupted", [])
        return EXIT_INTERRUPTED
    except runtime.Terminated as exc:
        report(f"Interrupted: {exc}", [])
        return EXIT_TERMINATED
    except OSError as exc:
        report(runtime.describe_oserror(exc), [])
        return 1
    except Exception as exc:    # a bug: one line here, the traceback in the log
        log.debug("Unexpected error", exc_info=True)
        report(f"Unexpected error: {type(exc).__name__}: {exc}", [])
        return 1


class HelpShown(Exception):
    """``--help`` was asked for and printed: the script returns 0."""


class ArgParser(argparse.ArgumentParser):
    """argparse, but a mistake raises ``UsageError`` and ``--help`` raises ``HelpShown``, so
    that ``main`` returns instead of argparse exiting.

    ``usage`` is the old toolset's line (``Usage: zvolume.py <db> create``), printed as it
    was, first, before the reason.
    """

    def __init__(self, prog: str, usage: str, **kw: object):
        super().__init__(prog=prog, usage=argparse.SUPPRESS, add_help=True, **kw)  # type: ignore[arg-type]
        self.old_usage = usage

    def format_usage(self) -> str:
        return self.old_usage + "\n"

    def format_help(self) -> str:
        return self.old_usage + "\n" + super().format_help()

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, file=sys.stderr, end="")
        if status == 0:
            raise HelpShown()
        raise UsageError(message or self.format_usage().strip())


def misread_by_argparse(arg: str, value_options: tuple[str, ...] = ()) -> bool:
    """An unknown option argparse would misread instead of refusing: ``--`` (the old scripts have
    no end-of-options marker), letters after ``-h`` (``-hx``, read as help), or a flag given a value
    (``--json=1``; ``value_options`` take one).  A script drops such words before parsing and
    refuses them as unknown options itself."""
    return arg == "--" or (arg.startswith("-h") and arg != "-h") or (
        arg.startswith("-") and "=" in arg and arg.split("=")[0] not in value_options)


def parse(parser: ArgParser, argv: list[str]) -> argparse.Namespace | int:
    """``argv`` parsed, or the exit code to return at once: 0 after ``--help``, 2 after a usage
    error (the old usage line, then the reason)."""
    try:
        return parser.parse_args(argv)
    except HelpShown:
        return 0
    except UsageError as exc:
        print(parser.old_usage, file=sys.stderr)
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
