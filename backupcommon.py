"""Shared pieces of the oracle-imagecopy-backup scripts, under the old toolset's names.

The implementation lives in the ``imagecopy`` package, one module per job,
and in ``storage``; this module gathers the names the scripts use, and the
names a storage driver written for the older toolset imports:
``SnapHandler``, ``Configuration`` (class-level ``get(param, section)``),
``scriptpath``, ``getconfigname``, ``info``, ``debug``, ``error``,
``exception`` and ``size2str``.  Those are thin adapters over today's code
(``storage.legacy``); ``imagecopy.config.Configuration`` is the configuration
class the scripts themselves use.
"""
from __future__ import annotations

from imagecopy.config import SCRIPT_DIR, locate
from imagecopy.errors import (
    BackupError,
    CommandError,
    ConfigError,
    LockError,
    OracleError,
    RestoreError,
    SandboxError,
    StorageError,
    UsageError,
)
from imagecopy.lock import BackupLock
from imagecopy.logs import redact, remove_old_logs
from imagecopy.logs import setup as setup_logging
from imagecopy.oracle import OracleExec
from imagecopy.templates import Templates
from imagecopy.units import size2str
from storage.legacy import (
    Configuration,
    SnapHandler,
    debug,
    error,
    exception,
    getconfigname,
    info,
    scriptpath,
)

__all__ = [
    "SCRIPT_DIR", "Configuration", "locate", "BackupError", "CommandError", "ConfigError", "LockError",
    "OracleError", "RestoreError", "SandboxError", "StorageError", "UsageError", "BackupLock", "redact",
    "remove_old_logs", "setup_logging", "OracleExec", "Templates", "size2str", "scriptpath", "SnapHandler",
    "getconfigname", "info", "debug", "error", "exception",
]
