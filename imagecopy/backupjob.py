"""The actions of ``backup.py``: what each one runs, in which order.

Facts come from plain SELECTs whose output lines carry a marker
(``MISSINGARCH: 1 94``); decisions are made here in Python; RMAN and SQL*Plus
get plain statements from the templates.  One ``imagecopywithsnap`` starts
four Oracle processes when no archivelog is missing (the old toolset: six); a
standby's as many when the primary's last log is there at the first look, one
more SQL*Plus per poll of the wait otherwise:

1. SQL*Plus: missing archivelogs, image copies of dropped datafiles
   (then RMAN copies the missing archivelogs, only if there are any);
2. SQL*Plus on the primary: database time, SCN; archive log current; then on the
   database backed up: its BCT file and how far its archivelogs reach (a standby
   is waited for until it has archived the primary's last log: one short SQL*Plus
   query per poll, none when the log is already there);
3. the storage snapshot of the backup area;
4. RMAN: delete copies of dropped datafiles, refresh the copies, controlfile backup;
5. SQL*Plus: archive log current on the primary, then the parameters for
   ``autorestore.cfg`` from the backed-up database;
6. retention, environment facts into the log, ``autorestore.cfg`` rewritten.
"""
from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import backupmetrics, commands, continuity, dbparams, invariants, layout, snapcheck
from .config import Configuration
from .effects import Effects
from .errors import BackupError, BackupInvariantError, ConfigError, OracleError
from .oracle import OracleExec, marker_value, marker_values
from .output import show
from .quoting import literal
from .schedule import set_schedule
from .templates import Templates

if TYPE_CHECKING:
    from storage.base import SnapHandler

log = logging.getLogger(__name__)

# Seconds the daily job of a standby waits for the primary's last archivelog (standbyarchivewait).
STANDBY_ARCHIVE_WAIT = 120
# Seconds between the polls of that wait: doubling from the first, never above the last.
POLL_FIRST, POLL_MAX = 1.0, 10.0
ACTIONS = ("config", "setschedule", "imagecopywithsnap", "missingarchlog", "generaterestore", "report",
           "validatebackup", "backupimagecopy", "verifysnapshots")
SIZE = re.compile(r"^\s*\d+\s*[KMG]?\s*$", re.I)


@dataclass
class BackupContext:
    """Everything an action needs, resolved from the configuration once."""

    config: Configuration
    db: str
    area: Path
    oracle: OracleExec
    templates: Templates
    snapper: SnapHandler | None = None
    values: dict[str, object] = field(default_factory=dict)

    @property
    def archdir(self) -> Path:
        return self.area / layout.ARCHIVELOG_DIR


def template_values(config: Configuration, db: str, area: Path, logfile: Path | None) -> dict[str, object]:
    """The ``${name}`` values every template may use."""
    sectionsize = config.get("sectionsize", "rman", default="") or ""
    if sectionsize and not SIZE.match(sectionsize):
        raise ConfigError(f"{config.path}: [rman] key 'sectionsize' must be a size like 32G, not '{sectionsize}'")
    primary = config.get("primarytns", default=db)
    registercatalog = config.getbool("registercatalog")
    return {
        "configname": db,
        "targettns": db,
        "tns": db,
        "primarytns": primary,
        "backupdest": str(area),
        "archdir": str(area / layout.ARCHIVELOG_DIR),
        "recoverywindow": config.getint("recoverywindow", minimum=0),
        "parallel": config.getint("parallel", minimum=1),
        "dbid": config.getint("dbid"),
        "sectionsize": f"section size {sectionsize.strip()}" if sectionsize else "",
        "catalogconnect": config.get("catalog", "rman") if registercatalog else "",
        "catalogclause": f"catalog {config.get('catalog', 'rman')}" if registercatalog else "",
        "logfile": str(logfile) if logfile else "",
        "tnspath": str(layout.tns_admin(config) or ""),
    }


