"""Archivelog continuity (imagecopy/continuity.py): which logs recovery reads, and the first one missing."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from imagecopy import continuity as c
from imagecopy.continuity import FileState, LogRecord, Target

T0 = datetime(2026, 12, 1, 3, 0, 0)


def log(thread: int, seq: int, first: int, nxt: int, size: int | None = 1024) -> LogRecord:
    """A log of ``thread``/``seq`` holding the changes first..nxt-1, one minute per 100 SCNs."""
    return LogRecord(thread, seq, first, nxt, T0 + timedelta(minutes=first // 100),
                     T0 + timedelta(minutes=nxt // 100), f"archivelog/{thread}_{seq}_1.dbf", size)


# thread 1: sequences 10..14, 100 SCNs each, from SCN 1000 to 1500
ONE = [log(1, s, 1000 + (s - 10) * 100, 1100 + (s - 10) * 100) for s in range(10, 15)]
# RAC: thread 2 has the same sequence numbers over other SCN ranges
TWO = [log(2, s, 1000 + (s - 10) * 120, 1120 + (s - 10) * 120) for s in range(10, 15)]


def without(logs: list[LogRecord], thread: int, seq: int) -> list[LogRecord]:
    return [g for g in logs if (g.thread, g.sequence) != (thread, seq)]


def files(**states: FileState):
    """A probe: the given logs' states (key: the path without ``.dbf``, ``/`` as ``__``), the others as recorded."""
    table = {k.replace("__", "/") + ".dbf": v for k, v in states.items()}
    return lambda g: table.get(g.path, FileState(size=g.size))


@pytest.mark.parametrize("logs, checkpoint, target, probe, expected", [
    # complete: checkpoint inside sequence 10, target inside 13
    (ONE, 1050, Target(scn=1350), c.recorded, {1: (10, 13, None)}),
    # checkpoint exactly at a log's first change, target exactly a log's next change (until scn: changes below)
    (ONE, 1100, Target(scn=1300), c.recorded, {1: (11, 12, None)}),
    # a gap in the middle: the first missing sequence
    (without(ONE, 1, 12), 1050, Target(scn=1450), c.recorded, {1: (10, 14, 12)}),
    # two gaps: the first one is named
    (without(without(ONE, 1, 13), 1, 11), 1050, Target(scn=1450), c.recorded, {1: (10, 14, 11)}),
    # a gap after the target does not matter
    (without(ONE, 1, 14), 1050, Target(scn=1250), c.recorded, {1: (10, 12, None)}),
    # a gap before the checkpoint does not matter
    (without(ONE, 1, 10), 1150, Target(scn=1250), c.recorded, {1: (11, 12, None)}),
    # the log holding the checkpoint is gone
    (without(ONE, 1, 10), 1050, Target(scn=1250), c.recorded, {1: (10, None, 10)}),
    # the target lies beyond the last log
    (ONE, 1050, Target(scn=1600), c.recorded, {1: (10, None, 15)}),
    # every log ends before the checkpoint
    (ONE[:2], 1250, Target(scn=1300), c.recorded, {1: (None, None, 12)}),
    # RAC: two threads with the same sequence numbers; each judged on its own
    (ONE + TWO, 1050, Target(scn=1350), c.recorded, {1: (10, 13, None), 2: (10, 12, None)}),
    (ONE + without(TWO, 2, 11), 1050, Target(scn=1350), c.recorded, {1: (10, 13, None), 2: (10, 12, 11)}),
    (without(ONE, 1, 11) + TWO, 1050, Target(scn=1350), c.recorded, {1: (10, 13, 11), 2: (10, 12, None)}),
    # a file missing from the snapshot, of the wrong size, unreadable; missing when recorded
    (ONE, 1050, Target(scn=1350), files(archivelog__1_11_1=FileState()), {1: (10, 13, 11)}),
    (ONE, 1050, Target(scn=1350), files(archivelog__1_12_1=FileState(size=512)), {1: (10, 13, 12)}),
    (ONE, 1050, Target(scn=1350), files(archivelog__1_13_1=FileState(error="Permission denied")),
     {1: (10, 13, 13)}),
    (ONE[:1] + [log(1, 11, 1100, 1200, size=None)] + ONE[2:], 1050, Target(scn=1350), c.recorded,
     {1: (10, 13, 11)}),
    # a bad file outside the needed span does not matter
    (ONE, 1050, Target(scn=1250), files(archivelog__1_14_1=FileState()), {1: (10, 12, None)}),
    # a sequence recorded twice (copied again): one usable copy is enough
    (ONE + [LogRecord(1, 11, 1100, 1200, None, None, "archivelog/copy_11", 1024)], 1050, Target(scn=1350),
     files(archivelog__1_11_1=FileState()), {1: (10, 13, None)}),
    # a time target: the first log whose next time reaches it
    (ONE, 1050, Target(time=T0 + timedelta(minutes=12, seconds=30)), c.recorded, {1: (10, 12, None)}),
    (ONE, 1050, Target(time=T0 + timedelta(hours=2)), c.recorded, {1: (10, None, 15)}),
    # a thread's sequence 1 starting after the checkpoint (enabled later) lacks nothing before it
    (ONE + [log(2, 1, 1200, 1400)], 1050, Target(scn=1350), c.recorded, {1: (10, 13, None), 2: (1, 1, None)}),
])
def test_thread_verdicts(logs, checkpoint, target, probe, expected):
    result = c.check(logs, checkpoint, target, probe)
    got = {t.thread: (t.first, t.last, t.missing) for t in result.threads}
    assert got == expected
    assert result.ok == all(m is None for _, _, m in expected.values())
    assert result.gaps == sum(1 for _, _, m in expected.values() if m is not None)
    for t in result.threads:
        if t.missing is not None:
            assert f"sequence {t.missing} " in t.problem + " "


