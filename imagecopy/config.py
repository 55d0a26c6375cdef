"""The configuration file: where it is, its defaults, and the override rule.

One INI file per environment.  ``get(param, section)`` first tries key
``<section><param>`` in the current database's section (so ``[orcl]`` may
hold ``genericoraclehome`` to override ``[generic] oraclehome`` for that
database only), then ``param`` in ``section``; ``get(param)`` reads the
current database's section.  Defaults apply to every section.  Every error
names the file, the section and the key.
"""
from __future__ import annotations

import configparser
import math
import os
from pathlib import Path
from typing import Mapping

from .errors import ConfigError

SCRIPT_DIR = Path(__file__).resolve().parent.parent
# Where the installed commands (pip install) look for backup.cfg; a checkout keeps it beside the scripts.
SYSTEM_CONFIG_DIR = Path("/etc/oracle-imagecopy-backup")

DEFAULTS: dict[str, str] = {
    "registercatalog": "false",
    "hasdataguard": "false",
    "dosnapshot": "true",
    "gimanaged": "true",
    "schedulebackup": "FREQ=DAILY",
    "schedulearchlog": "FREQ=HOURLY;INTERVAL=6",
    "snapexpirationmonths": "0",
    "backupjobenabled": "true",
    "sectionsize": "",
    "pga_size": "1G",
    "sga_size": "2G",
    "backupdestshared": "true",
}

RESTORE_DEFAULTS: dict[str, str] = {
    "customverifydate": "select max(time_dp) from sys.smon_scn_time",
    "autorestoreenabled": "1",
    "autorestoreinstancenumber": "1",
    "autorestorethread": "1",
}

TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0"}
# No numeric key means anything near this (minutes, days, hours, a DBID, a count): a larger value
# is a typo that would wait forever or overflow a sleep or a date.
NUMBER_LIMIT = 10**12


def _shown(value: float) -> str:
    """A number as the user wrote it, near enough: integers whole, floats short."""
    return str(value) if isinstance(value, int) else f"{value:g}"


def parse_bool(raw: str) -> bool:
    """True/false from 1/0, true/false, yes/no, on/off in any case; ValueError for anything else."""
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(raw)

# Sections of the toolset itself; the storage drivers' sections come from the driver
# table in storage/__init__.py (see non_database_sections).  "credentials" is the section
# of the old SoftNAS and Huawei credentials files, should one be pasted in here.
TOOL_SECTIONS = frozenset({"generic", "rman", "autorestore", "credentials"})


def non_database_sections(configured_module: str | None = None) -> frozenset[str]:
    """Every section name (lower case) that is not a database: exec_all.py, report.py and
    autorestore.py skip them all.  ``configured_module`` is ``[generic] snappermodule``."""
    # Imported here: the storage package imports this module.
    from storage import storage_sections

    return TOOL_SECTIONS | storage_sections(configured_module)


def is_checkout() -> bool:
    """True when the scripts run from a checkout (or a copy of one): ``templates/`` lies beside them.

    Installed with pip, the modules sit in site-packages and the templates under
    ``<prefix>/share``, so site-packages is no place for configuration files.
    """
    return (SCRIPT_DIR / "templates").is_dir()


def config_dir() -> Path:
    """Where a bare configuration file name is looked for: beside the scripts in a
    checkout, /etc/oracle-imagecopy-backup for the installed commands."""
    return SCRIPT_DIR if is_checkout() else SYSTEM_CONFIG_DIR


def files_dir(config_path: Path | None = None) -> Path:
    """The directory relative paths in the configuration (``tnsadmin``, credentials
    files) are read from: the scripts' directory in a checkout, as the old toolset
    did; for the installed commands, the configuration file's own directory."""
    if is_checkout() or config_path is None:
        return config_dir()
    return Path(config_path).resolve().parent


