"""The RMAN session: connections, channels, configuration, file names.

One ``Context`` lives for one run of the client.  It knows the target (a
SID, re-read for every command because SQL*Plus may change the instance in
between), the catalog connection, the automatic channels (allocated on
first use, kept for the session, as the real client keeps them), the
channels and SET commands of the current RUN block, and whether a
controlfile autobackup is due.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import clock, session
from ..controlfile import Controlfile, oracle_stamp
from ..database import Database
from ..datafile import random_suffix
from ..instance import Instance, OraError
from .output import Output, RmanError
from .statements import SetUntil

# show all: (name, default value) in the order 12.1 prints them.
CONFIG_ORDER = [
    ("RETENTION POLICY", "TO REDUNDANCY 1"),
    ("BACKUP OPTIMIZATION", "OFF"),
    ("DEFAULT DEVICE TYPE TO", "DISK"),
    ("CONTROLFILE AUTOBACKUP", "OFF"),
    ("CONTROLFILE AUTOBACKUP FORMAT FOR DEVICE TYPE", "DISK TO '%F'"),
    ("DEVICE TYPE", "DISK PARALLELISM 1 BACKUP TYPE TO BACKUPSET"),
    ("DATAFILE BACKUP COPIES FOR DEVICE TYPE", "DISK TO 1"),
    ("ARCHIVELOG BACKUP COPIES FOR DEVICE TYPE", "DISK TO 1"),
    ("CHANNEL", None),
    ("MAXSETSIZE TO", "UNLIMITED"),
    ("ENCRYPTION FOR DATABASE", "OFF"),
    ("ENCRYPTION ALGORITHM", "'AES128'"),
    ("COMPRESSION ALGORITHM", "'BASIC' AS OF RELEASE 'DEFAULT' OPTIMIZE FOR LOAD TRUE"),
    ("RMAN OUTPUT TO KEEP FOR", "7 DAYS"),
    ("ARCHIVELOG DELETION POLICY", "TO NONE"),
    ("SNAPSHOT CONTROLFILE NAME", None),
]


@dataclass
class Channel:
    name: str
    sid: int
    format: str | None = None
    auto: bool = True


@dataclass
class RunState:
    """What SET and ALLOCATE inside one RUN block established."""

    channels: dict = field(default_factory=dict)     # lower name -> Channel
    newname_all: bool = False
    newnames: dict = field(default_factory=dict)     # file# -> path or None (NEW)
    until: SetUntil | None = None


class Context:
    def __init__(self, home: Path, env: dict[str, str], out: Output):
        self.home = Path(home)
        self.env = env
        self.out = out
        self.state = session.state_for(home)
        self.target_sid: str | None = None
        self.catalog_sid: str | None = None
        self.repo_msg_done = False
        self.auto_channels: list[Channel] = []
        self.run: RunState | None = None
        self.autobackup_pending = False
        self.rng = random.Random()

    # -- time -----------------------------------------------------------------
    def now(self) -> float:
        return clock.now(self.state)

    def date(self, ts: float | None = None) -> str:
        return session.format_date(self.now() if ts is None else ts, self.env)

    # -- target -----------------------------------------------------------------
    def instance(self) -> Instance:
        if self.target_sid is None:
            raise RmanError("RMAN-06171: not connected to target database")
        return Instance(self.state, self.target_sid)

    def require(self, *statuses: str) -> Instance:
        inst = self.instance()
        try:
            session.require(inst, *statuses)
        except OraError as exc:
            if inst.status == "idle":
                raise RmanError("RMAN-06403: could not obtain a fully authorized session", *exc.lines) from exc
            raise RmanError.from_ora(exc) from exc
        return inst

    def database(self, *statuses: str) -> Database:
        """The target database, checked to be in one of ``statuses`` (default mounted or open)."""
        return Database(self.require(*(statuses or ("mounted", "open"))))

    def repository(self, db: Database | None = None) -> None:
        """The first command that needs the repository says which one it uses."""
        if self.catalog_sid is not None:
            if db is not None:
                dbid = db.cf.doc["dbid"]
                if not any(r["dbid"] == dbid for r in self.catalog_rows()):
                    raise RmanError("RMAN-06004: ORACLE error from recovery catalog database: "
                                    "RMAN-20001: target database not found in recovery catalog")
            return
        if not self.repo_msg_done:
            self.out.line("using target database control file instead of recovery catalog")
            self.repo_msg_done = True

    # -- recovery catalog -----------------------------------------------------------
    def catalog_db(self) -> Database:
        if self.catalog_sid is None:
            raise RmanError("RMAN-06002: command not allowed when not connected to a recovery catalog")
        inst = Instance(self.state, self.catalog_sid)
        if inst.status != "open":
            raise RmanError("RMAN-04004: error from recovery catalog database: ORA-01034: ORACLE not available")
        return Database(inst)

    def catalog_rows(self) -> list[dict]:
        return self.catalog_db().sidecar().get("rman_catalog", {}).get("databases", [])

    # -- configuration --------------------------------------------------------------
    @staticmethod
    def config(cf: Controlfile, name: str) -> str | None:
        value = cf.doc.setdefault("rman_config", {}).get(name)
        if value is not None:
            return value
        return dict(CONFIG_ORDER).get(name)

    def parallelism(self, cf: Controlfile) -> int:
        m = re.search(r"PARALLELISM (\d+)", self.config(cf, "DEVICE TYPE") or "")
        return int(m.group(1)) if m else 1

    def configured_channel_format(self, cf: Controlfile) -> str | None:
        m = re.search(r"FORMAT\s+'((?:[^']|'')*)'", self.config(cf, "CHANNEL") or "")
        return m.group(1).replace("''", "'") if m else None

    def autobackup_on(self, cf: Controlfile) -> bool:
        return self.config(cf, "CONTROLFILE AUTOBACKUP") == "ON"

    def snapshot_name(self, cf: Controlfile, inst: Instance) -> Path:
        m = re.search(r"TO '((?:[^']|'')*)'", self.config(cf, "SNAPSHOT CONTROLFILE NAME") or "")
        if m:
            return Path(m.group(1).replace("''", "'"))
        return self.home / "dbs" / f"snapcf_{inst.sid}.f"

    # -- channels -------------------------------------------------------------------
    def new_sid(self) -> int:
        return self.rng.randint(7, 400)

    def channels(self, cf: Controlfile | None) -> list[Channel]:
        """The channels a command runs on, printing what RMAN prints about them.

        ``cf`` None: no controlfile yet (NOMOUNT), so no configured parallelism.
        """
        if self.run is not None and self.run.channels:
            return list(self.run.channels.values())
        wanted = self.parallelism(cf) if cf is not None else 1
        if len(self.auto_channels) == wanted:
            for ch in self.auto_channels:
                self.out.line(f"using channel {ch.name}")
            return list(self.auto_channels)
        self.auto_channels = []
        for n in range(1, wanted + 1):
            ch = Channel(f"ORA_DISK_{n}", self.new_sid())
            self.out.line(f"allocated channel: {ch.name}")
            self.out.line(f"channel {ch.name}: SID={ch.sid} device type=DISK")
            self.auto_channels.append(ch)
        return list(self.auto_channels)

    def release_auto_channels(self) -> None:
        """Configuration of the device changed: the next command allocates anew."""
        self.auto_channels = []

    # -- file names -------------------------------------------------------------------
    def format_for(self, cf: Controlfile, channel: Channel | None, override: str | None) -> str | None:
        if override:
            return override
        if channel is not None and channel.format:
            return channel.format
        return self.configured_channel_format(cf)

    def output_path(self, db: Database, fmt: str | None, kind: str, **info: object) -> Path:
        """Where a backup piece or copy goes: the format if any, else the recovery area, else dbs/."""
        doc = db.cf.doc
        now = self.now()
        u = random_suffix(self.rng)
        if fmt:
            name = expand_format(fmt, doc, kind, u, now, **info)
            path = Path(name)
            return path if path.is_absolute() else self.home / "dbs" / path
        fra = db.instance.param("db_recovery_file_dest")
        if not fra:
            return self.home / "dbs" / expand_format("%U", doc, kind, u, now, **info)
        base = Path(fra) / doc["db_unique_name"].upper()
        day = datetime.fromtimestamp(now).strftime("%Y_%m_%d")
        if kind == "datafilecopy":
            return base / "datafile" / f"o1_mf_{str(info.get('ts', '')).lower()}_{u}_.dbf"
        if kind == "archivelog":
            return base / "archivelog" / day / f"o1_mf_{info.get('thread')}_{info.get('seq')}_{u}_.arc"
        code = {"incremental": "nnnd1", "full": "nnndf", "spfile": "nnsnf", "controlfile": "ncnnf"}.get(
            str(info.get("piece_type")), "annnn")
        return base / "backupset" / day / f"o1_mf_{code}_{info.get('tag', 'TAG')}_{u}_.bkp"

    def default_tag(self) -> str:
        return "TAG" + datetime.fromtimestamp(self.now()).strftime("%Y%m%dT%H%M%S")


def expand_format(fmt: str, doc: dict, kind: str, u: str, now: float, **info: object) -> str:
    """Substitute RMAN's format variables (%U %u %F %d %I %T %s %p %c %t %f %N %e %h %a %%)."""
    db, dbid = doc["db_name"].upper(), doc["dbid"]
    d = datetime.fromtimestamp(now)
    if kind == "datafilecopy":
        big_u = f"data_D-{db}_I-{dbid}_TS-{info.get('ts')}_FNO-{info.get('file')}_{u}"
    elif kind == "archivelog":
        big_u = (f"arch_D-{db}_id-{dbid}_S-{info.get('seq')}_T-{info.get('thread')}_"
                 f"A-{doc['resetlogs_id']}_{u}")
    elif kind == "controlfilecopy":
        big_u = f"cf_D-{db}_id-{dbid}_{u}"
    else:
        big_u = f"{u}_1_1"
    subs = {
        "U": big_u, "u": u, "d": db, "I": str(dbid), "T": d.strftime("%Y%m%d"),
        "s": str(info.get("set_count", 1)), "p": "1", "c": "1", "t": str(oracle_stamp(now)),
        "f": str(info.get("file", 0)), "N": str(info.get("ts", "")), "e": str(info.get("seq", 0)),
        "h": str(info.get("thread", 0)), "a": str(doc["resetlogs_id"]), "%": "%",
        "F": f"c-{dbid}-{d:%Y%m%d}-{info.get('qq', '00')}",
    }
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt) and fmt[i + 1] in subs:
            out.append(subs[fmt[i + 1]])
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)
