"""The restore engine shared by autorestore.py and restore.py.

clone -> mount -> find autorestore.cfg -> init.ora -> nomount -> restore the
controlfile -> mount -> forget production's files, catalog the clone's ->
block change tracking off production paths -> switch to the copies (files
with no copy restored as new) -> recover until the target -> open read only ->
check the custom verification time against the target -> optionally validate
every block.  Clean-up always runs, whatever happened (an exception,
SIGTERM, SIGINT): shut the instance down, unmount, drop the clone.

Mounting: ``[autorestore] autorestoremountmethod`` is ``fstab`` (default, as
the old toolset: ``mount <autorestoremountpoint>`` / ``umount``, a user mount
declared in /etc/fstab) or ``clonepath`` (drivers whose clones are local
directories — localfs, local zfs/btrfs — use the clone's own path; nothing
is mounted).
"""
from __future__ import annotations

import logging
import shutil
import signal
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from imagecopy import commands, dbparams
from imagecopy.config import Configuration
from imagecopy.errors import BackupError, ConfigError, RestoreError, StorageError
from imagecopy.oracle import OracleExec, marker_value, marker_values
from imagecopy.templates import Templates

log = logging.getLogger(__name__)

MOUNT_METHODS = ("fstab", "clonepath")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class Terminated(BaseException):
    """SIGTERM/SIGINT arrived: unwind through every ``finally`` so clean-up runs."""


def raise_on_signals() -> None:
    """Turn SIGTERM and SIGINT into :class:`Terminated` (the default SIGTERM would skip clean-up)."""
    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Terminated(f"received signal {signal.Signals(signum).name}")
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


@dataclass
class RestoreSettings:
    """Where and how one restore runs."""

    db: str
    scratch: Path               # emptied, holds init.ora, the controlfile, the BCT file
    mountpoint: Path            # where the clone is mounted (fstab method)
    clonename: str
    sid: str
    logdir: Path
    mount_method: str = "fstab"
    pga_size: str = "1G"
    sga_size: str = "2G"
    instance_number: int = 1
    thread: int = 1
    customverifydate: str = "select max(time_dp) from sys.smon_scn_time"
    tolerance_minutes: float | None = 5.0
    validate: bool = False

    @classmethod
    def from_config(cls, config: Configuration, db: str, slot: int | None = None, sid: str | None = None
                    ) -> RestoreSettings:
        """Settings of a nightly restore; ``slot`` (1, 2, …) derives distinct names for parallel runs."""
        cfg = config.for_section(db)
        suffix = "" if slot is None else str(slot)
        scratch = Path(cfg.get("autorestoredestination", "autorestore"))
        method = cfg.get("autorestoremountmethod", "autorestore", default="fstab").strip().lower()
        if method not in MOUNT_METHODS:
            raise ConfigError(f"{config.path}: [autorestore] key 'autorestoremountmethod' must be one of "
                              f"{', '.join(MOUNT_METHODS)}, not '{method}'")
        return cls(
            db=db,
            scratch=scratch / f"slot{slot}" if slot is not None else scratch,
            mountpoint=Path(cfg.get("autorestoremountpoint", "autorestore") + suffix),
            clonename=cfg.get("autorestoreclonename", "autorestore") + suffix,
            sid=(sid or cfg.get("autorestoresid", "autorestore", default="autorest")) + suffix,
            logdir=Path(cfg.get("autorestorelogdir", "autorestore")),
            mount_method=method,
            pga_size=cfg.get("pga_size", "autorestore", default=cfg.get("pga_size")),
            sga_size=cfg.get("sga_size", "autorestore", default=cfg.get("sga_size")),
            instance_number=cfg.getint("autorestoreinstancenumber", default=1),
            thread=cfg.getint("autorestorethread", default=1),
            customverifydate=cfg.get("customverifydate", default="select max(time_dp) from sys.smon_scn_time"),
            tolerance_minutes=cfg.getfloat("autorestoremaxtoleranceminutes", "autorestore"),
        )


@dataclass
class RestoreOutcome:
    db: str
    started: datetime
    finished: datetime | None = None
    success: bool = False
    snapid: str | None = None
    target: datetime | None = None
    verified: datetime | None = None
    diff_seconds: float | None = None
    validated: bool = False
    error: str | None = None
    facts: dict[str, str] = field(default_factory=dict)


def empty_directory(path: Path) -> None:
    """Remove everything under ``path`` (not ``path`` itself); create it if missing."""
    path.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def find_params(mountdir: Path) -> Path:
    """autorestore.cfg at the top of the clone or in an immediate subdirectory (multi-volume clones)."""
    top = mountdir / "autorestore.cfg"
    if top.is_file():
        return top
    for sub in sorted(p for p in mountdir.iterdir() if p.is_dir()):
        if (sub / "autorestore.cfg").is_file():
            return sub / "autorestore.cfg"
    raise RestoreError(f"autorestore.cfg not found in {mountdir} or its subdirectories "
                       "(was the snapshot taken by imagecopywithsnap?)")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), TIME_FORMAT)
    except ValueError:
        return None


