"""``sqlplus [-S] [-L] {/nolog | / as sysdba | /@alias as sysdba | user/pw[@alias]} [@script]``.

The command loop reads lines (stdin, then ``@`` scripts pushed in front),
tells SQL*Plus commands (one line, ``-`` continues) from SQL (ends with ``;``
or ``/``; a blank line ends it unexecuted) and PL/SQL (ends with ``/``),
echoes and numbers lines the way SQL*Plus does without ``-S``, substitutes
``&variables``, runs each statement and prints results, feedback and timing.
``WHENEVER SQLERROR EXIT`` ends the session on ORA- errors (not SP2- ones).
"""
from __future__ import annotations

import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Iterator

from ..instance import OraError
from ..plsql.interpreter import CompileError, Interpreter
from ..sql.context import DbSession, SP2Error
from ..sql.statements import execute as execute_sql
from . import commands
from . import format as fmt
from .output import Output

SQL_VERBS = {"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "ALTER", "CREATE", "DROP", "GRANT",
             "REVOKE", "COMMIT", "ROLLBACK", "SAVEPOINT", "TRUNCATE", "LOCK", "COMMENT", "ANALYZE", "AUDIT",
             "NOAUDIT", "RENAME", "FLASHBACK", "PURGE", "EXPLAIN", "CALL"}
PLSQL_CREATE = re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?((NON)?EDITIONABLE\s+)?(PROCEDURE|FUNCTION|PACKAGE|TRIGGER|"
                          r"TYPE|LIBRARY|JAVA)\b", re.I)
VERSION = "12.1.0.2.0"


class ExitSession(Exception):
    def __init__(self, code: int):
        self.code = code


def banner_time(ts: float) -> str:
    d = datetime.fromtimestamp(ts)
    return f"{d:%a %b} {d.day} {d:%H:%M:%S %Y}"


def statement_end(text: str) -> int | None:
    """Index of a terminating ';' (last significant character outside strings and comments)."""
    i, n, last, in_str, close = 0, len(text), None, False, ""
    while i < n:
        ch = text[i]
        if in_str:
            if text.startswith(close, i):
                in_str, i = False, i + len(close)
                continue
            i += 1
            continue
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if ch in "qQ" and text.startswith("'", i + 1) and i + 2 < n and (i == 0 or not text[i - 1].isalnum()):
            delim = text[i + 2]
            close = {"[": "]", "(": ")", "{": "}", "<": ">"}.get(delim, delim) + "'"
            in_str, i = True, i + 3
            last = None
            continue
        if ch == "'":
            in_str, close, i = True, "'", i + 1
            last = None
            continue
        if not ch.isspace():
            last = i
        i += 1
    if in_str or last is None or text[last] != ";":
        return None
    return last


