"""Every configuration key of the toolset, in one table: section, name, type, default, help.

The table is what the configuration is checked against:

* :mod:`imagecopy.confcheck` parses every typed key present with the parser
  named here, before a command does anything;
* :func:`unknown_keys` names each key that no table knows, with the closest
  known one (``autorestoremodulos`` silently turned validation off before);
* the tests hold ``backup.cfg.sample``, the README's key table and every
  literal default in the code to it, so a default lives in one place.

The storage drivers' sections are declared by the drivers' own tables
(``storage.DRIVER_KEYS``).  A database section holds the ``DB`` keys and any
shared key overridden for that database as ``<section><key>``
(``genericoraclehome``, ``zfsparent``).
"""
from __future__ import annotations

import configparser
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

DB = "<db>"         # a database's own section
KINDS = ("text", "int", "number", "bool", "choice")


@dataclass(frozen=True)
class Key:
    section: str                    # "generic", "rman", "autorestore", DB, or a driver's section
    name: str
    kind: str = "text"              # one of KINDS: the parser confcheck applies
    default: str | None = None      # None: no default (required where it is read, or "none")
    help: str = ""
    minimum: float = 0              # int and number keys
    choices: tuple[str, ...] = ()   # choice keys
    also_generic: bool = False      # a DB key that [generic] may hold for every database

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind


def _k(section: str, name: str, kind: str = "text", default: str | None = None, help: str = "",
       **kw: object) -> Key:
    return Key(section, name, kind, default, help, **kw)  # type: ignore[arg-type]


G, R, A = "generic", "rman", "autorestore"
KEYS: tuple[Key, ...] = (
    _k(G, "logretention", "int", "30", "days to keep session logs"),
    _k(G, "backupdest", help="root of the backup areas"),
    _k(G, "backupdestshared", "bool", "true", "the backup area is <backupdest>/<db> (false: <backupdest>)"),
    _k(G, "warningsnapage", "number", help="hours, zsnapper checkage WARNING"),
    _k(G, "criticalsnapage", "number", help="hours, zsnapper checkage CRITICAL"),
    _k(G, "warningverifiedage", "number", "50", "hours, zsnapper checkverified WARNING"),
    _k(G, "criticalverifiedage", "number", "74", "hours, zsnapper checkverified CRITICAL"),
    _k(G, "tnsadmin", help="directory of tnsnames.ora and sqlnet.ora"),
    _k(G, "osuser", help="OS user of the scheduler jobs"),
    _k(G, "oraclehome", help="Oracle home (default $ORACLE_HOME)"),
    _k(G, "maxlockwait", "number", "30", "minutes to wait for another run's lock"),
    _k(G, "backupmetricsfile", default="", help="Prometheus textfile of the daily backups"),
    _k(G, "retentiontimezone", default="", help="zone of the calendar retention counts in"),
    _k(G, "snappermodule", default="localfs", help="storage driver module"),
    _k(G, "snapperclass", help="storage driver class (the module's usual one)"),
    _k(R, "catalog", help="RMAN catalog connect string"),
    _k(R, "sectionsize", default="", help="section size of the copies"),
    _k(A, "autorestoredestination", help="scratch directory of the restore test (emptied each run)"),
    _k(A, "autorestoreclonename", help="name of the restore test's clone"),
    _k(A, "autorestoremountpoint", help="where the clone is mounted"),
    _k(A, "autorestoresnapage", "number", help="hours: an older newest snapshot fails the test"),
    _k(A, "autorestorelogdir", help="logs and SQLite catalog of the restore tests"),
    _k(A, "autorestoremaxtoleranceminutes", "number", help="minutes the verified time may lag the target"),
    _k(A, "autorestorecatalog", default="", help="Oracle results catalog connect string"),
    _k(A, "autorestorevalidatechance", "int", "0", "one in N restores also validates"),
    _k(A, "autorestoremodulus", "int", "0", "validate on the day the database's hash hits"),
    _k(A, "autorestoremountmethod", "choice", "fstab", "fstab or clonepath", choices=("fstab", "clonepath")),
    _k(A, "autorestoresid", default="autorest", help="SID of the restore-test instance"),
    _k(A, "autorestoreparallel", "int", "1", "restores at once", minimum=1),
    _k(A, "autorestoremetricsfile", default="", help="Prometheus textfile of the results"),
    _k(A, "autorestorecatalogretention", "int", help="days of results the catalog keeps", minimum=1),
    _k(A, "restoremountoptions", help="NFS options in the mount command restore.py prints"),
    _k(A, "pga_size", default="1G", help="pga_aggregate_target of the restore instance"),
    _k(A, "sga_size", default="2G", help="sga_target of the restore instance"),
    _k(DB, "dbid", "int", help="the database's DBID", minimum=1),
    _k(DB, "recoverywindow", "int", help="days of archivelogs kept"),
    _k(DB, "parallel", "int", help="RMAN channels", minimum=1),
    _k(DB, "snapexpirationdays", "int", help="days of daily snapshots kept"),
    _k(DB, "snapexpirationmonths", "int", "0", "months of monthly snapshots kept"),
    _k(DB, "snapretention", default="", help="GFS retention, e.g. 24h 14d 8w 12m 5y"),
    _k(DB, "registercatalog", "bool", "false", "use the RMAN catalog"),
    _k(DB, "hasdataguard", "bool", "false", "archivelog deletion policy applied on all standby"),
    _k(DB, "primarytns", help="back up a standby: the primary's TNS alias"),
    _k(DB, "standbyarchivewait", "int", "120", "seconds a standby's job waits for the last logs",
       also_generic=True),
    _k(DB, "dosnapshot", "bool", "true", "snapshot before each refresh"),
    _k(DB, "gimanaged", "bool", "true", "log srvctl configuration in each backup"),
    _k(DB, "schedulebackup", default="FREQ=DAILY", help="repeat interval of the daily job"),
    _k(DB, "schedulearchlog", default="FREQ=HOURLY;INTERVAL=6", help="repeat interval of missingarchlog"),
    _k(DB, "backupjobenabled", "bool", "true", "the scheduler jobs are enabled"),
    _k(DB, "customverifydate", default="select max(time_dp) from sys.smon_scn_time",
       help="query of the newest moment the restored data proves"),
    _k(DB, "autorestoreenabled", "bool", "1", "restore-test this database"),
    _k(DB, "autorestoreinstancenumber", "int", "1", "the restore test's instance", minimum=1),
    _k(DB, "autorestorethread", "int", "1", "the restore test's instance's thread", minimum=1),
    _k(DB, "stringforvalidationmod", default="", help="string hashed for the validation day"),
)
TOOL_SECTIONS = (G, R, A)


