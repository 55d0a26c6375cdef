"""``bin/rman``: command line, the read-eval loop, prompts, echo and error stacks.

``main(argv, home, prog)`` is what the ``bin/rman`` wrapper calls.  The
client prints the banner, connects what the command line names, then reads
the script line by line as the real one reads a pipe: ``RMAN> `` before a
statement, ``2> ``, ``3> `` before continuation lines, the line itself when
``set echo on`` (connect strings shown as ``*``).  A complete statement
(``;``, the closing ``}`` of RUN, or the end of a CONNECT/EXIT line) is
parsed and run.  Errors print the RMAN-00571 stack; the rest of a RUN block
is skipped, later statements still run (a ``cmdfile`` stops), and the exit
status is 1 if anything failed.
"""
from __future__ import annotations

import os
import re
import sys
import traceback
from pathlib import Path
from typing import Callable, Iterable

from ..instance import OraError
from . import cmd_backup, cmd_maint, cmd_restore, cmd_session, cmd_spfile, cmd_validate, unsimulated
from . import statements as st
from .context import Context, RunState
from .lexer import EOF, LexError, Token, statement_end, tokenize
from .output import Output, RmanError, banner_time, stack_time
from .parser import ParseError, Parser

HANDLERS: dict[type, Callable] = {
    st.Connect: cmd_session.run_connect,
    st.Allocate: cmd_session.run_allocate,
    st.Release: cmd_session.run_release,
    st.SetNewname: cmd_session.run_set,
    st.SetUntil: cmd_session.run_set,
    st.SetDbid: cmd_spfile.run_set_dbid,
    st.SetAutobackupFormat: cmd_spfile.run_set_autobackup_format,
    st.Configure: cmd_session.run_configure,
    st.Show: cmd_session.run_show,
    st.Register: cmd_session.run_register,
    st.Resync: cmd_session.run_resync,
    st.Sql: cmd_session.run_sql,
    st.AlterDatabase: cmd_session.run_alter_database,
    st.Startup: cmd_session.run_startup,
    st.Shutdown: cmd_session.run_shutdown,
    st.Backup: cmd_backup.run_backup,
    st.RecoverCopy: cmd_backup.run_recover_copy,
    st.Restore: cmd_restore.run_restore,
    st.Switch: cmd_restore.run_switch,
    st.RecoverDatabase: cmd_restore.run_recover_database,
    st.Validate: cmd_validate.backup_validate,
    st.Report: cmd_validate.run_report,
    st.Delete: cmd_maint.run_delete,
    st.Change: cmd_maint.run_change,
    st.Catalog: cmd_maint.run_catalog,
    st.Crosscheck: cmd_maint.run_crosscheck,
    st.ListCmd: cmd_maint.run_list,
    st.NotSimulated: unsimulated.run,
}

# Commands after which a due controlfile autobackup waits (RMAN takes it after a run of them).
BACKUP_LIKE = (st.Backup, st.RecoverCopy)

ARGV_WORDS = ["append", "catalog", "cmdfile", "log", "nocatalog", "target"]


