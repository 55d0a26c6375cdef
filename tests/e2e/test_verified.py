"""The last verified snapshot: a successful nightly restore test pins it, retention keeps it, monitoring sees it."""
from __future__ import annotations

import json

import pytest

from . import test_autorestore
from .test_autorestore import configured

pytestmark = pytest.mark.slow
sandbox = test_autorestore.sandbox
site = test_autorestore.site


def test_a_successful_restore_test_pins_its_snapshot_and_moves_the_pin(site):
    configured(site)
    assert site.zsnapper("checkverified").returncode == 2          # CRITICAL: nothing verified yet
    site.ok(site.autorestore())
    first = site.catalog()[-1]["snapid"]
    listed = {s["id"]: s["pins"] for s in json.loads(site.ok(site.zsnapper("list", "--json")))}
    assert [p["kind"] for p in listed[first]] == ["verified"]
    assert all(not pins for snap, pins in listed.items() if snap != first)
    check = site.zsnapper("checkverified")
    assert check.returncode == 0 and check.stdout.startswith("OK: The last verified snapshot age ")
    # the next verified snapshot takes the pin over
    site.cycles(1)
    site.ok(site.autorestore())
    second = site.catalog()[-1]["snapid"]
    assert second != first
    pinned = {s["id"] for s in json.loads(site.ok(site.zsnapper("list", "--json"))) if s["pins"]}
    assert pinned == {second}
    # a failed restore test leaves the pin where it was
    snap = site.snapshots("orcl")[-1]
    for log in (snap / "archivelog").iterdir():
        log.unlink()
    assert site.autorestore().returncode == 1
    pinned = {s["id"] for s in json.loads(site.ok(site.zsnapper("list", "--json"))) if s["pins"]}
    assert pinned == {second}
