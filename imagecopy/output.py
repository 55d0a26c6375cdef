"""The one way commands show a result: text for people, ``--json`` for programs, Nagios lines for monitors.

Library code returns result objects and never prints; a script hands the
object to :func:`emit` (``to_dict()`` as JSON, else its ``text()``) and returns
the exit code.  A listing (:class:`Listing`) is a list of records and the
line each prints as; a check that cannot be made is :func:`unknown`, the one
Nagios UNKNOWN (exit 3) of every ``check*`` command, in both forms.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from .errors import BackupError
from .runtime import describe_oserror

NAGIOS_UNKNOWN = 3


class Result(Protocol):
    def to_dict(self) -> Any: ...

    def text(self) -> str: ...


def show(text: str, out: TextIO | None = None) -> None:
    """A line (or lines) for the person running the command, on stdout: the library's only printing."""
    print(text, file=out or sys.stdout, flush=True)


def emit(result: Result, as_json: bool, out: TextIO | None = None) -> None:
    """``result`` on ``out`` (stdout): its JSON (indented), or its text."""
    text = json.dumps(result.to_dict(), indent=2) if as_json else result.text()
    if text:
        print(text, file=out or sys.stdout)


@dataclass(frozen=True)
class Listing:
    """Records, and the line each is shown as (the old toolset's line, for the text form)."""

    records: Any            # what --json prints: a list, or a dict around it
    lines: tuple[str, ...]

    def to_dict(self) -> Any:
        return self.records

    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class Unknown:
    """A check that could not be made: ``UNKNOWN: <reason>``, exit 3."""

    reason: str
    database: str | None = None

    @property
    def message(self) -> str:
        return f"UNKNOWN: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {**({"database": self.database} if self.database else {}), "status": "UNKNOWN",
                "exit_code": NAGIOS_UNKNOWN, "message": self.message}

    def text(self) -> str:
        return self.message


def unknown(reason: BaseException | str, as_json: bool, database: str | None = None) -> int:
    """Show the check's UNKNOWN (one line, or JSON) for ``reason``; returns 3.

    An exception of the toolset's tree is its message; any other (a bug, or an OSError) also
    names its type, so the monitor's line says what broke.
    """
    if isinstance(reason, str):
        text = reason
    elif isinstance(reason, BackupError):
        text = str(reason)
    elif isinstance(reason, OSError):
        text = describe_oserror(reason)
    else:
        text = f"{type(reason).__name__}: {reason}"
    emit(Unknown(" ".join(text.split()) or "unknown error", database), as_json)
    return NAGIOS_UNKNOWN
