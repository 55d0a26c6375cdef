"""What is left of a process group: the check that no process of a killed run outlives it."""
from __future__ import annotations

import os
import time
from pathlib import Path


def alive_in_group(pgid: int) -> list[int]:
    """PIDs of live (not zombie) processes whose process group is ``pgid``, read from /proc."""
    alive = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[2] == str(pgid) and fields[0] != "Z":
                alive.append(int(entry))
    return alive


def wait_group_gone(pgid: int, seconds: float = 1.0) -> list[int]:
    """Wait up to ``seconds`` for the group to empty; the PIDs still alive then."""
    deadline = time.monotonic() + seconds
    while alive_in_group(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive_in_group(pgid)
