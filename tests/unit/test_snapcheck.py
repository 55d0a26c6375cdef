"""verifysnapshots' verdicts (imagecopy/snapcheck.py) and the backup metrics' gap series."""
from __future__ import annotations

from datetime import datetime

import pytest

from imagecopy import backupmetrics
from imagecopy import snapcheck as sc
from imagecopy.continuity import FileState, LogRecord, Manifest

T = datetime(2026, 12, 1, 3, 0)
LOGS = tuple(LogRecord(1, s, 100 * s, 100 * (s + 1), None, None, f"archivelog/1_{s}.dbf", 10) for s in range(1, 6))


def snap(status: str, detail: str = "") -> sc.SnapshotCheck:
    return sc.SnapshotCheck(f"orcl-2026120{len(detail) % 9}T030000", status, detail or status.lower())


@pytest.mark.parametrize("statuses, code", [
    (["EMPTY", "OK", "OK"], 0),
    (["UNKNOWN", "OK", "OK"], 0),                        # an old snapshot without a manifest changes nothing
    (["OK", "OK", "UNKNOWN"], 1),                        # the newest without one: the job writes none
    (["OK", "GAP", "OK"], 2),
    (["UNKNOWN", "GAP", "UNKNOWN"], 2),
])
def test_nagios_state(statuses, code):
    report = sc.Report("orcl", snapshots=[snap(s, sc.NO_MANIFEST if s == "UNKNOWN" else "") for s in statuses])
    sc.judge_report(report)
    assert report.exit_code == code
    assert report.message.startswith(sc.NAGIOS[code] + ": ")


def test_an_unreadable_manifest_is_a_warning():
    report = sc.Report("orcl", snapshots=[snap("UNKNOWN", "x.json: cannot be read"), snap("OK")])
    sc.judge_report(report)
    assert report.exit_code == 1 and "cannot be read" in report.summary


@pytest.mark.parametrize("copies, target, probe, status, first_missing", [
    ({}, 450, None, "EMPTY", None),
    ({1: 150, 2: 180}, 449, None, "OK", None),
    ({1: 150}, 449, {"archivelog/1_3.dbf": FileState()}, "GAP", {"thread": 1, "sequence": 3}),
    ({1: 150}, 700, None, "GAP", {"thread": 1, "sequence": 6}),
    ({1: 150}, None, None, "UNKNOWN", None),
])
def test_judge(copies, target, probe, status, first_missing):
    manifest = Manifest("orcl", T, target, T, copies, LOGS)
    table = probe or {}
    verdict = sc.judge("s1", manifest, lambda g: table.get(g.path, FileState(size=g.size)))
    assert verdict.status == status
    assert verdict.to_dict()["first_missing"] == first_missing


def test_the_gap_series():
    run = backupmetrics.BackupRun("orcl", T, T, True, archivelog_gaps=2)
    merged = backupmetrics.merge({}, run)
    assert merged[backupmetrics.ARCHIVELOG_GAPS] == {(("database", "orcl"),): 2.0}
    unchecked = backupmetrics.merge(merged, backupmetrics.BackupRun("orcl", T, T, True))
    assert unchecked[backupmetrics.ARCHIVELOG_GAPS] == {}
