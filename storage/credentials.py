"""The appliance drivers' logins: from the environment or from an INI credentials file, never logged.

Each REST driver reads its login in the old toolset's order (its own list of
places); the pieces are here once: the environment pair (both or neither),
reading a credentials file, and taking ``user``/``password`` keys out of one
of its sections with a warning when the file is readable by others.
Messages name where a login was looked for, never its values.
"""
from __future__ import annotations

import configparser
import logging
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from imagecopy.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    source: str             # where they were read, for messages (never the values)


def from_environment(env: Mapping[str, str], user_var: str, password_var: str, section: str) -> Credentials | None:
    """The login from ``$user_var``/``$password_var``; None when neither is set.

    :raises ConfigError: when only one of the two is set.
    """
    user, password = env.get(user_var, ""), env.get(password_var, "")
    if not (user or password):
        return None
    if not (user and password):
        raise ConfigError(f"{section}: set both {user_var} and {password_var}, or neither")
    return Credentials(user, password, f"${user_var}/${password_var}")


def read_file(path: Path, what: str) -> configparser.ConfigParser:
    """The credentials file at ``path``; ``what`` names it in the error (``the SoftNAS login``)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as fh:
            parser.read_file(fh)
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"{path}: cannot read {what}: {first}") from None
    return parser


def login_in(parser: configparser.ConfigParser, path: Path, section: str, owner: str,
             keys: tuple[str, str] = ("user", "password"), source: str | None = None) -> Credentials:
    """``[section]``'s user and password keys of the file at ``path``; a warning when others can read it.

    :raises ConfigError: naming a missing or empty key.
    """
    values = []
    for key in keys:
        if not parser.get(section, key, fallback="").strip():
            raise ConfigError(f"{path}: [{section}] key '{key}' is missing")
        values.append(parser.get(section, key).strip())
    if path.stat().st_mode & (stat.S_IROTH | stat.S_IWOTH):
        log.warning("%s holds the %s password and is readable by others: chmod o-rwx %s", path, owner, path)
    return Credentials(values[0], values[1], source or str(path))