class BackupJob:
    """One database's backup actions."""

    def __init__(self, ctx: BackupContext):
        self.ctx = ctx
        self.config = ctx.config
        self.t = ctx.templates
        self.oracle = ctx.oracle
        self.effects = Effects(ctx.oracle.dry_run)
        self.registercatalog = self.config.getbool("registercatalog")
        self.check_failures: int | None = None     # how many of its own checks the daily job failed
        self.archivelog_gaps: int | None = None    # redo threads of the new snapshot that cannot reach its target

    # -- script assembly -------------------------------------------------
    def rman(self, body: str) -> str:
        script = self.t.render("rman_header.rman")
        if self.registercatalog:
            script += self.t.render("rman_catalog.rman")
        return self.oracle.rman(f"{script}{body.rstrip()}\nEXIT\n")

    def sqlplus(self, body: str, tns: str | None = None, quiet: bool = False) -> str:
        header = self.t.render("sql_header.sql", tns=tns or self.ctx.db)
        return self.oracle.sqlplus(f"{header}{body.rstrip()}\nexit\n", quiet=quiet)

    @property
    def is_standby(self) -> bool:
        """Backing up a physical standby: ``primarytns`` names another database."""
        return str(self.ctx.values["primarytns"]) != self.ctx.db

    def on_primary(self, body: str) -> str:
        """SQL that must run on the primary (archive commands when backing up a standby)."""
        primary = str(self.ctx.values["primarytns"])
        if primary == self.ctx.db:
            return body
        return f"conn /@{primary} as sysdba\n{body.rstrip()}\nconn /@{self.ctx.db} as sysdba\n"

    # -- actions -----------------------------------------------------------------
    def run(self, action: str) -> None:
        metricsfile = self.config.get("backupmetricsfile", "generic", default="").strip()
        if action != "imagecopywithsnap" or not metricsfile:
            getattr(self, f"do_{action}")()
            return
        started, success = datetime.now(), False
        try:
            self.do_imagecopywithsnap()
            success = True
        finally:
            self.write_metrics(Path(metricsfile), started, success)

    def write_metrics(self, path: Path, started: datetime, success: bool) -> None:
        """The run's result into the backup metrics textfile; a failure to write never fails the backup."""
        snapshots = None
        if self.ctx.snapper is not None:
            try:
                snapshots = self.ctx.snapper.snapshots()
            except Exception as exc:  # noqa: BLE001 - the storage's answer is optional here
                log.warning("Snapshot facts for the metrics unavailable: %s", exc)
        run = backupmetrics.BackupRun(self.ctx.db, started, datetime.now(), success,
                                      check_failures=self.check_failures, snapshots=snapshots,
                                      archivelog_gaps=self.archivelog_gaps)
        try:
            self.effects.do(f"write the backup metrics to {path}", lambda: backupmetrics.write_textfile(path, run))
        except OSError as exc:
            log.error("Writing backup metrics to %s failed: %s", path, exc)

    def do_config(self) -> None:
        # Never anything above the area: a backupdest whose mount failed must not fill the local disk.
        self.effects.do(f"create {self.ctx.archdir}", lambda: (self.ctx.area.mkdir(exist_ok=True),
                                                               self.ctx.archdir.mkdir(exist_ok=True)))
        script = ""
        if self.registercatalog:
            log.info("Checking from RMAN catalog if database is already registered")
            out = self.oracle.sqlplus(self.t.render("sql_registered.sql"), quiet=False)
            if "DATABASE IS REGISTERED IN RC" not in out:
                script += self.t.render("rman_register.rman")
        dg = "dg" if self.config.getbool("hasdataguard") else "nodg"
        script += self.t.render(f"rman_deletion_policy_{dg}.rman")
        script += self.t.render("rman_config.rman")
        log.info("Running RMAN configuration")
        self.rman(script)
        log.info("Running additional configuration from SQL*Plus")
        facts = self.sqlplus(self.t.render("sql_config_facts.sql") + self.t.render("sql_database_role.sql"))
        statements = config_statements(facts, self.ctx.archdir)
        if statements:
            for s in statements:
                log.info("Setting: %s", s)
            self.sqlplus("\n".join(statements))
        else:
            log.info("Block change tracking and archivelog destinations already configured")

    def missing_archivelogs(self) -> list[tuple[int, int]]:
        out = self.sqlplus(self.t.render("sql_missing_archlogs.sql"))
        return parse_missing(out)

    def copy_archivelogs(self, missing: list[tuple[int, int]]) -> None:
        if not missing:
            return
        log.info("- Copying %d missing archivelogs: %s", len(missing),
                 ", ".join(f"thread {t} sequence {s}" for t, s in missing))
        lines = "\n".join(f"BACKUP force as copy archivelog sequence {s} thread {t};" for t, s in missing)
        self.rman(f"run {{\n{self.t.render('rman_archlog_channel.rman')}{lines}\n}}\n")

    def do_missingarchlog(self) -> None:
        log.info("Check if there are missing archivelogs")
        self.copy_archivelogs(self.missing_archivelogs())

    def do_imagecopywithsnap(self) -> None:
        started = datetime.now()
        cfgfile = self.ctx.area / layout.AUTORESTORE_CFG
        # 1. archivelogs missing from the backup area; copies of dropped datafiles (deleted in 4.)
        log.info("Check if there are missing archivelogs")
        out = self.sqlplus(self.t.render("sql_missing_archlogs.sql") + self.t.render("sql_expired_copies.sql")
                           + self.t.render("sql_copy_checkpoints.sql"))
        self.copy_archivelogs(parse_missing(out))
        expired = marker_values(out, "DELETECOPY: ")
        copies_before = invariants.parse_pairs(marker_values(out, "COPYSCN: "))
        # 2. the recovery target of the snapshot, then a log switch so the snapshot holds its redo
        target_scn, archived_to = self.record_target(cfgfile, copies_before)
        # 3. snapshot, and its archivelogs checked against its manifest
        snapid = self.take_snapshot()
        self.check_continuity(snapid)
        # 4. + 5. refresh
        log.info("Checking for expired datafile copies")
        deletes = "".join(f"delete noprompt datafilecopy {literal(name, 'a datafile copy name')};\n"
                          for name in expired)
        if expired:
            log.info("- Deleting %d expired datafile copies", len(expired))
        log.info("Refresh imagecopy")
        self.rman(deletes + self.t.render("rman_refresh.rman"))
        # 6. + 9. (query) archive again on the primary; parameters for a restore; the refreshed copies
        out = self.sqlplus(self.on_primary(self.t.render("sql_archive_log.sql")) + self.t.render("sql_dbparams.sql")
                           + self.t.render("sql_copy_checkpoints.sql"))
        params = parse_dbparams(out)
        # 7. retention
        newest = self.apply_retention()
        # 8. environment facts
        self.log_environment()
        # 9. autorestore.cfg
        self.effects.do(f"write {cfgfile}", lambda: self.write_params(cfgfile, params, out))
        self.log_totals(started)
        # 10. the self-checks, on what SQL*Plus said after the refresh
        facts = (copies_before, out, target_scn, archived_to, snapid, newest)
        self.effects.do("check the backup against its invariants", lambda: self.check_backup(*facts))

    def write_params(self, cfgfile: Path, params: dict[str, str], out: str) -> None:
        log.info("Write database parameters for autorestore")
        if not params.get("db_name"):
            raise OracleError("SQL*Plus did not return the database parameters", details=out.splitlines()[-5:])
        dbparams.write(cfgfile, params)

    def check_backup(self, copies_before: dict[int, int], out: str, target_scn: int | None,
                     archived_to: dict[int, int], snapid: str | None, newest: str | None) -> None:
        """The invariants of imagecopy/invariants.py on this run's facts; exit 1 when one fails."""
        datafiles = [int(v) for v in marker_values(out, "DATAFILE: ")]
        after = invariants.parse_pairs(marker_values(out, "COPYSCN: "))
        # A standby's copies are taken at its applied SCN, which may lag the primary's target
        # without harm (the next snapshot holds the logs from there): only "rolled forward" applies.
        copy_target = None if self.is_standby else target_scn
        problems = (invariants.copy_problems(copies_before, after, datafiles, copy_target)
                    + invariants.archivelog_problems(target_scn, archived_to)
                    + invariants.snapshot_problems(snapid, newest))
        self.check_failures = len(problems)
        check_invariants(problems)

    def log_totals(self, started: datetime) -> None:
        finished = datetime.now()
        log.info("------------ TOTAL ------------")
        log.info("Total execution time: %s", finished - started)
        log.info("Execution started: %s", started)
        log.info("Execution finished: %s", finished)
        log.debug("Oracle processes started: rman %d, sqlplus %d", self.oracle.launches["rman"],
                  self.oracle.launches["sqlplus"])

    def record_target(self, cfgfile: Path, copies: dict[int, int]) -> tuple[int | None, dict[int, int]]:
        """Read the snapshot's recovery target on the primary, switch logs, record it in autorestore.cfg
        and, with the copies' checkpoints and the archivelogs, in the manifest the snapshot will hold.

        The BCT file and how far the backup area's archivelogs reach are read on the
        database backed up (a standby's own, after the wait for the primary's last log).

        :returns: the target SCN and, per redo thread, how far the backup area's
            archivelogs reach after the switch.
        """
        log.info("Switch current log")
        standby = self.t.render("sql_standby_archived.sql") if self.is_standby else ""
        out = self.sqlplus(self.on_primary(self.t.render("sql_archive_current.sql")) + self.t.render("sql_bct_file.sql")
                           + standby + self.t.render("sql_archived_to.sql") + self.t.render("sql_archivelog_list.sql"))
        recorded = self.effects.do("record the recovery target and the manifest",
                                   lambda: self.record_facts(cfgfile, copies, out))
        return recorded if recorded is not None else (None, {})

    def record_facts(self, cfgfile: Path, copies: dict[int, int], out: str) -> tuple[int, dict[int, int]]:
        """The target from the switch's output into autorestore.cfg and the manifest (see record_target)."""
        lastscn = marker_value(out, "CURRENT DATABASE SCN: ")
        lasttime = marker_value(out, "CURRENT DATABASE TIME: ")
        if lastscn is None or lasttime is None:
            raise OracleError("SQL*Plus did not return the database time and SCN", details=out.splitlines()[-5:])
        archived = self.wait_for_standby(out) if self.is_standby else out
        # Recorded only once the snapshot's redo is in the backup area: a target its logs do not reach is no fact.
        if dbparams.set_target(cfgfile, lastscn, lasttime, marker_value(out, "BCT FILE: ")):
            log.debug("Recovery target of the next snapshot: SCN %s, %s", lastscn, lasttime)
        self.write_manifest(int(lastscn), lasttime, copies, marker_values(archived, "ARCHLOG: "))
        return int(lastscn), invariants.parse_pairs(marker_values(archived, "ARCHIVEDTO: "))

    def write_manifest(self, lastscn: int, lasttime: str, copies: dict[int, int], archlogs: list[str]) -> None:
        """The snapshot's manifest (imagecopy/continuity.py) into the backup area, atomically, before the
        snapshot: its target, the copies' checkpoints, every archivelog of the area with its size now."""
        logs = continuity.records_from_sql(archlogs, self.ctx.area, continuity.file_size)
        try:
            target_time = datetime.strptime(lasttime, dbparams.TIME_FORMAT)
        except ValueError:
            target_time = None
        manifest = continuity.Manifest(self.ctx.db, datetime.now().replace(microsecond=0), lastscn, target_time,
                                       copies, tuple(logs))
        continuity.write_manifest(self.ctx.area / continuity.MANIFEST, manifest)
        log.debug("Manifest of the next snapshot: %d archivelogs, copies' checkpoint SCN %s, target SCN %s",
                  len(logs), manifest.checkpoint_scn, lastscn)

    def check_continuity(self, snapid: str | None) -> None:
        """The new snapshot's archivelogs against its manifest: a gap is a WARNING (log and metrics),
        never a failure of the run: the backup itself worked, and the old toolset had no such check."""
        if snapid is None or self.ctx.snapper is None:
            return
        try:
            base = self.ctx.snapper.snapshot_path(snapid)
        except BackupError as exc:
            log.warning("Archivelog continuity of snapshot %s not checked: %s", snapid, exc)
            return
        if base is None:
            log.debug("Archivelog continuity not checked: the storage does not show snapshot contents here")
            return
        verdict = snapcheck.check_snapshot(snapid, Path(base))
        if verdict.status == snapcheck.GAP:
            log.warning("Archivelog gap in snapshot %s: %s", snapid, verdict.detail)
            self.archivelog_gaps = verdict.result.gaps if verdict.result else 1
        elif verdict.status in (snapcheck.OK, snapcheck.EMPTY):
            log.debug("Archivelog continuity of snapshot %s: %s", snapid, verdict.detail)
            self.archivelog_gaps = 0
        else:
            log.warning("Archivelog continuity of snapshot %s unknown: %s", snapid, verdict.detail)

    def wait_for_standby(self, out: str) -> str:
        """Wait until the standby has archived, per thread, the primary's last switched log into the backup area.

        The old toolset slept 10 s.  Here the standby is polled (one short SQL*Plus
        query per poll, none when the first look, in the session that switched, finds
        the logs there) for at most ``standbyarchivewait`` seconds.

        :returns: the output of the last look (its ``ARCHIVEDTO:`` lines are the ones to check).
        :raises BackupError: when the logs do not arrive in time (nothing snapshotted).
        """
        wanted = invariants.parse_pairs(marker_values(out, "PRIMARYSEQ: "))
        wait = standby_archive_wait(self.config)
        deadline = time.monotonic() + wait
        interval = POLL_FIRST
        while True:
            behind = lagging(wanted, invariants.parse_pairs(marker_values(out, "STANDBYSEQ: ")))
            if not behind:
                log.debug("The primary's last archivelogs are in the backup area: %s",
                          ", ".join(f"thread {t} sequence {s}" for t, s in sorted(wanted.items())) or "none")
                return out
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BackupError(f"{self.ctx.db} did not archive the primary's last log into {self.ctx.archdir} "
                                  f"within {wait} s (standbyarchivewait): {behind}")
            log.info("Waiting for the standby to archive %s (up to %.0f s more)", behind, remaining)
            time.sleep(min(interval, remaining))
            interval = min(interval * 2, POLL_MAX)
            out = self.sqlplus(self.t.render("sql_standby_archived.sql") + self.t.render("sql_archived_to.sql")
                               + self.t.render("sql_archivelog_list.sql"), quiet=True)

    def take_snapshot(self) -> str | None:
        """Snapshot the backup area when ``dosnapshot``; the new snapshot's id."""
        snapper = self.ctx.snapper      # backup.py makes one exactly when dosnapshot is on
        if snapper is None:
            return None
        log.info("Snap the current backup area")
        snapid = self.effects.do("create a snapshot of the backup area", snapper.snap)
        if snapid is not None:
            log.debug("Created snapshot: %s", snapid)
        return snapid

    def apply_retention(self) -> str | None:
        """Drop expired snapshots when ``dosnapshot``; the id of the newest snapshot retention saw."""
        snapper = self.ctx.snapper
        if snapper is None:
            return None
        log.info("Clean expired snapshots")
        # A dry run shows what retention would do today (zsnapper's clean --dry-run).
        results = self.effects.do("drop expired snapshots", snapper.clean,
                                  dry=lambda: snapper.clean(dry_run=True)) or []
        for result in results:
            log.debug("%s", result.infostring)
        return results[-1].snapid if results else None

    def do_backupimagecopy(self) -> None:
        log.info("Refresh imagecopy")
        self.rman(self.t.render("rman_refresh.rman"))

    def resync_prefix(self) -> str:
        return self.t.render("rman_resync.rman") if self.registercatalog else ""

    def do_report(self) -> None:
        self.rman(self.resync_prefix() + self.t.render("rman_report.rman"))

    def do_validatebackup(self) -> None:
        self.rman(self.resync_prefix() + self.t.render("rman_validate.rman"))

    def do_generaterestore(self) -> None:
        text = self.t.render("rman_emergency_restore.rman")
        show("\n=============")
        show(text.rstrip())
        log.debug("Generated restore script:\n%s", text)

    def do_setschedule(self) -> None:
        set_schedule(self)

    def log_environment(self) -> None:
        """Facts a DBA restoring by hand will want: GI registration and patch level."""
        self.effects.do("log the GI registration and the patch level", self.collect_environment)

    def collect_environment(self) -> None:
        if self.config.getbool("gimanaged"):
            from .clusterware import describe
            try:
                log.debug("%s", describe(self.config, self.ctx.db, self.oracle.oraclehome))
            except Exception as exc:  # environment facts must never fail a backup
                log.warning("Could not collect GI information: %s", exc)
        opatch = self.oracle.oraclehome / "OPatch" / "opatch"
        if opatch.exists():
            try:
                result = commands.run([str(opatch), "lsinventory"], env=self.oracle.env(), check=False,
                                      describe="opatch")
                if result.returncode != 0:
                    log.warning("opatch lsinventory exited with code %d", result.returncode)
            except Exception as exc:
                log.warning("Could not run opatch: %s", exc)


