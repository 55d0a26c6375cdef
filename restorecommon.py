"""The restore engine shared by autorestore.py and restore.py.

clone -> mount -> find autorestore.cfg -> init.ora -> nomount -> restore the
controlfile -> mount -> forget production's files, catalog the clone's (every
volume of a multi-volume clone) -> when the restored controlfile has block
change tracking on, rename its file into scratch and disable it -> switch to
the copies (files with no copy restored as new) -> recover until the target ->
open read only -> check the custom verification time against the target ->
optionally validate every block.  Clean-up always runs, whatever happened (an
exception, SIGTERM, SIGINT): shut the instance down, unmount, drop the clone.

The engine owns one :class:`~imagecopy.restorerecord.RestoreResult`, filled in as the restore goes
(snapshot, target, clone, the step running), so a caller that records it in a
``finally`` records what was known when a step failed, and which step.

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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from imagecopy import commands, dbparams, runtime
from imagecopy.config import Configuration
from imagecopy.errors import BackupError, ConfigError, RestoreError, StorageError
from imagecopy.oracle import OracleExec, marker_value, marker_values
from imagecopy.quoting import literal
from imagecopy.restorerecord import RestoreResult
from imagecopy.runtime import Terminated  # noqa: F401 - re-exported to the scripts
from imagecopy.templates import Templates
from storage import create_snapper

log = logging.getLogger(__name__)

MOUNT_METHODS = ("fstab", "clonepath")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def raise_on_signals() -> None:
    """Turn SIGTERM and SIGINT into :class:`Terminated` (the default SIGTERM would skip clean-up)."""
    runtime.raise_on_signals((signal.SIGTERM, signal.SIGINT))


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
    target_scn: int | None = None   # restore.py --scn: recover until this SCN instead of a time

    @classmethod
    def from_config(cls, config: Configuration, db: str, slot: int | None = None, sid: str | None = None
                    ) -> RestoreSettings:
        """Settings of a nightly restore; ``slot`` (1, 2, …) derives distinct names for parallel runs."""
        cfg = config.for_section(db)
        suffix = "" if slot is None else str(slot)
        scratch = Path(cfg.get("autorestoredestination", "autorestore"))
        method = cfg.getchoice("autorestoremountmethod", "autorestore", MOUNT_METHODS, "fstab")
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


def find_volumes(mountdir: Path, cfgfile: Path, exclude: Path | None = None) -> list[Path]:
    """Where the clone's copies and archivelogs are: the directory of autorestore.cfg and, when that is a
    subdirectory (a clone of several volumes mounted together), every other subdirectory too."""
    if cfgfile.parent == mountdir:
        return [mountdir]
    others = sorted(p for p in mountdir.iterdir()
                    if p.is_dir() and p != cfgfile.parent and (exclude is None or p != exclude))
    return [cfgfile.parent, *others]


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), TIME_FORMAT)
    except ValueError:
        return None


class RestoreEngine:
    """One restore of one database from one snapshot; :attr:`outcome` says how far it got."""

    def __init__(self, settings: RestoreSettings, snapper: Any, oracle: OracleExec, templates: Templates,
                 outcome: RestoreResult | None = None):
        self.s = settings
        self.snapper = snapper
        self.oracle = oracle
        self.t = templates
        self.outcome = outcome or RestoreResult(settings.db, start_time=datetime.now())
        self.outcome.clone = settings.clonename
        self.cloned = False
        self.mounted = False
        self.started_instance = False
        self.mountdir: Path | None = None

    # -- helpers --------------------------------------------------------------
    def sql(self, body: str) -> str:
        return self.oracle.sqlplus(self.t.render("restore_sql_header.sql") + body.rstrip() + "\nexit\n")

    def rman(self, body: str) -> str:
        return self.oracle.rman("set echo on\nconnect target /\n" + body.rstrip() + "\nexit\n")

    def step(self, name: str) -> None:
        """The step starting now: a failure from here on is reported as this step's."""
        self.outcome.step = name
        log.debug("STEP: %s", name)

    # -- steps ----------------------------------------------------------------------
    def clone(self, snapid: str | None, max_age_hours: float = 0) -> str:
        self.step("clone")
        self.drop_leftover_clone()
        log.debug("ACTION: clone the snapshot")
        if snapid is None:
            snapid = self.snapper.autoclone(self.s.clonename, max_age_hours)
        else:
            self.outcome.snapid = snapid    # known before the clone: a failed clone still names it
            self.snapper.clone(snapid, self.s.clonename)
        self.outcome.snapid = snapid
        self.cloned = True
        log.debug("Snapshot %s cloned as %s", snapid, self.s.clonename)
        return snapid

    def drop_leftover_clone(self) -> None:
        """Drop a clone of this name that an earlier run left (its drop failed, or a clone call
        that timed out was done after all): else every later night fails at "already exists".

        Only a clone of this database's snapshots is listed by the driver, so anything
        else of that name is left alone (and the clone then fails, saying so).
        """
        if not any(c.clonename == self.s.clonename for c in self.snapper.clones()):
            return
        log.warning("Clone %s is left from an earlier run: dropping it before this restore", self.s.clonename)
        if self.s.mount_method == "fstab" and self.s.mountpoint.is_mount():
            commands.run(["umount", str(self.s.mountpoint)], error_class=StorageError, describe="umount")
        self.snapper.dropclone(self.s.clonename)

    def mount(self) -> Path:
        self.step("mount")
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
                max_age_hours: float = 0) -> RestoreResult:
        """Clone, mount and restore; the clean-up is the caller's (:meth:`cleanup`), always."""
        self.step("clone")
        log.debug("ACTION: Cleaning destination directory %s", self.s.scratch)
        empty_directory(self.s.scratch)
        self.clone(snapid, max_age_hours)
        return self.restore_from(self.mount(), target)

    def restore_from(self, mountdir: Path, target: datetime | None = None) -> RestoreResult:
        """Every step after the clone is reachable at ``mountdir``; ``target`` defaults to its lasttime."""
        self.mountdir = mountdir
        self.step("restore controlfile")
        cfgfile, lasttime = self.read_params(mountdir, None if self.s.target_scn is not None else target)
        self.restore_controlfile(mountdir, cfgfile)
        self.step("recover")
        self.recover(lasttime)
        self.step("open")
        self.open()
        self.step("verify")
        self.verify()
        if self.s.validate:
            self.step("validate")
            self.validate()
        self.outcome.success = True
        return self.outcome

    def read_params(self, mountdir: Path, target: datetime | None) -> tuple[Path, str]:
        """autorestore.cfg of the clone, checked; the target time as RMAN is given it."""
        cfgfile = find_params(mountdir)
        params = dbparams.load(cfgfile)
        self.outcome.facts = params
        lasttime = target.strftime(TIME_FORMAT) if target else params.get("lasttime", "")
        self.outcome.restore_target = parse_time(lasttime)
        if self.outcome.restore_target is None:
            raise RestoreError(f"{cfgfile} has no lasttime: this snapshot has no recovery target")
        for key in ("db_name", "compatible", "db_block_size"):
            if not params.get(key):
                raise RestoreError(f"{cfgfile} lacks {key}")
        return cfgfile, lasttime

    def restore_controlfile(self, mountdir: Path, cfgfile: Path) -> None:
        """Start the instance, mount the snapshot's controlfile, catalog every volume, BCT off."""
        self.init_ora(self.outcome.facts, cfgfile.parent)
        log.debug("ACTION: startup nomount")
        self.started_instance = True
        self.sql(self.t.render("restore_nomount.sql", scratch=self.s.scratch))
        log.debug("ACTION: mount database and catalog files")
        volumes = find_volumes(mountdir, cfgfile, exclude=self.s.scratch)
        if len(volumes) > 1:
            log.debug("The clone holds several volumes: %s", ", ".join(str(v) for v in volumes))
        script = self.t.render("restore_mount.rman", cfgdestination=cfgfile.parent, scratch=self.s.scratch,
                               mountdestination=mountdir)
        for volume in volumes:
            script += "\n" + self.t.render("restore_catalog.rman", mountdestination=volume)
        self.rman(script)
        self.disable_bct()

    def disable_bct(self) -> None:
        """Block change tracking off, decided by the restored controlfile (not autorestore.cfg): Standard
        Edition never has it, and a standby's controlfile names its own file, not the primary's."""
        out = self.sql(self.t.render("restore_bct_status.sql"))
        status = (marker_value(out, "BCT: ") or "").split(" ", 1)
        if status[0] != "ENABLED":
            log.debug("Block change tracking is not enabled in the restored controlfile")
            return
        log.debug("ACTION: disable block change tracking")
        bct = status[1].strip() if len(status) > 1 else ""
        log.debug("Block change tracking file in the restored controlfile: %s (renamed to %s/bct.bct)",
                  bct or "(none)", self.s.scratch)
        # Oracle deletes the tracking file when tracking is disabled: point it into scratch first.
        rename = (f"alter database rename file {literal(bct, 'the block change tracking file name')} "
                  f"to {literal(f'{self.s.scratch}/bct.bct', 'the scratch directory')};") if bct else ""
        self.sql(self.t.render("restore_bct.sql", renamebct=rename))

    def recover(self, lasttime: str) -> None:
        """Switch to the copies (restoring files that have none as new) and recover until ``lasttime``,
        or until the settings' ``target_scn`` (RMAN ``set until scn``: the changes below it)."""
        out = self.sql(self.t.render("restore_nocopy.sql"))
        nocopy = sorted(int(v) for v in marker_values(out, "NOCOPY: ") if v.isdigit())
        restorenew = ""
        if nocopy:
            files = ",".join(str(n) for n in nocopy)
            log.info("Datafiles %s have no image copy: restored as new files and recovered", files)
            restorenew = f"run {{\nset newname for database to new;\nrestore datafile {files};\n}}"
        until = f"scn {self.s.target_scn}" if self.s.target_scn is not None else \
            f"time \"to_date({literal(lasttime, 'the target time')}, 'yyyy-mm-dd hh24:mi:ss')\""
        log.debug("ACTION: switch and recover until %s", until)
        script = self.t.render("restore_recover.rman", restorenew=restorenew, lasttime=lasttime, until=until)
        if self.s.target_scn is not None and until not in script:
            # An edited template from before ${until} would recover to the snapshot's time, silently.
            raise ConfigError("templates/restore_recover.rman does not use ${until}: it cannot restore to an SCN")
        self.rman(script)

    def open(self) -> None:
        log.debug("ACTION: opening database to verify the result")
        out = self.sql(self.t.render("restore_open.sql"))
        bad = marker_values(out, "BADFILE: ")
        if bad:
            raise RestoreError("Datafiles not available after the restore: " + "; ".join(bad))

    def verify(self) -> None:
        """The custom verification time against the target.

        As the old toolset: only a verified time *older* than the target by more than
        the tolerance fails; a newer one (application clocks in another zone, say)
        passes with a warning.
        """
        outcome = self.outcome
        out = self.sql(self.t.render("restore_verify.sql", customverifydate=self.s.customverifydate))
        outcome.verified = parse_time(marker_value(out, "CUSTOM VERIFICATION TIME: "))
        log.debug("Expected time: %s", outcome.restore_target)
        log.debug("Verified time: %s", outcome.verified)
        if outcome.verified is None:
            raise RestoreError("The custom verification query returned no time")
        if self.s.target_scn is not None:
            # No time to compare with: the verified time is reported as it is.
            log.debug("VERIFY: restored until SCN %d", self.s.target_scn)
            return
        if outcome.restore_target is None:
            raise RestoreError("The custom verification query returned no time")
        outcome.verification_diff_seconds = (outcome.restore_target - outcome.verified).total_seconds()
        log.debug("VERIFY: Time difference %s", outcome.restore_target - outcome.verified)
        if outcome.verification_diff_seconds < 0:
            log.warning("The verified time %s is %.0f s newer than the target %s: do the database's and the "
                        "verification query's clocks agree?", outcome.verified, -outcome.verification_diff_seconds,
                        outcome.restore_target)
        tolerance = self.s.tolerance_minutes
        if tolerance is not None and outcome.verification_diff_seconds > tolerance * 60:
            raise RestoreError(f"Verified time {outcome.verified} is {outcome.verification_diff_seconds:.0f} s older "
                               f"than the target {outcome.restore_target}: more than {tolerance:g} minutes")

    def validate(self) -> None:
        log.info("ACTION: Validating database for corruptions")
        self.outcome.validated = True
        self.rman(self.t.render("restore_validate.rman"))
        out = self.sql(self.t.render("restore_corruption.sql"))
        corrupt = marker_values(out, "CORRUPT: ")
        if corrupt:
            raise RestoreError(f"{len(corrupt)} corrupt block ranges found: " + "; ".join(corrupt[:10]))

    def cleanup(self) -> list[str]:
        """Shut down, unmount, drop the clone; each step is tried whatever the others did.

        Returns the problems met (logged too; they fail a restore that had
        succeeded, as step ``cleanup``); signals are held off meanwhile so a
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
        if problems and self.outcome.success:
            # the restore itself passed: the failure to report is the clean-up's
            self.outcome.step = "cleanup"
            log.error(self.outcome.fail("; ".join(problems)))
        return problems


def adrci_quote(value: str) -> str:
    """``value`` as one double-quoted adrci word; a ';' (adrci's command separator), a quote or a
    control character could add adrci commands, so they are refused."""
    if any(ch in value for ch in ';"\'') or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ConfigError(f"path {value!r} cannot be given to adrci: it holds ';', a quote or a control character")
    return f'"{value}"'


def purge_diagnostics(oracle: OracleExec, logdir: Path, days: int) -> None:
    """adrci: purge diagnostic files older than ``days`` from every ADR home under the log dir."""
    adrci = oracle.oraclehome / "bin" / "adrci"
    if not adrci.exists():
        log.debug("adrci not found in %s; diagnostic files not purged", oracle.oraclehome)
        return
    try:
        base = adrci_quote(str(logdir))
        out = commands.run([str(adrci), f"exec=set base {base}; show homes"], env=oracle.env(), check=False,
                           describe="adrci").output
        homes = [line.strip() for line in out.splitlines()[out.splitlines().index("ADR Homes: ") + 1:]
                 if line.strip()] if "ADR Homes: " in out.splitlines() else []
        for home in homes:
            commands.run([str(adrci), f"exec=set base {base}; set homepath {adrci_quote(home)}; "
                                      f"purge -age {days * 1440}"],
                         env=oracle.env(), check=False, describe="adrci")
    except BackupError as exc:
        log.warning("Purging diagnostic files failed: %s", exc)


def refuse_without_clones(config: Configuration, db: str) -> None:
    """Refuse a restore of ``db`` whose storage cannot clone, before anything is asked or done.

    :raises storage.base.ClonesNotSupported: one line, exit 2 (SoftNAS).  A driver that
        cannot even be built here is left for the restore itself to report, as before
        (recorded as that database's failed restore).
    """
    try:
        snapper = create_snapper(config.for_section(db), db)
    except Exception:       # noqa: BLE001 - reported by the restore, in its place
        return
    snapper.require_clones()
