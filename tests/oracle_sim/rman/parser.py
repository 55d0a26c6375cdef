"""Recursive-descent parser for the RMAN statements the simulator supports.

One ``Parser`` works on the tokens of one complete statement (a RUN block
counts as one).  Each ``_stmt_<keyword>`` method is one production of the
grammar; they consume tokens and return statement objects.  Anything the
grammar does not accept raises :class:`ParseError`, which the client prints
as the RMAN-00558 / RMAN-01009 / RMAN-01008 / RMAN-01007 stack, as the real
client does: RMAN parses a whole RUN block before running any of it.
"""
from __future__ import annotations

from . import statements as st
from .grammar_backup_recovery import (
    parse_backup,
    parse_catalog,
    parse_change,
    parse_delete,
    parse_recover,
    parse_restore,
    parse_set_autobackup_format,
)
from .grammar_config import parse_configure
from .lexer import EOF, NUMBER, STRING, WORD, Token, tokenize

# Statements valid at the RMAN> prompt and inside RUN { }.
TOP_ONLY = ["connect", "exit", "quit", "run"]
RUN_ONLY = ["allocate", "release"]
COMMON = ["alter", "backup", "catalog", "change", "configure", "crosscheck", "delete", "list", "recover",
          "register", "report", "restore", "resync", "set", "show", "shutdown", "sql", "startup", "switch",
          "validate"]

KEYWORDS = {w.upper() for w in TOP_ONLY + RUN_ONLY + COMMON} | set("""
    ALL AND APPLIED ARCHIVE ARCHIVELOG AS AUTOBACKUP AVAILABLE BACKED BACKUPPIECE BACKUPSET BETWEEN
    CATALOG CHANNEL CHECK CLEAR COMPRESSED CONTROLFILE COPY CUMULATIVE CURRENT DATABASE DATAFILE
    DATAFILECOPY DAYS DBA DBID DEFAULT DELETION DEVICE DISK ECHO FOR FORCE FORMAT FROM HEADER IMMEDIATE
    INCREMENTAL INPUT LEVEL LOG LOGFILE LOGICAL MAXSETSIZE MOUNT NAME NEED NEW NEWNAME NOMOUNT NONE
    NOPROMPT NOREDO NORMAL OBSOLETE OF OFF ON ONLY OPEN OPTIMIZATION PARALLELISM PFILE PLUS POLICY
    PREVIEW READ RECOVERY REDUNDANCY RETENTION REUSE SCHEMA SCN SECTION SEQUENCE SHIPPED SIZE SNAPSHOT
    SPFILE STANDBY START SUMMARY SYSTEM TABLESPACE TAG TARGET THREAD TIME TIMES TO TRANSACTIONAL TYPE
    UNAVAILABLE UNCATALOG UNLIMITED UNRECOVERABLE UNTIL UP VALIDATE WINDOW WITH WRITE ABORT SWITCH
    LIKE FILESPERSET BACKUP RECOVER DELETE ALTER K M G
    """.split())


class ParseError(Exception):
    """A syntax error, with what RMAN-01009/01008/01007 print."""

    def __init__(self, token: Token, expected: list[str], line: int):
        self.token, self.expected, self.line = token, expected, line
        super().__init__(f"found {token.describe()} expecting {expected}")

    def lines(self) -> list[str]:
        found = self.token.describe()
        out = ["RMAN-00558: error encountered while parsing input commands",
               f'RMAN-01009: syntax error: found "{found}": expecting one of: "{", ".join(self.expected)}"']
        if found == "identifier":
            out.append(f"RMAN-01008: the bad identifier was: {self.token.text}")
        out.append(f"RMAN-01007: at line {self.line} column {self.token.col} file: standard input")
        return out


_SIZE_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3}


