"""Retention: the pure plan() over tables of snapshots, and SnapHandler.clean() on an in-memory driver."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from imagecopy.config import Configuration
from storage.base import CloneInfo, SnapshotInfo
from storage.legacy import SnapHandler as LegacySnapHandler
from storage.retention import HAS_CLONE, plan

NOW = datetime(2026, 11, 15, 12, 0, 0, tzinfo=timezone.utc)


def snap(stamp: str, clones: int = 0, tz: timezone = timezone.utc) -> SnapshotInfo:
    """A snapshot created at ``stamp`` ('YYYY-mm-dd HH:MM:SS', in ``tz``), id derived from it."""
    created = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
    return SnapshotInfo(f"orcl-{created:%Y%m%dT%H%M%S}", created, clones, 1000, 10)


def ago(days: float, clones: int = 0) -> SnapshotInfo:
    created = NOW - timedelta(days=days)
    return SnapshotInfo(f"orcl-{created:%Y%m%dT%H%M%S}", created, clones, 1000, 10)


# Each case: snapshots (any order), days, months, expected [(drop, reason start)] oldest first.
CASES = {
    "empty list": ([], 7, 0, []),
    "one new snapshot": ([ago(1)], 7, 0, [(False, "within 7 days")]),
    "one old snapshot is the newest": ([ago(100)], 7, 0, [(False, "newest snapshot, never dropped (100 days old)")]),
    "exactly the expiration age is kept": ([ago(7), ago(1)], 7, 0, [(False, "within 7 days"), (False, "within")]),
    "days expiry without months": (
        [ago(30), ago(20), ago(10), ago(2)], 7, 0,
        [(True, "expired: 30 days old"), (True, "expired: 20 days old"), (True, "expired: 10 days old"),
         (False, "within 7 days")]),
    "everything old: the newest stays": (
        [ago(400), ago(390), ago(380)], 7, 12,
        [(True, "expired: 400 days old, older than 12 months (372 days)"),
         (True, "expired: 390 days old, older than 12 months"), (False, "newest snapshot")]),
    "monthly keep across month ends": (
        [snap("2026-09-10 10:00:00"), snap("2026-09-30 22:00:00"), snap("2026-10-05 10:00:00"),
         snap("2026-10-31 23:59:59"), snap("2026-11-01 00:00:00"), snap("2026-11-14 10:00:00")], 7, 3,
        [(True, "expired: 66 days old, not the newest of 2026-09"), (False, "monthly keep: newest of 2026-09"),
         (True, "expired: 41 days old, not the newest of 2026-10"), (False, "monthly keep: newest of 2026-10"),
         (True, "expired: 14 days old, not the newest of 2026-11"), (False, "within 7 days")]),
    "months expiry drops old monthlies": (
        [snap("2026-08-31 10:00:00"), snap("2026-09-30 10:00:00"), snap("2026-10-31 10:00:00"),
         snap("2026-11-14 10:00:00")], 7, 1,
        [(True, "expired: 76 days old, older than 1 month (31 days)"),
         (True, "expired: 46 days old, older than 1 month "), (False, "monthly keep: newest of 2026-10"),
         (False, "within 7 days")]),
    "a clone holds a snapshot that would go": (
        [ago(30, clones=1), ago(20), ago(1)], 7, 0,
        [(False, HAS_CLONE), (True, "expired: 20 days old"), (False, "within 7 days")]),
    "a clone on a kept snapshot keeps its own reason": (
        [ago(20), ago(2, clones=2)], 7, 0, [(True, "expired"), (False, "within 7 days")]),
    "calendar month is the UTC month": (
        # 01:00 on Nov 1st at +02:00 is Oct 31st in UTC: it is October's newest, not November's.
        [snap("2026-10-20 10:00:00"), snap("2026-11-01 01:00:00", tz=timezone(timedelta(hours=2))),
         snap("2026-11-03 10:00:00"), snap("2026-11-14 10:00:00")], 7, 2,
        [(True, "expired: 26 days old, not the newest of 2026-10"), (False, "monthly keep: newest of 2026-10"),
         (True, "expired: 12 days old, not the newest of 2026-11"), (False, "within 7 days")]),
    "input order does not matter": (
        [ago(1), ago(30), ago(20)], 7, 0,
        [(True, "expired: 30 days old"), (True, "expired: 20 days old"), (False, "within 7 days")]),
}


@pytest.mark.parametrize("snapshots,days,months,expected", list(CASES.values()), ids=list(CASES))
def test_plan(snapshots: list[SnapshotInfo], days: int, months: int, expected: list[tuple[bool, str]]) -> None:
    decisions = plan(snapshots, NOW, days, months)
    assert [d.snapid for d in decisions] == [s.id for s in sorted(snapshots, key=lambda s: s.creation)]
    assert [(d.drop, d.reason[:len(reason)]) for d, (_, reason) in zip(decisions, expected)] == expected
    assert len(decisions) == len(expected)


def test_newest_kept_even_when_clock_is_far_ahead() -> None:
    snaps = [ago(3), ago(2), ago(1)]
    decisions = plan(snaps, NOW + timedelta(days=3650), 7, 0)
    assert [d.drop for d in decisions] == [True, True, False]
    assert decisions[-1].reason.startswith("newest")


def test_naive_now_is_utc_and_ties_are_ordered_by_id() -> None:
    created = NOW - timedelta(days=30)
    a = SnapshotInfo("orcl-b", created, 0, 1, 1)
    b = SnapshotInfo("orcl-a", created, 0, 1, 1)
    decisions = plan([a, b], NOW.replace(tzinfo=None), 7, 0)
    assert [(d.snapid, d.drop) for d in decisions] == [("orcl-a", True), ("orcl-b", False)]


def test_negative_expiration_is_refused() -> None:
    with pytest.raises(ValueError):
        plan([ago(1)], NOW, -1, 0)


class MemorySnapper(LegacySnapHandler):
    """An in-memory driver in the old shape (the old toolset's base class, as backupcommon gives it):
    getsnapinfo returns the old dicts with naive UTC times."""

    def __init__(self, config: Configuration, dbname: str, snaps: dict[str, tuple[datetime, int]],
                 failing: frozenset[str] = frozenset()):
        super().__init__(config, dbname)
        self.snaps = dict(snaps)
        self.failing = failing
        self.dropped: list[str] = []

    def listsnapshots(self, sortbycreation: bool = False, sortreverse: bool = False) -> list:
        names = sorted(self.snaps, key=lambda n: self.snaps[n][0]) if sortbycreation else list(self.snaps)
        return [{"name": n} for n in (reversed(names) if sortreverse else names)]

    def getsnapinfo(self, s):  # the old dict shape, naive UTC creation
        created, clones = self.snaps[s["name"]]
        return {"id": s["name"], "creation": created.replace(tzinfo=None), "numclones": clones,
                "space_total": 2 << 20, "space_unique": 300 << 10}

    def snap(self) -> str:
        raise NotImplementedError

    def dropsnap(self, snapid: str) -> None:
        if snapid in self.failing:
            raise RuntimeError("device busy")
        del self.snaps[snapid]
        self.dropped.append(snapid)

    def clone(self, snapid: str, clonename: str) -> None:
        raise NotImplementedError

    def dropclone(self, clonename: str) -> None:
        raise NotImplementedError

    def filesystem_info(self, name=None) -> CloneInfo:
        return CloneInfo(self.dbname, None, "/export/orcl")

    def listclones(self) -> list:
        return []

    def mountstring(self, name: str) -> str:
        return f"zfs:/export/{name}"

    def createvolume(self) -> None:
        pass


@pytest.fixture
def memory_config(tmp_path: Path) -> Configuration:
    cfg = tmp_path / "backup.cfg"
    cfg.write_text("[generic]\nbackupdest: /b\n[orcl]\nsnapexpirationdays: 7\n", encoding="utf-8")
    return Configuration(cfg, section="orcl", env={})


def _old_snaps() -> dict[str, tuple[datetime, int]]:
    return {"orcl-1": (NOW - timedelta(days=30), 0), "orcl-2": (NOW - timedelta(days=20), 1),
            "orcl-3": (NOW - timedelta(days=10), 0), "orcl-4": (NOW - timedelta(days=1), 0)}


def test_clean_dry_run_drops_nothing_and_explains(memory_config: Configuration) -> None:
    snapper = MemorySnapper(memory_config, "orcl", _old_snaps())
    results = snapper.clean(now=NOW, dry_run=True)
    assert snapper.dropped == []
    assert [(r.snapid, r.status, r.dropped) for r in results] == [
        ("orcl-1", "would drop", False), ("orcl-2", "has a clone", False),
        ("orcl-3", "would drop", False), ("orcl-4", "valid", False)]
    assert results[0].reason == "expired: 30 days old"
    assert results[3].reason == "within 7 days"
    created = (NOW - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    assert results[0].infostring == f"orcl-1 [{created} UTC] total=2MB unique=300kB clones=0 would drop"


def test_clean_reports_a_failed_drop_and_continues(memory_config: Configuration) -> None:
    snapper = MemorySnapper(memory_config, "orcl", _old_snaps(), failing=frozenset({"orcl-1"}))
    results = snapper.clean(now=NOW)
    assert [r.status for r in results] == ["DROP FAILED", "has a clone", "dropped", "valid"]
    assert snapper.dropped == ["orcl-3"]
    assert results[0].infostring.endswith(" DROP FAILED")
    assert results[2].dropped is True


def test_clean_applies_months_from_the_database_section(tmp_path: Path) -> None:
    cfg = tmp_path / "backup.cfg"
    cfg.write_text("[generic]\nbackupdest: /b\n[orcl]\nsnapexpirationdays: 7\nsnapexpirationmonths: 2\n",
                   encoding="utf-8")
    snaps = {"orcl-sep": (datetime(2026, 9, 30, tzinfo=timezone.utc), 0),
             "orcl-oct": (datetime(2026, 10, 20, tzinfo=timezone.utc), 0),
             "orcl-nov": (datetime(2026, 11, 14, tzinfo=timezone.utc), 0)}
    snapper = MemorySnapper(Configuration(cfg, section="orcl", env={}), "orcl", snaps)
    assert [r.status for r in snapper.clean(now=NOW)] == ["valid", "valid", "valid"]
