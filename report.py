#!/usr/bin/env python3
"""report.py [db,list] [--json]: one screen on the state of every database's backups.

For each database section of the configuration ($BACKUPCONFIG, else
backup.cfg beside the scripts; /etc/oracle-imagecopy-backup/backup.cfg for the
installed command), or only those listed:

* the backup and archivelog jobs ``backup.py <db> setschedule`` created:
  state, last start, last run duration, last failure (one SQL*Plus run as
  ``/@<db> as sysdba``, template ``templates/sql_report_jobs.sql``; times
  are the database's);
* snapshots on the storage: how many, the newest and the oldest (UTC);
  the archivelog continuity of each (``backup.py <db> verifysnapshots``):
  one ``Archivelog gap:`` line per snapshot that cannot recover to its
  target, else the check's verdict;
* restore tests from the autorestore catalog: last success, last failure,
  last validation (the restore host's local time), the average difference
  from the target and the average restore time, over the last 100 days.

A part that cannot be read prints ``Error getting information: <reason>``
and the report goes on.  ``--json`` prints one JSON document instead.
Exit status 0; 2 for bad usage or a bad configuration.
"""
from __future__ import annotations

import logging
import re
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping

from imagecopy import cli as runner
from imagecopy import layout, snapcheck
from imagecopy.catalog import Catalog, open_catalog
from imagecopy.config import Configuration, locate
from imagecopy.errors import EXIT_USAGE, ConfigError
from imagecopy.oracle import OracleExec, error_lines, marker_values
from imagecopy.output import Listing, emit, show
from imagecopy.templates import Templates
from storage import create_snapper
from storage.retention import VERIFIED, as_utc

USAGE = "Usage: report.py [comma separated list of databases] [--json]"
JOB_TEMPLATE = "sql_report_jobs.sql"
JOBS = {"IMAGECOPY_JOB": "Backup job", "ARCHLOGBACKUP_JOB": "Archivelog job"}
JSON_JOB_KEYS = {"IMAGECOPY_JOB": "backup_job", "ARCHLOGBACKUP_JOB": "archivelog_job"}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Oracle prints an INTERVAL DAY TO SECOND as "+000000000 00:00:23.456789".
_INTERVAL = re.compile(r"^([+-]?)(\d+)\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?$")

log = logging.getLogger("oib.report")


@dataclass
class JobInfo:
    """One DBMS_SCHEDULER job of the backup user."""

    name: str
    state: str
    last_start: str | None = None
    duration: str | None = None
    last_failure: str | None = None


@dataclass
class SnapshotSummary:
    count: int
    latest: datetime | None = None
    oldest: datetime | None = None
    verified: str | None = None                              # the last verified snapshot (its pin)
    pins: list[str] = field(default_factory=list)            # "<snap> pinned until …: reason"
    continuity: str | None = None                            # verifysnapshots' verdict, without perfdata
    gaps: list[str] = field(default_factory=list)            # "<snap>: thread 1: sequence 12 missing"


@dataclass
class DatabaseReport:
    """What the report learned about one database; a part left None could not be read."""

    name: str
    jobs: dict[str, JobInfo] | None = None
    snapshots: SnapshotSummary | None = None
    restore: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)    # part ("jobs", ...) → reason
    config_error: bool = False


# -- parsing ----------------------------------------------------------------

def format_duration(raw: str | None) -> str | None:
    """An Oracle interval as ``+DDD HH:MM:SS`` (the old report's look); other text is kept."""
    if not raw or not raw.strip():
        return None
    m = _INTERVAL.match(raw.strip())
    if not m:
        return raw.strip()
    sign, days, hh, mm, ss = m.groups()
    return f"{sign or '+'}{int(days):03d} {int(hh):02d}:{mm}:{ss}"


def parse_jobs(output: str) -> dict[str, JobInfo]:
    """The ``JOB:`` and ``LASTFAIL:`` lines of the job query, by job name.

    :raises ValueError: when the output carries Oracle errors instead of answers.
    """
    jobs: dict[str, JobInfo] = {}
    for value in marker_values(output, "JOB:"):
        parts = [p.strip() for p in value.split("|")]
        if len(parts) < 4 or not parts[0]:
            continue
        # Ordered by last start: with several %BACKUPEXEC owners the latest run wins.
        jobs[parts[0]] = JobInfo(name=parts[0], state=parts[1], last_start=parts[2] or None,
                                 duration=format_duration(parts[3]))
    for value in marker_values(output, "LASTFAIL:"):
        name, _, when = (p.strip() for p in value.partition("|"))
        if name in jobs and when:
            jobs[name].last_failure = when
    if not jobs and error_lines(output):
        raise ValueError("; ".join(error_lines(output)[:3]))
    return jobs


