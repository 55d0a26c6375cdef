"""Restore test results as Prometheus metrics, for node_exporter's textfile collector.

Written atomically through :mod:`imagecopy.promfile`.  One autorestore run
may restore a single database, yet the file must keep every database's
latest values; so the file's current series are merged: a database in
``results`` gets new values, the others keep theirs.  The file belongs to
autorestore: lines of other metric families are dropped.

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

from datetime import datetime
from pathlib import Path
from typing import Iterable

from . import promfile
from .catalog import RestoreResult
from .promfile import Labels, Series, escape_label, format_value, parse_labels, write_atomic  # noqa: F401 - API

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


def parse_textfile(text: str) -> Series:
    """The samples of autorestore's families in ``text``."""
    return promfile.parse_textfile(text, FAMILIES)


def render(series: Series) -> str:
    return promfile.render(series, FAMILIES)


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


def write_textfile(path: Path | str, results: list[RestoreResult]) -> None:
    """Merge ``results`` into the textfile at ``path`` (created when missing)."""
    promfile.update(path, FAMILIES, lambda existing: merge(existing, results))
