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
  the newest snapshot of its calendar month, judged against the next newer
  snapshot: these are the monthly backups;
* a snapshot with clones is never dropped (reason ``has a clone``).

One rule is new: the newest snapshot is never dropped, whatever the clock
says.  A host whose clock jumps ahead, or a database whose backups stopped
weeks ago, must not lose its last restorable point to retention.

``snapretention`` (``24h 14d 8w 12m 5y``, any subset) is the alternative:
grandfather-father-son retention (:func:`gfs_plan`), keeping the newest
snapshot of each of the last N hours, days, ISO weeks, months and years.

Calendar boundaries (month, and for GFS hour, day, week, year) are taken in
the zone the configuration names (``[generic] retentiontimezone``, default
the host's local zone, the zone snapshot names are written in): a snapshot
taken at 00:30 on February 1st on a UTC+2 host is February's, not January's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Callable, Protocol, Sequence

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
         expiration_months: int, zone: tzinfo = timezone.utc) -> list[Decision]:
    """Decide the fate of every snapshot, oldest first.

    :param snapshots: the database's snapshots, in any order.
    :param now: the current time (naive values are taken as UTC).
    :param expiration_days: ``snapexpirationdays``: every snapshot this young is kept.
    :param expiration_months: ``snapexpirationmonths``: monthly snapshots are kept
        this many times 31 days.
    :param zone: the zone whose calendar months count.
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
        month = _month(created.astimezone(zone))
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
        elif month == _month(as_utc(newer.creation).astimezone(zone)):
            reason = f"expired: {_days(age)} old, not the newest of {month}"
            drop = True
        else:
            reason = f"monthly keep: newest of {month}"
        if drop and snap.numclones:
            # Only a snapshot that would otherwise go is reported as held by its clone,
            # as the old toolset did; a kept one keeps its own reason.
            drop, reason = False, HAS_CLONE
        decisions.append(Decision(snap.id, drop, reason))
    return decisions



# -- pins ---------------------------------------------------------------------------------------------

VERIFIED = "verified"    # the pin autorestore keeps on the last snapshot a restore test proved


@dataclass(frozen=True)
class Pin:
    """A snapshot kept whatever the retention rule says, until a day (inclusive) or until unpinned."""

    snapid: str
    reason: str
    until: date | None = None
    kind: str = "manual"            # or VERIFIED

    def active(self, today: date) -> bool:
        return self.until is None or today <= self.until

    def describe(self) -> str:
        return f"pinned until {self.until.isoformat()}: {self.reason}" if self.until else f"pinned: {self.reason}"

    def to_dict(self) -> dict[str, object]:
        return {"snapid": self.snapid, "reason": self.reason, "kind": self.kind,
                "until": self.until.isoformat() if self.until else None}


def apply_pins(decisions: Sequence[Decision], pins: Sequence[Pin], now: datetime,
               zone: tzinfo = timezone.utc) -> list[Decision]:
    """Keep every snapshot an active pin holds that the rule would drop, saying which pin.

    A pin is active through its ``until`` day in ``zone``; an expired pin no
    longer protects.  Of several pins on one snapshot, the longest-lived speaks.
    """
    today = as_utc(now).astimezone(zone).date()
    holding: dict[str, Pin] = {}
    for pin in pins:
        if not pin.active(today):
            continue
        best = holding.get(pin.snapid)
        if best is None or (best.until is not None and (pin.until is None or pin.until > best.until)):
            holding[pin.snapid] = pin
    return [Decision(d.snapid, False, holding[d.snapid].describe()) if d.drop and d.snapid in holding else d
            for d in decisions]


# -- grandfather-father-son ------------------------------------------------------------------------

GFS_UNITS = {"h": "hourly", "d": "daily", "w": "weekly", "m": "monthly", "y": "yearly"}
_GFS_TERM = re.compile(r"(\d+)([hdwmy])")


def parse_gfs(text: str) -> dict[str, int]:
    """``"24h 14d 8w 12m 5y"`` (any subset, any order) → ``{"hourly": 24, "daily": 14, ...}``.

    :raises ValueError: on anything else, a unit given twice, or nothing at all.
    """
    counts: dict[str, int] = {}
    for term in text.replace(",", " ").split():
        m = _GFS_TERM.fullmatch(term.strip().lower())
        if not m:
            raise ValueError(f"'{term}' is not a count and a unit (h, d, w, m, y), like 14d")
        unit = GFS_UNITS[m.group(2)]
        if unit in counts:
            raise ValueError(f"'{term}': {unit} given twice")
        counts[unit] = int(m.group(1))
    if not counts:
        raise ValueError("empty: give at least one count, like 14d")
    return counts


def _hour_key(t: datetime, zone: tzinfo) -> str:
    local = t.astimezone(zone)
    # The UTC offset tells apart the two 01:00 hours of a night when the clocks go back.
    return f"{local:%Y-%m-%d %H}h{local:%z}"


def _day_key(d: date) -> str:
    return d.isoformat()


def _week_key(d: date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def _periods(unit: str, count: int, now: datetime, zone: tzinfo) -> list[str]:
    """The keys of the last ``count`` periods of ``unit``, the current one first."""
    today = now.astimezone(zone).date()
    if unit == "hourly":
        # The start of the current local hour, as an instant; stepping back in real hours
        # visits every local hour once, also the repeated and the skipped ones of DST changes.
        top = now.astimezone(zone).replace(minute=0, second=0, microsecond=0).astimezone(timezone.utc)
        keys: list[str] = []
        step = 0
        while len(keys) < count:
            key = _hour_key(top - timedelta(hours=step), zone)
            if key not in keys:
                keys.append(key)
            step += 1
        return keys
    if unit == "daily":
        return [_day_key(today - timedelta(days=k)) for k in range(count)]
    if unit == "weekly":
        return [_week_key(today - timedelta(weeks=k)) for k in range(count)]
    if unit == "monthly":
        return [f"{(today.year * 12 + today.month - 1 - k) // 12:04d}-{(today.month - 1 - k) % 12 + 1:02d}"
                for k in range(count)]
    return [f"{today.year - k:04d}" for k in range(count)]


def _key_of(unit: str, zone: tzinfo) -> Callable[[datetime], str]:
    def key(t: datetime) -> str:
        local = t.astimezone(zone)
        return {"hourly": lambda: _hour_key(t, zone), "daily": lambda: _day_key(local.date()),
                "weekly": lambda: _week_key(local.date()), "monthly": lambda: _month(local),
                "yearly": lambda: f"{local.year:04d}"}[unit]()
    return key


def gfs_plan(snapshots: Sequence[SnapshotLike], now: datetime, counts: dict[str, int],
             zone: tzinfo = timezone.utc) -> list[Decision]:
    """Grandfather-father-son: keep the newest snapshot of each of the last N periods of each unit.

    A snapshot kept by several rules names the first of hourly, daily,
    weekly, monthly, yearly (``"monthly 2026-05"``).  Never dropped either:
    the newest snapshot, one with clones, one created after ``now`` (a clock
    that moved back must not cost backups).
    """
    now = as_utc(now)
    ordered = sorted(snapshots, key=lambda s: (as_utc(s.creation), s.id))
    kept: dict[str, str] = {}
    for unit in GFS_UNITS.values():
        if not counts.get(unit):
            continue
        wanted = set(_periods(unit, counts[unit], now, zone))
        key = _key_of(unit, zone)
        newest_in: dict[str, SnapshotLike] = {}
        for snap in ordered:
            k = key(as_utc(snap.creation))
            if k in wanted:
                newest_in[k] = snap       # ordered oldest first: the last one seen is the newest
        for k, snap in newest_in.items():
            kept.setdefault(snap.id, f"{unit} {k}")
    decisions = []
    for idx, snap in enumerate(ordered):
        age = now - as_utc(snap.creation)
        if snap.id in kept:
            decisions.append(Decision(snap.id, False, kept[snap.id]))
        elif age < timedelta(0):
            decisions.append(Decision(snap.id, False, "created after now: is the clock right?"))
        elif idx == len(ordered) - 1:
            decisions.append(Decision(snap.id, False, f"{NEWEST} ({_days(age)} old)"))
        elif snap.numclones:
            decisions.append(Decision(snap.id, False, HAS_CLONE))
        else:
            decisions.append(Decision(snap.id, True, f"expired: {_days(age)} old, newest of no period kept"))
    return decisions
