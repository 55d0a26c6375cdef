"""The simulated machine clock: the real clock plus an offset a test may set.

The offset lives in the state directory so every simulated process (rman,
sqlplus, the workload CLI) sees the same time.
"""
from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

DATE_FMT = "%Y-%m-%d %H:%M:%S"


def _offset_file(state: Path) -> Path:
    return state / "clock.json"


def offset(state: Path) -> float:
    try:
        return float(json.loads(_offset_file(state).read_text())["offset"])
    except (FileNotFoundError, ValueError, KeyError):
        return 0.0


def set_offset(state: Path, seconds: float) -> None:
    state.mkdir(parents=True, exist_ok=True)
    tmp = _offset_file(state).with_suffix(".tmp")
    tmp.write_text(json.dumps({"offset": seconds}))
    tmp.replace(_offset_file(state))


def now(state: Path) -> float:
    """Seconds since the epoch on the simulated clock."""
    return time.time() + offset(state)


def fmt(ts: float, pattern: str = DATE_FMT) -> str:
    """Format an epoch time as local time, the way Oracle's DATE prints it."""
    return datetime.fromtimestamp(ts).strftime(pattern)


def parse(text: str) -> float:
    """Parse ``yyyy-mm-dd hh24:mi:ss`` (local time) into epoch seconds."""
    return datetime.strptime(text.strip(), DATE_FMT).timestamp()