def locate(name: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The configuration file: ``name``, else $BACKUPCONFIG, else ``backup.cfg`` in ``config_dir()``.

    A bare file name is looked up in ``config_dir()`` (beside the scripts, as the
    old toolset did, in a checkout), then in the current directory; a path with a
    directory part is taken as it is.
    """
    env = os.environ if env is None else env
    chosen = name or env.get("BACKUPCONFIG")
    if not chosen:
        # The default is never looked for in the current directory: a job started
        # from elsewhere must not pick up a stray backup.cfg.
        path = config_dir() / "backup.cfg"
    else:
        path = Path(chosen).expanduser()
        if not path.is_absolute() and path.parent == Path("."):
            beside = config_dir() / path
            path = beside if beside.exists() or not path.exists() else path.resolve()
    try:
        if path.is_file():
            return path
        exists = path.exists()
    except OSError as exc:   # a directory on the way that we may not search
        raise ConfigError(f"Configuration file {path} cannot be read: {exc.strerror or exc}") from exc
    raise ConfigError(f"Configuration file {path} is not a file" if exists else f"Configuration file {path} not found")


class Configuration:
    """A parsed configuration file bound to one database section (or none)."""

    def __init__(self, path: Path, section: str | None = None, extra_defaults: Mapping[str, str] | None = None,
                 env: Mapping[str, str] | None = None):
        env = os.environ if env is None else env
        self.path = Path(path)
        self.section = section
        defaults = dict(DEFAULTS)
        if env.get("ORACLE_HOME"):
            defaults["oraclehome"] = env["ORACLE_HOME"]
        if extra_defaults:
            defaults.update(extra_defaults)
        self._parser = configparser.ConfigParser(defaults=defaults, interpolation=None)
        try:
            with open(self.path, encoding="utf-8") as fh:
                self._parser.read_file(fh)
        except FileNotFoundError as exc:
            raise ConfigError(f"Configuration file {self.path} not found") from exc
        except OSError as exc:   # unreadable (permissions), a directory, an I/O error
            raise ConfigError(f"Configuration file {self.path} cannot be read: {exc.strerror or exc}") from exc
        except (configparser.Error, UnicodeDecodeError) as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(f"{self.path}: cannot parse: {first}") from exc
        if section is not None and not self._parser.has_section(section):
            raise ConfigError(f"{self.path}: section [{section}] not found")

    # -- lookup ----------------------------------------------------------
    def has(self, param: str, section: str | None = None) -> bool:
        try:
            self.get(param, section)
            return True
        except ConfigError:
            return False

    def get(self, param: str, section: str | None = None, default: str | None = None) -> str:
        """Apply the override rule; raise ConfigError naming file, section and key."""
        p = self._parser
        if section is not None:
            if self.section is not None and p.has_option(self.section, f"{section}{param}") \
                    and p.has_section(self.section):
                own = p.get(self.section, f"{section}{param}")
                if f"{section}{param}" not in p.defaults() or own != p.defaults()[f"{section}{param}"]:
                    return own
            if p.has_section(section) and p.has_option(section, param):
                return p.get(section, param)
            if default is not None:
                return default
            if not p.has_section(section):
                raise ConfigError(f"{self.path}: section [{section}] not found (needed for key '{param}')")
            raise ConfigError(f"{self.path}: [{section}] key '{param}' is missing")
        if self.section is None:
            if default is not None:
                return default
            raise ConfigError(f"{self.path}: key '{param}' needs a database section")
        if p.has_option(self.section, param):
            return p.get(self.section, param)
        if default is not None:
            return default
        raise ConfigError(f"{self.path}: [{self.section}] key '{param}' is missing")

    def getint(self, param: str, section: str | None = None, default: int | None = None,
               minimum: int | None = 0, maximum: int = NUMBER_LIMIT) -> int:
        """An integer between ``minimum`` (0 unless told: no key takes a negative value) and ``maximum``.

        The bound above keeps a typo (``1e308``, twenty digits) from waiting forever or
        overflowing where the value becomes a sleep or a date.
        """
        raw = self.get(param, section, None if default is None else str(default))
        try:
            value = int(raw.strip())
        except ValueError:
            raise ConfigError(f"{self.path}: [{self._where(param, section)}] key '{param}' "
                              f"must be an integer, not '{raw}'") from None
        self._check_range(param, section, value, minimum, maximum)
        return value

    def getfloat(self, param: str, section: str | None = None, default: float | None = None,
                 minimum: float | None = 0, maximum: float = NUMBER_LIMIT) -> float:
        """A finite number between ``minimum`` (0 unless told) and ``maximum``; nan and inf are refused."""
        raw = self.get(param, section, None if default is None else str(default))
        try:
            value = float(raw.strip())
        except ValueError:
            raise ConfigError(f"{self.path}: [{self._where(param, section)}] key '{param}' "
                              f"must be a number, not '{raw}'") from None
        if not math.isfinite(value):
            raise ConfigError(f"{self.path}: [{self._where(param, section)}] key '{param}' "
                              f"must be a finite number, not '{raw.strip()}'")
        self._check_range(param, section, value, minimum, maximum)
        return value

    def _check_range(self, param: str, section: str | None, value: float, minimum: float | None,
                     maximum: float) -> None:
        if minimum is not None and value < minimum:
            raise ConfigError(f"{self.path}: [{self._where(param, section)}] key '{param}' "
                              f"must be at least {minimum}, not {_shown(value)}")
        if value > maximum:
            raise ConfigError(f"{self.path}: [{self._where(param, section)}] key '{param}' "
                              f"must be at most {maximum}, not {_shown(value)}")

    def getbool(self, param: str, section: str | None = None, default: bool | None = None) -> bool:
        """1/0, true/false, yes/no, on/off in any case."""
        raw = self.get(param, section, None if default is None else str(default).lower())
        try:
            return parse_bool(raw)
        except ValueError:
            raise ConfigError(f"{self.path}: [{self._where(param, section)}] key '{param}' "
                              f"must be true or false (also yes/no, on/off, 1/0), not '{raw}'") from None

    def getchoice(self, param: str, section: str | None, choices: tuple[str, ...], default: str) -> str:
        """One of ``choices`` (compared in lower case); anything else is a configuration error."""
        raw = self.get(param, section, default)
        value = raw.strip().lower()
        if value not in choices:
            raise ConfigError(f"{self.path}: [{self._where(param, section)}] key '{param}' must be one of "
                              f"{', '.join(choices)}, not '{raw.strip()}'")
        return value

    def _where(self, param: str, section: str | None) -> str:
        """The section a value was read from, for messages."""
        if section is None:
            return self.section or "?"
        if self.section and self._parser.has_option(self.section, f"{section}{param}"):
            return self.section
        return section

    # -- structure -------------------------------------------------------
    def sections(self) -> list[str]:
        return self._parser.sections()

    def database_sections(self) -> list[str]:
        """Sections that describe databases: everything but the toolset's and the storage drivers'."""
        module = None
        if self._parser.has_option("generic", "snappermodule"):
            module = self._parser.get("generic", "snappermodule")
        skip = non_database_sections(module)
        return [s for s in self._parser.sections() if s.lower() not in skip]

    def has_section(self, section: str) -> bool:
        return self._parser.has_section(section)

    def for_section(self, section: str | None) -> Configuration:
        """The same file bound to another database section."""
        clone = Configuration.__new__(Configuration)
        clone.path, clone._parser = self.path, self._parser
        if section is not None and not self._parser.has_section(section):
            raise ConfigError(f"{self.path}: section [{section}] not found")
        clone.section = section
        return clone