def table(driver_keys: Mapping[str, Iterable[Key]] | None = None) -> dict[str, dict[str, Key]]:
    """section → name → Key, the tool's keys and (when given) the drivers' sections."""
    out: dict[str, dict[str, Key]] = {}
    for key in KEYS:
        out.setdefault(key.section, {})[key.name] = key
        if key.also_generic:
            out.setdefault(G, {})[key.name] = key
    for section, keys in (driver_keys or {}).items():
        for key in keys:
            out.setdefault(section, {})[key.name] = key
    return out


def database_names(known: Mapping[str, Mapping[str, Key]]) -> set[str]:
    """What a database section may hold: its own keys and ``<section><key>`` overrides."""
    names = set(known.get(DB, {}))
    for section, keys in known.items():
        if section != DB:
            names.update(section + name for name in keys)
    return names


def unknown_keys(path: Path, known: Mapping[str, Mapping[str, Key]], skip: Iterable[str] = ()) -> list[str]:
    """One line per key of the file at ``path`` that the table does not know.

    Sections in ``skip`` (a driver of the user's own, credentials) are not checked;
    every section that is neither a tool's nor a driver's is a database.
    """
    parser = configparser.ConfigParser(interpolation=None, strict=False, default_section="\x00")
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return []           # the Configuration itself reports an unreadable file
    skipped = {s.lower() for s in skip}
    db_names = database_names(known)
    # A database overriding a key of a section whose keys are not declared (zfssapool).
    prefixes = tuple(sorted(skipped))
    lines = []
    for section in parser.sections():
        if section.lower() in skipped:
            continue
        allowed = set(known[section.lower()]) if section.lower() in known else db_names
        for name in parser.options(section):
            if name not in allowed and not (allowed is db_names and prefixes and name.startswith(prefixes)):
                close = difflib.get_close_matches(name, sorted(allowed), n=1, cutoff=0.8)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                lines.append(f"{path}: [{section}] unknown key '{name}'{hint}: ignored")
    return lines