class Parser:
    """Parse the tokens of one statement (``tokens`` ends with EOF)."""

    def __init__(self, source: str, tokens: list[Token] | None = None, top_level: bool = True):
        self.source = source
        self.tokens = tokens if tokens is not None else tokenize(source)
        self.pos = 0
        self.top_level = top_level
        self.line_base = self.tokens[0].line

    # -- token helpers --------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        return self.tokens[min(self.pos + k, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.peek()
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return tok

    def at(self, *words: str) -> bool:
        return self.peek().is_word(*words)

    def accept(self, *words: str) -> Token | None:
        return self.next() if self.at(*words) else None

    def error(self, expected: list[str]) -> ParseError:
        tok = self.peek()
        return ParseError(tok, expected, tok.line - self.line_base + 1)

    def expect(self, *words: str) -> Token:
        if not self.at(*words):
            raise self.error([w.lower() for w in words])
        return self.next()

    def expect_symbol(self, sym: str) -> Token:
        if not self.peek().is_symbol(sym):
            raise self.error([sym])
        return self.next()

    def accept_symbol(self, sym: str) -> bool:
        if self.peek().is_symbol(sym):
            self.next()
            return True
        return False

    def expect_string(self) -> str:
        if self.peek().kind != STRING:
            raise self.error(["single-quoted-string", "double-quoted-string"])
        return self.next().value

    def expect_int(self) -> int:
        tok = self.peek()
        if tok.kind != NUMBER or not tok.value.isdigit():
            raise self.error(["integer"])
        return int(self.next().value)

    def expect_number(self) -> float:
        if self.peek().kind != NUMBER:
            raise self.error(["integer"])
        return float(self.next().value)

    def expect_name(self) -> str:
        if self.peek().kind != WORD:
            raise self.error(["identifier"])
        return self.next().value

    def int_list(self) -> list[int]:
        items = [self.expect_int()]
        while self.accept_symbol(","):
            items.append(self.expect_int())
        return items

    def string_list(self) -> list[str]:
        items = [self.expect_string()]
        while self.accept_symbol(","):
            items.append(self.expect_string())
        return items

    def tag(self) -> str:
        """``TAG [=] 'x'`` after TAG was consumed; tags are stored upper case."""
        self.accept_symbol("=")
        if self.peek().kind == WORD:
            return self.next().value
        return self.expect_string().upper()

    def size(self) -> int:
        n = self.expect_int()
        unit = self.accept("K", "M", "G")
        return n * _SIZE_UNITS[unit.value] if unit else n

    def window(self) -> float:
        """``RECOVERY WINDOW OF n DAYS`` after RECOVERY."""
        self.expect("WINDOW")
        self.expect("OF")
        n = self.expect_number()
        self.expect("DAYS")
        return n

    # -- statements ---------------------------------------------------------------
    def parse(self) -> st.Stmt:
        """Parse exactly one statement and the end of input."""
        stmt = self.statement()
        if self.peek().kind != EOF:
            raise self.error(["end-of-file"])
        return stmt

    def statement(self) -> st.Stmt:
        tok = self.peek()
        allowed = sorted(COMMON + (TOP_ONLY if self.top_level else RUN_ONLY))
        if tok.kind != WORD or tok.value.lower() not in allowed:
            raise self.error(allowed)
        handler = getattr(self, f"_stmt_{tok.value.lower()}")
        stmt = handler()
        stmt.line = tok.line - self.line_base + 1
        if isinstance(stmt, (st.Run,)):
            return stmt
        line_mode = isinstance(stmt, (st.Connect, st.Exit, st.SetEcho))
        if line_mode and self.peek().kind == EOF:
            return stmt
        self.expect_symbol(";")
        return stmt

    def _stmt_run(self) -> st.Run:
        self.expect("RUN")
        self.expect_symbol("{")
        body = []
        inner = Parser(self.source, self.tokens, top_level=False)
        inner.line_base = self.line_base
        inner.pos = self.pos
        while not inner.peek().is_symbol("}"):
            if inner.peek().kind == EOF:
                raise inner.error(["}"])
            body.append(inner.statement())
        self.pos = inner.pos
        self.expect_symbol("}")
        return st.Run(body)

    def _stmt_connect(self) -> st.Connect:
        self.expect("CONNECT")
        what = self.expect("TARGET", "CATALOG").value
        first = self.peek()
        last = None
        while self.peek().kind != EOF and not self.peek().is_symbol(";"):
            last = self.next()
        if last is None:
            return st.Connect(what, None)
        text = self.source[first.start:last.end].strip()
        if first is last and first.kind == STRING:
            text = first.value
        return st.Connect(what, text)

    def _stmt_exit(self) -> st.Exit:
        self.next()
        return st.Exit()

    _stmt_quit = _stmt_exit

    def _stmt_set(self) -> st.Stmt:
        self.expect("SET")
        if self.top_level:
            word = self.expect("ECHO", "DBID", "CONTROLFILE").value
        else:
            word = self.expect("NEWNAME", "UNTIL", "DBID", "CONTROLFILE").value
        if word == "CONTROLFILE":
            return parse_set_autobackup_format(self)
        if word == "ECHO":
            return st.SetEcho(self.expect("ON", "OFF").value == "ON")
        if word == "DBID":
            self.accept_symbol("=")
            return st.SetDbid(self.expect_int())
        if word == "NEWNAME":
            self.expect("FOR")
            file_no = None
            if self.expect("DATABASE", "DATAFILE").value == "DATAFILE":
                file_no = self.expect_int()
            self.expect("TO")
            if self.accept("NEW"):
                return st.SetNewname(file_no, True, None)
            return st.SetNewname(file_no, False, self.expect_string())
        return self.until_clause()

    def until_clause(self) -> st.SetUntil:
        """``UNTIL (TIME 'expr' | SCN n | SEQUENCE n [THREAD n])`` after UNTIL."""
        kind = self.expect("TIME", "SCN", "SEQUENCE").value
        self.accept_symbol("=")
        if kind == "TIME":
            return st.SetUntil(time=self.expect_string())
        if kind == "SCN":
            return st.SetUntil(scn=self.expect_int())
        seq = self.expect_int()
        thread = self.expect_int() if self.accept("THREAD") else 1
        return st.SetUntil(sequence=seq, thread=thread)

    def _stmt_allocate(self) -> st.Allocate:
        self.expect("ALLOCATE")
        self.expect("CHANNEL")
        if self.peek().kind != WORD:
            raise self.error(["identifier"])
        name = self.next().text  # channel names print as typed
        self.expect("DEVICE")
        self.expect("TYPE")
        self.expect("DISK")
        fmt = None
        while self.at("FORMAT"):
            self.next()
            self.accept_symbol("=")
            fmt = self.expect_string()
        return st.Allocate(name, fmt)

    def _stmt_release(self) -> st.Release:
        self.expect("RELEASE")
        self.expect("CHANNEL")
        name = self.next().text if self.peek().kind == WORD else None
        return st.Release(name)

    def _stmt_configure(self) -> st.Configure:
        self.expect("CONFIGURE")
        name, value = parse_configure(self)
        return st.Configure(name, value)

    def _stmt_show(self) -> st.Show:
        self.expect("SHOW")
        self.expect("ALL")
        return st.Show(None)

    def _stmt_register(self) -> st.Register:
        self.expect("REGISTER")
        self.expect("DATABASE")
        return st.Register()

    def _stmt_resync(self) -> st.Resync:
        self.expect("RESYNC")
        self.expect("CATALOG")
        return st.Resync()

    def _stmt_sql(self) -> st.Sql:
        self.expect("SQL")
        return st.Sql(self.expect_string())

    def _stmt_alter(self) -> st.Stmt:
        self.expect("ALTER")
        if self.accept("SYSTEM"):
            # 12c accepts some SQL directly; only the log switches are simulated here.
            if self.accept("ARCHIVE"):
                self.expect("LOG")
                self.expect("CURRENT")
                return st.Sql("alter system archive log current")
            self.expect("SWITCH")
            self.expect("LOGFILE")
            return st.Sql("alter system switch logfile")
        self.expect("DATABASE")
        action = self.expect("MOUNT", "OPEN").value
        read_only = False
        if action == "OPEN" and self.accept("READ"):
            read_only = self.expect("ONLY", "WRITE").value == "ONLY"
        return st.AlterDatabase(action, read_only)

    def _stmt_startup(self) -> st.Startup:
        self.expect("STARTUP")
        stmt = st.Startup()
        while not self.peek().is_symbol(";"):
            word = self.expect("FORCE", "NOMOUNT", "MOUNT", "DBA", "PFILE").value
            if word == "FORCE":
                stmt.force = True
            elif word in ("NOMOUNT", "MOUNT"):
                stmt.mode = word
            elif word == "PFILE":
                self.accept_symbol("=")
                stmt.pfile = self.expect_string()
        return stmt

    def _stmt_shutdown(self) -> st.Shutdown:
        self.expect("SHUTDOWN")
        tok = self.accept("ABORT", "IMMEDIATE", "NORMAL", "TRANSACTIONAL")
        return st.Shutdown(tok.value if tok else "NORMAL")

    def _stmt_switch(self) -> st.Switch:
        self.expect("SWITCH")
        if self.expect("DATABASE", "DATAFILE").value == "DATABASE":
            self.expect("TO")
            self.expect("COPY")
            return st.Switch(None)
        files = self.int_list()
        self.expect("TO")
        self.expect("COPY")
        return st.Switch(files)

    def _stmt_validate(self) -> st.Validate:
        self.expect("VALIDATE")
        logical = False
        if self.accept("CHECK"):
            self.expect("LOGICAL")
            logical = True
        if self.expect("DATABASE", "DATAFILE").value == "DATABASE":
            return st.Validate(logical, None)
        return st.Validate(logical, self.int_list())

    def _stmt_crosscheck(self) -> st.Crosscheck:
        self.expect("CROSSCHECK")
        what = self.expect("BACKUP", "BACKUPSET", "ARCHIVELOG", "COPY").value
        if what == "ARCHIVELOG":
            self.expect("ALL")
        elif what == "COPY" and self.accept("OF"):
            self.expect("DATABASE")
        return st.Crosscheck("BACKUP" if what == "BACKUPSET" else what)

    def _stmt_list(self) -> st.ListCmd:
        self.expect("LIST")
        what = self.expect("BACKUP", "BACKUPSET", "COPY", "ARCHIVELOG").value
        summary = False
        if what in ("BACKUP", "BACKUPSET"):
            summary = bool(self.accept("SUMMARY"))
            what = "BACKUP"
        elif what == "COPY":
            if self.accept("OF"):
                self.expect("DATABASE")
        else:
            self.expect("ALL")
        return st.ListCmd(what, summary)

    def _stmt_report(self) -> st.Report:
        self.expect("REPORT")
        word = self.expect("NEED", "UNRECOVERABLE", "OBSOLETE", "SCHEMA").value
        stmt = st.Report(word)
        if word == "NEED":
            self.expect("BACKUP")
            stmt.what = "NEED BACKUP"
        if word in ("NEED", "OBSOLETE"):
            if self.accept("RECOVERY"):
                stmt.window_days = self.window()
            elif self.accept("REDUNDANCY"):
                stmt.redundancy = self.expect_int()
        if word in ("NEED", "UNRECOVERABLE"):
            self.accept("DATABASE")
        return stmt

    # The big commands live in grammar_backup_recovery.py / grammar_config.py to keep modules small.
    def _stmt_backup(self) -> st.Backup:
        return parse_backup(self)

    def _stmt_recover(self) -> st.Stmt:
        return parse_recover(self)

    def _stmt_restore(self) -> st.Restore:
        return parse_restore(self)

    def _stmt_delete(self) -> st.Delete:
        return parse_delete(self)

    def _stmt_change(self) -> st.Change:
        return parse_change(self)

    def _stmt_catalog(self) -> st.Catalog:
        return parse_catalog(self)
