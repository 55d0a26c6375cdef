"""Grammar of BACKUP, RECOVER, RESTORE, DELETE, CHANGE and CATALOG.

RMAN lets backup options appear before the backup specification and after
each one (``backup current controlfile format 'f' reuse tag 't'``); options
after a specification apply to it.  Productions take the parser positioned
on the command keyword and leave it on the terminating ``;``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import statements as st

if TYPE_CHECKING:
    from .parser import Parser

BACKUP_OPTIONS = ["as", "check", "cumulative", "device", "filesperset", "for", "force", "format", "incremental",
                  "reuse", "section", "tag", "validate"]
BACKUP_SPECS = ["archivelog", "current", "database", "datafile", "spfile", "tablespace"]


def _backup_option(p: Parser, b: st.Backup, spec: st.BackupSpec | None) -> bool:
    """Consume one backup option if present; options after a spec go to that spec."""
    tok = p.peek()
    if not tok.is_word(*[o.upper() for o in BACKUP_OPTIONS]):
        return False
    word = p.next().value
    if word == "INCREMENTAL":
        p.expect("LEVEL")
        p.accept_symbol("=")
        level = p.expect_int()
        if level not in (0, 1):
            raise _bad_level(p)
        b.level = level
        b.cumulative = b.cumulative or bool(p.accept("CUMULATIVE"))
    elif word == "CUMULATIVE":
        b.cumulative = True
    elif word == "FOR":
        p.expect("RECOVER")
        p.expect("OF")
        p.expect("COPY")
        b.recover_of_copy = True
        if p.accept("WITH"):
            p.expect("TAG")
            b.copy_tag = p.tag()
    elif word == "TAG":
        if spec is not None:
            spec.tag = p.tag()
        else:
            b.tag = p.tag()
    elif word == "FORMAT":
        p.accept_symbol("=")
        fmt = p.expect_string()
        if spec is not None:
            spec.format = fmt
        else:
            b.format = fmt
    elif word == "SECTION":
        p.expect("SIZE")
        b.section_size = p.size()
    elif word == "AS":
        kind = p.expect("COPY", "BACKUPSET", "COMPRESSED").value
        if kind == "COMPRESSED":
            p.expect("BACKUPSET")
        b.as_copy = kind == "COPY"
    elif word == "FORCE":
        b.force = True
    elif word == "REUSE":
        if spec is not None:
            spec.reuse = True
        b.reuse = True
    elif word == "VALIDATE":
        b.validate = True
    elif word == "CHECK":
        p.expect("LOGICAL")
        b.check_logical = True
    elif word == "DEVICE":
        p.expect("TYPE")
        p.expect("DISK")
    elif word == "FILESPERSET":
        p.expect_int()
    return True


def _bad_level(p: Parser) -> Exception:
    p.pos -= 1
    return p.error(["0", "1"])


def _archivelog_range(p: Parser, spec: st.BackupSpec) -> None:
    """``ALL | SEQUENCE n [THREAD t] | SEQUENCE BETWEEN n AND m | FROM SEQUENCE n | UNTIL TIME 'x'``."""
    word = p.expect("ALL", "SEQUENCE", "FROM", "UNTIL", "LIKE").value
    if word == "ALL":
        spec.all = True
    elif word == "SEQUENCE":
        p.accept_symbol("=")
        if p.accept("BETWEEN"):
            spec.sequence = p.expect_int()
            p.expect("AND")
            spec.sequence_to = p.expect_int()
        else:
            spec.sequence = spec.sequence_to = p.expect_int()
    elif word == "FROM":
        p.expect("SEQUENCE")
        spec.sequence = p.expect_int()
        spec.sequence_to = None
        if p.accept("UNTIL"):
            p.expect("SEQUENCE")
            spec.sequence_to = p.expect_int()
    elif word == "UNTIL":
        kind = p.expect("TIME", "SEQUENCE").value
        p.accept_symbol("=")
        if kind == "TIME":
            spec.until_time = p.expect_string()
        else:
            spec.sequence, spec.sequence_to = 0, p.expect_int() - 1
    else:
        raise _unsupported(p)
    if p.accept("THREAD"):
        p.accept_symbol("=")
        spec.thread = p.expect_int()


def _unsupported(p: Parser) -> Exception:
    p.pos -= 1
    return p.error(["all", "sequence", "from", "until"])


def parse_backup(p: Parser) -> st.Backup:
    p.expect("BACKUP")
    b = st.Backup()
    while _backup_option(p, b, None):
        pass
    while True:
        if not p.at(*[s.upper() for s in BACKUP_SPECS]):
            if b.specs and p.peek().is_symbol(";"):
                break
            raise p.error(sorted(BACKUP_SPECS + ([] if b.specs else BACKUP_OPTIONS)))
        word = p.next().value
        spec = st.BackupSpec(word)
        if word == "CURRENT":
            p.expect("CONTROLFILE")
            spec.kind = "CONTROLFILE"
        elif word == "DATAFILE":
            spec.files = p.int_list()
        elif word == "TABLESPACE":
            spec.tablespaces = [p.expect_name()]
            while p.accept_symbol(","):
                spec.tablespaces.append(p.expect_name())
        elif word == "ARCHIVELOG":
            _archivelog_range(p, spec)
            if p.accept("DELETE"):
                p.expect("INPUT")
                spec.delete_input = True
        b.specs.append(spec)
        while _backup_option(p, b, spec):
            pass
    return b


def parse_recover(p: Parser) -> st.Stmt:
    p.expect("RECOVER")
    word = p.expect("COPY", "DATABASE", "DATAFILE").value
    if word == "COPY":
        p.expect("OF")
        files = None
        if p.expect("DATABASE", "DATAFILE").value == "DATAFILE":
            files = p.int_list()
        tag = None
        if p.accept("WITH"):
            p.expect("TAG")
            tag = p.tag()
        return st.RecoverCopy(tag, files)
    stmt = st.RecoverDatabase()
    if word == "DATAFILE":
        stmt.files = p.int_list()
    while not p.peek().is_symbol(";"):
        opt = p.expect("UNTIL", "NOREDO").value
        if opt == "UNTIL":
            stmt.until = p.until_clause()
        else:
            stmt.noredo = True
    return stmt


def parse_restore(p: Parser) -> st.Restore:
    p.expect("RESTORE")
    what = p.expect("DATABASE", "DATAFILE", "CONTROLFILE", "ARCHIVELOG", "SPFILE").value
    stmt = st.Restore(what)
    if what == "DATAFILE":
        stmt.files = p.int_list()
    elif what == "ARCHIVELOG":
        p.expect("ALL")
    while not p.peek().is_symbol(";"):
        choices = ["PREVIEW", "VALIDATE"]
        if what in ("CONTROLFILE", "SPFILE"):
            choices += ["FROM", "TO"]
        opt = p.expect(*choices).value
        if opt == "PREVIEW":
            stmt.preview = True
            p.accept("SUMMARY")
        elif opt == "VALIDATE":
            stmt.validate = True
            stmt.header = bool(p.accept("HEADER"))
        elif opt == "FROM":
            if p.accept("AUTOBACKUP"):
                stmt.autobackup = True
            else:
                stmt.source = p.expect_string()
        else:
            stmt.to = p.expect_string()
    return stmt


def parse_delete(p: Parser) -> st.Delete:
    p.expect("DELETE")
    stmt = st.Delete()
    while True:
        if p.accept("NOPROMPT"):
            stmt.noprompt = True
        elif p.accept("FORCE"):
            stmt.force = True
        else:
            break
    what = p.expect("ARCHIVELOG", "BACKUP", "BACKUPSET", "COPY", "DATAFILECOPY", "OBSOLETE").value
    stmt.what = "BACKUP" if what == "BACKUPSET" else what
    if what in ("BACKUP", "BACKUPSET"):
        if p.accept("TAG"):
            stmt.tag = p.tag()
    elif what == "ARCHIVELOG":
        word = p.expect("ALL", "UNTIL").value
        if word == "UNTIL":
            kind = p.expect("TIME", "SEQUENCE").value
            p.accept_symbol("=")
            if kind == "TIME":
                stmt.until_time = p.expect_string()
            else:
                stmt.sequence = p.expect_int()
                if p.accept("THREAD"):
                    p.expect_int()
    elif what == "OBSOLETE":
        if p.accept("RECOVERY"):
            stmt.window_days = p.window()
        elif p.accept("REDUNDANCY"):
            p.accept_symbol("=")
            stmt.redundancy = p.expect_int()
    elif what == "DATAFILECOPY":
        stmt.names = p.string_list()
    else:  # COPY [OF DATABASE] [TAG x]
        if p.accept("OF"):
            p.expect("DATABASE")
        if p.accept("TAG"):
            stmt.tag = p.tag()
    return stmt


def parse_change(p: Parser) -> st.Change:
    p.expect("CHANGE")
    what = p.expect("ARCHIVELOG", "BACKUP", "BACKUPPIECE", "COPY", "DATAFILECOPY").value
    stmt = st.Change(what)
    if what == "ARCHIVELOG":
        if not p.accept("ALL"):
            stmt.names = p.string_list()
    elif what == "BACKUP":
        while p.at("DEVICE", "TAG"):
            if p.next().value == "DEVICE":
                p.expect("TYPE")
                p.expect("DISK")
            else:
                stmt.tag = p.tag()
    elif what == "BACKUPPIECE":
        stmt.names = p.string_list()
    elif what == "COPY":
        p.expect("OF")
        p.expect("DATABASE")
        if p.accept("TAG"):
            stmt.tag = p.tag()
    else:
        if not p.accept("ALL"):
            stmt.names = p.string_list()
    stmt.action = p.expect("UNCATALOG", "UNAVAILABLE", "AVAILABLE").value
    return stmt


def parse_catalog(p: Parser) -> st.Catalog:
    p.expect("CATALOG")
    word = p.expect("START", "DATAFILECOPY", "ARCHIVELOG", "BACKUPPIECE").value
    if word == "START":
        p.expect("WITH")
        stmt = st.Catalog(start_with=p.expect_string())
        stmt.noprompt = bool(p.accept("NOPROMPT"))
        return stmt
    return st.Catalog(kind=word, names=p.string_list())


def parse_set_autobackup_format(p: Parser) -> st.SetAutobackupFormat:
    """After SET CONTROLFILE: ``AUTOBACKUP FORMAT FOR DEVICE TYPE DISK TO '<fmt>'``."""
    p.expect("AUTOBACKUP")
    p.expect("FORMAT")
    p.expect("FOR")
    p.expect("DEVICE")
    p.expect("TYPE")
    p.expect("DISK")
    p.expect("TO")
    return st.SetAutobackupFormat(p.expect_string())
