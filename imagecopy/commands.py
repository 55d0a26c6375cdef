"""The one place that runs external programs.

Argument lists only (never a shell), output streamed line by line into the
session log as it arrives, and a failure raised with the lines that say why.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from .errors import CommandError

log = logging.getLogger(__name__)


@dataclass
class CommandResult:
    argv: list[str]
    returncode: int
    output: str


def run(argv: Sequence[str], *, env: Mapping[str, str] | None = None, input_text: str | None = None,
        check: bool = True, on_line: Callable[[str], None] | None = None, timeout: float | None = None,
        error_class: type[CommandError] = CommandError, describe: str | None = None) -> CommandResult:
    """Run ``argv``; stdout and stderr are merged, streamed to ``on_line`` (default: debug log).

    :raises CommandError: (or ``error_class``) when the program is missing or exits non-zero
        and ``check`` is set; ``details`` holds the last lines of its output.
    """
    argv = [str(a) for a in argv]
    name = describe or os.path.basename(argv[0])
    if os.sep not in argv[0] and shutil.which(argv[0]) is None:
        raise error_class(f"{name}: command not found: {argv[0]}")
    if os.sep in argv[0] and not os.access(argv[0], os.X_OK):
        raise error_class(f"{name}: not an executable file: {argv[0]}")
    sink = on_line or (lambda line: log.debug("%s", line))
    lines: list[str] = []
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(env) if env else None,
                                text=True, errors="replace")
    except OSError as exc:
        raise error_class(f"{name}: cannot start {argv[0]}: {exc.strerror}") from exc
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
        returncode = proc.wait(timeout=timeout)
    except BaseException:
        # Never leave a child behind: a killed backup must not keep RMAN running unsupervised.
        proc.kill()
        proc.wait()
        raise
    result = CommandResult(argv, returncode, "\n".join(lines))
    if check and returncode != 0:
        tail = [line for line in lines if line.strip()][-5:]
        raise error_class(f"{name} exited with code {returncode}", details=tail)
    return result
