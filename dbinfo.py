#!/usr/bin/env python3
"""dbinfo.py <db>: the database's Grid Infrastructure registration, for a rebuild.

Prints ``srvctl config database`` and ``srvctl config service`` and the
``srvctl add service`` commands that would recreate the enabled services.
backup.py writes the same into each backup's log.
"""
from __future__ import annotations

import sys
from pathlib import Path

from imagecopy import commands
from imagecopy.config import Configuration, locate
from imagecopy.errors import EXIT_USAGE, BackupError

USAGE = "Usage: dbinfo.py <config>"


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


def add_service_commands(db: str, services: list[dict[str, str]]) -> list[str]:
    """``srvctl add service`` (12c syntax) for each enabled service."""
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


def describe(config: Configuration, db: str, oraclehome: Path) -> str:
    srvctl = Path(oraclehome) / "bin" / "srvctl"
    env = {"ORACLE_HOME": str(oraclehome), "NLS_DATE_FORMAT": "yyyy-mm-dd hh24:mi:ss", "PATH": "/usr/bin:/bin"}
    database = commands.run([str(srvctl), "config", "database", "-d", db], env=env, check=False,
                            on_line=lambda _l: None, describe="srvctl").output
    services = commands.run([str(srvctl), "config", "service", "-d", db], env=env, check=False,
                            on_line=lambda _l: None, describe="srvctl").output
    parsed = "\n".join(add_service_commands(db, parse_services(services)))
    return (f"== Database configuration ==\n{database}\n\n== Service configuration ==\n{services}\n\n"
            f"== Service configuration parsed ==\n{parsed}\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return EXIT_USAGE
    db = argv[0]
    try:
        config = Configuration(locate(), db)
        if not config.getbool("gimanaged"):
            print("gimanaged option is not set to TRUE for this database", file=sys.stderr)
            return EXIT_USAGE
        print(describe(config, db, Path(config.get("oraclehome", "generic"))), end="")
    except BackupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
