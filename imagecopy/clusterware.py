"""A database's Grid Infrastructure registration: ``srvctl config`` and the commands that recreate it.

``srvctl add service`` changed its options in 12.1 (``-d -s -r -a`` became
``-database -service -preferred -available``), so the commands are written
for the version of the Oracle home, read from the ``NLSRTL Version`` banner
inside ``<oraclehome>/bin/oracle`` as the old toolset did.  Used by dbinfo.py
and by the daily job, which writes the same into each backup's log.
"""
from __future__ import annotations

import re
from pathlib import Path

from . import commands
from .config import Configuration

Version = tuple[int, ...]
# The first version with the long srvctl options; older than the oldest is not supported.
LONG_OPTIONS = (12, 1)
OLDEST = (11, 1)
_BANNER = re.compile(rb"NLSRTL Version (\d+(?:\.\d+)+)")
_CHUNK = 1 << 20


def oracle_version(oraclehome: Path) -> Version | None:
    """The Oracle version of ``oraclehome`` from its binary's banner, or None when unreadable.

    The real binary is hundreds of megabytes: it is read in chunks (overlapping so a
    banner across a chunk border is still found), stopping at the first match.
    """
    tail = b""
    try:
        with open(Path(oraclehome) / "bin" / "oracle", "rb") as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    return None
                m = _BANNER.search(tail + chunk)
                if m:
                    return tuple(int(part) for part in m.group(1).split(b"."))
                tail = chunk[-64:]
    except OSError:
        return None


def version_str(version: Version | None) -> str:
    return "unknown" if version is None else ".".join(str(v) for v in version)


def parse_services(text: str) -> list[dict[str, str]]:
    """``srvctl config service`` output as one dict per service."""
    services: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        key = key.strip()
        if key == "Service name" and sep:
            current = {"name": value.strip(), "enabled": ""}
            services.append(current)
        elif current is None:
            continue
        elif line.strip() == "Service is enabled":
            current["enabled"] = "yes"
        elif sep and key in ("Preferred instances", "Available instances", "Edition", "Pluggable database name",
                             "Connection Load Balancing Goal", "Runtime Load Balancing Goal"):
            current[key] = value.strip()
    return services


def add_service_commands(db: str, services: list[dict[str, str]], version: Version | None = None) -> list[str]:
    """``srvctl add service`` for each enabled service, in the syntax of ``version``
    (12.1 and later, or unknown: the long options; 11g: ``-d -s -r -a``)."""
    if version is not None and version < LONG_OPTIONS:
        return _add_service_commands_11g(db, services)
    out = []
    for s in services:
        if not s.get("enabled"):
            continue
        cmd = f"srvctl add service -database {db} -service {s['name']} -preferred {s.get('Preferred instances', '')}"
        if s.get("Available instances"):
            cmd += f" -available {s['Available instances']}"
        if s.get("Edition"):
            cmd += f" -edition {s['Edition']}"
        if s.get("Pluggable database name"):
            cmd += f" -pdb {s['Pluggable database name']}"
        out.append(cmd)
    return out


def _add_service_commands_11g(db: str, services: list[dict[str, str]]) -> list[str]:
    """The 11g options, load balancing goals (``-j``/``-B``) and edition (``-t``) included."""
    out = []
    for s in services:
        if not s.get("enabled"):
            continue
        cmd = f"srvctl add service -d {db} -s {s['name']} -r {s.get('Preferred instances', '')}"
        if s.get("Available instances"):
            cmd += f" -a {s['Available instances']}"
        if s.get("Connection Load Balancing Goal"):
            cmd += f" -j {s['Connection Load Balancing Goal']}"
        if s.get("Runtime Load Balancing Goal"):
            cmd += f" -B {s['Runtime Load Balancing Goal']}"
        if s.get("Edition"):
            cmd += f" -t {s['Edition']}"
        out.append(cmd)
    return out


def describe(config: Configuration, db: str, oraclehome: Path) -> str:
    srvctl = Path(oraclehome) / "bin" / "srvctl"
    env = {"ORACLE_HOME": str(oraclehome), "NLS_DATE_FORMAT": "yyyy-mm-dd hh24:mi:ss", "PATH": "/usr/bin:/bin"}
    database = commands.run([str(srvctl), "config", "database", "-d", db], env=env, check=False,
                            on_line=lambda _l: None, describe="srvctl").output
    services = commands.run([str(srvctl), "config", "service", "-d", db], env=env, check=False,
                            on_line=lambda _l: None, describe="srvctl").output
    version = oracle_version(Path(oraclehome))
    parsed = "\n".join(add_service_commands(db, parse_services(services), version))
    note = "" if version is not None else (f"(Oracle version of {oraclehome} unknown: "
                                           "commands in the 12.1 syntax)\n")
    return (f"== Database configuration ==\n{database}\n\n== Service configuration ==\n{services}\n\n"
            f"== Service configuration parsed ==\n{note}{parsed}\n")
