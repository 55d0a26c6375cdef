"""SQL*Plus's own commands: SET, COLUMN, PROMPT, CONNECT, STARTUP, SHUTDOWN, SPOOL, EXIT...

Commands may be abbreviated as in SQL*Plus (``SET PAGES``, ``COL``, ``PRO``);
what is not modelled is reported as SP2-0734 rather than ignored.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .. import session as sim_session
from ..database import Database
from ..instance import OraError, parse_pfile
from ..sql import privileges, views
from ..sql.context import SP2Error
from . import format as fmt

if TYPE_CHECKING:
    from .client import Client

BANNER_EE = ["Oracle Database 12c Enterprise Edition Release 12.1.0.2.0 - 64bit Production",
             "With the Partitioning, OLAP, Advanced Analytics and Real Application Testing options"]
BANNER_SE = ["Oracle Database 12c Standard Edition Release 12.1.0.2.0 - 64bit Production"]

# (name, minimum abbreviation)
SET_OPTIONS = [("PAGESIZE", "PAGES"), ("LINESIZE", "LIN"), ("FEEDBACK", "FEED"), ("TIMING", "TIMI"),
               ("ECHO", "ECHO"), ("SERVEROUTPUT", "SERVEROUT"), ("HEADING", "HEA"), ("TRIMSPOOL", "TRIMS"),
               ("TRIMOUT", "TRIM"), ("VERIFY", "VER"), ("TERMOUT", "TERM"), ("LONG", "LONG"),
               ("NEWPAGE", "NEWP"), ("TAB", "TAB"), ("COLSEP", "COLSEP"), ("DEFINE", "DEF"),
               ("SQLBLANKLINES", "SQLBL"), ("NUMWIDTH", "NUM"), ("NULL", "NULL"), ("WRAP", "WRA"),
               ("UNDERLINE", "UND"), ("AUTOCOMMIT", "AUTO"), ("ARRAYSIZE", "ARRAY"), ("SQLPROMPT", "SQLP"),
               ("MARKUP", "MARK"), ("SHOWMODE", "SHOW"), ("TIME", "TI"), ("APPINFO", "APPI"),
               ("FLUSH", "FLU"), ("LONGCHUNKSIZE", "LONGC"), ("EMBEDDED", "EMB"), ("HEADSEP", "HEADS"),
               ("SCAN", "SCAN"), ("SPACE", "SPA"), ("ESCAPE", "ESC"), ("CONCAT", "CON"), ("EXITCOMMIT", "EXITC"),
               ("SQLTERMINATOR", "SQLT"), ("SUFFIX", "SUF"), ("TRIMOUT", "TRIMO")]
COMMANDS = [("SET", "SET"), ("COLUMN", "COL"), ("PROMPT", "PRO"), ("CONNECT", "CONN"), ("DISCONNECT", "DISC"),
            ("STARTUP", "STARTUP"), ("SHUTDOWN", "SHUTDOWN"), ("SPOOL", "SPO"), ("EXIT", "EXIT"),
            ("QUIT", "QUIT"), ("EXECUTE", "EXEC"), ("WHENEVER", "WHENEVER"), ("DEFINE", "DEF"),
            ("UNDEFINE", "UNDEF"), ("SHOW", "SHO"), ("CLEAR", "CL"), ("START", "STA"), ("DESCRIBE", "DESC"),
            ("ARCHIVE", "ARCHIVE"), ("PAUSE", "PAU")]


def _match(word: str, table: list[tuple[str, str]]) -> str | None:
    w = word.upper()
    for full, short in table:
        if full.startswith(w) and w.startswith(short):
            return full
    return None


def on_off(name: str, value: str) -> bool:
    v = value.upper()
    if v not in ("ON", "OFF"):
        raise SP2Error(f"SP2-0265: {name.lower()} must be set ON or OFF")
    return v == "ON"


def run(c: Client, line: str) -> None:
    """Run one SQL*Plus command line."""
    text = substitute_lines(c, [line], verify=False)[0]
    if text.startswith("@"):
        name = text[2:] if text.startswith("@@") else text[1:]
        parts = name.split()
        start_script(c, parts[0] if parts else "", parts[1:])
        return
    word, _, rest = text.partition(" ")
    word = word.rstrip(";")
    rest = rest.strip()
    cmd = _match(word, COMMANDS)
    try:
        if cmd is None:
            raise SP2Error(f'SP2-0734: unknown command beginning "{text[:10]}..." - rest of line ignored.')
        from . import commands_show
        handler = globals().get("cmd_" + cmd.lower()) or getattr(commands_show, "cmd_" + cmd.lower())
        handler(c, rest.rstrip(";").strip() if cmd != "EXECUTE" else rest)
    except SP2Error as exc:
        c.out.lines(exc.lines)


# -- SET / COLUMN / DEFINE --------------------------------------------------------------

def cmd_set(c: Client, rest: str) -> None:
    words = re.findall(r"'[^']*'|\"[^\"]*\"|\S+", rest)
    if not words:
        raise SP2Error("SP2-0266: SET option not specified")
    s = c.settings
    i = 0
    while i < len(words):
        opt = _match(words[i], SET_OPTIONS)
        if opt is None:
            raise SP2Error(f'SP2-0158: unknown SET option "{words[i]}"')
        value = words[i + 1] if i + 1 < len(words) else ""
        i += 2
        if opt in ("PAGESIZE", "LINESIZE", "LONG", "NUMWIDTH", "ARRAYSIZE", "LONGCHUNKSIZE"):
            if not value.isdigit():
                raise SP2Error(f"SP2-0268: {opt.lower()} option not a valid number")
            n = int(value)
            if opt == "LINESIZE" and not 1 <= n <= 32767:
                raise SP2Error(f"SP2-0267: linesize option {n} out of range (1 through 32767)")
            if opt != "ARRAYSIZE" and opt != "LONGCHUNKSIZE":
                setattr(s, opt.lower(), n)
        elif opt == "FEEDBACK":
            v = value.upper()
            s.feedback = 1 if v == "ON" else 0 if v == "OFF" else int(v) if v.isdigit() else -1
            if s.feedback < 0:
                s.feedback = 6
                raise SP2Error("SP2-0268: feedback option not a valid number")
        elif opt == "SERVEROUTPUT":
            s.serveroutput = on_off(opt, value)
            while i < len(words) and words[i].upper() in ("SIZE", "FORMAT", "FOR", "FORMATTED"):
                i += 2
        elif opt == "NEWPAGE":
            s.newpage = 0 if value.upper() == "NONE" else int(value) if value.isdigit() else s.newpage
        elif opt in ("COLSEP", "NULL", "SQLPROMPT"):
            text = value[1:-1] if value[:1] in "'\"" and len(value) > 1 else value
            if opt == "COLSEP":
                s.colsep = text
            elif opt == "NULL":
                s.null = text
        elif opt == "DEFINE":
            s.define = "&" if value.upper() == "ON" else None if value.upper() == "OFF" else value[:1]
        elif opt == "UNDERLINE":
            s.underline = "-" if value.upper() == "ON" else "" if value.upper() == "OFF" else value[:1]
        elif opt == "MARKUP":
            if value.upper() != "HTML":
                raise SP2Error(f'SP2-0735: unknown SET option beginning "{value[:10]}..."')
            raise SP2Error("SP2-0734: SET MARKUP HTML is not supported by the simulator")
        elif opt in ("TIMING", "ECHO", "HEADING", "TRIMSPOOL", "TRIMOUT", "VERIFY", "TERMOUT", "TAB",
                     "SQLBLANKLINES", "WRAP", "AUTOCOMMIT"):
            setattr(s, opt.lower(), on_off(opt, value))
        # other options (APPINFO, FLUSH, SCAN, ...) change nothing the simulator prints


def cmd_column(c: Client, rest: str) -> None:
    words = re.findall(r"'[^']*'|\"[^\"]*\"|\S+", rest)
    if not words:
        raise SP2Error("SP2-0046: COLUMN 'x' not defined")
    name = words[0].upper().strip('"')
    f = c.settings.columns.setdefault(name, fmt.ColumnFormat())
    i = 1
    while i < len(words):
        w = words[i].upper()
        if w in ("FOR", "FORM", "FORMA", "FORMAT"):
            spec = words[i + 1] if i + 1 < len(words) else ""
            if re.fullmatch(r"[aA]\d+", spec):
                f.width, f.number_mask = int(spec[1:]), None
            elif re.fullmatch(r"(?i)(fm)?[$09,.G D]+|[9X]+", spec.upper()):
                f.number_mask, f.width = spec, None
            else:
                raise SP2Error(f"SP2-0246: Illegal FORMAT string \"{spec}\"")
            i += 2
        elif w in ("HEADING", "HEA", "HEAD"):
            h = words[i + 1] if i + 1 < len(words) else ""
            f.heading = h[1:-1] if h[:1] in "'\"" else h
            i += 2
        elif w in ("NOPRINT", "NOPRI", "NOPRIN"):
            f.noprint = True
            i += 1
        elif w in ("PRINT", "PRI", "PRIN"):
            f.noprint = False
            i += 1
        elif w in ("CLEAR", "CLE"):
            c.settings.columns.pop(name, None)
            i += 1
        elif w in ("WRAPPED", "WRA", "TRUNCATED", "TRU", "WORD_WRAPPED", "WOR", "JUSTIFY", "JUS", "NEW_VALUE",
                   "NEW_V", "OLD_VALUE", "OLD_V"):
            i += 2 if w.startswith(("JUS", "NEW", "OLD")) else 1
        else:
            raise SP2Error(f'SP2-0158: unknown COLUMN option "{words[i]}"')


def cmd_define(c: Client, rest: str) -> None:
    if not rest:
        for k, v in c.defines.items():
            c.out.line(f'DEFINE {k:<15} = "{v}" (CHAR)')
        return
    m = re.match(r"(\w+)\s*=\s*(.*)$", rest)
    if m:
        value = m.group(2).strip()
        c.defines[m.group(1).upper()] = value[1:-1] if value[:1] in "'\"" else value
        return
    key = rest.split()[0].upper()
    if key not in c.defines:
        raise SP2Error(f'SP2-0135: symbol {key.lower()} is UNDEFINED')
    c.out.line(f'DEFINE {key:<15} = "{c.defines[key]}" (CHAR)')


def cmd_undefine(c: Client, rest: str) -> None:
    for key in rest.split():
        c.defines.pop(key.upper(), None)


def substitute_lines(c: Client, lines: list[str], verify: bool = True) -> list[str]:
    """``&name`` / ``&&name`` substitution; unknown names are asked for on the input."""
    prefix = c.settings.define
    if not prefix or not any(prefix in ln for ln in lines):
        return lines
    pattern = re.compile(re.escape(prefix) + r"(" + re.escape(prefix) + r")?(\w+)\.?")
    out = []
    for n, line in enumerate(lines, start=1):
        def repl(m: re.Match) -> str:
            key = m.group(2).upper()
            if key not in c.defines:
                c.out.prompt(f"Enter value for {m.group(2).lower()}: ")
                value = c.next_line() or ""
                if c.out.mid_line:
                    c.out.stream.write("\n")
                    c.out.mid_line = False
                if m.group(1):
                    c.defines[key] = value
                return value
            return c.defines[key]
        new = pattern.sub(repl, line)
        if new != line and verify and c.settings.verify:
            c.out.lines([f"old {n:>3}: {line}", f"new {n:>3}: {new}"])
        out.append(new)
    return out


def cmd_prompt(c: Client, rest: str) -> None:
    c.out.line(rest)


def cmd_pause(c: Client, rest: str) -> None:
    c.out.line(rest)
    c.next_line()


def cmd_clear(c: Client, rest: str) -> None:
    if rest.upper().startswith("COL"):
        c.settings.columns.clear()


# -- session ------------------------------------------------------------------------------

def cmd_whenever(c: Client, rest: str) -> None:
    words = rest.upper().split()
    if len(words) < 2 or words[0] not in ("SQLERROR", "OSERROR"):
        raise SP2Error(f'SP2-0734: unknown command beginning "whenever {rest.lower()[:10]}..." - rest of line '
                       "ignored.")
    if words[0] == "OSERROR":
        return
    if words[1] == "CONTINUE":
        c.whenever = None
    elif words[1] == "EXIT":
        c.whenever = words[2] if len(words) > 2 and words[2] not in ("COMMIT", "ROLLBACK") else "FAILURE"
    else:
        raise SP2Error(f'SP2-0734: unknown command beginning "whenever {rest.lower()[:10]}..." - rest of line '
                       "ignored.")


def exit_code(c: Client, spec: str) -> int:
    spec = spec.upper().rstrip(";")
    if spec in ("", "SUCCESS", "COMMIT", "ROLLBACK"):
        return 0
    if spec == "FAILURE":
        return 1
    if spec == "WARNING":
        return 2
    if spec == "SQL.SQLCODE":
        return 1 if c.had_error else 0
    if spec.lstrip("-").isdigit():
        return int(spec) & 0xFF
    return 0


def cmd_exit(c: Client, rest: str) -> None:
    from .client import ExitSession
    raise ExitSession(exit_code(c, rest.split()[0] if rest.split() else ""))


cmd_quit = cmd_exit


def disconnect_banner(c: Client) -> None:
    if not c.s.connected:
        return
    try:
        inst = c.s.instance()
        running = inst.status != "idle"
        edition = views.Source(inst, c.s.user, c.s.sysdba).edition() if inst.status != "started" and running \
            else "EE"
    except (OraError, SP2Error):
        running, edition = False, "EE"
    if running:
        banner = BANNER_EE if edition == "EE" else BANNER_SE
        c.out.lines([f"Disconnected from {banner[0]}", *banner[1:]])
    else:
        c.out.line("Disconnected")


def cmd_disconnect(c: Client, rest: str) -> None:
    disconnect_banner(c)
    c.s.disconnect()


def connect(c: Client, spec: str, startup_banner: bool = False, quiet: bool = False) -> None:
    """CONNECT / AS SYSDBA, /@alias AS SYSDBA, user[/password][@alias] [AS SYSDBA]."""
    m = re.fullmatch(r"\s*(?P<user>[^/@\s]*)(?:/(?P<pw>[^@\s]*))?(?:@(?P<alias>\S+))?"
                     r"(?:\s+as\s+(?P<role>sysdba|sysoper|sysbackup|sysdg|syskm))?\s*", spec, re.I)
    if m is None:
        raise SP2Error("SP2-0306: Invalid option.", "Usage: CONN[ECT] [{logon|/|proxy} [AS {SYSDBA|SYSOPER|SYSASM"
                       "|SYSBACKUP|SYSDG|SYSKM}] [edition=value]]")
    c.s.disconnect()
    user, pw, alias, role = m.group("user"), m.group("pw"), m.group("alias"), m.group("role")
    if user and pw is None:
        c.out.prompt("Enter password: ")
        pw = c.next_line() or ""
        c.out.stream.write("\n")
        c.out.mid_line = False
    try:
        inst = sim_session.connect(c.s.home, alias, c.s.env)
        if role:
            c.s.connect(inst.sid, "SYS", True)
            idle = inst.status == "idle"
        elif not user:
            if not alias:
                raise OraError("ORA-01017", "invalid username/password; logon denied")
            # /@alias without a role: the wallet's user (the simulator has no wallet: the catalog owner)
            _check_login(inst, None, "")
            owner = str(Database(inst).sidecar().get("rman_catalog", {}).get("owner", "RMAN")).upper()
            c.s.connect(inst.sid, owner, False)
            idle = False
        else:
            _check_login(inst, user.upper(), pw or "")
            c.s.connect(inst.sid, user.upper(), False)
            idle = False
    except OraError as exc:
        c.out.line("ERROR:")
        c.ora_error(exc, connect=True)
        return
    c.defines["_USER"] = c.s.user
    c.defines["_CONNECT_IDENTIFIER"] = alias or inst.sid
    if quiet or c.silent:
        # -S suppresses SQL*Plus's informational messages, "Connected." among them: the old
        # toolset's captured -S output has none after its conn lines.
        return
    if startup_banner:
        if idle:
            c.out.lines(["Connected to an idle instance.", ""])
        else:
            edition = views.Source(inst, c.s.user, True).edition() if inst.status != "started" else "EE"
            c.out.lines(["Connected to:", *(BANNER_EE if edition == "EE" else BANNER_SE), ""])
    elif idle:
        c.out.line("Connected to an idle instance.")
    else:
        c.out.line("Connected.")


def _check_login(inst: object, user: str | None, password: str) -> None:
    status = inst.status
    if status == "idle":
        raise OraError("ORA-01034", "ORACLE not available", "ORA-27101: shared memory realm does not exist",
                       "Linux-x86_64 Error: 2: No such file or directory", "Process ID: 0",
                       "Session ID: 0 Serial number: 0")
    if status != "open":
        raise OraError("ORA-01033", "ORACLE initialization or shutdown in progress", "Process ID: 0",
                       "Session ID: 0 Serial number: 0")
    if user is None:
        return
    side = Database(inst).sidecar()  # type: ignore[arg-type]
    found = next((u for u in side.get("users", []) if u["username"] == user), None)
    if found is None:
        raise OraError("ORA-01017", "invalid username/password; logon denied")
    stored = found.get("password_hash")
    if stored:
        salt, _, digest = stored.partition("$")
        if hashlib.sha256((salt + password).encode()).hexdigest() != digest:
            raise OraError("ORA-01017", "invalid username/password; logon denied")
    if "LOCKED" in found.get("account_status", ""):
        raise OraError("ORA-28000", "the account is locked")
    if not privileges.may_log_in(side, found):
        raise OraError("ORA-01045", f"user {user} lacks CREATE SESSION privilege; logon denied")


def cmd_connect(c: Client, rest: str) -> None:
    if not rest:
        raise SP2Error("SP2-0306: Invalid option.")
    connect(c, rest)


def cmd_spool(c: Client, rest: str) -> None:
    words = rest.split()
    if not words:
        c.out.line(f"currently spooling to {c.out.spool_path}" if c.out.spool_path else "not spooling currently")
        return
    if words[0].upper() in ("OFF", "OUT"):
        if c.out.spool is None:
            raise SP2Error("not spooling currently")
        c.out.stop_spool()
        return
    path = Path(words[0].strip("'\""))
    if "." not in path.name:
        path = path.with_name(path.name + ".lst")  # SQL*Plus adds .lst to a name without extension
    mode = words[1].upper() if len(words) > 1 else "REPLACE"
    if mode in ("CRE", "CREATE") and path.exists():
        raise SP2Error(f'SP2-0771: File "{path}" already exists.',
                       'Use another name or "SPOOL filename[.ext] REPLACE"')
    try:
        c.out.start_spool(path, append=mode.startswith("APP"))
    except OSError:
        raise SP2Error(f'SP2-0606: Cannot create SPOOL file "{path}"') from None


def start_script(c: Client, name: str, args: list[str]) -> None:
    path = Path(name)
    if not path.suffix:
        path = path.with_suffix(".sql")
    try:
        lines = path.read_text().splitlines()
    except OSError:
        c.out.line(f'SP2-0310: unable to open file "{path}"')
        return
    for i, a in enumerate(args, start=1):
        c.defines[str(i)] = a
    c.push_lines(lines)


def cmd_start(c: Client, rest: str) -> None:
    parts = rest.split()
    start_script(c, parts[0] if parts else "", parts[1:])


def cmd_execute(c: Client, rest: str) -> None:
    stmt = rest.strip().rstrip(";").strip()
    if not stmt:
        raise SP2Error("Usage: EXEC[UTE] statement")
    block = f"BEGIN {stmt}; END;"
    c.run_plsql(block, [block], exec_style=True)


# -- instance ------------------------------------------------------------------------------

def _sysdba(c: Client) -> object:
    if not c.s.connected:
        raise SP2Error("SP2-0640: Not connected")
    if not c.s.sysdba:
        c.ora_error(OraError("ORA-01031", "insufficient privileges"))
        return None
    return c.s.instance()


def sga_lines(inst: object) -> list[str]:
    def size(v: object) -> int:
        text = str(v or "0").upper()
        mult = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
        try:
            return int(float(text.rstrip("KMG")) * mult)
        except ValueError:
            return 0
    params = inst.params
    total = max(size(params.get("sga_max_size")), size(params.get("sga_target"))) or 2 * 1024**3
    total += 1024**3
    fixed, redo = 2929552, 13844480
    buffers = int(total * 2550136832 / 3221225472) // (16 * 1024**2) * (16 * 1024**2)
    variable = total - fixed - redo - buffers
    return [f"{'Total System Global Area':<24}{total:>11} bytes", f"{'Fixed Size':<24}{fixed:>11} bytes",
            f"{'Variable Size':<24}{variable:>11} bytes", f"{'Database Buffers':<24}{buffers:>11} bytes",
            f"{'Redo Buffers':<24}{redo:>11} bytes"]


def cmd_startup(c: Client, rest: str) -> None:
    inst = _sysdba(c)
    if inst is None:
        return
    m = re.search(r"pfile\s*=\s*('([^']*)'|\"([^\"]*)\"|(\S+))", rest, re.I)
    words = re.sub(r"pfile\s*=\s*('[^']*'|\"[^\"]*\"|\S+)", " ", rest, flags=re.I).upper().split()
    quiet = "QUIET" in words
    try:
        if "FORCE" in words and inst.status != "idle":  # type: ignore[attr-defined]
            sim_session.shutdown(inst, abort=True)  # type: ignore[arg-type]
        params = None
        if m:
            pfile = m.group(2) or m.group(3) or m.group(4)
            try:
                params = parse_pfile(Path(pfile).read_text())
            except OSError:
                raise OraError("ORA-01078", "failure in processing system parameters",
                               f"LRM-00109: could not open parameter file '{pfile}'") from None
        inst.start(params)  # type: ignore[attr-defined]
        c.out.line("ORACLE instance started.")
        if not quiet:
            c.out.lines(sga_lines(inst), data=True)
        if "NOMOUNT" in words:
            return
        sim_session.mount(inst)  # type: ignore[arg-type]
        c.out.line("Database mounted.")
        if "MOUNT" in words:
            return
        sim_session.open_database(inst, read_only="READ" in words and "ONLY" in words)  # type: ignore[arg-type]
        c.out.line("Database opened.")
    except OraError as exc:
        c.ora_error(exc)


def cmd_shutdown(c: Client, rest: str) -> None:
    inst = _sysdba(c)
    if inst is None:
        return
    mode = rest.upper().split()[0] if rest.split() else "NORMAL"
    if mode not in ("NORMAL", "IMMEDIATE", "TRANSACTIONAL", "ABORT"):
        raise SP2Error("SP2-0717: illegal SHUTDOWN option")
    try:
        lines = sim_session.shutdown(inst, abort=mode == "ABORT")  # type: ignore[arg-type]
    except OraError as exc:
        c.out.lines([*exc.lines, "Linux-x86_64 Error: 2: No such file or directory"]
                    if exc.code == "ORA-01034" else exc.lines)
        c.had_error = True
        if c.whenever is not None:
            from .client import ExitSession
            raise ExitSession(exit_code(c, c.whenever)) from None
        return
    c.out.lines(lines)
