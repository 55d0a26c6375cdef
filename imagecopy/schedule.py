"""``backup.py <db> setschedule``: DBMS_SCHEDULER jobs that run the backups.

Creates a locked user BACKUPEXEC (``C##BACKUPEXEC`` in a CDB root), an OS
credential from ``osuser`` and $OSPASSWORD, programs that run
``backup.py <db> imagecopywithsnap`` and ``backup.py <db> missingarchlog``
(the installed ``backup`` command when installed with pip),
their schedules, and the jobs.  The OS password goes to SQL*Plus on stdin in
a run of its own whose output is not logged, and is scrubbed from anything
logged: it reaches no log file.
"""
from __future__ import annotations

import logging
import os
import secrets
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

from .config import SCRIPT_DIR, is_checkout
from .errors import ConfigError, UsageError
from .logs import redact
from .oracle import marker_value, marker_values
from .quoting import literal, literal_body

if TYPE_CHECKING:
    from .backupjob import BackupJob

log = logging.getLogger(__name__)


def backup_script() -> Path:
    """The program the scheduler jobs run, as an absolute path.

    In a checkout: the backup.py that is running now (else the one beside the
    scripts).  Installed with pip, backup.py is a module inside site-packages,
    not a program; the jobs run the installed ``backup`` command instead: the
    one running now, else the one in this installation's scripts directory,
    else the one on $PATH.

    :raises ConfigError: when installed and no ``backup`` command can be found.
    """
    here = Path(sys.argv[0]).absolute() if sys.argv and sys.argv[0] else None
    if here is not None and here.name == "backup.py":
        return here.resolve()
    if is_checkout():
        return SCRIPT_DIR / "backup.py"
    candidates: list[Path] = []
    if here is not None and here.name == "backup":
        candidates.append(here)
    for scheme in (None, f"{os.name}_user"):
        try:
            scripts = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        candidates.append(Path(scripts) / "backup")
    on_path = shutil.which("backup")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            # Absolute, not resolved: a venv's bin/python symlink must stay the venv's.
            return candidate.absolute()
    raise ConfigError("cannot find the installed 'backup' command for the scheduler programs "
                      f"(looked for {', '.join(str(c) for c in candidates)})")


def config_argument(job: BackupJob, program: str, position: int) -> str:
    config = literal(f"--config={job.config.path.resolve()}", "the configuration file's path")
    return (f"dbms_scheduler.define_program_argument(program_name => '{program}', argument_position => {position}, "
            f"argument_name => 'config', argument_type => 'VARCHAR2', default_value => {config});")


def common_user_prefix(output: str) -> str:
    """'' for a non-CDB; the CDB's common-user prefix (C## unless set otherwise) for a CDB."""
    if marker_value(output, "CDB-PARAM: ") != "TRUE":
        return ""
    return marker_value(output, "CDB-PREFIX: ") or "C##"


def set_schedule(job: BackupJob) -> None:
    password = os.environ.get("OSPASSWORD")
    if not password:
        raise UsageError("Environment variable OSPASSWORD must be set.")
    redact(password)
    redact(literal_body(password, "OSPASSWORD"))    # the form the script holds, should it ever be shown
    t = job.t
    out = job.sqlplus(t.render("sql_cdb_detect.sql"))
    prefix = common_user_prefix(out)
    user = f"{prefix}BACKUPEXEC"
    log.info("Scheduler user: %s%s", user, " (container database)" if prefix else "")
    existing = marker_values(out, "SCHEDULEUSER: ")
    script = ""
    if user not in existing:
        script += t.render("sql_schedule_user.sql", scheduleuser=user, userpassword=new_user_password())
    script += t.render("sql_schedule_drop.sql", scheduleuser=user)
    job.sqlplus(script)
    log.info("Creating the OS credential for %s", job.config.get("osuser", "generic"))
    job.sqlplus(t.render("sql_schedule_credential.sql", scheduleuser=user,
                         osuser=literal_body(job.config.get("osuser", "generic"), "[generic] osuser"),
                         ospassword=literal_body(password, "OSPASSWORD")), quiet=True)
    with_config = bool(os.environ.get("BACKUPCONFIG"))
    values = {
        "scheduleuser": user,
        "backupscript": literal_body(backup_script(), "the backup program's path"),
        "configname": literal_body(job.ctx.db, "the database name"),
        "numberofarguments": 3 if with_config else 2,
        "imagecopyconfigargument": config_argument(job, f"{user}.IMAGECOPY_PRG", 3) if with_config else "",
        "archlogconfigargument": config_argument(job, f"{user}.ARCHLOGBACKUP_PRG", 3) if with_config else "",
        "schedulebackup": literal_body(job.config.get("schedulebackup"), "schedulebackup"),
        "schedulearchlog": literal_body(job.config.get("schedulearchlog"), "schedulearchlog"),
        "backupjobenabled": "true" if job.config.getbool("backupjobenabled") else "false",
    }
    log.info("Creating scheduler programs, schedules and jobs")
    job.sqlplus(t.render("sql_schedule_create.sql", **values))
    log.info("Jobs %s.IMAGECOPY_JOB (%s) and %s.ARCHLOGBACKUP_JOB (%s) created", user, values["schedulebackup"],
             user, values["schedulearchlog"])

def new_user_password() -> str:
    """A throwaway password for the locked scheduler user (nobody logs in as it); never logged."""
    password = "B" + secrets.token_hex(12)
    redact(password)
    return password
