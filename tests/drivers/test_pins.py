"""Pins: snapshots retention keeps whatever its rule says, with a reason; the last verified snapshot."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from imagecopy.errors import StorageError
from storage.retention import VERIFIED, Decision, Pin, apply_pins

NOW = datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc)     # already December 1st in Helsinki


# Each case: pins, zone, the decisions after pins (the rule dropped a and b, kept c).
CASES = {
    "no pins": ([], timezone.utc, [(True, "expired"), (True, "expired"), (False, "within 7 days")]),
    "a pin without end keeps": ([Pin("a", "audit")], timezone.utc,
                                [(False, "pinned: audit"), (True, "expired"), (False, "within 7 days")]),
    "a pin until a later day keeps": (
        [Pin("b", "legal hold", date(2027, 6, 30))], timezone.utc,
        [(True, "expired"), (False, "pinned until 2027-06-30: legal hold"), (False, "within 7 days")]),
    "a pin is active through its last day": (
        [Pin("a", "month end", date(2026, 11, 30))], timezone.utc,
        [(False, "pinned until 2026-11-30: month end"), (True, "expired"), (False, "within 7 days")]),
    "... in the retention zone": (
        [Pin("a", "month end", date(2026, 11, 30))], ZoneInfo("Europe/Helsinki"),
        [(True, "expired"), (True, "expired"), (False, "within 7 days")]),
    "an expired pin no longer protects": (
        [Pin("a", "old audit", date(2026, 1, 31))], timezone.utc,
        [(True, "expired"), (True, "expired"), (False, "within 7 days")]),
    "the longest-lived pin speaks": (
        [Pin("a", "short", date(2026, 12, 5)), Pin("a", "last verified", None, VERIFIED),
         Pin("b", "short", date(2026, 12, 5)), Pin("b", "longer", date(2027, 1, 1), "other")], timezone.utc,
        [(False, "pinned: last verified"), (False, "pinned until 2027-01-01: longer"), (False, "within 7 days")]),
    "a kept snapshot keeps its own reason": (
        [Pin("c", "audit")], timezone.utc, [(True, "expired"), (True, "expired"), (False, "within 7 days")]),
}


@pytest.mark.parametrize("pins, zone, expected", list(CASES.values()), ids=list(CASES))
def test_apply_pins(pins, zone, expected):
    decisions = [Decision("a", True, "expired: 40 days old"), Decision("b", True, "expired: 20 days old"),
                 Decision("c", False, "within 7 days")]
    after = apply_pins(decisions, pins, NOW, zone)
    assert [(d.drop, d.reason[:len(r)]) for d, (_, r) in zip(after, expected)] == expected


def test_localfs_pins_protect_from_retention_and_go_with_the_snapshot(layout):
    from .storage_testlib import set_snapshot_age
    snapper = layout_snapper(layout)
    ids = [snapper.snap() for _ in range(3)]      # ids have one-second resolution: snap() waits for the next
    for snapid, days in zip(ids, (40, 20, 1)):
        set_snapshot_age(layout.root, snapid, timedelta(days=days))
    snapper.pin(ids[0], "audit 2026", date.today() + timedelta(days=30))
    snapper.pin_verified(ids[1])
    assert {(p.snapid, p.kind) for p in snapper.pins()} == {(ids[0], "manual"), (ids[1], VERIFIED)}
    results = snapper.clean(dry_run=True)
    assert [(r.status, r.reason.split(":")[0]) for r in results] == [
        ("valid", f"pinned until {date.today() + timedelta(days=30)}"), ("valid", "pinned"), ("valid", "within 7 days")]
    snapper.pin_verified(ids[2])                         # a newer verified restore moves the pin
    assert {(p.snapid, p.kind) for p in snapper.pins()} == {(ids[0], "manual"), (ids[2], VERIFIED)}
    assert snapper.unpin(ids[0]) is True and snapper.unpin(ids[0]) is False
    assert [r.status for r in snapper.clean()] == ["dropped", "dropped", "valid"]
    assert snapper.pins() == [Pin(ids[2], "last verified by a restore test", None, VERIFIED)]
    with pytest.raises(StorageError, match="not found"):
        snapper.pin(ids[0], "gone")


def layout_snapper(layout):
    from storage import create_snapper
    return create_snapper(layout.config(), "orcl")
