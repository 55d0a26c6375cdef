"""What every successful daily backup must leave behind, checked at its end.

A daily job that exits 0 while its snapshot would not restore shows up weeks
later, at restore time.  The facts come from queries that already run in the
job's SQL*Plus sessions (no extra Oracle session): the image copies'
checkpoint SCNs before and after the refresh, the datafiles, the recovery
target recorded for the snapshot, and per redo thread the highest
``next_change#`` of the archivelogs in the backup area right after the log
switch that the snapshot captured.  The rules:

1. every datafile has an image copy after the refresh, rolled forward past
   its checkpoint before the refresh and not below the recovery target of the
   snapshot just taken (the next snapshot will hold these copies) — except on
   a physical standby, whose copies are at its applied SCN, which may lag the
   primary's target harmlessly;
2. the snapshot's archivelogs reach past its recovery target, on every redo
   thread (else a restore of it stops with RMAN-06054);
3. the snapshot this run took is the newest one on the storage, so it is the
   one that holds the copies as they were before the refresh.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

Checkpoints = Mapping[int, int]   # file# -> checkpoint SCN


def parse_pairs(values: Iterable[str]) -> dict[int, int]:
    """``"<key> <number>"`` marker values (``COPYSCN: 4 1203``) as a dict; the highest number wins."""
    out: dict[int, int] = {}
    for value in values:
        key, number = value.split()[:2]
        out[int(key)] = max(out.get(int(key), 0), int(number))
    return out


def copy_problems(before: Checkpoints, after: Checkpoints, datafiles: Iterable[int],
                  target_scn: int | None) -> list[str]:
    """Rule 1: the copies after the refresh against those before it and the snapshot's target."""
    problems = []
    for file_no in sorted(set(datafiles)):
        scn = after.get(file_no)
        if scn is None:
            problems.append(f"datafile {file_no} has no image copy after the refresh")
            continue
        if file_no in before and scn <= before[file_no]:
            problems.append(f"the image copy of datafile {file_no} was not rolled forward "
                            f"(checkpoint SCN {scn}, {before[file_no]} before the refresh)")
        elif target_scn is not None and scn < target_scn:
            problems.append(f"the image copy of datafile {file_no} is at SCN {scn}, below the recovery "
                            f"target {target_scn} of the snapshot just taken")
    return problems


def archivelog_problems(target_scn: int | None, archived_to: Mapping[int, int]) -> list[str]:
    """Rule 2: per thread, the backup area's archivelogs end past the recovery target."""
    if target_scn is None:
        return []
    if not archived_to:
        return [f"no archivelog in the backup area covers the recovery target SCN {target_scn}"]
    return [f"thread {thread}: the archivelogs in the backup area end at SCN {next_change}, not past the "
            f"recovery target {target_scn}" for thread, next_change in sorted(archived_to.items())
            if next_change <= target_scn]


def snapshot_problems(taken: str | None, newest: str | None) -> list[str]:
    """Rule 3: the snapshot taken before the refresh is the newest the storage lists."""
    if taken is None or taken == newest:
        return []
    return [f"snapshot {taken} taken before the refresh is not the newest on the storage ({newest or 'none'})"]
