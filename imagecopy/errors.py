"""One exception tree; each class carries the exit code the scripts return.

Only a script's ``main`` turns these into an exit status and a one-line
message; library code raises, never exits.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2      # bad arguments or configuration, lock not obtained (as the old toolset)
EXIT_SANDBOX = 3    # autorestore refused: the host is not declared a sandbox


class BackupError(Exception):
    """Base of every error the toolset reports to its user."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []

    def __str__(self) -> str:
        return self.message


class UsageError(BackupError):
    exit_code = EXIT_USAGE


class ConfigError(BackupError):
    """Missing file, section or key, or a value of the wrong type."""

    exit_code = EXIT_USAGE


class LockError(BackupError):
    """Another run holds the lock and did not release it in time."""

    exit_code = EXIT_USAGE


class CommandError(BackupError):
    """An external command failed; ``details`` holds its telling output lines."""


class OracleError(CommandError):
    """rman or sqlplus failed; ``details`` holds the RMAN-/ORA- lines of its output."""


class StorageError(BackupError):
    """The storage refused or failed an operation."""


class BackupInvariantError(BackupError):
    """The daily job ran to its end, but what it left would not restore (see imagecopy/invariants.py)."""


class RestoreError(BackupError):
    """A restore did not produce a database that passed its checks."""


class SandboxError(BackupError):
    exit_code = EXIT_SANDBOX
