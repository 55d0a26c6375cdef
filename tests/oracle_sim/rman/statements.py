"""Statement objects the parser builds and the command modules execute.

Each class names the command RMAN reports in ``RMAN-03002: failure of
<command> command at ...`` (``command``).  Fields hold what the grammar
accepted, already normalised: keywords upper case, tags upper case (RMAN
stores tags that way), strings unquoted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class Stmt:
    command: ClassVar[str] = "unknown"
    line = 1  # statement-relative line of the first token; set by the parser (not a field)


@dataclass
class Connect(Stmt):
    command: ClassVar[str] = "connect"
    what: str = "TARGET"                 # TARGET or CATALOG
    connect: str | None = None        # "/", "/@alias", "user/pw@alias"


@dataclass
class SetEcho(Stmt):
    command: ClassVar[str] = "set"
    on: bool = True


@dataclass
class Exit(Stmt):
    command: ClassVar[str] = "exit"


@dataclass
class NotSimulated(Stmt):
    """Valid RMAN the simulator does not model (see ``unsimulated``)."""
    command: ClassVar[str] = "not simulated"
    text: str = ""


@dataclass
class Run(Stmt):
    command: ClassVar[str] = "run"
    body: list = field(default_factory=list)


@dataclass
class Allocate(Stmt):
    command: ClassVar[str] = "allocate"
    name: str = ""
    format: str | None = None


@dataclass
class Release(Stmt):
    command: ClassVar[str] = "release"
    name: str | None = None


@dataclass
class SetNewname(Stmt):
    command: ClassVar[str] = "set"
    file: int | None = None           # None: FOR DATABASE
    new: bool = True                     # TO NEW
    name: str | None = None           # TO '<name>'


@dataclass
class SetUntil(Stmt):
    command: ClassVar[str] = "set"
    time: str | None = None
    scn: int | None = None
    sequence: int | None = None
    thread: int = 1


@dataclass
class SetDbid(Stmt):
    command: ClassVar[str] = "set"
    dbid: int = 0


@dataclass
class SetAutobackupFormat(Stmt):
    """SET CONTROLFILE AUTOBACKUP FORMAT FOR DEVICE TYPE DISK TO '<fmt>' (session or run block)."""
    command: ClassVar[str] = "set"
    format: str = "%F"


@dataclass
class Configure(Stmt):
    command: ClassVar[str] = "configure"
    name: str = ""                       # as V$RMAN_CONFIGURATION.NAME
    value: str | None = None          # as V$RMAN_CONFIGURATION.VALUE; None = CLEAR


@dataclass
class Show(Stmt):
    command: ClassVar[str] = "show"
    names: list | None = None         # None: SHOW ALL


@dataclass
class BackupSpec:
    kind: str                            # DATABASE DATAFILE TABLESPACE SPFILE CONTROLFILE ARCHIVELOG
    files: list = field(default_factory=list)
    tablespaces: list = field(default_factory=list)
    all: bool = False                    # ARCHIVELOG ALL
    sequence: int | None = None
    sequence_to: int | None = None
    thread: int | None = None
    until_time: str | None = None
    tag: str | None = None
    format: str | None = None
    reuse: bool = False
    delete_input: bool = False


@dataclass
class Backup(Stmt):
    command: ClassVar[str] = "backup"
    level: int | None = None
    cumulative: bool = False
    recover_of_copy: bool = False
    copy_tag: str | None = None       # FOR RECOVER OF COPY WITH TAG
    tag: str | None = None
    format: str | None = None
    section_size: int | None = None   # bytes
    as_copy: bool = False
    force: bool = False
    reuse: bool = False
    validate: bool = False
    check_logical: bool = False
    specs: list = field(default_factory=list)


@dataclass
class RecoverCopy(Stmt):
    command: ClassVar[str] = "recover"
    tag: str | None = None
    files: list | None = None         # None: OF DATABASE


@dataclass
class RecoverDatabase(Stmt):
    command: ClassVar[str] = "recover"
    files: list | None = None         # RECOVER DATAFILE n,m
    until: SetUntil | None = None
    noredo: bool = False


@dataclass
class Restore(Stmt):
    command: ClassVar[str] = "restore"
    what: str = "DATABASE"               # DATABASE DATAFILE CONTROLFILE ARCHIVELOG SPFILE
    files: list = field(default_factory=list)
    source: str | None = None         # FROM '<piece>'
    autobackup: bool = False             # FROM AUTOBACKUP
    preview: bool = False
    validate: bool = False
    header: bool = False                 # VALIDATE HEADER
    to: str | None = None


@dataclass
class Delete(Stmt):
    command: ClassVar[str] = "delete"
    what: str = ""                       # BACKUP ARCHIVELOG OBSOLETE DATAFILECOPY COPY
    force: bool = False
    noprompt: bool = False
    tag: str | None = None
    until_time: str | None = None
    sequence: int | None = None
    names: list = field(default_factory=list)
    window_days: float | None = None
    redundancy: int | None = None


@dataclass
class Change(Stmt):
    command: ClassVar[str] = "change"
    what: str = ""                       # ARCHIVELOG BACKUP COPY DATAFILECOPY BACKUPPIECE
    names: list = field(default_factory=list)
    tag: str | None = None
    action: str = "UNCATALOG"            # UNCATALOG UNAVAILABLE AVAILABLE


@dataclass
class Catalog(Stmt):
    command: ClassVar[str] = "catalog"
    start_with: str | None = None
    kind: str | None = None           # DATAFILECOPY ARCHIVELOG BACKUPPIECE
    names: list = field(default_factory=list)
    noprompt: bool = False


@dataclass
class Crosscheck(Stmt):
    command: ClassVar[str] = "crosscheck"
    what: str = "BACKUP"                 # BACKUP ARCHIVELOG COPY


@dataclass
class Register(Stmt):
    command: ClassVar[str] = "register"


@dataclass
class Resync(Stmt):
    command: ClassVar[str] = "resync"


@dataclass
class Report(Stmt):
    command: ClassVar[str] = "report"
    what: str = "NEED BACKUP"            # NEED BACKUP, UNRECOVERABLE, OBSOLETE, SCHEMA
    window_days: float | None = None
    redundancy: int | None = None


@dataclass
class ListCmd(Stmt):
    command: ClassVar[str] = "list"
    what: str = "BACKUP"                 # BACKUP COPY ARCHIVELOG
    summary: bool = False


@dataclass
class Switch(Stmt):
    command: ClassVar[str] = "switch to copy"
    files: list | None = None         # None: DATABASE


@dataclass
class Validate(Stmt):
    command: ClassVar[str] = "validate"
    check_logical: bool = False
    files: list | None = None         # None: DATABASE


@dataclass
class Sql(Stmt):
    command: ClassVar[str] = "sql"
    text: str = ""


@dataclass
class AlterDatabase(Stmt):
    command: ClassVar[str] = "alter db"
    action: str = "MOUNT"                # MOUNT OPEN
    read_only: bool = False


@dataclass
class Startup(Stmt):
    command: ClassVar[str] = "startup"
    mode: str = "OPEN"                   # NOMOUNT MOUNT OPEN
    force: bool = False
    pfile: str | None = None


@dataclass
class Shutdown(Stmt):
    command: ClassVar[str] = "shutdown"
    mode: str = "IMMEDIATE"              # ABORT IMMEDIATE NORMAL TRANSACTIONAL
