"""The daily job's own checks (imagecopy/invariants.py), as tables."""
from __future__ import annotations

import pytest

from imagecopy import invariants


@pytest.mark.parametrize("values, expected", [
    ([], {}),
    (["4 1203", "1 1203"], {1: 1203, 4: 1203}),
    (["4 1203", "4 1300", "4 1250"], {4: 1300}),      # several copies of one file: the newest counts
])
def test_parse_pairs(values, expected):
    assert invariants.parse_pairs(values) == expected


@pytest.mark.parametrize("before, after, datafiles, target, expected", [
    ({}, {1: 1010, 2: 1010}, [1, 2], None, []),                         # first run: level-0 copies
    ({1: 1010}, {1: 1030}, [1], 1020, []),                              # rolled past the target
    ({1: 1010}, {1: 1010}, [1], 1020, ["datafile 1 was not rolled forward"]),
    ({1: 1010}, {1: 1015}, [1], 1020, ["datafile 1 is at SCN 1015, below the recovery target 1020"]),
    ({1: 1010}, {1: 1030}, [1, 5], 1020, ["datafile 5 has no image copy"]),
    ({1: 1010, 7: 900}, {1: 1030}, [1], 1020, []),                      # a dropped datafile's copy went
    ({}, {5: 1030}, [5], 1020, []),                                     # a new datafile's first copy
])
def test_copy_problems(before, after, datafiles, target, expected):
    problems = invariants.copy_problems(before, after, datafiles, target)
    assert len(problems) == len(expected)
    for problem, fragment in zip(problems, expected):
        assert fragment in problem


@pytest.mark.parametrize("target, archived_to, expected", [
    (None, {}, []),                                   # the first snapshot has no target
    (1020, {1: 1021}, []),
    (1020, {1: 1020}, ["thread 1"]),                  # next_change# is the first SCN *not* in the log
    (1020, {}, ["no archivelog"]),
    (1020, {1: 1030, 2: 1019}, ["thread 2"]),         # RAC: every thread must reach past the target
    (1020, {1: 1030, 2: 1025}, []),
])
def test_archivelog_problems(target, archived_to, expected):
    problems = invariants.archivelog_problems(target, archived_to)
    assert len(problems) == len(expected)
    for problem, fragment in zip(problems, expected):
        assert fragment in problem


@pytest.mark.parametrize("taken, newest, bad", [
    (None, "orcl-20261201T030000", False),            # dosnapshot off
    ("orcl-20261201T030000", "orcl-20261201T030000", False),
    ("orcl-20261201T030000", "orcl-20261202T030000", True),
    ("orcl-20261201T030000", None, True),
])
def test_snapshot_problems(taken, newest, bad):
    assert bool(invariants.snapshot_problems(taken, newest)) is bad
