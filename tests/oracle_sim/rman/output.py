"""Where RMAN's output goes, and how errors, dates and tables print.

``Output`` writes either to stdout or, with ``log <file> [append]``, only to
that file, as the real client does.  ``RmanError`` carries the lines of an
error stack below the RMAN-00571/00569 banner; the client adds the
``RMAN-03002: failure of <command> command at <MM/DD/YYYY HH24:MI:SS>`` line
(or ``RMAN-03009 ... on <channel> channel``) for command failures.
"""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import IO, Iterable

from ..instance import OraError

BANNER_RULE = "RMAN-00571: ==========================================================="
BANNER_HEAD = "RMAN-00569: =============== ERROR MESSAGE STACK FOLLOWS ==============="


class RmanError(Exception):
    """A failed command: the RMAN-/ORA- lines RMAN prints under the error banner.

    ``channel``: name of the channel the failure happened on (RMAN-03009)
    or ``"default"`` for commands that report ``on default channel``.
    ``bare``: print the lines without a RMAN-03002/03009 line
    (connect and parse errors have their own first line).
    """

    def __init__(self, *lines: str, channel: str | None = None, bare: bool = False):
        super().__init__(lines[0] if lines else "RMAN error")
        self.lines = list(lines)
        self.channel = channel
        self.bare = bare

    @classmethod
    def from_ora(cls, exc: OraError, *before: str, channel: str | None = None) -> RmanError:
        return cls(*before, *exc.lines, channel=channel)


def stack_time(ts: float) -> str:
    """Error-stack timestamps are always MM/DD/YYYY HH24:MI:SS."""
    return datetime.fromtimestamp(ts).strftime("%m/%d/%Y %H:%M:%S")


def banner_time(ts: float) -> str:
    """``Tue Nov 8 21:53:24 2016`` (day of month not padded)."""
    d = datetime.fromtimestamp(ts)
    return f"{d:%a %b} {d.day} {d:%H:%M:%S %Y}"


def elapsed(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Output:
    """The client's output stream."""

    def __init__(self, log: Path | None = None, append: bool = False):
        self.log_path = log
        self._fh: IO[str]
        if log is not None:
            self._fh = open(log, "a" if append else "w")  # noqa: SIM115 - closed by close()
        else:
            self._fh = sys.stdout

    def write(self, text: str) -> None:
        self._fh.write(text)

    def line(self, text: str = "") -> None:
        self._fh.write(text + "\n")

    def lines(self, items: Iterable[str]) -> None:
        for item in items:
            self.line(item)

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        self._fh.flush()
        if self.log_path is not None:
            self._fh.close()

    def error_stack(self, lines: Iterable[str]) -> None:
        self.lines([BANNER_RULE, BANNER_HEAD, BANNER_RULE, *lines])
