"""Session-level commands: CONNECT, channels, SET, CONFIGURE/SHOW, catalog registration, SQL, instance state.

CONFIGURE stores V$RMAN_CONFIGURATION-style NAME/VALUE pairs in the
controlfile document's ``rman_config``.  REGISTER DATABASE records the
target in the catalog database's sidecar under ``rman_catalog`` (what
SQL*Plus shows as RC_DATABASE).  SQL runs the few statements the simulator
models and fails with ORA- errors on anything else.
"""
from __future__ import annotations

from pathlib import Path

from .. import clock, session
from ..database import Database
from ..instance import Instance, OraError, parse_pfile
from . import statements as st
from .context import CONFIG_ORDER, Channel, Context, RunState
from .output import RmanError
from .timeexpr import evaluate

SGA_LINES = ["Total System Global Area    3221225472 bytes", "",
             "Fixed Size                     2929552 bytes",
             "Variable Size                654314608 bytes",
             "Database Buffers            2550136832 bytes",
             "Redo Buffers                  13844480 bytes"]


def parse_connect_string(text: str | None) -> str | None:
    """The TNS alias of ``/``, ``/@alias``, ``user/pw@alias`` (None: ORACLE_SID)."""
    if not text or text in ("/", "*"):
        return None
    if "@" in text:
        return text.split("@", 1)[1].strip() or None
    return None


def target_line(inst: Instance) -> str:
    if inst.status == "idle":
        return "connected to target database (not started)"
    if inst.status == "started":
        return f"connected to target database: {str(inst.param('db_name')).upper()} (not mounted)"
    doc = Database(inst).cf.doc
    tail = "" if inst.status == "open" else ", not open"
    return f"connected to target database: {doc['db_name'].upper()} (DBID={doc['dbid']}{tail})"


def run_connect(ctx: Context, stmt: st.Connect) -> None:
    alias = parse_connect_string(stmt.connect)
    try:
        inst = session.connect(ctx.home, alias, ctx.env)
        if stmt.what == "CATALOG" and inst.status != "open":
            raise OraError("ORA-01034", "ORACLE not available", "ORA-27101: shared memory realm does not exist")
    except OraError as exc:
        where = "target database" if stmt.what == "TARGET" else "recovery catalog database"
        code = "RMAN-04005" if stmt.what == "TARGET" else "RMAN-04004"
        raise RmanError("RMAN-00554: initialization of internal recovery manager package failed",
                        f"{code}: error from {where}: ", *exc.lines, bare=True) from exc
    if stmt.what == "TARGET":
        ctx.target_sid = inst.sid
        ctx.auto_channels = []
        ctx.out.line(target_line(inst))
    else:
        ctx.catalog_sid = inst.sid
        ctx.out.line("connected to recovery catalog database")


# -- RUN-block commands -----------------------------------------------------------------

def run_allocate(ctx: Context, stmt: st.Allocate) -> None:
    ctx.require("started", "mounted", "open")
    assert ctx.run is not None  # the grammar only allows ALLOCATE inside RUN
    if stmt.name.lower() in ctx.run.channels:
        raise RmanError(f"RMAN-06012: channel: {stmt.name} already allocated")
    ctx.repository()
    ch = Channel(stmt.name, ctx.new_sid(), stmt.format, auto=False)
    ctx.run.channels[stmt.name.lower()] = ch
    ctx.out.line(f"allocated channel: {ch.name}")
    ctx.out.line(f"channel {ch.name}: SID={ch.sid} device type=DISK")
    ctx.out.line()


def run_release(ctx: Context, stmt: st.Release) -> None:
    assert ctx.run is not None
    names = [stmt.name.lower()] if stmt.name else list(ctx.run.channels)
    for name in names:
        ch = ctx.run.channels.pop(name, None)
        if ch is None:
            raise RmanError(f"RMAN-06012: channel: {stmt.name} not allocated")
        ctx.out.line(f"released channel: {ch.name}")
    ctx.out.line()


def release_run_channels(ctx: Context) -> None:
    """End of a RUN block: its channels go away."""
    if ctx.run is None or not ctx.run.channels:
        return
    for ch in ctx.run.channels.values():
        ctx.out.line(f"released channel: {ch.name}")
    ctx.run.channels = {}
    ctx.out.line()


