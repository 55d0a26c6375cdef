"""Restore test results as Prometheus metrics, for node_exporter's textfile collector.

node_exporter reads every ``*.prom`` file of its ``--collector.textfile.directory``
each scrape, so the file must never be seen half written: it is written to a
temporary file in the same directory and renamed over the old one
(``os.replace`` is atomic within a filesystem).

One autorestore run may restore a single database, yet the file must keep
every database's latest values; so the file's current series are parsed and
merged: a database in ``results`` gets new values, the others keep theirs.
The file belongs to autorestore: lines of other metric families are dropped.
A lock file beside it serialises concurrent writers (parallel restores), so
no run's update is lost between read and rename.

Series (label ``database``), all gauges:

* ``oib_autorestore_last_success_timestamp_seconds`` finish of the last
  successful restore (kept from the file when this run failed);
* ``oib_autorestore_last_run_timestamp_seconds`` finish of the last run,
  successful or not (alert when it stops moving);
* ``oib_autorestore_last_run_success`` 1 or 0;
* ``oib_autorestore_duration_seconds`` of the last run;
* ``oib_autorestore_verified_lag_seconds`` target time minus verified time
  of the last run (absent when the run did not get as far as verifying);
* ``oib_autorestore_validated`` 1 when the last run validated every block.

Times are Unix epoch seconds (the catalog's local wall-clock times are
interpreted in the host's zone).
"""
from __future__ import annotations

import fcntl
import math
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Iterable

from .catalog import RestoreResult

PREFIX = "oib_autorestore_"
LAST_SUCCESS = PREFIX + "last_success_timestamp_seconds"
LAST_RUN = PREFIX + "last_run_timestamp_seconds"
RUN_SUCCESS = PREFIX + "last_run_success"
DURATION = PREFIX + "duration_seconds"
LAG = PREFIX + "verified_lag_seconds"
VALIDATED = PREFIX + "validated"

# name → HELP text, in the order the file lists them.
FAMILIES: dict[str, str] = {
    LAST_SUCCESS: "Unix time the last successful restore test of the database finished.",
    LAST_RUN: "Unix time the last restore test of the database finished, successful or not.",
    RUN_SUCCESS: "1 if the last restore test of the database succeeded, else 0.",
    DURATION: "Duration of the last restore test of the database in seconds.",
    LAG: "Restore target time minus the time verified in the restored database, in seconds.",
    VALIDATED: "1 if the last restore test also validated every block of the database, else 0.",
}
# Families a new run replaces for its database even when it has no value for them.
PER_RUN = (LAST_RUN, RUN_SUCCESS, DURATION, LAG, VALIDATED)

Labels = tuple[tuple[str, str], ...]
Series = dict[str, dict[Labels, float]]     # family → labels → value

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)(?:\s+\S+)?\s*$")
_LABEL_NAME = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*\"")


# -- exposition format ------------------------------------------------------

def escape_label(value: str) -> str:
    """A label value as the exposition format writes it: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_labels(text: str) -> Labels:
    """``a="x",b="y\\"z"`` → ``(("a", "x"), ("b", 'y"z'))``.

    :raises ValueError: on malformed text.
    """
    labels: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _LABEL_NAME.match(text, pos)
        if not m:
            if text[pos:].strip(" ,") == "":
                break
            raise ValueError(f"bad label set: {text!r}")
        i = m.end()
        start = i
        while i < len(text) and text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        if i >= len(text):
            raise ValueError(f"unterminated label value: {text!r}")
        labels.append((m.group(1), _unescape(text[start:i])))
        pos = i + 1
        while pos < len(text) and text[pos] in " ,":
            pos += 1
    return tuple(sorted(labels))


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def parse_textfile(text: str) -> Series:
    """The samples of our families in ``text``; comments, other families and broken lines are skipped."""
    series: Series = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _SAMPLE.match(line.strip())
        if not m or m.group("name") not in FAMILIES:
            continue
        try:
            labels = parse_labels(m.group("labels") or "")
            value = float(m.group("value"))
        except ValueError:
            continue
        series.setdefault(m.group("name"), {})[labels] = value
    return series


def render(series: Series) -> str:
    """The file's text: each family with HELP and TYPE, samples sorted by labels."""
    lines: list[str] = []
    for name, help_text in FAMILIES.items():
        samples = series.get(name)
        if not samples:
            continue
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")
        for labels in sorted(samples):
            label_text = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels)
            lines.append(f"{name}{{{label_text}}} {format_value(samples[labels])}")
    return "\n".join(lines) + "\n" if lines else ""


# -- merging ----------------------------------------------------------------

def _epoch(value: datetime) -> float:
    # Naive catalog times are local wall-clock time; datetime.timestamp() reads them so.
    return float(int(value.timestamp()))


def merge(existing: Series, results: Iterable[RestoreResult]) -> Series:
    """``existing`` with the databases of ``results`` replaced by their latest run.

    A database's last success time moves only when ``results`` hold a newer
    success; everything else about it describes its latest run.
    """
    merged: Series = {name: dict(samples) for name, samples in existing.items()}
    latest: dict[str, RestoreResult] = {}
    last_ok: dict[str, RestoreResult] = {}
    for r in results:
        if r.db_unique_name not in latest or r.finish_time >= latest[r.db_unique_name].finish_time:
            latest[r.db_unique_name] = r
        if r.success and (r.db_unique_name not in last_ok
                          or r.finish_time >= last_ok[r.db_unique_name].finish_time):
            last_ok[r.db_unique_name] = r
    for db, run in latest.items():
        key: Labels = (("database", db),)
        for name in PER_RUN:
            merged.setdefault(name, {}).pop(key, None)
        merged[LAST_RUN][key] = _epoch(run.finish_time)
        merged[RUN_SUCCESS][key] = 1.0 if run.success else 0.0
        merged[DURATION][key] = float(round(run.duration_seconds, 3))
        if run.verification_diff_seconds is not None:
            merged[LAG][key] = float(run.verification_diff_seconds)
        merged[VALIDATED][key] = 1.0 if run.validated else 0.0
        if db in last_ok:
            new = _epoch(last_ok[db].finish_time)
            old = merged.get(LAST_SUCCESS, {}).get(key)
            merged.setdefault(LAST_SUCCESS, {})[key] = new if old is None else max(old, new)
    return merged


# -- the file ---------------------------------------------------------------

def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` with ``text`` so that no reader ever sees a partial file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file 0600; node_exporter usually runs as another user.
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dirfd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dirfd)     # make the rename itself survive a crash
    except OSError:
        pass
    finally:
        os.close(dirfd)


def write_textfile(path: Path | str, results: list[RestoreResult]) -> None:
    """Merge ``results`` into the textfile at ``path`` (created when missing)."""
    path = Path(path)
    lock_path = path.with_name(f".{path.name}.lock")
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            try:
                existing = parse_textfile(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                existing = {}
            write_atomic(path, render(merge(existing, results)))
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
