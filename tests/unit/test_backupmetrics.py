"""The daily backup's metrics: merging one run into the textfile's series, as a table."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from imagecopy import backupmetrics as bm
from imagecopy.promfile import parse_textfile, render
from storage.base import SnapshotInfo

START = datetime(2026, 11, 30, 3, 0, 0)
KEY = (("database", "orcl"),)
OTHER = (("database", "prod2"),)


def snap(day: int, unique: int | None) -> SnapshotInfo:
    return SnapshotInfo(f"orcl-{day}", datetime(2026, 11, day, 1, tzinfo=timezone.utc), 0, 10 << 20, unique)


def run(success: bool, failures: int | None = 0, snapshots=None) -> bm.BackupRun:
    return bm.BackupRun("orcl", START, START + timedelta(seconds=42.5), success, failures, snapshots)


@pytest.mark.parametrize("the_run, expected", [
    (run(True, 0, [snap(28, 100), snap(29, 200), snap(30, 300)]),
     {bm.RUN_SUCCESS: 1, bm.CHECK_FAILURES: 0, bm.SNAPSHOTS: 3, bm.NEWEST_UNIQUE: 300, bm.DURATION: 42.5}),
    (run(False, 2, [snap(30, None)]),          # unknown unique space: no series, never a guess
     {bm.RUN_SUCCESS: 0, bm.CHECK_FAILURES: 2, bm.SNAPSHOTS: 1, bm.NEWEST_UNIQUE: None}),
    (run(False, None, None),                    # failed before its checks, storage not asked
     {bm.RUN_SUCCESS: 0, bm.CHECK_FAILURES: None, bm.SNAPSHOTS: None}),
    (run(True, 0, []), {bm.SNAPSHOTS: 0, bm.NEWEST: None, bm.OLDEST: None}),
])
def test_merge(the_run, expected):
    existing = {bm.LAST_SUCCESS: {KEY: 1.0, OTHER: 2.0}, bm.NEWEST_UNIQUE: {KEY: 99.0},
                bm.RUN_SUCCESS: {OTHER: 1.0}}
    merged = bm.merge(existing, the_run)
    for family, value in expected.items():
        assert merged.get(family, {}).get(KEY) == value, family
    assert merged[bm.RUN_SUCCESS][OTHER] == 1.0                    # other databases keep theirs
    last_success = merged[bm.LAST_SUCCESS][KEY]
    assert last_success == (float(int(the_run.finished.timestamp())) if the_run.success else 1.0)


def test_render_and_parse_round_trip():
    merged = bm.merge({}, run(True, 0, [snap(29, 5), snap(30, 7)]))
    text = render(merged, bm.FAMILIES)
    assert "# TYPE oib_backup_last_run_success gauge" in text
    assert parse_textfile(text, bm.FAMILIES) == {k: v for k, v in merged.items() if v}