# -- gathering ----------------------------------------------------------------

def error_reason(exc: BaseException) -> str:
    """One line for a failure: the message and the first Oracle error lines."""
    text = str(exc) or type(exc).__name__
    details = getattr(exc, "details", None) or []
    extra = [d for d in details[:3] if d not in text]
    return f"{text}: {'; '.join(extra)}" if extra else text


def query_jobs(config: Configuration, db: str) -> dict[str, JobInfo]:
    home = config.get("oraclehome", "generic").strip()
    if not home:
        raise ConfigError(f"{config.path}: [generic] oraclehome is empty for [{db}]")
    oracle = OracleExec(Path(home), layout.tns_admin(config), None)
    script = Templates(values={"tns": db}).render(JOB_TEMPLATE)
    return parse_jobs(oracle.sqlplus(script, quiet=True))


def query_snapshots(config: Configuration, db: str) -> SnapshotSummary:
    snapper = create_snapper(config, db)
    snaps = snapper.listsnapshots(sortbycreation=True, sortreverse=True)
    if not snaps:
        return SnapshotSummary(0)
    pins = snapper.pins()
    verified = next((p.snapid for p in pins if p.kind == VERIFIED), None)
    manual = [f"{p.snapid} {p.describe()}" for p in pins if p.kind != VERIFIED]
    def created(s: Any) -> datetime:
        info = snapper.getsnapinfo(s)
        # A driver written for the old toolset returns a dict with a naive UTC time.
        return as_utc(info["creation"] if isinstance(info, Mapping) else info.creation)

    summary = SnapshotSummary(len(snaps), latest=created(snaps[0]), oldest=created(snaps[-1]), verified=verified,
                              pins=manual)
    summary.continuity, summary.gaps = continuity_of(snapper, db)
    return summary


def continuity_of(snapper: Any, db: str) -> tuple[str, list[str]]:
    """The archivelog continuity verdict of every snapshot, and one line per snapshot with a gap."""
    try:
        result = snapcheck.verify(snapper, db)
    except Exception as exc:  # the continuity must not cost the report its snapshot line
        log.debug("%s: checking the archivelog continuity failed", db, exc_info=True)
        return f"UNKNOWN: {error_reason(exc)}", []
    gaps = [f"{s.snapid}: {s.detail}" for s in result.snapshots if s.status == snapcheck.GAP]
    return f"{result.status}: {result.summary}", gaps


def gather(config: Configuration, db: str, catalog: Callable[[], Catalog]) -> DatabaseReport:
    """Read every part for ``db``; a failing part becomes an error line, the rest still runs."""
    rep = DatabaseReport(db)
    cfg = config.for_section(db)
    parts: dict[str, Callable[[], Any]] = {
        "jobs": lambda: query_jobs(cfg, db),
        "snapshots": lambda: query_snapshots(cfg, db),
        "restore": lambda: catalog().summary(db),
    }
    for part, read in parts.items():
        try:
            setattr(rep, part, read())
        except Exception as exc:  # one part of one database must not stop the report
            log.debug("%s: reading %s failed", db, part, exc_info=True)
            rep.errors[part] = error_reason(exc)
            rep.config_error = rep.config_error or isinstance(exc, ConfigError)
    return rep


# -- output ---------------------------------------------------------------------

def _when(value: datetime | str | None) -> str:
    if value is None or value == "":
        return "none"
    return value.strftime(TIME_FORMAT) if isinstance(value, datetime) else str(value)


def _avg(value: float | None) -> str:
    return "none" if value is None else str(round(value))


PART_NAMES = {"jobs": "job state", "snapshots": "snapshots", "restore": "restore catalog"}


