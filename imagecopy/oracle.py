"""Running rman and sqlplus from the configured Oracle home.

Scripts go on stdin (passwords never on the command line).  RMAN writes its
own output into the session log (``rman log <file> append``); SQL*Plus output
is read from its stdout, written raw into the session log, and returned for
parsing.  A failure raises :class:`OracleError` whose details are the
``RMAN-``/``ORA-``/``SP2-`` lines of the output.
"""
from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

from . import commands
from .errors import OracleError
from .logs import scrub
from .output import show

log = logging.getLogger(__name__)

ERROR_LINE = re.compile(r"^\s*(RMAN-\d+|ORA-\d+|SP2-\d+|PLS-\d+|TNS-\d+|LRM-\d+)")
SQLPLUS_PREAMBLE = "set define off\n"
# RMAN names each datafile it reads: the backup area is compared with their filesystems.
INPUT_DATAFILE = re.compile(r"^\s*input datafile file number=\d+ name=(\S.*?)\s*$")
# The three banner lines RMAN prints around every error stack carry no information.
NOISE = ("RMAN-00571", "RMAN-00569")


def error_lines(output: str) -> list[str]:
    """The Oracle error lines of ``output``, without the banner lines."""
    return [line.strip() for line in output.splitlines()
            if ERROR_LINE.match(line) and not line.strip().startswith(NOISE)]


class OracleExec:
    """rman/sqlplus runner bound to an Oracle home and a session log."""

    def __init__(self, oraclehome: Path, tnsadmin: Path | None = None, logfile: Path | None = None,
                 sid: str | None = None, dry_run: bool = False):
        self.oraclehome = Path(oraclehome)
        self.tnsadmin = tnsadmin
        self.logfile = logfile
        self.sid = sid
        self.dry_run = dry_run
        self.launches = {"rman": 0, "sqlplus": 0}
        self.datafile_names: list[str] = []     # the datafiles RMAN read in this session

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["ORACLE_HOME"] = str(self.oraclehome)
        env["NLS_DATE_FORMAT"] = "yyyy-mm-dd hh24:mi:ss"
        if self.tnsadmin is not None:
            env["TNS_ADMIN"] = str(self.tnsadmin)
        # Connections go through TNS aliases; a stray ORACLE_SID would aim "conn /" elsewhere.
        env.pop("ORACLE_SID", None)
        if self.sid:
            env["ORACLE_SID"] = self.sid
        return env

    def _binary(self, name: str) -> Path:
        path = self.oraclehome / "bin" / name
        if not path.exists():
            raise OracleError(f"{name} not found in Oracle home {self.oraclehome} (is [generic] oraclehome right?)")
        return path

    def _raw_to_log(self, line: str) -> None:
        if self.logfile is None:
            log.debug("%s", line)
            return
        with open(self.logfile, "a", encoding="utf-8") as fh:
            fh.write(scrub(line) + "\n")

    def _show_dry_run(self, tool: str, script: str) -> None:
        show(f"--- {tool} script (not run: --dry-run) ---")
        show(scrub(script).rstrip())
        show(f"--- end of {tool} script ---")

    def rman(self, script: str) -> str:
        """Run an RMAN script; returns what it wrote to the session log."""
        if self.dry_run:
            self._show_dry_run("RMAN", script)
            return ""
        binary = self._binary("rman")
        self.launches["rman"] += 1
        log.debug("RMAN execution starts")
        started = time.monotonic()
        if self.logfile is not None:
            offset = self.logfile.stat().st_size if self.logfile.exists() else 0
            argv = [str(binary), "log", str(self.logfile), "append"]
        else:
            offset, argv = 0, [str(binary)]
        result = commands.run(argv, env=self.env(), input_text=script, check=False, describe="RMAN")
        output = result.output
        if self.logfile is not None:
            with open(self.logfile, encoding="utf-8", errors="replace") as fh:
                fh.seek(offset)
                output = fh.read() + ("\n" + result.output if result.output else "")
        log.debug("RMAN execution time %.3fs", time.monotonic() - started)
        for line in output.splitlines():
            match = INPUT_DATAFILE.match(line)
            if match and match.group(1) not in self.datafile_names:
                self.datafile_names.append(match.group(1))
        if result.returncode != 0:
            # Raised, not logged: whoever handles the error logs it, once, with its details.
            raise OracleError(f"RMAN exited with code {result.returncode}",
                              details=error_lines(output) or output.strip().splitlines()[-5:])
        log.debug("RMAN execution successful")
        return output

    def sqlplus(self, script: str, quiet: bool = False) -> str:
        """Run a SQL*Plus script (``-S /nolog``); returns its stdout.

        ``quiet`` keeps the output out of the session log (used where the
        output is of no interest to a reader, never to hide errors: a failure
        still logs its error lines).
        """
        # Substitution off before anything else: an '&' in a password or a path must neither prompt
        # nor be replaced.
        script = f"{SQLPLUS_PREAMBLE}{script}"
        if self.dry_run:
            self._show_dry_run("SQL*Plus", script)
            return ""
        binary = self._binary("sqlplus")
        self.launches["sqlplus"] += 1
        log.debug("SQL*Plus execution starts")
        sink = (lambda line: None) if quiet else self._raw_to_log
        result = commands.run([str(binary), "-S", "/nolog"], env=self.env(), input_text=script, check=False,
                              on_line=sink, describe="SQL*Plus")
        if result.returncode != 0:
            details = error_lines(result.output) or result.output.strip().splitlines()[-5:]
            if quiet:
                for line in details:
                    self._raw_to_log(line)
            raise OracleError(f"SQL*Plus exited with code {result.returncode}", details=details)
        log.debug("SQL*Plus execution successful")
        return result.output


def marker_values(output: str, marker: str) -> list[str]:
    """Values of lines starting with ``marker`` (after stripping the blank padding SQL*Plus adds)."""
    return [line.strip()[len(marker):].strip() for line in output.splitlines() if line.strip().startswith(marker)]


def marker_value(output: str, marker: str) -> str | None:
    values = marker_values(output, marker)
    return values[0] if values else None