class Client:
    def __init__(self, home: Path, env: dict[str, str], silent: bool, stream: IO[str]):
        self.settings = fmt.Settings()
        self.s = DbSession(home, env)
        self.silent = silent
        self.out = Output(stream, self.settings)
        self.sources: list[Iterator[str]] = []
        self.buffer: list[str] = []
        self.kind = ""  # "sql" | "plsql" | "create?" while the buffer fills
        self.last: tuple[list[str], str] | None = None
        self.whenever: str | None = None
        self.had_error = False
        self.defines: dict[str, str] = {"_CONNECT_IDENTIFIER": "", "_USER": ""}
        self.interp = Interpreter(self.s, execute_sql)

    # -- input -------------------------------------------------------------------------
    def next_line(self) -> str | None:
        while self.sources:
            try:
                return next(self.sources[-1]).rstrip("\n").rstrip("\r")
            except StopIteration:
                self.sources.pop()
        return None

    def push_lines(self, lines: list[str]) -> None:
        self.sources.append(iter(lines))

    def run(self) -> int:
        try:
            while True:
                if not self.silent and not self.buffer:
                    self.out.prompt("SQL> ")
                line = self.next_line()
                if line is None:
                    break
                self.handle(line)
                self.out.stream.flush()  # callers stream the output while the session runs
            return self.finish(0)
        except ExitSession as ex:
            return self.finish(ex.code)

    def finish(self, code: int) -> int:
        if not self.silent:
            commands.disconnect_banner(self)
        self.out.stop_spool()
        self.out.flush()
        return code

    # -- lines -----------------------------------------------------------------------------
    def echo(self, line: str) -> None:
        if self.silent:
            return
        if self.settings.echo:
            prompt = "SQL> " if not self.buffer else f"{len(self.buffer) + 1:>3}  "
            if self.out.mid_line:
                self.out.stream.write(line + "\n")
                self.out.mid_line = False
                if self.out.spool:
                    self.out.spool.write(prompt + line + "\n")
            else:
                self.out.echo(prompt, line)
        elif self.buffer:
            self.out.prompt(f"{len(self.buffer) + 1:>3}  ")

    def handle(self, line: str) -> None:
        if self.buffer:
            self.continue_buffer(line)
            return
        stripped = line.strip()
        if not stripped:
            if not self.silent and self.settings.echo:
                self.echo("")
            return
        self.echo(line)
        if stripped == "/":
            self.rerun()
            return
        if stripped.startswith("/*"):
            self.skip_comment(stripped)
            return
        word = re.split(r"[\s;(]", stripped, maxsplit=1)[0].upper()
        if stripped.startswith("--") or word in ("REM", "REMARK") or stripped == ".":
            return
        if word in ("DECLARE", "BEGIN") or word == "CREATE" and PLSQL_CREATE.match(stripped):
            self.start_buffer(line, "plsql")
        elif word == "CREATE" and len(stripped.split()) < 4 and not stripped.endswith(";"):
            self.start_buffer(line, "create?")
        elif word in SQL_VERBS or stripped.startswith("("):
            self.start_buffer(line, "sql")
        else:
            while stripped.endswith(" -") or stripped == "-":
                nxt = self.next_line()
                if nxt is None:
                    break
                stripped = stripped[:-1].rstrip() + " " + nxt.strip()
            commands.run(self, stripped)

    def skip_comment(self, first: str) -> None:
        line = first
        count = 1
        while "*/" not in line:
            nxt = self.next_line()
            if nxt is None:
                return
            count += 1
            if not self.silent and self.settings.echo:
                self.out.echo(f"{count:>3}  ", nxt)
            line = nxt

    def start_buffer(self, line: str, kind: str) -> None:
        self.buffer = [line]
        self.kind = kind
        self.check_complete()

    def continue_buffer(self, line: str) -> None:
        stripped = line.strip()
        self.echo(line)
        if stripped == "/":
            self.execute_buffer()
            return
        if stripped == ".":
            self.end_buffer()
            return
        if not stripped and self.kind != "plsql" and not self.settings.sqlblanklines:
            self.end_buffer()
            return
        self.buffer.append(line)
        if self.kind == "create?":
            joined = " ".join(self.buffer)
            if PLSQL_CREATE.match(joined.strip()):
                self.kind = "plsql"
            elif len(joined.split()) >= 4:
                self.kind = "sql"
        self.check_complete()

    def check_complete(self) -> None:
        if self.kind == "plsql":
            return
        text = "\n".join(self.buffer)
        end = statement_end(text)
        if end is not None:
            self.buffer = text[:end].split("\n")
            self.execute_buffer()

    def end_buffer(self) -> None:
        self.last = (self.buffer, "plsql" if self.kind == "plsql" else "sql")
        self.buffer = []

    def rerun(self) -> None:
        if not self.last:
            self.out.line("SP2-0103: Nothing in SQL buffer to run.")
            return
        self.buffer, self.kind = list(self.last[0]), self.last[1]
        self.execute_buffer()

    # -- execution ---------------------------------------------------------------------------
    def execute_buffer(self) -> None:
        lines, kind = self.buffer, "plsql" if self.kind == "plsql" else "sql"
        self.last = (lines, kind)
        self.buffer, self.kind = [], ""
        lines = commands.substitute_lines(self, lines)
        text = "\n".join(lines)
        if kind == "plsql":
            self.run_plsql(text, lines)
        else:
            self.run_sql(text, lines)

    def run_sql(self, text: str, lines: list[str]) -> None:
        start = time.time()
        self.s.begin_statement()
        try:
            if not self.s.connected:
                raise SP2Error("SP2-0640: Not connected")
            result = execute_sql(self.s, text)
        except SP2Error as exc:
            self.out.lines(exc.lines)
            return
        except OraError as exc:
            self.sql_error(exc, lines, getattr(exc, "pos", 0))
            return
        feedback = self.settings.feedback
        if result.result is not None:
            rs = result.result
            for text, data in fmt.render(rs, self.settings, self.s.nls):
                self.out.line(text, data)
            if feedback:
                if not rs.rows:
                    self.out.lines(["", "no rows selected"])
                elif len(rs.rows) >= feedback:
                    self.out.lines(["", f"{len(rs.rows)} row{'s' if len(rs.rows) != 1 else ''} selected."])
                self.out.line()
        elif result.warning:
            self.out.lines(["", result.warning, ""])
        elif result.message and feedback:
            self.out.lines(["", result.message, ""])
        self.elapsed(start)

    def run_plsql(self, text: str, lines: list[str], exec_style: bool = False) -> None:
        start = time.time()
        self.s.begin_statement()
        stripped = text.strip()
        if PLSQL_CREATE.match(stripped):
            self.run_sql(stripped, lines)
            return
        self.s.dbms_output.clear()
        self.s.dbms_output_enabled = self.settings.serveroutput
        try:
            if not self.s.connected:
                raise SP2Error("SP2-0640: Not connected")
            inst = self.s.running_instance()
            if inst.status == "started":
                raise OraError("ORA-06553", "PLS-213: package STANDARD not accessible")
            self.interp.run_source(stripped)
        except SP2Error as exc:
            self.out.lines(exc.lines)
            return
        except CompileError as exc:
            self.flush_dbms_output()
            self.plsql_error(exc, lines, exc.line, exc.col - 1, exec_style)
            return
        except OraError as exc:
            self.flush_dbms_output()
            self.plsql_error(exc, lines, 1, 0, exec_style)
            return
        self.flush_dbms_output()
        if self.settings.feedback:
            self.out.lines(["", "PL/SQL procedure successfully completed.", ""])
        self.elapsed(start)

    def flush_dbms_output(self) -> None:
        if self.settings.serveroutput:
            width = self.settings.linesize
            for line in self.s.dbms_output:
                # SERVEROUTPUT FORMAT WRAPPED: long lines wrap at LINESIZE
                chunks = [line[i:i + width] for i in range(0, len(line), width)] or [""]
                self.out.lines(chunks, data=True)
        self.s.dbms_output.clear()

    def elapsed(self, start: float) -> None:
        if self.settings.timing:
            secs = time.time() - start
            h, rest = divmod(secs, 3600)
            m, sec = divmod(rest, 60)
            self.out.line(f"Elapsed: {int(h):02d}:{int(m):02d}:{int(sec):02d}.{int((sec % 1) * 100):02d}")

    # -- errors ------------------------------------------------------------------------------
    def position(self, lines: list[str], pos: int) -> tuple[int, int]:
        offset = 0
        for i, line in enumerate(lines):
            if pos <= offset + len(line):
                return i + 1, max(0, pos - offset)
            offset += len(line) + 1
        return 1, 0

    def sql_error(self, exc: OraError, lines: list[str], pos: int) -> None:
        line_no, col = self.position(lines, pos)
        self.out.lines([lines[line_no - 1] if lines else "", " " * col + "*", f"ERROR at line {line_no}:"])
        self.ora_error(exc)

    def plsql_error(self, exc: OraError, lines: list[str], line_no: int, col: int, exec_style: bool = False) -> None:
        line_no = max(1, min(line_no, len(lines)))
        # EXECUTE shows its generated block and a blank line before the marker
        shown = [lines[line_no - 1], ""] if exec_style else [lines[line_no - 1]]
        self.out.lines([*shown, " " * max(0, col) + "*", f"ERROR at line {line_no}:"])
        self.ora_error(exc)

    def ora_error(self, exc: OraError, connect: bool = False) -> None:
        """Print ORA- lines; WHENEVER SQLERROR EXIT ends the session."""
        self.out.lines([f"{ln} " if connect and ln.startswith("ORA-12") else ln for ln in exc.lines])
        self.out.lines(["", ""])
        self.had_error = True
        if self.whenever is not None:
            raise ExitSession(commands.exit_code(self, self.whenever))


