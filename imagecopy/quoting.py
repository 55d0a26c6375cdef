"""The one way a value goes into a SQL or RMAN string literal.

Templates hold the quotes (``'${ospassword}'``); the toolset hands them the
value through :func:`literal_body`, which doubles every ``'`` (the SQL and RMAN
escape) and refuses a newline, a carriage return or NUL: inside SQL*Plus a
new line ends the statement, and the next line would run as a command of its
own (``host ...``).
"""
from __future__ import annotations

from .errors import ConfigError

FORBIDDEN = ("\n", "\r", "\x00")


def literal_body(value: object, what: str = "value") -> str:
    """``value`` ready to stand between single quotes in SQL or RMAN.

    :raises ConfigError: naming ``what`` when the value holds a newline, CR or NUL.
    """
    text = str(value)
    if any(ch in text for ch in FORBIDDEN):
        raise ConfigError(f"{what} must not contain a newline or NUL character")
    return text.replace("'", "''")


def literal(value: object, what: str = "value") -> str:
    """``value`` as a complete SQL/RMAN string literal, quotes included."""
    return f"'{literal_body(value, what)}'"
