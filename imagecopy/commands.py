"""The one place that runs external programs.

Argument lists only (never a shell), output streamed line by line into the
session log as it arrives, and a failure raised with the lines that say why.
"""
from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from .errors import CommandError

log = logging.getLogger(__name__)


@dataclass
class CommandResult:
    argv: list[str]
    returncode: int
    output: str


def child_env(env: Mapping[str, str] | None = None, keep_ospassword: bool = False) -> dict[str, str]:
    """The environment of a child: ``env`` (default: ours) without the OS password.

    OSPASSWORD goes to SQL*Plus on stdin; no child needs it in its environment, where
    /proc/<pid>/environ and any core dump would show it.  ``keep_ospassword`` is for
    exec_all.py running ``backup.py <db> setschedule``, which needs it.
    """
    result = dict(os.environ if env is None else env)
    if not keep_ospassword:
        result.pop("OSPASSWORD", None)
    return result


def _load_prctl() -> Callable[..., int] | None:
    """libc's prctl, loaded in the parent (loading a library after fork is not safe); None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()
PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn: the child gets SIGKILL when this process dies, even by ``kill -9``.

    Otherwise a killed backup leaves RMAN running, and the next run, taking over the
    stale lock, would refresh the same backup area at the same time.
    """
    if _PRCTL is None:
        return None
    prctl, parent = _PRCTL, os.getpid()

    def setup() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:      # the parent died before prctl: nobody would stop us
            os._exit(1)
    return setup


def run(argv: Sequence[str], *, env: Mapping[str, str] | None = None, input_text: str | None = None,
        check: bool = True, on_line: Callable[[str], None] | None = None, timeout: float | None = None,
        error_class: type[CommandError] = CommandError, describe: str | None = None,
        keep_ospassword: bool = False) -> CommandResult:
    """Run ``argv``; stdout and stderr are merged, streamed to ``on_line`` (default: debug log).

    The child dies with this process (:func:`die_with_parent`) and never sees OSPASSWORD
    (:func:`child_env`) unless ``keep_ospassword``.

    :raises CommandError: (or ``error_class``) when the program is missing or exits non-zero
        and ``check`` is set; ``details`` holds the last lines of its output.
    """
    argv = [str(a) for a in argv]
    name = describe or os.path.basename(argv[0])
    if os.sep not in argv[0] and shutil.which(argv[0]) is None:
        raise error_class(f"{name}: command not found: {argv[0]}")
    if os.sep in argv[0] and not os.access(argv[0], os.X_OK):
        raise error_class(f"{name}: not an executable file: {argv[0]}")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=child_env(env, keep_ospassword), text=True, errors="replace",
                                preexec_fn=die_with_parent())
    except OSError as exc:
        raise error_class(f"{name}: cannot start {argv[0]}: {exc.strerror}") from exc
    lines, returncode, expired = _supervise(proc, input_text, on_line or (lambda line: log.debug("%s", line)),
                                            timeout)
    if expired:
        raise error_class(f"{name} did not finish within {timeout:g} s and was stopped",
                          details=[line for line in lines if line.strip()][-5:])
    result = CommandResult(argv, returncode, "\n".join(lines))
    if check and returncode != 0:
        tail = [line for line in lines if line.strip()][-5:]
        raise error_class(f"{name} exited with code {returncode}", details=tail)
    return result


def _supervise(proc: subprocess.Popen, input_text: str | None, sink: Callable[[str], None],
               timeout: float | None) -> tuple[list[str], int, bool]:
    """Feed, read and wait for ``proc``: its output lines, its exit code, whether the timeout killed it.

    The timeout covers the whole run: a program that hangs without printing is killed
    too (waiting only after its output ended would wait for ever).
    """
    lines: list[str] = []
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        proc.kill()
    timer = threading.Timer(timeout, expire) if timeout is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        if input_text is not None:
            assert proc.stdin is not None
            try:
                proc.stdin.write(input_text)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # the program exited early; its output says why
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            lines.append(line)
            sink(line)
        returncode = proc.wait()
    except BaseException:
        # Never leave a child behind: a killed backup must not keep RMAN running unsupervised.
        proc.kill()
        proc.wait()
        raise
    finally:
        if timer is not None:
            timer.cancel()
    return lines, returncode, expired.is_set()
