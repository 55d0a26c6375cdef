"""The backup area lock: ``backup.lck`` created atomically with a hard link.

A hard link is atomic on NFS too, which is where backup areas live.  The lock
file says who holds it (host, pid, start time, a random token).  A run waits
up to ``maxlockwait`` minutes; a lock whose holder is a dead process on this
same host is taken over, and the log says so, once no process of the dead run's
process group (recorded in the lock) is left: two runs must never write the same
backup area.  The lock is released on every
way out of the ``with`` block.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import time
from pathlib import Path
from types import TracebackType

from .errors import LockError
from .runtime import group_members

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_survivors(holder: dict) -> list[int]:
    """Processes left of a dead holder's run: its process group, when the holder led it.

    A group the holder did not lead (started by a shell that keeps its own group) also
    holds unrelated processes, so only the holder's own group is looked at; its direct
    children die with it anyway (commands.die_with_parent).
    """
    pgid = holder.get("pgid")
    if not isinstance(pgid, int) or pgid != holder.get("pid") or pgid <= 1:
        return []
    members = group_members(pgid)
    if members:
        return members
    try:
        os.killpg(pgid, 0)      # off Linux, or /proc hidden: ask the kernel
    except ProcessLookupError:
        return []
    except PermissionError:
        return [pgid]
    return [pgid]


class BackupLock:
    """``with BackupLock(area, maxlockwait_minutes): ...``"""

    def __init__(self, directory: Path, maxlockwait: float = 30.0, name: str = "backup.lck"):
        self.directory = Path(directory)
        self.path = self.directory / name
        self.maxlockwait = maxlockwait
        self.token = secrets.token_hex(8)
        self.host = socket.gethostname()
        self.held = False

    def _holder(self) -> dict | None:
        try:
            text = self.path.read_text()
        except (FileNotFoundError, IsADirectoryError):
            return None
        except OSError:
            return {}
        try:
            return json.loads(text)
        except ValueError:
            # An old-toolset lock (uname, time, pid on three lines) or garbage: never assume stale.
            return {}

    def _try_link(self) -> bool:
        tmp = self.directory / f".{self.path.name}.{self.host}.{os.getpid()}.{self.token}"
        try:
            tmp.write_text(json.dumps({"host": self.host, "pid": os.getpid(), "pgid": os.getpgrp(),
                                       "token": self.token, "started": time.strftime("%Y-%m-%d %H:%M:%S")}))
            os.link(tmp, self.path)
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def _take_over_stale(self, holder: dict) -> bool:
        """Move a dead holder's lock aside; only one contender can win the rename."""
        aside = self.directory / f".{self.path.name}.stale.{self.token}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return False
        try:
            moved = json.loads(aside.read_text())
        except (OSError, ValueError):
            moved = {}
        if moved.get("token") != holder.get("token"):
            # Someone else took the stale lock over between our read and our rename: give it back.
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
            aside.unlink(missing_ok=True)
            return False
        aside.unlink(missing_ok=True)
        log.warning("Took over the stale lock %s of process %s on %s, which no longer exists",
                    self.path, holder.get("pid"), holder.get("host"))
        return True

    def acquire(self) -> None:
        if not self.directory.is_dir():
            raise LockError(f"Cannot lock {self.path}: directory {self.directory} does not exist")
        deadline = time.monotonic() + self.maxlockwait * 60
        announced = False
        while True:
            try:
                if self._try_link():
                    self.held = True
                    return
            except OSError as exc:
                raise LockError(f"Cannot create lock {self.path}: {exc.strerror}") from exc
            holder = self._holder()
            if holder and holder.get("host") == self.host and isinstance(holder.get("pid"), int) \
                    and not _alive(holder["pid"]):
                survivors = _group_survivors(holder)
                if not survivors:
                    if self._take_over_stale(holder):
                        continue
                elif not announced:
                    log.warning("The lock %s belongs to process %s, which no longer exists, but processes %s of "
                                "its run are still alive; waiting for them", self.path, holder["pid"],
                                ", ".join(str(p) for p in survivors[:10]))
            if not announced:
                log.info("Locked! %s is held by process %s on %s since %s; waiting up to %s minutes",
                         self.path, (holder or {}).get("pid", "?"), (holder or {}).get("host", "?"),
                         (holder or {}).get("started", "?"), self.maxlockwait)
                announced = True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockError(f"Did not get the lock {self.path} in {self.maxlockwait} minutes; "
                                f"held by process {(holder or {}).get('pid', '?')} "
                                f"on {(holder or {}).get('host', '?')}")
            time.sleep(min(POLL_SECONDS, remaining))

    def release(self) -> None:
        if not self.held:
            return
        holder = self._holder()
        if holder and holder.get("token") == self.token:
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self) -> BackupLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
