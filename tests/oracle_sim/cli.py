"""simctl: create and drive simulated databases (what a DBA's workload would do).

    python -m oracle_sim.cli --home H create --name orcl --dbid 1 --oradata D --fra F [--instances 2]
    python -m oracle_sim.cli --home H create-standby --primary orcl --name orclsb --oradata D --fra F
                                     [--delay SECONDS] [--read-only]
    python -m oracle_sim.cli --home H standby-delay --sid orclsb --seconds S [--thread N]
    python -m oracle_sim.cli --home H workload --sid orcl -n 20 [--advance 1] [--sleep 0]
    python -m oracle_sim.cli --home H switch-logfile --sid orcl
    python -m oracle_sim.cli --home H add-datafile --sid orcl --tablespace USERS --blocks 32
    python -m oracle_sim.cli --home H add-tablespace --sid orcl --tablespace DATA2 --files 2
    python -m oracle_sim.cli --home H drop-tablespace --sid orcl --tablespace DATA2
    python -m oracle_sim.cli --home H corrupt-block --sid orcl --file 4 --block 7 [--path COPY]
    python -m oracle_sim.cli --home H show --sid orcl [--json]
    python -m oracle_sim.cli --home H clock --offset SECONDS | --advance SECONDS
    python -m oracle_sim.cli --home H alias --alias rman --sid rcat
    python -m oracle_sim.cli --home H gi-register --db orcl [--service app1 ...]
    python -m oracle_sim.cli --home H init-home

Exit status 0 on success, 1 on an Oracle error (printed as ORA- lines), 2 on bad usage.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from . import clock, database, session, standby, tools
from . import home as sim_home
from .instance import Instance, OraError, add_alias


def _parse_files(specs: list[str]) -> dict[str, list[int]]:
    """``USERS=2x32`` -> {"USERS": [32, 32]}; ``SYSTEM=64``."""
    files = {"SYSTEM": [64], "SYSAUX": [64], "UNDOTBS1": [32], "USERS": [32]}
    for spec in specs:
        ts, _, size = spec.partition("=")
        count, _, blocks = size.rpartition("x")
        files[ts.upper()] = [int(blocks)] * int(count or 1)
    return files


def _open_db(home: Path, sid: str) -> database.Database:
    inst = Instance(sim_home.state_dir(home), sid)
    session.require(inst, "open")
    if inst.open_mode != "READ WRITE":
        raise OraError("ORA-16000", "database or pluggable database open for read-only access")
    return database.Database(inst)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="simctl", description="Drive simulated Oracle databases.")
    p.add_argument("--home", required=True, type=Path, help="the simulated ORACLE_HOME")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("init-home", help="create the home's bin/ entry points")
    c = sub.add_parser("create", help="create a database and open it")
    c.add_argument("--name", required=True)
    c.add_argument("--sid")
    c.add_argument("--dbid", type=int, required=True)
    c.add_argument("--oradata", type=Path, required=True)
    c.add_argument("--fra", type=Path, required=True)
    c.add_argument("--block-size", type=int, default=8192)
    c.add_argument("--files", action="append", default=[], metavar="TS=[Nx]BLOCKS")
    c.add_argument("--edition", choices=["EE", "SE"], default="EE")
    c.add_argument("--cdb", action="store_true")
    c.add_argument("--no-fra-dest", action="store_true", help="leave log_archive_dest_1 unset")
    c.add_argument("--smon-interval", type=float, default=database.SMON_INTERVAL)
    c.add_argument("--instances", type=int, default=1,
                   help="RAC: N instances <name>1..<name>N, one redo thread each; alias <name> -> <name>1")
    sb = sub.add_parser("create-standby", help="create a physical standby of an open primary (mounted)")
    sb.add_argument("--primary", required=True, help="TNS alias of the primary")
    sb.add_argument("--name", required=True, help="SID and DB_UNIQUE_NAME of the standby")
    sb.add_argument("--oradata", type=Path, required=True)
    sb.add_argument("--fra", type=Path, required=True)
    sb.add_argument("--delay", type=float, default=0.0, help="seconds each archived log takes to arrive")
    sb.add_argument("--read-only", action="store_true", help="open read only with apply (Active Data Guard)")
    sd = sub.add_parser("standby-delay", help="set the redo transport delay to a standby")
    sd.add_argument("--sid", required=True)
    sd.add_argument("--seconds", type=float, required=True)
    sd.add_argument("--thread", type=int, help="only this redo thread's logs (RAC primary)")
    w = sub.add_parser("workload", help="run transactions")
    w.add_argument("--sid", required=True)
    w.add_argument("-n", "--transactions", type=int, default=10)
    w.add_argument("--blocks", type=int, default=3, help="random blocks rewritten per transaction")
    w.add_argument("--advance", type=float, default=0.0, help="simulated seconds per transaction")
    w.add_argument("--sleep", type=float, default=0.0, help="real seconds between transactions")
    w.add_argument("--seed", type=int)
    w.add_argument("--switch-every", type=int, default=0, help="switch logfile every N transactions")
    s = sub.add_parser("switch-logfile")
    s.add_argument("--sid", required=True)
    for name in ("add-datafile", "add-tablespace", "drop-tablespace"):
        a = sub.add_parser(name)
        a.add_argument("--sid", required=True)
        a.add_argument("--tablespace", required=True)
        a.add_argument("--blocks", type=int, default=32)
        a.add_argument("--files", type=int, default=1)
    k = sub.add_parser("corrupt-block")
    k.add_argument("--sid", required=True)
    k.add_argument("--file", type=int, required=True)
    k.add_argument("--block", type=int, required=True)
    k.add_argument("--path", type=Path, help="corrupt this copy of the file instead")
    sh = sub.add_parser("show")
    sh.add_argument("--sid", required=True)
    sh.add_argument("--json", action="store_true")
    ck = sub.add_parser("clock")
    g = ck.add_mutually_exclusive_group(required=True)
    g.add_argument("--offset", type=float)
    g.add_argument("--advance", type=float)
    al = sub.add_parser("alias")
    al.add_argument("--alias", required=True)
    al.add_argument("--sid", required=True)
    gi = sub.add_parser("gi-register", help="register a database (and services) in simulated clusterware")
    gi.add_argument("--db", required=True)
    gi.add_argument("--service", action="append", default=[], metavar="NAME[:PREFERRED[:AVAILABLE]]")
    return p


def run(args: argparse.Namespace) -> int:
    home: Path = args.home
    state = sim_home.state_dir(home)
    if args.cmd == "init-home":
        sim_home.create_home(home)
        print(f"Simulated Oracle home: {home}")
    elif args.cmd == "create":
        if not (home / "bin" / "rman").exists():
            sim_home.create_home(home)
        db = database.create_database(
            state, sid=args.sid or args.name, name=args.name, dbid=args.dbid, oradata=args.oradata,
            fra=args.fra, block_size=args.block_size, files=_parse_files(args.files),
            edition=args.edition, cdb=args.cdb, fra_dest=not args.no_fra_dest,
            smon_interval=args.smon_interval, instances=args.instances)
        print(f"Database {args.name.upper()} created (DBID={args.dbid}), "
              f"{len(db.cf.datafiles())} datafiles, open read write")
    elif args.cmd == "create-standby":
        db = standby.create_standby(state, primary=args.primary, name=args.name, oradata=args.oradata,
                                    fra=args.fra, transport_delay=args.delay, read_only=args.read_only)
        print(f"Physical standby {args.name} of {args.primary} created, {len(db.cf.datafiles())} datafiles, "
              f"{'open read only' if args.read_only else 'mounted'}")
    elif args.cmd == "standby-delay":
        standby.set_delay(state, args.sid, args.seconds, args.thread)
        which = f"thread {args.thread}" if args.thread else "every thread"
        print(f"Redo transport to {args.sid} takes {args.seconds:g}s ({which})")
    elif args.cmd == "workload":
        db = _open_db(home, args.sid)
        rng = random.Random(args.seed)
        done = []
        batch = args.switch_every or args.transactions
        remaining = args.transactions
        while remaining > 0:
            n = min(batch, remaining)
            done += db.workload(n, args.blocks, rng, advance=args.advance, sleep=args.sleep)
            remaining -= n
            if args.switch_every:
                with db.changing():
                    db.switch_logfile()
        first, last = done[0], done[-1]
        print(f"{len(done)} transactions, SCN {first[0]}..{last[0]}, "
              f"{clock.fmt(first[1])} .. {clock.fmt(last[1])}")
    elif args.cmd == "switch-logfile":
        db = _open_db(home, args.sid)
        with db.changing():
            header = db.switch_logfile()
        print(f"Archived thread {header['thread']} sequence {header['sequence']}")
    elif args.cmd in ("add-datafile", "add-tablespace"):
        db = _open_db(home, args.sid)
        with db.changing():
            if args.cmd == "add-tablespace" and args.tablespace.upper() in db.cf.doc["tablespaces"]:
                raise OraError("ORA-01543", f"tablespace '{args.tablespace.upper()}' already exists")
            if args.cmd == "add-datafile" and args.tablespace.upper() not in db.cf.doc["tablespaces"]:
                raise OraError("ORA-00959", f"tablespace '{args.tablespace.upper()}' does not exist")
            for _ in range(args.files if args.cmd == "add-tablespace" else 1):
                entry = db.add_datafile(args.tablespace, args.blocks)
                print(f"Datafile {entry['file']} added: {entry['name']}")
    elif args.cmd == "drop-tablespace":
        db = _open_db(home, args.sid)
        with db.changing():
            for d in db.drop_tablespace(args.tablespace):
                print(f"Datafile {d['file']} dropped: {d['name']}")
    elif args.cmd == "corrupt-block":
        db = database.Database(Instance(state, args.sid))
        db.corrupt_block(args.file, args.block, args.path)
        print(f"Block {args.block} of file {args.file} corrupted")
    elif args.cmd == "show":
        inst = Instance(state, args.sid)
        info: dict = {"sid": args.sid, "status": inst.status, "open_mode": inst.open_mode}
        if inst.status in ("mounted", "open"):
            db = database.Database(inst)
            doc = db.cf.doc
            info.update(db_name=doc["db_name"], dbid=doc["dbid"], current_scn=doc["current_scn"],
                        sequence=db.cf.thread(db.thread_no)["sequence"], datafiles=db.cf.datafiles(),
                        archived_logs=len(db.cf.live_archived_logs()),
                        datafile_copies=len(db.cf.live_copies()))
            if inst.status == "open":
                info["app_rows"] = len(db.table_rows("APP.TRANSACTIONS"))
        if args.json:
            print(json.dumps(info, indent=1, default=str))
        else:
            for key, value in info.items():
                if key == "datafiles":
                    for d in value:
                        print(f"datafile {d['file']:>3} {d['ts']:<10} {d['blocks']:>6} blocks  {d['name']}")
                else:
                    print(f"{key}: {value}")
    elif args.cmd == "clock":
        new = args.offset if args.offset is not None else clock.offset(state) + args.advance
        clock.set_offset(state, new)
        print(f"Clock offset {new:+.0f}s, simulated time {clock.fmt(clock.now(state))}")
    elif args.cmd == "gi-register":
        services = []
        for spec in args.service:
            name, _, rest = spec.partition(":")
            preferred, _, available = rest.partition(":")
            services.append({"name": name, "preferred": preferred or args.db, "available": available})
        tools.gi_register(home, args.db, services)
        print(f"Database {args.db} registered with {len(services)} services")
    elif args.cmd == "alias":
        add_alias(state, args.alias, args.sid)
        print(f"Alias {args.alias} -> {args.sid}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args)
    except OraError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"simctl: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