class Client:
    def __init__(self, ctx: Context, stop_on_error: bool = False):
        self.ctx = ctx
        self.out = ctx.out
        self.failed = False
        self.echo = False
        self.stop_on_error = stop_on_error
        self.finished = False

    # -- errors ---------------------------------------------------------------------------
    def report(self, command: str, err: RmanError) -> None:
        lines = []
        if not err.bare:
            when = stack_time(self.ctx.now())
            if err.channel:
                lines.append(f"RMAN-03009: failure of {command} command on {err.channel} channel at {when}")
            else:
                lines.append(f"RMAN-03002: failure of {command} command at {when}")
        self.out.error_stack(lines + err.lines)
        self.failed = True

    def execute(self, stmt: st.Stmt) -> bool:
        """Run one statement; print its error stack and return False when it fails."""
        try:
            if isinstance(stmt, st.SetEcho):
                self.echo = stmt.on
                if stmt.on:
                    self.out.line("echo set on")
                return True
            HANDLERS[type(stmt)](self.ctx, stmt)
            return True
        except RmanError as err:
            self.report(stmt.command, err)
        except OraError as err:
            self.report(stmt.command, RmanError.from_ora(err))
        except Exception as exc:  # noqa: BLE001 - a simulator bug must still look like a failed command
            traceback.print_exc(file=sys.stderr)
            self.report(stmt.command, RmanError(f"RMAN-00600: internal error, arguments [{exc!r}]"))
        return False

    def autobackup(self) -> bool:
        try:
            cmd_backup.run_autobackup(self.ctx)
            return True
        except (RmanError, OraError) as err:
            self.report("Control File and SPFILE Autobackup",
                        err if isinstance(err, RmanError) else RmanError.from_ora(err))
            return False

    def run_statement(self, stmt: st.Stmt) -> None:
        if isinstance(stmt, st.Exit):
            self.finished = True
            return
        if not isinstance(stmt, st.Run):
            if self.execute(stmt):
                self.autobackup()
            return
        ctx = self.ctx
        ctx.run = RunState()
        ok = True
        try:
            for inner in stmt.body:
                if not isinstance(inner, BACKUP_LIKE) and not self.autobackup():
                    ok = False
                    break
                if not self.execute_in_run(inner):
                    ok = False
                    break
            if ok:
                self.autobackup()
                cmd_session.release_run_channels(ctx)
        finally:
            ctx.run = None
            ctx.autobackup_pending = False

    def execute_in_run(self, stmt: st.Stmt) -> bool:
        """Inside RUN, channels are released before the error stack, as RMAN prints it."""
        saved_report = self.report

        def report(command: str, err: RmanError) -> None:
            if self.ctx.run is not None:
                for ch in self.ctx.run.channels.values():
                    self.out.line(f"released channel: {ch.name}")
                self.ctx.run.channels = {}
            saved_report(command, err)

        self.report = report  # type: ignore[method-assign]
        try:
            return self.execute(stmt)
        finally:
            self.report = saved_report  # type: ignore[method-assign]

    # -- the read-eval loop ----------------------------------------------------------------------
    def show(self, line: str, at_start: bool) -> str:
        """A line as echoed: connect strings are masked."""
        if at_start:
            m = re.match(r"(\s*connect\s+\w+)\b", line, re.I)
            if m:
                return m.group(1).lstrip() + " *\n"
        return line

    def parse_ready(self, buffer: str) -> tuple[list[st.Stmt | ParseError], str]:
        """Split complete statements off the buffer; returns them and the rest."""
        try:
            tokens = tokenize(buffer)
        except LexError:
            return [], buffer
        found: list[st.Stmt | ParseError] = []
        pos = 0
        while tokens[pos].kind != EOF:
            end = statement_end(tokens, buffer, pos)
            if end is None:
                break
            found.append(parse_tokens(buffer, tokens[pos:end]))
            pos = end
        rest = "" if tokens[pos].kind == EOF else buffer[tokens[pos].start:]
        return found, rest

    def loop(self, lines: Iterable[str]) -> None:
        out = self.out
        out.write("\nRMAN> ")
        buffer, cont = "", 1
        for raw in lines:
            line = raw if raw.endswith("\n") else raw + "\n"
            if self.echo:
                out.write(self.show(line, not buffer.strip()))
            buffer += line
            ready, rest = self.parse_ready(buffer)
            if not ready:
                if tokenize_empty(buffer):
                    if not self.echo:
                        out.write("\n")
                    buffer, cont = "", 1
                    out.write("\nRMAN> ")
                else:
                    cont += 1
                    out.write(f"{cont}> ")
                continue
            if not self.echo:
                out.write("\n")
            buffer, cont = rest, 1
            for item in ready:
                if isinstance(item, ParseError):
                    self.report("parse", RmanError(*item.lines(), bare=True))
                else:
                    self.run_statement(item)
                out.flush()
                if self.finished or (self.failed and self.stop_on_error):
                    break
            if self.finished or (self.failed and self.stop_on_error):
                break
            out.write("\nRMAN> " if not buffer.strip() else f"{cont + 1}> ")
            cont = cont + 1 if buffer.strip() else 1
        else:
            if buffer.strip() and not tokenize_empty(buffer):
                item = parse_tokens(buffer, _tokens_or_none(buffer))
                if isinstance(item, ParseError):
                    out.write("\n")
                    self.report("parse", RmanError(*item.lines(), bare=True))
        out.write("\n\nRecovery Manager complete.\n")


def _tokens_or_none(text: str) -> list[Token]:
    try:
        return tokenize(text)[:-1]
    except LexError:
        return []


def tokenize_empty(text: str) -> bool:
    try:
        return tokenize(text)[0].kind == EOF
    except LexError:
        return False