def parse_argv(argv: list[str]) -> tuple[dict, list[str]]:
    opts: dict = {"silent": False, "logon": None, "script": None, "version": False, "single": False}
    rest = list(argv)
    while rest and rest[0].startswith("-") and rest[0] != "-":
        flag = rest.pop(0).upper()
        if flag in ("-S", "-SILENT"):
            opts["silent"] = True
        elif flag in ("-V", "-VERSION"):
            opts["version"] = True
        elif flag in ("-L", "-LOGON"):
            opts["single"] = True
        elif flag in ("-M", "-MARKUP", "-R", "-RESTRICT", "-C", "-COMPATIBILITY"):
            if rest:
                rest.pop(0)
    logon: list[str] = []
    while rest and not rest[0].startswith("@"):
        logon.append(rest.pop(0))
    if logon:
        opts["logon"] = " ".join(logon)
    if rest:
        opts["script"] = rest[0][1:]
        opts["args"] = rest[1:]
    return opts, rest


def main(argv: list[str], home: Path, prog: str = "sqlplus") -> int:
    opts, _ = parse_argv(list(argv))
    if opts["version"]:
        print(f"\nSQL*Plus: Release {VERSION} Production\n")
        return 0
    client = Client(Path(home), dict(os.environ), opts["silent"], sys.stdout)
    if not opts["silent"]:
        client.out.lines(["", f"SQL*Plus: Release {VERSION} Production on {banner_time(client.s.now())}", "",
                          "Copyright (c) 1982, 2014, Oracle.  All rights reserved.", ""])
    client.sources.append(iter(sys.stdin))
    logon = opts["logon"]
    if logon and logon.lower() != "/nolog":
        try:
            # the logon on the command line: -S shows neither the banner nor "Connected."
            commands.connect(client, logon, startup_banner=True, quiet=opts["silent"])
        except ExitSession as ex:
            return client.finish(ex.code)
        if not client.s.connected:
            client.out.line("SP2-0751: Unable to connect to Oracle.  Exiting SQL*Plus" if opts["single"] else
                            "SP2-0157: unable to CONNECT to ORACLE after 3 attempts, exiting SQL*Plus")
            client.out.flush()
            return 1
    if opts["script"]:
        try:
            commands.start_script(client, opts["script"], opts.get("args", []))
        except ExitSession as ex:
            return client.finish(ex.code)
    return client.run()