def format_text(rep: DatabaseReport) -> list[str]:
    """The old report's lines for one database; a part that failed says why in its place."""
    lines = [f"{rep.name}:"]

    def failed(part: str) -> None:
        if part in rep.errors:
            lines.append(f"  Error getting information: {PART_NAMES[part]}: {rep.errors[part]}")

    failed("jobs")
    if rep.jobs is not None:
        for name, label in JOBS.items():
            job = rep.jobs.get(name)
            if job is None:
                lines.append(f"  {label}: not scheduled")
            else:
                lines.append(f"  {label}: {job.state}, last: {_when(job.last_start)}, "
                             f"duration: {job.duration or 'none'}, last failure: {_when(job.last_failure)}")
    failed("snapshots")
    if rep.snapshots is not None:
        s = rep.snapshots
        if s.count:
            lines.append(f"  Snapshots: {s.count}, latest: {_when(s.latest)}, oldest: {_when(s.oldest)}, "
                         f"last verified: {s.verified or 'none'}")
            lines += [f"  Pinned: {pin}" for pin in s.pins]
            lines += [f"  Archivelog gap: {gap}" for gap in s.gaps]
            if s.continuity and not s.gaps:
                lines.append(f"  Archivelog continuity: {s.continuity}")
        else:
            lines.append("  Snapshots: none")
    failed("restore")
    if rep.restore is not None:
        r = rep.restore
        lines.append(f"  Last successful restore: {_when(r.get('last_success'))}, "
                     f"last restore failure: {_when(r.get('last_fail'))}, "
                     f"last successful validation: {_when(r.get('last_validated'))}, "
                     f"avg difference from target (s): {_avg(r.get('avg_diff_seconds'))}, "
                     f"avg restore time (min): {_avg(r.get('avg_restore_minutes'))}")
    return lines


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def to_json(rep: DatabaseReport) -> dict[str, Any]:
    """One database as a JSON object; a part that could not be read is null."""
    doc: dict[str, Any] = {"database": rep.name}
    for name, key in JSON_JOB_KEYS.items():
        job = rep.jobs.get(name) if rep.jobs is not None else None
        doc[key] = asdict(job) if job is not None else None
    doc["snapshots"] = _jsonable(asdict(rep.snapshots)) if rep.snapshots is not None else None
    doc["restore"] = _jsonable(rep.restore) if rep.restore is not None else None
    doc["errors"] = dict(rep.errors)
    return doc


# -- command line ---------------------------------------------------------------

def parser() -> runner.ArgParser:
    p = runner.ArgParser("report.py", USAGE, description="Backups, snapshots and restore tests of every database.")
    p.add_argument("databases", nargs="?", help="comma-separated databases (default: all)")
    p.add_argument("--json", action="store_true", help="one JSON document instead of text")
    return p


def parse_args(argv: list[str]) -> tuple[list[str] | None, bool] | int:
    """(databases asked for or None for all, JSON wanted); an exit code after --help or a usage error."""
    args = runner.parse(parser(), argv)
    if isinstance(args, int):
        return args
    names = [n.strip() for n in args.databases.split(",") if n.strip()] if args.databases else None
    return names, args.json


class _LazyCatalog:
    """Opens the catalog on first use and remembers a failure, so it is tried once."""

    def __init__(self, config: Configuration):
        self.config = config
        self._catalog: Catalog | None = None
        self._error: Exception | None = None

    def __call__(self) -> Catalog:
        if self._error is not None:
            raise self._error
        if self._catalog is None:
            try:
                self._catalog = open_catalog(self.config, readonly=True)
            except Exception as exc:
                self._error = exc
                raise
        return self._catalog

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()


def main(argv: list[str] | None = None) -> int:
    runner.start()
    argv = sys.argv[1:] if argv is None else argv
    parsed = parse_args(argv)
    if isinstance(parsed, int):
        return parsed
    names, as_json = parsed
    # Results go to stdout; log records would only repeat the error lines the report prints.
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())
    return runner.guarded(lambda: report(names, as_json))


def report(names: list[str] | None, as_json: bool) -> int:
    """Each database's report on stdout (text or one JSON document); 2 when a section is misconfigured."""
    config = Configuration(locate())
    databases = config.database_sections()
    if names is not None:
        for n in names:
            config.for_section(n)       # an unknown name is a usage error naming the file
        databases = names
    catalog = _LazyCatalog(config)
    reports = []
    try:
        for db in databases:
            rep = gather(config, db, catalog)
            reports.append(rep)
            if not as_json:         # each database as soon as it is known: a slow one holds no other up
                show("\n".join(format_text(rep)))
    finally:
        catalog.close()
    if as_json:
        emit(Listing({"databases": [to_json(r) for r in reports]}, ()), as_json=True)
    return EXIT_USAGE if any(r.config_error for r in reports) else 0


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