def check_invariants(problems: list[str]) -> None:
    """Fail the run (after everything else is done) when the backup would not restore."""
    if not problems:
        log.debug("Backup invariants hold: copies rolled forward, recovery target covered, snapshot in place")
        return
    for problem in problems:
        log.error("Backup check failed: %s", problem)
    raise BackupInvariantError(f"The backup finished but would not restore as it should: {problems[0]}",
                               details=problems[1:])


def standby_archive_wait(config: Configuration) -> int:
    """``standbyarchivewait`` seconds: the database's own key, else ``[generic]`` (override rule), else 120."""
    if config.has("standbyarchivewait"):
        return config.getint("standbyarchivewait", minimum=0)
    return config.getint("standbyarchivewait", "generic", default=STANDBY_ARCHIVE_WAIT, minimum=0)


def lagging(wanted: dict[int, int], archived: dict[int, int]) -> str:
    """What the standby still lacks, per thread (``""`` when nothing): the primary's sequence and its newest."""
    return "; ".join(f"thread {thread} sequence {seq} (newest there: {archived.get(thread, 'none')})"
                     for thread, seq in sorted(wanted.items()) if seq > 0 and archived.get(thread, 0) < seq)


def parse_missing(output: str, exists=os.path.exists) -> list[tuple[int, int]]:
    """(thread, sequence) archived in the recovery area but not present in the backup area.

    A log the controlfile records in the backup area whose file is gone (deleted
    by hand, lost in a storage incident) counts as missing too.
    """
    in_fra = set()
    for value in marker_values(output, "FRALOG: "):
        thread, seq = value.split()
        in_fra.add((int(thread), int(seq)))
    in_backup = set()
    for value in marker_values(output, "BACKUPLOG: "):
        thread, seq, name = value.split(None, 2)
        if exists(name):
            in_backup.add((int(thread), int(seq)))
    return sorted(in_fra - in_backup)


