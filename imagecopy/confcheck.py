"""Every typed key of the configuration checked before a command does anything.

The scripts read most keys late (the lock wait when the lock is taken, the
restore settings in the middle of a restore), so a bad value used to surface
as a hang, a traceback or a failed restore instead of a configuration error.
:func:`check` reads each typed key that is present, with the same lookup rule
and the same parsers as the code that uses it, and raises the first
:class:`ConfigError` (exit 2) — also under ``--dry-run``.
"""
from __future__ import annotations

import logging
import os
import re
import stat

from .config import Configuration
from .errors import ConfigError

log = logging.getLogger(__name__)

# (key, section or None for the database's own section, minimum)
INTEGERS = (
    ("logretention", "generic", 0), ("dbid", None, 1), ("recoverywindow", None, 0), ("parallel", None, 1),
    ("snapexpirationdays", None, 0), ("snapexpirationmonths", None, 0),
    ("autorestoreinstancenumber", None, 1), ("autorestorethread", None, 1),
    ("autorestorevalidatechance", "autorestore", 0), ("autorestoremodulus", "autorestore", 0),
    ("autorestoreparallel", "autorestore", 1), ("autorestorecatalogretention", "autorestore", 1),
)
NUMBERS = (
    ("maxlockwait", "generic"), ("warningsnapage", "generic"), ("criticalsnapage", "generic"),
    ("autorestoresnapage", "autorestore"), ("autorestoremaxtoleranceminutes", "autorestore"),
)
BOOLEANS = (
    ("registercatalog", None), ("hasdataguard", None), ("dosnapshot", None), ("gimanaged", None),
    ("backupjobenabled", None), ("backupdestshared", "generic"), ("autorestoreenabled", None),
)
CHOICES = (("autorestoremountmethod", "autorestore", ("fstab", "clonepath"), "fstab"),)
# Paths handed to Oracle (init.ora, adrci, SQL) on the restore host: absolute, one line, no quote,
# no ';' (adrci separates its commands with it).
RESTORE_PATHS = ("autorestoredestination", "autorestoremountpoint", "autorestorelogdir")
UNSAFE_PATH = re.compile(r"[\x00-\x1f\x7f'\";]")
# A connect string with a password in it: user/password@alias (a wallet login is /@alias).
PASSWORD_IN_CONNECT = re.compile(r"^\s*[^/\s@]+/[^@\s]+")


def _check_section(cfg: Configuration, restore: bool) -> None:
    """The typed keys present for ``cfg``'s database section (or the shared sections only)."""
    def present(key: str, section: str | None) -> bool:
        return (section is not None or cfg.section is not None) and cfg.has(key, section)

    for key, section, minimum in INTEGERS:
        if present(key, section):
            cfg.getint(key, section, minimum=minimum)
    for key, section in NUMBERS:
        if present(key, section):
            cfg.getfloat(key, section)
    for key, section in BOOLEANS:
        if present(key, section):
            cfg.getbool(key, section)
    for key, section, choices, default in CHOICES:
        cfg.getchoice(key, section, choices, default)
    if restore:
        for key in RESTORE_PATHS:
            if present(key, "autorestore"):
                restore_path(cfg, key)


def check(config: Configuration, databases: list[str] | None = None, restore: bool = False) -> None:
    """Check the typed keys of ``[generic]``, ``[autorestore]`` and each of ``databases``.

    ``databases`` defaults to the configuration's own section; ``restore`` adds the
    restore host's paths.

    :raises ConfigError: the first bad value, naming file, section and key.
    """
    for db in databases if databases is not None else [config.section]:
        _check_section(config.for_section(db), restore)


def restore_path(config: Configuration, key: str) -> str:
    """``[autorestore] key`` as an absolute path that is safe in init.ora, adrci and SQL."""
    value = config.get(key, "autorestore").strip()
    if not value.startswith("/"):
        raise ConfigError(f"{config.path}: [autorestore] key '{key}' must be an absolute path, not '{value}'")
    if UNSAFE_PATH.search(value):
        raise ConfigError(f"{config.path}: [autorestore] key '{key}' must not contain a quote, ';' or a "
                          f"control character: {value!r}")
    return value


def warn_if_readable_secrets(config: Configuration) -> str | None:
    """A warning when the file is readable by others and holds a catalog password; None otherwise."""
    try:
        mode = os.stat(config.path).st_mode
    except OSError:
        return None
    if not mode & stat.S_IROTH:
        return None
    for key, section in (("catalog", "rman"), ("autorestorecatalog", "autorestore")):
        if config.has(key, section) and PASSWORD_IN_CONNECT.match(config.get(key, section)):
            message = (f"{config.path} is readable by others and [{section}] {key} holds a password: "
                       f"chmod o-r {config.path} (or use a wallet: /@alias)")
            log.warning("%s", message)
            return message
    return None
