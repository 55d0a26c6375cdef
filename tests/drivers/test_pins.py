"""Pins: snapshots retention keeps whatever its rule says, with a reason; the last verified snapshot.

The rule on its own, then where the drivers keep pins: localfs in its snapshot metadata,
btrfs in sidecar files beside the read-only snapshot (here and over SSH; the ZFS user
properties and holds are covered by the contract suite)."""
from __future__ import annotations

import json
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
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


@pytest.fixture(params=["btrfs-local", "btrfs-ssh"])
def btrfs(request, tmp_path):
    from storage import remote

    from .backends import make_backend
    remote.close_all()
    backend = make_backend(request.param, tmp_path)
    yield backend
    remote.close_all()
    backend.close()


class Recorder:
    """Wraps a driver's runner: the commands that reached the storage."""

    def __init__(self, runner):
        self.runner, self.seen = runner, []

    def __getattr__(self, name):
        return getattr(self.runner, name)

    def run(self, argv, check=True, **kw):
        self.seen.append(list(argv))
        return self.runner.run(argv, check=check, **kw)


def test_btrfs_pins_are_sidecars_beside_the_snapshot(btrfs, tmp_path):
    """One JSON line per pin next to the read-only snapshot, read with the listing; any reason
    reaches the file literally, also over SSH."""
    d = btrfs.driver()
    old, new = d.snap(), d.snap()
    pwned = tmp_path / "pwned"
    reason = f"""audit "2026" it's $(touch {pwned}) `touch {pwned}`; ok"""
    d.pin(old, reason, date(2099, 6, 30))
    d.pin_verified(new)
    sidecars = sorted(p.name for p in Path(str(d.snapshotdir)).iterdir() if p.is_file())
    assert sidecars == [f"{old}.manual.pin", f"{new}.{VERIFIED}.pin"], "no temporary file is left"
    [line] = Path(str(d.snapshotdir), f"{old}.manual.pin").read_text().splitlines()
    assert json.loads(line) == {"snapid": old, "reason": reason, "kind": "manual", "until": "2099-06-30"}
    assert not pwned.exists()
    fresh = btrfs.driver()                       # another run reads the same pins
    fresh.runner = Recorder(fresh.runner)
    fresh.snapshots()
    listed = len(fresh.runner.seen)
    assert set(fresh.pins()) == {Pin(old, reason, date(2099, 6, 30)),
                                 Pin(new, "last verified by a restore test", None, VERIFIED)}
    assert len(fresh.runner.seen) == listed, "the pins come with the listing"
    later = datetime.now(timezone.utc) + timedelta(days=400)
    assert {r.snapid: r.reason for r in fresh.clean(now=later, dry_run=True)}[old] == \
        f"pinned until 2099-06-30: {reason}"
    assert fresh.unpin(old) is True and fresh.unpin(old) is False
    assert not Path(str(d.snapshotdir), f"{old}.manual.pin").exists()
    with pytest.raises(StorageError, match="not found"):
        fresh.pin("orcl-20000101T000000", "no such snapshot")


def test_a_dropped_btrfs_snapshot_takes_its_pins_along(btrfs):
    d = btrfs.driver()
    first, second, third = d.snap(), d.snap(), d.snap()
    d.pin(first, "expired already", date(2000, 1, 1))
    d.pin(second, "audit")
    snapdir = Path(str(d.snapshotdir))
    # Unlike a zfs hold, a pin does not stop root from deleting the snapshot by hand: its
    # sidecar is then ignored, and removed at the next drop.
    subprocess.run(["btrfs", "subvolume", "delete", str(snapdir / second)], check=True, capture_output=True)
    assert btrfs.driver().pins() == [Pin(first, "expired already", date(2000, 1, 1))]
    results = btrfs.driver().clean(now=datetime.now(timezone.utc) + timedelta(days=400))
    assert {r.snapid: r.status for r in results} == {first: "dropped", third: "valid"}
    assert sorted(p.name for p in snapdir.iterdir()) == [third], "no sidecar outlives its snapshot"


def test_btrfs_pin_files_that_are_not_pins_are_ignored(btrfs, caplog):
    d = btrfs.driver()
    snapid = d.snap()
    d.pin(snapid, "kept")
    snapdir = Path(str(d.snapshotdir))
    (snapdir / f"{snapid}.other.pin").write_text("not json\n")
    (snapdir / f"{snapid}x.manual.pin").write_text(json.dumps(
        {"snapid": "other-20260101T000000", "reason": "x", "kind": "manual", "until": None}) + "\n")
    assert btrfs.driver().pins() == [Pin(snapid, "kept")]
    assert "unreadable pin file" in caplog.text


@pytest.mark.parametrize("kind", ["a b", "../x", "$(id)", ""])
def test_a_bad_btrfs_pin_kind_never_reaches_the_storage(btrfs, kind):
    from imagecopy.errors import UsageError
    d = btrfs.driver()
    snapid = d.snap()
    d.runner = Recorder(d.runner)
    with pytest.raises(UsageError):
        d.pin(snapid, "x", kind=kind)
    with pytest.raises(UsageError):
        d.unpin(snapid, kind=kind)
    assert d.runner.seen == []
