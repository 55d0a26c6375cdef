"""The small Oracle tools: sqlldr, adrci, srvctl and opatch.

* ``srvctl config database|service -d <db>`` prints the Grid Infrastructure
  registration recorded by ``simctl gi-register``; without one it prints what
  srvctl prints when no clusterware runs (exit 1).
* ``adrci exec="set base B; show homes; set homepath H; purge -age MIN"`` or
  ``adrci script=F`` lists and purges ADR homes (``<base>/diag/rdbms/<db>/<sid>``).
* ``sqlldr userid=/@alias control=F [data=F] [log=F]`` loads delimited rows
  into a table of a simulated database (tables created through SQL*Plus or
  ``simctl``); exit codes 0 ok, 1 fail, 2 warning, 3 fatal, like the real one.
* ``opatch lsinventory`` prints the home's inventory.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shlex
import sys
import time
from pathlib import Path

from . import clock
from .database import Database
from .home import state_dir
from .instance import Instance, OraError, resolve_alias

NO_CLUSTERWARE = ("****Unable to retrieve Oracle Clusterware home.\n"
                  "Start Oracle Clusterware stack and try again.\n")


def main(argv: list[str], home: Path, prog: str) -> int:
    handler = {"srvctl": srvctl, "adrci": adrci, "sqlldr": sqlldr, "opatch": opatch}.get(prog)
    if handler is None:
        print(f"{prog}: not simulated", file=sys.stderr)
        return 1
    return handler(argv, Path(home))


# -- srvctl ---------------------------------------------------------------------

def gi_registry(home: Path) -> dict:
    try:
        return json.loads((state_dir(home) / "gi_registry.json").read_text())
    except FileNotFoundError:
        return {}


def gi_register(home: Path, db: str, services: list[dict], oracle_home: str | None = None) -> None:
    reg = gi_registry(home)
    reg[db.lower()] = {"services": services, "oracle_home": oracle_home or str(home)}
    (state_dir(home) / "gi_registry.json").write_text(json.dumps(reg, indent=1))


def _opt(argv: list[str], *names: str) -> str | None:
    for i, a in enumerate(argv):
        if a in names and i + 1 < len(argv):
            return argv[i + 1]
    return None


def srvctl(argv: list[str], home: Path) -> int:
    if len(argv) < 2 or argv[0] != "config" or argv[1] not in ("database", "service"):
        print("PRKO-2002 : Invalid command line option: " + " ".join(argv[:2]))
        return 1
    db = _opt(argv, "-d", "-db", "-database")
    reg = gi_registry(home)
    if not reg:
        sys.stdout.write(NO_CLUSTERWARE)
        return 1
    if db is None or db.lower() not in reg:
        print(f"PRCD-1120 : The resource for database {db} could not be found.")
        print(f"PRCR-1001 : Resource ora.{(db or '').lower()}.db does not exist")
        return 1
    entry = reg[db.lower()]
    if argv[1] == "database":
        names = ",".join(s["name"] for s in entry["services"])
        print(f"Database unique name: {db}\nDatabase name: {db}\nOracle home: {entry['oracle_home']}\n"
              f"Oracle user: oracle\nSpfile: +DATA/{db.upper()}/PARAMETERFILE/spfile.266.905892283\n"
              "Password file: \nDomain: \nStart options: open\nStop options: immediate\n"
              "Database role: PRIMARY\nManagement policy: AUTOMATIC\nServer pools: \n"
              f"Disk Groups: DATA,FRA\nMount point paths: \nServices: {names}\nType: SINGLE\n"
              f"OSDBA group: dba\nOSOPER group: oper\nDatabase instance: {db}\n"
              "Configured nodes: node1\nDatabase is administrator managed")
        return 0
    for s in entry["services"]:
        print(f"Service name: {s['name']}\nServer pool: \nCardinality: 1\nDisconnect: false\n"
              "Service role: PRIMARY\nManagement policy: AUTOMATIC\nDTP transaction: false\n"
              "AQ HA notifications: false\nGlobal: false\nCommit Outcome: false\nFailover type: \n"
              "Failover method: \nTAF failover retries: \nTAF failover delay: \n"
              f"Connection Load Balancing Goal: {s.get('clb', 'LONG')}\n"
              f"Runtime Load Balancing Goal: {s.get('rlb', 'NONE')}\nTAF policy specification: NONE\n"
              f"Edition: {s.get('edition', '')}\nPluggable database name: {s.get('pdb', '')}\n"
              "Maximum lag time: ANY\nSQL Translation Profile: \nRetention: 86400 seconds\n"
              "Replay Initiation Time: 300 seconds\nSession State Consistency: \nGSM Flags: 0\n"
              + ("Service is enabled\n" if s.get("enabled", True) else "Service is disabled\n")
              + f"Preferred instances: {s.get('preferred', db)}\nAvailable instances: {s.get('available', '')}")
    return 0


# -- adrci --------------------------------------------------------------------------

def _adrci_commands(argv: list[str]) -> list[str] | None:
    for a in argv:
        if a.lower().startswith("exec="):
            return [c.strip() for c in a[5:].strip("\"'").split(";") if c.strip()]
        if a.lower().startswith("script="):
            return [c.strip() for c in Path(a[7:]).read_text().replace(";", "\n").splitlines() if c.strip()]
    return None


def adrci(argv: list[str], home: Path) -> int:
    commands = _adrci_commands(argv)
    if commands is None:
        commands = [c.strip() for c in sys.stdin.read().replace(";", "\n").splitlines() if c.strip()]
    base = os.environ.get("ORACLE_BASE", str(home))
    homepath: str | None = None
    for cmd in commands:
        words = shlex.split(cmd)
        verb = " ".join(words[:2]).lower()
        if words[0].lower() in ("exit", "quit"):
            break
        if verb == "set base":
            base = words[2]
        elif verb == "set homepath":
            homepath = words[2]
        elif verb == "show homes":
            print("ADR Homes: ")
            for h in _adr_homes(Path(base)):
                print(h)
        elif verb.startswith("purge"):
            age = int(words[words.index("-age") + 1]) if "-age" in words else 30 * 24 * 60
            homes = [homepath] if homepath else _adr_homes(Path(base))
            cutoff = time.time() - age * 60
            for h in homes:
                for f in (Path(base) / h).rglob("*"):
                    if f.is_file() and f.stat().st_mtime < cutoff:
                        f.unlink()
        else:
            print(f"DIA-48415: Syntax error found in string [{cmd}] at column [{len(cmd)}]")
            return 1
    return 0


def _adr_homes(base: Path) -> list[str]:
    diag = base / "diag"
    if not diag.is_dir():
        return []
    return sorted(str(p.relative_to(base)) for p in diag.glob("*/*/*") if p.is_dir())


# -- sqlldr ----------------------------------------------------------------------------

_CONTROL = re.compile(
    r"LOAD\s+DATA\s+(?:INFILE\s+'(?P<infile>[^']+)'\s+)?(?P<mode>APPEND|INSERT|REPLACE|TRUNCATE)?\s*"
    r"INTO\s+TABLE\s+(?P<table>[\w.$#]+)\s+FIELDS\s+TERMINATED\s+BY\s+'(?P<sep>[^']+)'"
    r"(?:\s+OPTIONALLY\s+ENCLOSED\s+BY\s+'(?P<quote>[^']+)')?\s*(?:TRAILING\s+NULLCOLS\s*)?"
    r"\((?P<cols>.*)\)\s*$", re.I | re.S)


def sqlldr(argv: list[str], home: Path) -> int:
    opts = dict(a.split("=", 1) for a in argv if "=" in a)
    opts = {k.lower(): v for k, v in opts.items()}
    log_lines: list[str] = []
    try:
        userid = opts.get("userid", "")
        if "@" not in userid:
            raise OraError("ORA-12162", "TNS:net service name is incorrectly specified")
        login, alias = userid.rsplit("@", 1)
        sid = resolve_alias(state_dir(home), alias)
        control = Path(opts["control"]).read_text()
        m = _CONTROL.match(control.strip())
        if not m:
            print("SQL*Loader-350: Syntax error in control file")
            return 3
        infile = Path(opts.get("data") or m.group("infile"))
        cols = [c.strip().split()[0].upper() for c in _split_cols(m.group("cols"))]
        inst = Instance(state_dir(home), sid)
        if inst.status != "open":
            raise OraError("ORA-01034", "ORACLE not available", "ORA-27101: shared memory realm does not exist")
        db = Database(inst)
        with db.changing():
            side = db.sidecar()
            # An unqualified name is the login's table: the named user, or the wallet's (the catalog owner).
            user = login.split("/", 1)[0].upper() or str(side.get("rman_catalog", {}).get("owner", "RMAN")).upper()
            name = m.group("table").upper()
            table = side.setdefault("tables", {}).get(name if "." in name else f"{user}.{name}")
            if table is None:
                print("SQL*Loader-941: Error during describe of table " + m.group("table").upper())
                print("ORA-04043: object " + m.group("table").upper() + " does not exist")
                return 1
            if (m.group("mode") or "INSERT").upper() in ("REPLACE", "TRUNCATE"):
                table["rows"] = []
            names = [c[0] for c in table["cols"]]
            loaded = 0
            with open(infile, newline="") as fh:
                reader = csv.reader(fh, delimiter=m.group("sep"), quotechar=m.group("quote") or '"')
                for rec in reader:
                    if not rec:
                        continue
                    row = [None] * len(names)
                    for col, value in zip(cols, rec):
                        row[names.index(col)] = value
                    table["rows"].append(row)
                    loaded += 1
            db.save_sidecar(side)
        log_lines.append(f"{loaded} Rows successfully loaded.")
    except OraError as exc:
        print("SQL*Loader-128: unable to begin a session")
        for line in exc.lines:
            print(line)
        return 1
    except (OSError, KeyError, ValueError) as exc:
        print(f"SQL*Loader-500: Unable to open file ({exc})")
        return 1
    if "log" in opts:
        Path(opts["log"]).write_text("\n".join(log_lines) + "\n")
    if opts.get("silent", "").lower() not in ("all", "(all)"):
        print(f"\nSQL*Loader: Release 12.1.0.2.0 - Production on {time.strftime('%a %b %d %H:%M:%S %Y')}\n")
        print("\n".join(log_lines))
    return 0


def _split_cols(text: str) -> list[str]:
    depth, cur, out = 0, "", []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


# -- opatch -------------------------------------------------------------------------

def opatch(argv: list[str], home: Path) -> int:
    if not argv or argv[0].lower() != "lsinventory":
        print("OPatch failed with error code 1: unknown command")
        return 1
    now = clock.fmt(clock.now(state_dir(home)))
    print("Oracle Interim Patch Installer version 12.1.0.1.3\n"
          "Copyright (c) 2026, Oracle Corporation.  All rights reserved.\n\n"
          f"Oracle Home       : {home}\nCentral Inventory : {home}/oraInventory\n"
          f"OPatch version    : 12.1.0.1.3\nOUI version       : 12.1.0.2.0\n"
          f"Log file location : {home}/cfgtoollogs/opatch/opatch{now.replace(' ', '_')}.log\n\n"
          "--------------------------------------------------------------------------------\n"
          "Installed Top-level Products (1):\n\n"
          "Oracle Database 12c                                                  12.1.0.2.0\n"
          "There are 1 products installed in this Oracle Home.\n\n"
          "There are no Interim patches installed in this Oracle Home.\n\n"
          "--------------------------------------------------------------------------------\n\n"
          "OPatch succeeded.")
    return 0
