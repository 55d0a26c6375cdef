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
from .keys import DB, KEYS, Key, table, unknown_keys

log = logging.getLogger(__name__)

def _typed(kind: str) -> list[tuple[Key, str | None]]:
    """The table's keys of one type, each with the section it is read from (None: the database's)."""
    out: list[tuple[Key, str | None]] = []
    for key in KEYS:
        if key.kind == kind:
            out.append((key, None if key.section == DB else key.section))
            if key.also_generic:
                out.append((key, "generic"))
    return out


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

    for key, section in _typed("int"):
        if present(key.name, section):
            cfg.getint(key.name, section, minimum=int(key.minimum))
    for key, section in _typed("number"):
        if present(key.name, section):
            cfg.getfloat(key.name, section, minimum=key.minimum)
    for key, section in _typed("bool"):
        if present(key.name, section):
            cfg.getbool(key.name, section)
    for key, section in _typed("choice"):
        if present(key.name, section):
            cfg.getchoice(key.name, section, key.choices, key.default or key.choices[0])
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


def warn_unknown_keys(config: Configuration) -> list[str]:
    """One warning line per key no table knows (a typo would otherwise be ignored silently)."""
    from storage import driver_keys, storage_sections

    drivers = driver_keys()
    module = config.get("snappermodule", "generic", "localfs")
    # Sections of drivers that declare no keys (a driver of the user's own, the old toolset's
    # names) and the credentials sections are not checked.
    skip = {s for s in storage_sections(module) if s not in drivers} | {"credentials"}
    lines = unknown_keys(config.path, table(drivers), skip)
    for line in lines:
        log.warning("%s", line)
    return lines


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
