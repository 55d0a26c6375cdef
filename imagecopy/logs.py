"""Session logs: one file per run that RMAN and SQL*Plus append to as well.

The file gets every level with the old toolset's layout
(``2016-11-08 21:53:24,140 DEBUG    orcl            message``); the screen
gets INFO and above with a short time.  Old logs are removed after
``logretention`` days.  Secrets registered with :func:`redact` never reach
either.
"""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from .runtime import one_line

FILE_FORMAT = "%(asctime)s %(levelname)-8s %(name)-15s %(message)s"
SCREEN_FORMAT = "%(asctime)s %(levelname)-8s %(name)-15s %(message)s"
ROOT = "oib"

_secrets: set[str] = set()


def redact(secret: str | None) -> None:
    """Register a value that must never be written to a log or the screen."""
    if secret:
        _secrets.add(secret)


def scrub(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "********")
    return text


class _Scrubber(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            record.msg = scrub(record.getMessage())
            record.args = None
        return True


class _LogFileHandler(logging.FileHandler):
    """A session log file that, when it cannot be written (disk full, file system gone), remembers
    why instead of printing a traceback for every record: the script says so in its one error line
    (:func:`log_write_failure`) and does not exit 0."""

    failed: str | None = None

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        if _LogFileHandler.failed is None:
            reason = getattr(exc, "strerror", None) or str(exc)
            _LogFileHandler.failed = one_line(f"{self.baseFilename}: {reason}")


def log_write_failure() -> str | None:
    """``<file>: <reason>`` when a session log could not be written in this process, else None."""
    return _LogFileHandler.failed


def session_logger(name: str) -> logging.Logger:
    """The logger of one database's session (``oib.<name>``); library modules log under ``oib``."""
    return logging.getLogger(f"{ROOT}.{name}") if name else logging.getLogger(ROOT)


class _NameOnly(logging.Formatter):
    """Show the database name as the logger name, as the old logs did."""

    def __init__(self, fmt: str, datefmt: str | None, label: str):
        super().__init__(fmt, datefmt)
        self.label = label

    def format(self, record: logging.LogRecord) -> str:
        record.name = self.label
        return super().format(record)


def setup(label: str, logfile: Path | None = None, screen: bool = True, verbose: bool = False) -> logging.Logger:
    """Route the toolset's logging to ``logfile`` (all levels) and stdout (INFO).

    Library modules log through ``logging.getLogger(__name__)``; their records
    reach the same handlers because the root logger carries them.
    """
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_oib", False):
            root.removeHandler(h)
            h.close()
    root.setLevel(logging.DEBUG)
    scrubber = _Scrubber()
    if screen:
        sh = logging.StreamHandler(sys.stdout)
        sh.setLevel(logging.DEBUG if verbose else logging.INFO)
        sh.setFormatter(_NameOnly(SCREEN_FORMAT, "%H:%M:%S", label))
        sh.addFilter(scrubber)
        sh._oib = True  # type: ignore[attr-defined]
        root.addHandler(sh)
    if logfile is not None:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        fh = _LogFileHandler(logfile, mode="a", encoding="utf-8")
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(_NameOnly(FILE_FORMAT, None, label))
        fh.addFilter(scrubber)
        fh._oib = True  # type: ignore[attr-defined]
        root.addHandler(fh)
    return session_logger(label)


def close() -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_oib", False):
            root.removeHandler(h)
            try:
                h.flush()
                h.close()
            except OSError:     # a full disk: already said once by the handler
                pass


def remove_old_logs(directory: Path, days: int, log: logging.Logger) -> int:
    """Delete ``*.log`` files older than ``days``; returns how many."""
    cutoff = time.time() - days * 86400
    removed = 0
    if not directory.is_dir():
        return 0
    for path in directory.glob("*.log"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                log.debug("Removing log: %s", path)
                path.unlink()
                removed += 1
        except OSError as exc:
            log.warning("Cannot remove old log %s: %s", path, exc)
    return removed
