"""Valid RMAN the simulator does not model: one distinct error, never a syntax error that blames the caller.

The parser knows only the commands the toolset and its tests use.  A
statement it cannot parse is checked against the forms below (real RMAN
syntax); a match becomes a ``NotSimulated`` statement, which fails when run
with ``RMAN-00600: internal error, arguments [simulator: <command> is not
simulated]``.  Anything else stays a syntax error (RMAN-00558/01009).
"""
from __future__ import annotations

import re

from . import statements as st
from .lexer import Token
from .output import RmanError

# (form, whether it is valid only inside RUN { }) - each a real RMAN command or clause
FORMS: list[tuple[str, bool]] = [
    (r"backup\b.*\bplus\s+archivelog\b", False),
    (r"backup\b.*\bas\s+compressed\s+backupset\b", False),
    (r"backup\s+as\s+copy\b.*\bcopy\s+of\s+database\b", False),
    (r"backup\b.*\bkeep\s+(until|forever)\b", False),
    (r"alter\s+database\s+open\s+resetlogs\b", False),
    (r"allocate\s+channel\s+\w+\s+type\s+\w+", True),             # the pre-8.1 form without DEVICE
    (r"allocate\s+auxiliary\s+channel\b", True),
    (r"duplicate\s+(target\s+)?database\b", False),
    (r"flashback\s+database\b", False),
    (r"blockrecover\b", False),
    (r"recover\s+(datafile|tablespace)\b.*\bblock\b", False),
    (r"transport\s+tablespace\b", False),
    (r"convert\s+(database|datafile|tablespace)\b", False),
    (r"list\s+(failure|incarnation|script\s+names)\b", False),
    (r"(create|replace|delete|print)\s+(global\s+)?script\b", False),
]


def statement_around(source: str, pos: int) -> str:
    """The command (between ``;``/``{``/``}`` boundaries) that holds offset ``pos``."""
    start = max(source.rfind(";", 0, pos), source.rfind("{", 0, pos), source.rfind("}", 0, pos)) + 1
    end = source.find(";", pos)
    text = re.sub(r"#[^\n]*", " ", source[start:end if end >= 0 else len(source)])     # RMAN's comments
    return " ".join(text.split())


def recognise(source: str, tokens: list[Token], bad: Token) -> st.NotSimulated | None:
    """A NotSimulated statement when the unparsable command is valid RMAN the simulator lacks."""
    if not tokens:
        return None
    in_run = tokens[0].is_word("RUN")
    command = statement_around(source, max(bad.start, tokens[0].start))
    for form, run_only in FORMS:
        if (in_run or not run_only) and re.match(form, command, re.I):
            return st.NotSimulated(text=command)
    return None


def run(_ctx: object, stmt: st.NotSimulated) -> None:
    raise RmanError(f"RMAN-00600: internal error, arguments [simulator: {stmt.text} is not simulated]", bare=True)