class RestoreEngine:
    """One restore of one database from one snapshot."""

    def __init__(self, settings: RestoreSettings, snapper: Any, oracle: OracleExec, templates: Templates):
        self.s = settings
        self.snapper = snapper
        self.oracle = oracle
        self.t = templates
        self.cloned = False
        self.mounted = False
        self.started_instance = False
        self.mountdir: Path | None = None

    # -- helpers --------------------------------------------------------------
    def sql(self, body: str) -> str:
        return self.oracle.sqlplus(self.t.render("restore_sql_header.sql") + body.rstrip() + "\nexit\n")

    def rman(self, body: str) -> str:
        return self.oracle.rman("set echo on\nconnect target /\n" + body.rstrip() + "\nexit\n")

    # -- steps ----------------------------------------------------------------------
    def clone(self, snapid: str | None, max_age_hours: float = 0) -> str:
        log.debug("ACTION: clone the snapshot")
        if snapid is None:
            snapid = self.snapper.autoclone(self.s.clonename, max_age_hours)
        else:
            self.snapper.clone(snapid, self.s.clonename)
        self.cloned = True
        log.debug("Snapshot %s cloned as %s", snapid, self.s.clonename)
        return snapid

    def mount(self) -> Path:
        if self.s.mount_method == "clonepath":
            path = self.snapper.local_path(self.s.clonename)
            if path is None:
                raise ConfigError("autorestoremountmethod clonepath needs a storage driver whose clones are "
                                  "local directories")
            self.mountdir = Path(path)
        else:
            log.debug("ACTION: mount %s", self.s.mountpoint)
            commands.run(["mount", str(self.s.mountpoint)], error_class=StorageError, describe="mount")
            self.mounted = True
            self.mountdir = self.s.mountpoint
        return self.mountdir

    def init_ora(self, params: dict[str, str], cfgdir: Path) -> Path:
        extra = ""
        if params.get("enable_pluggable_database", "FALSE").upper() == "TRUE":
            extra = "*.enable_pluggable_database=TRUE"
        text = self.t.render(
            "restore_init.ora", compatible=params.get("compatible", ""), scratch=self.s.scratch,
            db_block_size=params.get("db_block_size", "8192"), mountdestination=cfgdir,
            db_files=params.get("db_files", "200"), db_name=params.get("db_name", ""),
            pga_size=self.s.pga_size, sga_size=self.s.sga_size,
            undo_tablespace=params.get("undo_tablespace", "UNDOTBS1"), logdir=self.s.logdir,
            instancenumber=self.s.instance_number, thread=self.s.thread, extraparameters=extra)
        path = self.s.scratch / "init.ora"
        path.write_text(text)
        log.debug("ACTION: Generated init file %s\n%s", path, text.rstrip())
        return path

    def restore(self, snapid: str | None = None, target: datetime | None = None,
                max_age_hours: float = 0) -> RestoreOutcome:
        """Clone, mount and restore; the clean-up is the caller's (:meth:`cleanup`), always."""
        outcome = RestoreOutcome(self.s.db, started=datetime.now())
        log.debug("ACTION: Cleaning destination directory %s", self.s.scratch)
        empty_directory(self.s.scratch)
        outcome.snapid = self.clone(snapid, max_age_hours)
        return self.restore_from(self.mount(), outcome, target)

    def restore_from(self, mountdir: Path, outcome: RestoreOutcome, target: datetime | None = None
                     ) -> RestoreOutcome:
        """Every step after the clone is reachable at ``mountdir``; ``target`` defaults to its lasttime."""
        self.mountdir = mountdir
        cfgfile = find_params(mountdir)
        params = dbparams.read(cfgfile)
        outcome.facts = params
        lasttime = target.strftime(TIME_FORMAT) if target else params.get("lasttime")
        outcome.target = parse_time(lasttime)
        if outcome.target is None:
            raise RestoreError(f"{cfgfile} has no lasttime: this snapshot has no recovery target")
        for key in ("db_name", "compatible", "db_block_size"):
            if not params.get(key):
                raise RestoreError(f"{cfgfile} lacks {key}")
        self.init_ora(params, cfgfile.parent)
        log.debug("ACTION: startup nomount")
        self.started_instance = True
        self.sql(self.t.render("restore_nomount.sql", scratch=self.s.scratch))
        log.debug("ACTION: mount database and catalog files")
        self.rman(self.t.render("restore_mount.rman", cfgdestination=cfgfile.parent, scratch=self.s.scratch,
                                mountdestination=mountdir))
        log.debug("ACTION: disable block change tracking")
        bct = params.get("bctfile", "").strip()
        rename = f"alter database rename file '{bct}' to '{self.s.scratch}/bct.bct';" if bct else ""
        out = self.sql(self.t.render("restore_bct.sql", renamebct=rename))
        nocopy = sorted(int(v) for v in marker_values(out, "NOCOPY: ") if v.isdigit())
        restorenew = ""
        if nocopy:
            files = ",".join(str(n) for n in nocopy)
            log.info("Datafiles %s have no image copy: restored as new files and recovered", files)
            restorenew = f"run {{\nset newname for database to new;\nrestore datafile {files};\n}}"
        log.debug("ACTION: switch and recover")
        self.rman(self.t.render("restore_recover.rman", restorenew=restorenew, lasttime=lasttime))
        log.debug("ACTION: opening database to verify the result")
        out = self.sql(self.t.render("restore_verify.sql", customverifydate=self.s.customverifydate))
        bad = marker_values(out, "BADFILE: ")
        if bad:
            raise RestoreError("Datafiles not available after the restore: " + "; ".join(bad))
        outcome.verified = parse_time(marker_value(out, "CUSTOM VERIFICATION TIME: "))
        log.debug("Expected time: %s", outcome.target)
        log.debug("Verified time: %s", outcome.verified)
        if outcome.verified is None:
            raise RestoreError("The custom verification query returned no time")
        outcome.diff_seconds = (outcome.target - outcome.verified).total_seconds()
        log.debug("VERIFY: Time difference %s", outcome.target - outcome.verified)
        if self.s.tolerance_minutes is not None and abs(outcome.diff_seconds) > self.s.tolerance_minutes * 60:
            raise RestoreError(f"Verified time {outcome.verified} is {abs(outcome.diff_seconds):.0f} s from the "
                               f"target {outcome.target}: more than {self.s.tolerance_minutes:g} minutes")
        if self.s.validate:
            log.info("ACTION: Validating database for corruptions")
            outcome.validated = True
            self.rman(self.t.render("restore_validate.rman"))
            out = self.sql(self.t.render("restore_corruption.sql"))
            corrupt = marker_values(out, "CORRUPT: ")
            if corrupt:
                raise RestoreError(f"{len(corrupt)} corrupt block ranges found: " + "; ".join(corrupt[:10]))
        outcome.success = True
        return outcome

    def cleanup(self) -> list[str]:
        """Shut down, unmount, drop the clone; each step is tried whatever the others did.

        Returns the problems met (logged too); signals are held off meanwhile so a
        second SIGTERM cannot leave a clone behind.
        """
        problems: list[str] = []
        old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            if self.started_instance:
                log.debug("ACTION: shutdown")
                try:
                    self.oracle.sqlplus("conn / as sysdba\nshutdown abort\nexit\n")
                except BackupError as exc:
                    problems.append(f"shutdown: {exc}")
            if self.mounted:
                for attempt in range(3):
                    try:
                        commands.run(["umount", str(self.s.mountpoint)], error_class=StorageError,
                                     describe="umount")
                        self.mounted = False
                        break
                    except BackupError as exc:
                        if attempt == 2:
                            problems.append(f"umount: {exc}")
                        time.sleep(2)
            if self.cloned and not self.mounted:
                try:
                    self.snapper.dropclone(self.s.clonename)
                    self.cloned = False
                    log.debug("Dropped clone %s", self.s.clonename)
                except BackupError as exc:
                    problems.append(f"drop clone: {exc}")
            elif self.cloned:
                problems.append(f"clone {self.s.clonename} not dropped: still mounted at {self.s.mountpoint}")
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)
        for p in problems:
            log.error("Clean-up: %s", p)
        return problems


def purge_diagnostics(oracle: OracleExec, logdir: Path, days: int) -> None:
    """adrci: purge diagnostic files older than ``days`` from every ADR home under the log dir."""
    adrci = oracle.oraclehome / "bin" / "adrci"
    if not adrci.exists():
        log.debug("adrci not found in %s; diagnostic files not purged", oracle.oraclehome)
        return
    try:
        out = commands.run([str(adrci), f"exec=set base {logdir}; show homes"], env=oracle.env(), check=False,
                           describe="adrci").output
        homes = [line.strip() for line in out.splitlines()[out.splitlines().index("ADR Homes: ") + 1:]
                 if line.strip()] if "ADR Homes: " in out.splitlines() else []
        for home in homes:
            commands.run([str(adrci), f"exec=set base {logdir}; set homepath {home}; purge -age {days * 1440}"],
                         env=oracle.env(), check=False, describe="adrci")
    except BackupError as exc:
        log.warning("Purging diagnostic files failed: %s", exc)