def run_set(ctx: Context, stmt: st.Stmt) -> None:
    out = ctx.out
    if isinstance(stmt, st.SetNewname):
        run = ctx.run or RunState()
        if stmt.file is None:
            run.newname_all = True
        else:
            run.newnames[stmt.file] = None if stmt.new else stmt.name
        out.line("executing command: SET NEWNAME")
    elif isinstance(stmt, st.SetUntil):
        if stmt.time is not None:
            try:
                evaluate(stmt.time, ctx.now(), ctx.env)
            except OraError as exc:
                raise RmanError.from_ora(exc) from exc
        if ctx.run is not None:
            ctx.run.until = stmt
        out.line("executing command: SET until clause")
    elif isinstance(stmt, st.SetDbid):
        out.line("executing command: SET DBID")
    out.line()


# -- CONFIGURE / SHOW ---------------------------------------------------------------------

def _resync_lines(ctx: Context) -> None:
    if ctx.catalog_sid is not None:
        ctx.out.line("starting full resync of recovery catalog")
        ctx.out.line("full resync complete")


def run_configure(ctx: Context, stmt: st.Configure) -> None:
    db = ctx.database()
    out = ctx.out
    with db.changing() as cf:
        ctx.repository(db)
        conf = cf.doc.setdefault("rman_config", {})
        old = conf.get(stmt.name)
        if old is not None:
            out.line("old RMAN configuration parameters:")
            out.line(f"CONFIGURE {stmt.name} {old};")
        if stmt.value is None:
            conf.pop(stmt.name, None)
            out.line("RMAN configuration parameters are successfully reset to default value")
        else:
            conf[stmt.name] = stmt.value
            out.line("new RMAN configuration parameters:")
            out.line(f"CONFIGURE {stmt.name} {stmt.value};")
            out.line("new RMAN configuration parameters are successfully stored")
        _resync_lines(ctx)
    if stmt.name in ("DEVICE TYPE", "CHANNEL") and ctx.auto_channels:
        for ch in ctx.auto_channels:
            out.line(f"released channel: {ch.name}")
        ctx.release_auto_channels()
    out.line()


def run_show(ctx: Context, stmt: st.Show) -> None:
    db = ctx.database()
    out = ctx.out
    cf = db.cf
    ctx.repository(db)
    conf = cf.doc.get("rman_config", {})
    out.line(f"RMAN configuration parameters for database with db_unique_name "
             f"{cf.doc['db_unique_name'].upper()} are:")
    snapshot_default = f"TO '{ctx.snapshot_name(cf, db.instance)}'"
    for name, default in CONFIG_ORDER:
        if name in conf:
            out.line(f"CONFIGURE {name} {conf[name]};")
        elif name == "SNAPSHOT CONTROLFILE NAME":
            out.line(f"CONFIGURE {name} {snapshot_default}; # default")
        elif default is not None:
            out.line(f"CONFIGURE {name} {default}{' ' if default.endswith('TRUE') else ''}; # default")
    for name, value in conf.items():
        if name not in dict(CONFIG_ORDER):
            out.line(f"CONFIGURE {name} {value};")
    out.line()


# -- recovery catalog -------------------------------------------------------------------------

def run_register(ctx: Context, stmt: st.Register) -> None:
    db = ctx.database()
    cat = ctx.catalog_db()
    doc = db.cf.doc
    with cat.changing():
        side = cat.sidecar()
        rows = side.setdefault("rman_catalog", {}).setdefault("databases", [])
        if any(r["dbid"] == doc["dbid"] for r in rows):
            raise RmanError("RMAN-20002: target database already registered in recovery catalog", channel="default")
        rows.append({"db_key": max((r["db_key"] for r in rows), default=0) + 1, "dbid": doc["dbid"],
                     "name": doc["db_name"].upper(), "registered": clock.fmt(ctx.now())})
        cat.save_sidecar(side)
    ctx.out.line("database registered in recovery catalog")
    _resync_lines(ctx)
    ctx.out.line()


def run_resync(ctx: Context, stmt: st.Resync) -> None:
    db = ctx.database()
    if not any(r["dbid"] == db.cf.doc["dbid"] for r in ctx.catalog_rows()):
        raise RmanError("RMAN-20001: target database not found in recovery catalog", channel="default")
    _resync_lines(ctx)
    ctx.out.line()


# -- SQL and instance state ---------------------------------------------------------------------

