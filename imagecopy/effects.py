"""Where ``--dry-run`` is decided, once, for the backup job's own changes.

Oracle's side has its boundary in ``OracleExec`` (under a dry run it prints
the RMAN and SQL*Plus scripts instead of running them, and returns no
output).  Everything else the job changes — directories, ``autorestore.cfg``
and the manifest, snapshots, retention, the metrics file — and everything it
concludes from Oracle's output goes through :meth:`Effects.do`, so an action
reads as what it does, with no dry-run branches of its own.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from .output import show

T = TypeVar("T")


class Effects:
    """Run a change, or under a dry run say what it would have been (and run its ``dry`` stand-in)."""

    def __init__(self, dry_run: bool, say: Callable[[str], None] = show):
        self.dry_run = dry_run
        self._say = say

    def do(self, what: str, real: Callable[[], T], dry: Callable[[], T] | None = None) -> T | None:
        """``real()``; under a dry run ``dry()`` (a read-only preview) or None, after saying ``what``."""
        if not self.dry_run:
            return real()
        self._say(f"--- would {what} (not done: --dry-run) ---")
        return dry() if dry is not None else None
