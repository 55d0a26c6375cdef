"""``backup.py <db> setschedule``: DBMS_SCHEDULER jobs that run the backups.

Creates a locked user BACKUPEXEC (``C##BACKUPEXEC`` in a CDB root), an OS
credential from ``osuser`` and $OSPASSWORD, programs that run
``backup.py <db> imagecopywithsnap`` and ``backup.py <db> missingarchlog``,
their schedules, and the jobs.  The OS password goes to SQL*Plus on stdin in
a run of its own whose output is not logged, and is scrubbed from anything
logged: it reaches no log file.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UsageError
from .logs import redact
from .oracle import marker_value, marker_values

if TYPE_CHECKING:
    from .backupjob import BackupJob

log = logging.getLogger(__name__)


def backup_script() -> Path:
    """The backup.py a scheduler job should run: the one that is running now."""
    here = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if here is not None and here.name == "backup.py":
        return here
    return Path(__file__).resolve().parent.parent / "backup.py"


def config_argument(job: BackupJob, program: str, position: int) -> str:
    return (f"dbms_scheduler.define_program_argument(program_name => '{program}', argument_position => {position}, "
            f"argument_name => 'config', argument_type => 'VARCHAR2', "
            f"default_value => '--config={job.config.path.resolve()}');")


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
    t = job.t
    out = job.sqlplus(t.render("sql_cdb_detect.sql"))
    prefix = common_user_prefix(out)
    user = f"{prefix}BACKUPEXEC"
    log.info("Scheduler user: %s%s", user, " (container database)" if prefix else "")
    existing = marker_values(out, "SCHEDULEUSER: ")
    # A throwaway password for a locked account nobody logs in to; never logged.
    from .backupjob import new_user_password
    script = ""
    if user not in existing:
        script += t.render("sql_schedule_user.sql", scheduleuser=user, userpassword=new_user_password())
    script += t.render("sql_schedule_drop.sql", scheduleuser=user)
    job.sqlplus(script)
    log.info("Creating the OS credential for %s", job.config.get("osuser", "generic"))
    job.sqlplus(t.render("sql_schedule_credential.sql", scheduleuser=user, osuser=job.config.get("osuser", "generic"),
                         ospassword=password), quiet=True)
    with_config = bool(os.environ.get("BACKUPCONFIG"))
    values = {
        "scheduleuser": user,
        "backupscript": str(backup_script()),
        "numberofarguments": 3 if with_config else 2,
        "imagecopyconfigargument": config_argument(job, f"{user}.IMAGECOPY_PRG", 3) if with_config else "",
        "archlogconfigargument": config_argument(job, f"{user}.ARCHLOGBACKUP_PRG", 3) if with_config else "",
        "schedulebackup": job.config.get("schedulebackup"),
        "schedulearchlog": job.config.get("schedulearchlog"),
        "backupjobenabled": "true" if job.config.getbool("backupjobenabled") else "false",
    }
    log.info("Creating scheduler programs, schedules and jobs")
    job.sqlplus(t.render("sql_schedule_create.sql", **values))
    log.info("Jobs %s.IMAGECOPY_JOB (%s) and %s.ARCHLOGBACKUP_JOB (%s) created", user, values["schedulebackup"],
             user, values["schedulearchlog"])