def run_sql(ctx: Context, stmt: st.Sql) -> None:
    text = stmt.text.strip().rstrip(";").strip()
    ctx.out.line(f"sql statement: {text}")
    norm = " ".join(text.lower().split())
    try:
        if norm in ("alter database flashback off", "alter database flashback on"):
            db = ctx.database()
            with db.changing() as cf:
                cf.doc["flashback"] = norm.endswith(" on")
        elif norm in ("alter system archive log current", "alter system switch logfile"):
            db = ctx.database("open")
            with db.changing():
                if norm.endswith("switch logfile"):
                    db.switch_logfile()
                else:
                    db.archive_log_current()
        elif norm == "alter system checkpoint":
            db = ctx.database("open")
            with db.changing() as cf:
                db.checkpoint(cf.doc["current_scn"], ctx.now())
        elif norm == "alter database disable block change tracking":
            db = ctx.database()
            with db.changing() as cf:
                cf.doc["bct"] = {"status": "DISABLED", "filename": None}
        elif norm == "alter database enable block change tracking":
            db = ctx.database()
            with db.changing():
                db.enable_bct()
        else:
            first = norm.split(" ", 1)[0] if norm else ""
            raise OraError("ORA-00940" if first == "alter" else "ORA-00900",
                           "invalid ALTER command" if first == "alter" else "invalid SQL statement")
    except OraError as exc:
        raise RmanError(f"RMAN-11003: failure during parse/execution of SQL statement: {text}", *exc.lines,
                        channel="default") from exc
    except RmanError as exc:
        raise RmanError(f"RMAN-11003: failure during parse/execution of SQL statement: {text}", *exc.lines,
                        channel="default") from exc
    ctx.out.line()


def _drop_auto_channels(ctx: Context) -> None:
    for ch in ctx.auto_channels:
        ctx.out.line(f"released channel: {ch.name}")
    ctx.auto_channels = []


def run_alter_database(ctx: Context, stmt: st.AlterDatabase) -> None:
    inst = ctx.instance()
    try:
        if stmt.action == "MOUNT":
            session.mount(inst)
        else:
            session.open_database(inst, stmt.read_only)
    except OraError as exc:
        raise RmanError.from_ora(exc) from exc
    _drop_auto_channels(ctx)
    ctx.out.line("Statement processed")
    ctx.out.line()


def run_startup(ctx: Context, stmt: st.Startup) -> None:
    inst = ctx.instance()
    out = ctx.out
    try:
        if inst.status != "idle":
            if not stmt.force:
                raise RmanError("RMAN-06193: database is already started" if inst.status == "open"
                                else "ORA-01081: cannot start already-running ORACLE - shut it down first")
            session.shutdown(inst, abort=True)
            inst = ctx.instance()
        params = parse_pfile(Path(stmt.pfile).read_text()) if stmt.pfile else None
        try:
            inst.start(params)
            out.line("Oracle instance started")
        except OraError as exc:
            # No parameter file at all: RMAN starts a dummy instance to restore the spfile into.
            if params is not None or stmt.mode != "NOMOUNT" or not exc.lines[0].startswith("ORA-01078"):
                raise
            from .cmd_spfile import start_dummy_instance
            start_dummy_instance(ctx, inst, exc)
        if stmt.mode in ("MOUNT", "OPEN"):
            session.mount(inst)
            out.line("database mounted")
        if stmt.mode == "OPEN":
            session.open_database(inst)
            out.line("database opened")
    except OraError as exc:
        raise RmanError.from_ora(exc) from exc
    except OSError as exc:
        raise RmanError("ORA-01078: failure in processing system parameters",
                        f"LRM-00109: could not open parameter file '{stmt.pfile}'") from exc
    out.line()
    out.lines(SGA_LINES)
    out.line()


def run_shutdown(ctx: Context, stmt: st.Shutdown) -> None:
    inst = ctx.instance()
    try:
        lines = session.shutdown(inst, abort=stmt.mode == "ABORT")
    except OraError as exc:
        raise RmanError.from_ora(exc) from exc
    ctx.auto_channels = []
    words = {"Database closed.": "database closed", "Database dismounted.": "database dismounted",
             "ORACLE instance shut down.": "Oracle instance shut down"}
    for line in lines:
        ctx.out.line(words.get(line, line))
    ctx.out.line()