def test_copies_newer_than_an_scn_target_cannot_go_back():
    result = c.check(ONE, 1300, Target(scn=1250))
    assert not result.ok and "newer than the target" in result.first_problem


def test_no_log_at_all_is_a_problem():
    result = c.check([], 1050, Target(scn=1100))
    assert not result.ok and result.first_problem == "no archivelog is recorded" and result.gaps == 1


def test_problem_texts_name_the_reason():
    result = c.check(ONE, 1050, Target(scn=1350), files(archivelog__1_12_1=FileState(size=7)))
    assert result.first_problem == ("thread 1: sequence 12 has the wrong size: archivelog/1_12_1.dbf is 7 bytes, "
                                    "1024 recorded")
    beyond = c.check(ONE, 1050, Target(scn=1600)).threads[0]
    assert beyond.problem == "sequence 15 missing: the logs end at SCN 1500 (2026-12-01 03:15:00), before the " \
                             "target SCN 1600"


def test_manifest_round_trip(tmp_path: Path):
    m = c.Manifest("orcl", T0, 1350, T0 + timedelta(minutes=13), {1: 1050, 2: 1070}, tuple(ONE + TWO))
    path = tmp_path / c.MANIFEST
    c.write_manifest(path, m)
    assert c.read_manifest(path) == m
    assert c.read_manifest(path).checkpoint_scn == 1050
    assert c.read_manifest(tmp_path / "none.json") is None
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize("text", [
    "not json", "[]", '{"version": 99}', '{"version": 1, "db": "x"}',
    json.dumps({"version": 1, "db": "x", "written": "2026-12-01 03:00:00", "target": {"scn": -1, "time": None},
                "copies": {}, "archivelogs": []}),
])
def test_a_bad_manifest_is_a_clear_error(tmp_path: Path, text: str):
    path = tmp_path / c.MANIFEST
    path.write_text(text)
    with pytest.raises(c.ManifestError, match="not a manifest"):
        c.read_manifest(path)


def test_records_from_sql_lines(tmp_path: Path):
    area = tmp_path / "orcl"
    values = [f"1 12 1100 1200 20261201031100 20261201031200 {area}/archivelog/1_12_99.dbf",
              "2 3 5 9 20261201031100 20261201031200 /elsewhere/2_3_99.dbf", "garbage"]
    records = c.records_from_sql(values, area, lambda name: 4096 if "1_12" in name else None)
    assert records == [LogRecord(1, 12, 1100, 1200, datetime(2026, 12, 1, 3, 11), datetime(2026, 12, 1, 3, 12),
                                 "archivelog/1_12_99.dbf", 4096),
                       LogRecord(2, 3, 5, 9, datetime(2026, 12, 1, 3, 11), datetime(2026, 12, 1, 3, 12),
                                 "/elsewhere/2_3_99.dbf", None)]
