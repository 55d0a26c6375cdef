"""Where things are: the backup area of a database and the files in it."""
from __future__ import annotations

from pathlib import Path

from .config import Configuration, files_dir
from .errors import ConfigError, UsageError

AUTORESTORE_CFG = "autorestore.cfg"
CONTROLFILE_BACKUP = "after_backup_controlfile.cf"
ARCHIVELOG_DIR = "archivelog"
LOG_DIR = "backup_logs"
LOCK_FILE = "backup.lck"


def validate_name(name: str, what: str) -> str:
    """Refuse a name that could escape the directory it is meant for.

    Database, snapshot and clone names become file and directory names (and
    arguments of external commands), so ``/``, ``..``, a leading ``-`` (taken
    for an option) and a leading ``.`` (the drivers' own hidden files) are
    refused, as are control characters.

    :raises UsageError: naming ``what`` and the offending name.
    """
    problem = None
    if not name:
        problem = "it is empty"
    elif "/" in name or "\\" in name:
        problem = "it contains a slash"
    elif ".." in name:
        problem = "it contains '..'"
    elif name.startswith("-"):
        problem = "it starts with '-'"
    elif name.startswith("."):
        problem = "it starts with '.'"
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        problem = "it contains a control character"
    elif len(name) > 200:
        problem = "it is longer than 200 characters"
    if problem:
        raise UsageError(f"invalid {what} {name!r}: {problem}")
    return name


def backup_area(config: Configuration, dbname: str) -> Path:
    """The database's backup area: ``<backupdest>/<db>``, or ``<backupdest>`` itself
    when ``[generic] backupdestshared`` is false (one volume mounted per database).

    :raises ConfigError: when ``backupdest`` is missing or not an absolute path.
    """
    dest = config.get("backupdest", "generic").strip()
    path = Path(dest).expanduser()
    if not path.is_absolute():
        raise ConfigError(f"{config.path}: [generic] key 'backupdest' must be an absolute path, not '{dest}'")
    if any(ch in dest for ch in "'\"") or any(ord(ch) < 32 or ord(ch) == 127 for ch in dest):
        # It goes into RMAN and SQL string literals (channel format, archive destination).
        raise ConfigError(f"{config.path}: [generic] key 'backupdest' must not contain a quote or a control "
                          f"character: {dest!r}")
    if config.getbool("backupdestshared", "generic"):
        return path / validate_name(dbname, "database name")
    return path


def tns_admin(config: Configuration) -> Path | None:
    """``[generic] tnsadmin``; a relative one is taken from ``files_dir``: the scripts'
    directory in a checkout, as in the old toolset, the configuration file's directory
    for the installed commands."""
    if not config.has("tnsadmin", "generic"):
        return None
    value = config.get("tnsadmin", "generic")
    return (files_dir(config.path) / value).resolve() if value else None