def parse_dbparams(output: str) -> dict[str, str]:
    params = {}
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("dbconfig-") and ": " in line:
            key, _, value = line[len("dbconfig-"):].partition(": ")
            params[key] = value.strip()
    return params


def config_statements(facts: str, archdir: Path) -> list[str]:
    """The ALTER statements that bring BCT and the archive destinations to what the toolset needs.

    Block change tracking is enabled on Enterprise Edition when disabled.
    One ``log_archive_dest_N`` must be the recovery area (MANDATORY) and one
    the backup area's ``archivelog/`` directory; missing ones take the
    lowest free N.  Nothing is changed when both exist (idempotent).  On a
    physical standby the backup area's destination must take the logs the
    standby receives: ``VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)`` would leave it
    empty, so it is (re)set to ``(ALL_LOGFILES,ALL_ROLES)``, which also keeps it
    archiving after a role change.
    """
    statements = []
    bct = marker_value(facts, "BCT: ")
    edition = " ".join(marker_values(facts, "EDITION: "))
    if bct == "DISABLED" and "Enterprise Edition" in edition:
        statements.append("alter database enable block change tracking;")
    dests: dict[int, str] = {}
    for value in marker_values(facts, "ARCHDEST: "):
        name, _, setting = value.partition("=")
        m = re.fullmatch(r"log_archive_dest_(\d+)", name.strip())
        if m:
            dests[int(m.group(1))] = setting.strip()
    free = [n for n in range(1, 32) if not dests.get(n)]
    target = str(archdir).rstrip("/") + "/"
    if not any(re.search(r"LOCATION\s*=\s*USE_DB_RECOVERY_FILE_DEST", v, re.I) for v in dests.values()):
        n = free.pop(0)
        statements += [f"alter system set log_archive_dest_{n}='LOCATION=USE_DB_RECOVERY_FILE_DEST MANDATORY' "
                       "scope=both;", f"alter system set log_archive_dest_state_{n}=enable scope=both;"]
    standby = (marker_value(facts, "ROLE: ") or "PRIMARY") != "PRIMARY"
    valid_for = "VALID_FOR=(ALL_LOGFILES,ALL_ROLES)" if standby else "VALID_FOR=(ONLINE_LOGFILE,PRIMARY_ROLE)"
    ours = [n for n, v in sorted(dests.items()) if target in v or v.rstrip("'").endswith(str(archdir))]
    if not ours:
        n = free.pop(0)
        statements += [f"alter system set log_archive_dest_{n}='LOCATION={target} {valid_for}' scope=both;",
                       f"alter system set log_archive_dest_state_{n}=enable scope=both;"]
    elif standby and not any(takes_standby_logs(dests[n]) for n in ours):
        statements.append(f"alter system set log_archive_dest_{ours[0]}='LOCATION={target} {valid_for}' scope=both;")
    return statements


def takes_standby_logs(setting: str) -> bool:
    """Whether a destination's VALID_FOR (default ALL_LOGFILES,ALL_ROLES) lets a standby archive received logs there."""
    m = re.search(r"VALID_FOR\s*=\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)", setting, re.I)
    if m is None:
        return True
    logfiles, roles = m.group(1).upper().rstrip("S"), m.group(2).upper()
    return logfiles in ("ALL_LOGFILE", "STANDBY_LOGFILE") and roles in ("ALL_ROLES", "STANDBY_ROLE")
