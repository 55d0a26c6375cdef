"""Shared pieces of the oracle-imagecopy-backup scripts.

The implementation lives in the ``imagecopy`` package, one module per job;
this module gathers the names the scripts use (and that storage drivers
written for the older toolset import from ``backupcommon``).
"""
from __future__ import annotations

from imagecopy.config import SCRIPT_DIR, Configuration, locate
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

__all__ = [
    "SCRIPT_DIR", "Configuration", "locate", "BackupError", "CommandError", "ConfigError", "LockError",
    "OracleError", "RestoreError", "SandboxError", "StorageError", "UsageError", "BackupLock", "redact",
    "remove_old_logs", "setup_logging", "OracleExec", "Templates", "size2str", "scriptpath",
]


def scriptpath() -> str:
    """The directory of the scripts (the old toolset's helper of the same name)."""
    return str(SCRIPT_DIR)
