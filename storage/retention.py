"""Snapshot retention as a pure function: which snapshots to drop, and why.

No I/O here.  ``SnapHandler.clean`` feeds it the snapshot list and does the
dropping, so the rules can be tested with a plain table and shown under
``zsnapper.py <db> clean --dry-run`` before anything is deleted.

The rules are the old toolset's (``snapexpirationdays``/``snapexpirationmonths``),
walked oldest first:

* a snapshot at most ``expiration_days`` old is kept;
* an older one is dropped when it is also older than ``expiration_months``×31
  days;
* otherwise (older than the days, within the months) it is kept only when it is
  the newest snapshot of its calendar month (UTC), judged against the next
  newer snapshot: these are the monthly backups;
* a snapshot with clones is never dropped (reason ``has a clone``).

One rule is new: the newest snapshot is never dropped, whatever the clock
says.  A host whose clock jumps ahead, or a database whose backups stopped
weeks ago, must not lose its last restorable point to retention.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol, Sequence

HAS_CLONE = "has a clone"
NEWEST = "newest snapshot, never dropped"


class SnapshotLike(Protocol):
    """What retention needs of a snapshot (``storage.base.SnapshotInfo`` has it)."""

    id: str
    creation: datetime
    numclones: int


def as_utc(d: datetime) -> datetime:
    """``d`` as a tz-aware UTC datetime; a naive value is taken to be UTC already."""
    return d.replace(tzinfo=timezone.utc) if d.tzinfo is None else d.astimezone(timezone.utc)


@dataclass(frozen=True)
class Decision:
    """The fate of one snapshot: ``drop`` or keep, with a reason a DBA can read."""

    snapid: str
    drop: bool
    reason: str


def _plural(n: int, unit: str) -> str:
    """``1 day``, ``0 days``, ``7 days``."""
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _days(age: timedelta) -> str:
    return _plural(age.days, "day")


def _month(d: datetime) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def plan(snapshots: Sequence[SnapshotLike], now: datetime, expiration_days: int,
         expiration_months: int) -> list[Decision]:
    """Decide the fate of every snapshot, oldest first.

    :param snapshots: the database's snapshots, in any order.
    :param now: the current time (naive values are taken as UTC).
    :param expiration_days: ``snapexpirationdays``: every snapshot this young is kept.
    :param expiration_months: ``snapexpirationmonths``: monthly snapshots are kept
        this many times 31 days.
    :returns: one ``Decision`` per snapshot, oldest first.
    :raises ValueError: on a negative expiration.
    """
    if expiration_days < 0 or expiration_months < 0:
        raise ValueError("expiration days and months must not be negative")
    now = as_utc(now)
    keep_days = timedelta(days=expiration_days)
    keep_months = timedelta(days=expiration_months * 31)
    # Ties on creation fall back to the id, so the order (and the "newest") is stable.
    ordered = sorted(snapshots, key=lambda s: (as_utc(s.creation), s.id))
    decisions: list[Decision] = []
    for idx, snap in enumerate(ordered):
        created = as_utc(snap.creation)
        age = now - created
        newer = ordered[idx + 1] if idx + 1 < len(ordered) else None
        drop = False
        if age <= keep_days:
            reason = f"within {_plural(expiration_days, 'day')}"
        elif newer is None:
            reason = f"{NEWEST} ({_days(age)} old)"
        elif age > keep_months:
            reason = f"expired: {_days(age)} old"
            if expiration_months:
                reason += f", older than {_plural(expiration_months, 'month')} ({expiration_months * 31} days)"
            drop = True
        elif _month(created) == _month(as_utc(newer.creation)):
            reason = f"expired: {_days(age)} old, not the newest of {_month(created)}"
            drop = True
        else:
            reason = f"monthly keep: newest of {_month(created)}"
        if drop and snap.numclones:
            # Only a snapshot that would otherwise go is reported as held by its clone,
            # as the old toolset did; a kept one keeps its own reason.
            drop, reason = False, HAS_CLONE
        decisions.append(Decision(snap.id, drop, reason))
    return decisions

