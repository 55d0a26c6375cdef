"""What is left of a process group or session: the check that no process of a killed run outlives it."""
from __future__ import annotations

import os
import time
from pathlib import Path


def _alive(field: int, ident: int) -> list[int]:
    """PIDs of live (not zombie) processes whose /proc stat ``field`` (after the name) is ``ident``."""
    alive = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[field] == str(ident) and fields[0] != "Z":
                alive.append(int(entry))
    return alive


def alive_in_group(pgid: int) -> list[int]:
    """Live processes of process group ``pgid``."""
    return _alive(2, pgid)


def alive_in_session(sid: int) -> list[int]:
    """Live processes of session ``sid``: every descendant of a run started in a new session."""
    return _alive(3, sid)


def wait_group_gone(pgid: int, seconds: float = 1.0) -> list[int]:
    """Wait up to ``seconds`` for the group to empty; the PIDs still alive then."""
    deadline = time.monotonic() + seconds
    while alive_in_group(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive_in_group(pgid)
