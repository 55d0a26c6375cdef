"""What every script does at start and on its way out: file modes, signals, one-line errors.

* ``umask 027``: logs, locks, ``autorestore.cfg``, ``init.ora``, the catalog and
  the snapshot metadata are never world-readable or writable (the metrics
  file is made 0644 explicitly, for the node exporter).
* SIGTERM becomes an exception, so ``finally`` blocks run: the lock is
  released and the children are killed (a default SIGTERM would skip both).
* Errors become one line: ``ERROR: <what>``; an OSError names its file.
"""
from __future__ import annotations

import os
import signal
from types import FrameType

UMASK = 0o027


class Terminated(BaseException):
    """SIGTERM (or SIGINT) arrived: unwind through every ``finally`` so clean-up runs.

    A BaseException, so the ``except Exception`` of a step does not swallow it.
    """


def start() -> None:
    """Call first in every script's ``main``."""
    os.umask(UMASK)


def raise_on_signals(signals: tuple[int, ...] = (signal.SIGTERM,)) -> None:
    """Turn ``signals`` into :class:`Terminated`."""
    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Terminated(f"received signal {signal.Signals(signum).name}")
    for signum in signals:
        signal.signal(signum, handler)


def lead_process_group() -> None:
    """Make this run the leader of its own process group, so that the group is the run.

    The lock records the group: a run that takes over a dead run's lock first makes
    sure no process of that group is left (see lock.py).  Not when this process is the
    foreground job of a terminal: the shell gave it its own group already, and leaving
    that group would keep Ctrl-C from reaching it.
    """
    if os.getpgrp() == os.getpid():
        return
    try:
        if os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp():
            return
    except OSError:
        pass
    try:
        os.setpgid(0, 0)
    except OSError:     # a session leader cannot move; its group is its own anyway
        pass


def kill_own_group() -> int:
    """SIGKILL every other process of this run's group (when this process leads it); how many.

    Called on every way out: whatever a child started (and did not take into a group of
    its own) does not outlive the run.  The other commands of a shell pipeline
    (``backup.py ... | tee``) share the group but are this process's siblings, children
    of the same shell: they are left alone.
    """
    me, parent = os.getpid(), os.getppid()
    if os.getpgrp() != me:
        return 0
    killed = 0
    for pid, ppid in group_members(me, with_parents=True):
        if pid == me or (ppid == parent and parent > 1):
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except OSError:
            pass
    return killed


def group_members(pgid: int, with_parents: bool = False) -> list:
    """The live processes of process group ``pgid`` (Linux /proc; empty elsewhere); with
    ``with_parents``, (pid, parent pid) pairs."""
    members: list = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'
        fields = stat[stat.rfind(")") + 2:].split()
        # a zombie has finished; it only waits for a parent to collect its status
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            members.append((int(entry), int(fields[1])) if with_parents else int(entry))
    return members


def describe_oserror(exc: OSError) -> str:
    """``<file>: <reason>`` for an OSError, without the errno noise."""
    reason = exc.strerror or str(exc)
    if exc.filename is not None:
        return f"{exc.filename}: {reason}"
    return reason


def one_line(text: str) -> str:
    """Collapse ``text`` to one line (a message may quote a value holding a newline)."""
    return " ".join(str(text).split())
