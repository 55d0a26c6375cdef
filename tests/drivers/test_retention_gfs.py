"""GFS retention (``snapretention: 24h 14d 8w 12m 5y``) and calendar boundaries in a time zone, as tables."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from imagecopy.config import Configuration
from imagecopy.errors import ConfigError
from storage.base import SnapshotInfo, retention_zone
from storage.retention import gfs_plan, parse_gfs, plan

UTC = timezone.utc
HELSINKI = ZoneInfo("Europe/Helsinki")      # UTC+2, +3 in summer (DST ends last Sunday of October, 04:00)


def at(stamp: str, zone=UTC, clones: int = 0) -> SnapshotInfo:
    created = datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    return SnapshotInfo(f"orcl-{created.astimezone(UTC):%Y%m%dT%H%M%S}", created, clones, 1, 1)


def kept(decisions) -> dict[str, str]:
    return {d.snapid: d.reason for d in decisions if not d.drop}


@pytest.mark.parametrize("text, expected", [
    ("24h 14d 8w 12m 5y", {"hourly": 24, "daily": 14, "weekly": 8, "monthly": 12, "yearly": 5}),
    ("14d", {"daily": 14}),
    ("12M, 7D", {"monthly": 12, "daily": 7}),
    ("0d 3m", {"daily": 0, "monthly": 3}),
])
def test_parse_gfs(text, expected):
    assert parse_gfs(text) == expected


@pytest.mark.parametrize("text", ["", "14", "14x", "d14", "1.5d", "7d 8d", "-3d"])
def test_parse_gfs_refuses(text):
    with pytest.raises(ValueError):
        parse_gfs(text)


# Each case: snapshots (UTC unless said), now, counts, zone, {snapid-stamp: reason} of the kept ones.
CASES = {
    "daily keeps the newest of each of the last days": (
        ["2026-11-12 03:00", "2026-11-13 03:00", "2026-11-13 15:00", "2026-11-14 03:00", "2026-11-15 03:00"],
        "2026-11-15 12:00", "3d", UTC,
        {"2026-11-13 15:00": "daily 2026-11-13", "2026-11-14 03:00": "daily 2026-11-14",
         "2026-11-15 03:00": "daily 2026-11-15"}),
    "monthly over a year end and month ends": (
        ["2025-11-30 23:00", "2025-12-31 22:00", "2026-01-01 01:00", "2026-01-31 23:59", "2026-02-28 23:00"],
        "2026-03-01 10:00", "3m", UTC,
        {"2026-01-31 23:59": "monthly 2026-01", "2026-02-28 23:00": "monthly 2026-02"}),
    "leap day is February's": (
        ["2024-02-28 10:00", "2024-02-29 10:00", "2024-03-01 10:00"], "2024-03-15 10:00", "2m", UTC,
        {"2024-02-29 10:00": "monthly 2024-02", "2024-03-01 10:00": "monthly 2024-03"}),
    "weekly are ISO weeks (a year's first days can be last year's week 53)": (
        ["2020-12-30 10:00", "2021-01-03 10:00", "2021-01-04 10:00", "2021-01-10 10:00"], "2021-01-10 12:00",
        "2w", UTC, {"2021-01-03 10:00": "weekly 2020-W53", "2021-01-10 10:00": "weekly 2021-W01"}),
    "yearly": (
        ["2023-12-31 23:00", "2024-06-01 10:00", "2024-12-31 23:00", "2025-07-01 10:00"], "2026-01-02 10:00",
        "3y", UTC, {"2024-12-31 23:00": "yearly 2024", "2025-07-01 10:00": "yearly 2025"}),
    "a rule keeps; the first rule names it": (
        ["2026-10-31 20:00", "2026-11-14 20:00", "2026-11-15 08:00"], "2026-11-15 10:00", "2d 3m", UTC,
        {"2026-10-31 20:00": "monthly 2026-10", "2026-11-14 20:00": "daily 2026-11-14",
         "2026-11-15 08:00": "daily 2026-11-15"}),
    "hourly over the night the clocks go back (two 03:00 hours in Helsinki)": (
        # 00:30 UTC = 03:30 EEST (+3); 01:30 UTC = 03:30 EET (+2): the same wall-clock hour, twice
        ["2026-10-25 00:10", "2026-10-25 00:30", "2026-10-25 01:10", "2026-10-25 01:30", "2026-10-25 02:30"],
        "2026-10-25 02:45", "3h", HELSINKI,
        {"2026-10-25 00:30": "hourly 2026-10-25 03h+0300", "2026-10-25 01:30": "hourly 2026-10-25 03h+0200",
         "2026-10-25 02:30": "hourly 2026-10-25 04h+0200"}),
    "day boundary in the zone, not UTC": (
        # 22:30 UTC on Nov 13 is 00:30 on Nov 14 in Helsinki
        ["2026-11-13 21:30", "2026-11-13 22:30", "2026-11-14 21:00"], "2026-11-14 21:30", "2d", HELSINKI,
        {"2026-11-13 21:30": "daily 2026-11-13", "2026-11-14 21:00": "daily 2026-11-14"}),
    "the newest is never dropped, even outside every period": (
        ["2020-01-01 10:00", "2020-01-02 10:00"], "2026-11-15 10:00", "7d", UTC,
        {"2020-01-02 10:00": "newest snapshot, never dropped (2509 days old)"}),
    "a clock moved back keeps the snapshots from 'the future'": (
        ["2026-11-10 10:00", "2026-11-20 10:00", "2026-11-21 10:00"], "2026-11-15 10:00", "1d", UTC,
        {"2026-11-20 10:00": "created after now: is the clock right?",
         "2026-11-21 10:00": "created after now: is the clock right?"}),
    "a clone holds a snapshot no rule keeps": (
        ["2026-01-05 10:00 clone", "2026-11-14 10:00", "2026-11-15 10:00"], "2026-11-15 12:00", "2d", UTC,
        {"2026-01-05 10:00": "has a clone", "2026-11-14 10:00": "daily 2026-11-14",
         "2026-11-15 10:00": "daily 2026-11-15"}),
}


@pytest.mark.parametrize("stamps, now, spec, zone, expected", list(CASES.values()), ids=list(CASES))
def test_gfs_plan(stamps, now, spec, zone, expected):
    snaps = [at(s.replace(" clone", ""), clones=int(s.endswith("clone"))) for s in stamps]
    by_id = {s.id: s.creation.strftime("%Y-%m-%d %H:%M") for s in snaps}
    decisions = gfs_plan(snaps, datetime.strptime(now, "%Y-%m-%d %H:%M").replace(tzinfo=UTC), parse_gfs(spec), zone)
    assert {by_id[k]: v for k, v in kept(decisions).items()} == expected
    assert all(d.reason.startswith("expired: ") for d in decisions if d.drop)


def test_the_old_rule_takes_months_in_the_zone():
    # 22:30 UTC on January 31st is January's in UTC, but 00:30 on February 1st on a UTC+2 host.
    snaps = [at("2026-01-20 10:00"), at("2026-01-31 22:30"), at("2026-02-10 10:00"), at("2026-03-10 10:00")]
    now = datetime(2026, 3, 12, tzinfo=UTC)
    in_utc = plan(snaps, now, 7, 3, UTC)
    assert [d.drop for d in in_utc[:3]] == [True, False, False]
    assert in_utc[1].reason == "monthly keep: newest of 2026-01"
    in_helsinki = plan(snaps, now, 7, 3, HELSINKI)
    assert [d.drop for d in in_helsinki[:3]] == [False, True, False]
    assert in_helsinki[0].reason == "monthly keep: newest of 2026-01"
    assert in_helsinki[1].reason.endswith("not the newest of 2026-02")


def config(tmp_path: Path, generic: str = "", db: str = "") -> Configuration:
    cfg = tmp_path / "backup.cfg"
    cfg.write_text(f"[generic]\nbackupdest: /b\n{generic}\n[orcl]\nsnapexpirationdays: 7\n{db}\n", encoding="utf-8")
    return Configuration(cfg, section="orcl", env={})


def test_retention_zone_from_the_configuration(tmp_path):
    assert retention_zone(config(tmp_path, "retentiontimezone: Europe/Helsinki")) == HELSINKI
    with pytest.raises(ConfigError, match="retentiontimezone.*Mars/Olympus"):
        retention_zone(config(tmp_path, "retentiontimezone: Mars/Olympus"))


def test_clean_uses_snapretention_when_set(tmp_path):
    from .test_retention import MemorySnapper
    now = datetime(2026, 11, 15, 12, tzinfo=UTC)
    snaps = {f"orcl-{d}": (now - timedelta(days=d), 0) for d in (40, 35, 3, 2, 1)}
    snapper = MemorySnapper(config(tmp_path, "retentiontimezone: UTC", "snapretention: 2d 2m"), "orcl", snaps)
    results = snapper.clean(now=now, dry_run=True)
    assert [(r.snapid, r.status, r.reason) for r in results] == [
        ("orcl-40", "would drop", "expired: 40 days old, newest of no period kept"),
        ("orcl-35", "valid", "monthly 2026-10"),
        ("orcl-3", "would drop", "expired: 3 days old, newest of no period kept"),
        ("orcl-2", "would drop", "expired: 2 days old, newest of no period kept"),   # 2d: today and yesterday
        ("orcl-1", "valid", "daily 2026-11-14")]


def test_a_bad_snapretention_is_a_configuration_error(tmp_path):
    from .test_retention import MemorySnapper
    snapper = MemorySnapper(config(tmp_path, "", "snapretention: 14 days"), "orcl", {})
    with pytest.raises(ConfigError, match="snapretention.*'14'"):
        snapper.clean(dry_run=True)


def test_zsnapper_clean_dry_run_explains_gfs(tmp_path):
    """Through the public script: each snapshot's fate and the GFS reason."""
    from .storage_testlib import make_layout, write_config
    from .test_zsnapper import created_id, set_snapshot_age, zs
    layout = make_layout(tmp_path)
    write_config(layout.root, {"generic": {"retentiontimezone": "UTC"}, "orcl": {"snapretention": "3d 6m"}})
    ids = [created_id(zs(layout, "orcl", "create")) for _ in range(3)]
    for snapid, days in zip(ids, (62, 40, 0)):
        set_snapshot_age(layout.root, snapid, timedelta(days=days))
    dry = zs(layout, "orcl", "clean", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    fates = [(s["snapid"], s["status"], s["reason"].split()[0]) for s in json.loads(dry.stdout)["snapshots"]]
    assert [f[1:] for f in fates] == [("valid", "monthly"), ("valid", "monthly"), ("valid", "daily")]
    write_config(layout.root, {"generic": {"retentiontimezone": "UTC"}, "orcl": {"snapretention": "1d"}})
    assert [s["status"] for s in json.loads(zs(layout, "orcl", "clean", "--dry-run", "--json").stdout)
            ["snapshots"]] == ["would drop", "would drop", "valid"]
    bad = zs(layout, "orcl", "clean", "--dry-run", config=write_config(
        layout.root, {"orcl": {"snapretention": "fortnightly"}}))
    assert bad.returncode == 2 and "snapretention" in bad.stderr and "Traceback" not in bad.stderr