def parse_tokens(source: str, tokens: list[Token]) -> st.Stmt | ParseError:
    """Parse one statement's tokens (EOF appended); a syntax error is returned, not raised."""
    if tokens:
        last = tokens[-1]
        eof = Token(EOF, "", "", last.line, last.col + len(last.text), last.end, last.end)
    else:
        eof = Token(EOF, "", "", 1, 1, len(source), len(source))
    try:
        return Parser(source, [*tokens, eof]).parse()
    except ParseError as exc:
        return unsimulated.recognise(source, tokens, exc.token) or exc


# -- command line ------------------------------------------------------------------------------------

class ArgvError(Exception):
    pass


def parse_argv(argv: list[str]) -> dict:
    """``target X``, ``catalog X``, ``nocatalog``, ``log [=] F``, ``append``, ``cmdfile [=] F``."""
    items: list[str] = []
    for a in argv:
        if "=" in a and a.split("=", 1)[0].lower() in ("log", "cmdfile", "target", "catalog"):
            k, v = a.split("=", 1)
            items += [k, v]
        else:
            items.append(a)
    opts: dict = {"append": False}
    i = 0
    while i < len(items):
        word = items[i].lower()
        if word in ("target", "catalog", "log", "cmdfile"):
            if i + 1 >= len(items):
                raise ArgvError("end-of-file", None)
            opts[word] = items[i + 1].strip("'\"")
            i += 2
        elif word in ("append", "nocatalog"):
            opts[word] = True
            i += 1
        else:
            raise ArgvError("identifier", items[i])
    return opts


def argv_error(out: Output, found: str, bad: str | None) -> None:
    out.line()
    out.line("Argument     Value          Description")
    out.line("-----------------------------------------------------------------------------")
    out.line("target       quoted-string  connect-string for target database")
    out.line("catalog      quoted-string  connect-string for recovery catalog")
    out.line("nocatalog    none           if specified, then no recovery catalog")
    out.line("cmdfile      quoted-string  name of input command file")
    out.line("log          quoted-string  name of output message log file")
    out.line("append       none           if specified, log is opened in append mode")
    out.line("-----------------------------------------------------------------------------")
    out.line("Both single and double quotes (' or \") are accepted for a quoted-string.")
    out.line("Quotes are not required unless the string contains embedded white-space.")
    out.line()
    lines = ["RMAN-00552: syntax error in command line arguments",
             f'RMAN-01009: syntax error: found "{found}": expecting one of: "{", ".join(ARGV_WORDS)}"']
    if bad is not None:
        lines.append(f"RMAN-01008: the bad identifier was: {bad}")
    lines.append("RMAN-01007: at line 0 column 1 file: command line arguments")
    out.error_stack(lines)


def main(argv: list[str], home: Path, prog: str = "rman") -> int:
    try:
        opts = parse_argv(list(argv))
    except ArgvError as exc:
        out = Output()
        argv_error(out, exc.args[0], exc.args[1])
        out.close()
        return 1
    log = Path(opts["log"]) if "log" in opts else None
    try:
        out = Output(log, opts["append"])
    except OSError as exc:
        print(f"RMAN-00554: could not open log file {log}: {exc}", file=sys.stderr)
        return 1
    ctx = Context(Path(home), dict(os.environ), out)
    client = Client(ctx, stop_on_error="cmdfile" in opts)
    try:
        out.line()
        out.line(f"Recovery Manager: Release 12.1.0.2.0 - Production on {banner_time(ctx.now())}")
        out.line()
        out.line("Copyright (c) 1982, 2014, Oracle and/or its affiliates.  All rights reserved.")
        if "target" in opts or "catalog" in opts:
            out.line()
        for what in ("target", "catalog"):
            if what in opts:
                client.execute(st.Connect(what.upper(), opts[what]))
        if "cmdfile" in opts:
            try:
                text = Path(opts["cmdfile"]).read_text()
            except OSError:
                client.report("cmdfile", RmanError("RMAN-00554: initialization of internal recovery manager "
                                                   "package failed", f"RMAN-06051: unable to open cmdfile "
                                                   f"{opts['cmdfile']}", bare=True))
                out.write("\n\nRecovery Manager complete.\n")
                return 1
            client.echo = True  # a cmdfile's commands are echoed
            client.loop(text.splitlines(keepends=True))
        else:
            client.loop(sys.stdin)
    finally:
        out.close()
    return 1 if client.failed else 0
