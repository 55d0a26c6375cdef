"""The restore planner's pure parts (imagecopy/restoreplan.py): the duration, the SCN chooser, the text."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from imagecopy import continuity, restoreplan
from imagecopy.catalog import RestoreResult
from imagecopy.continuity import ThreadVerdict
from imagecopy.errors import RestoreError
from storage.base import SnapHandler

T = datetime(2026, 12, 1, 3, 0)


def result(seconds: float, success: bool = True, validated: bool = False) -> RestoreResult:
    return RestoreResult("orcl", T, T + timedelta(seconds=seconds), success, validated=validated)


@pytest.mark.parametrize("results, expected", [
    ([], "unknown (no successful restore test of orcl in the catalog's last 100 days)"),
    ([result(60, success=False)], "unknown (no successful restore test of orcl in the catalog's last 100 days)"),
    ([result(60), result(600), result(90)], "0:01:30 (median of 3 successful restore tests of orcl, last 100 days)"),
    # a validation night and a failure are left out
    ([result(60), result(7200, validated=True), result(5, success=False), result(80)],
     "0:01:10 (median of 2 successful restore tests of orcl, last 100 days)"),
])
def test_expected_duration(results, expected):
    assert restoreplan.expected_duration(results, "orcl") == expected


class Snaps(SnapHandler):
    """Just enough of a driver: snapshots by creation, each a directory with a manifest or autorestore.cfg."""

    def __init__(self, root: Path, targets: dict[str, int | None], shows: bool = True):
        self.root, self.targets, self.shows = root, targets, shows
        for i, (snapid, scn) in enumerate(targets.items()):
            (root / snapid).mkdir()
            if scn is not None and i % 2:
                (root / snapid / "autorestore.cfg").write_text(f"[dbparams]\nlastscn: {scn}\n")
            elif scn is not None:
                continuity.write_manifest(root / snapid / continuity.MANIFEST,
                                          continuity.Manifest("orcl", T, scn, T, {}, ()))

    def listsnapshots(self, sortbycreation=False, sortreverse=False):
        return [type("S", (), {"id": s, "creation": T + timedelta(hours=i)})() for i, s in enumerate(self.targets)]

    def getsnapcreation(self, s):
        return s.creation.replace(tzinfo=timezone.utc)

    def snapshot_path(self, snapid):
        return self.root / snapid if self.shows else None

    getsnapinfo = snap = dropsnap = clone = dropclone = filesystem_info = listclones = mountstring = \
        createvolume = None


@pytest.mark.parametrize("scn, expected", [
    (500, "s1"), (1000, "s1"), (1001, "s2"), (2500, "s4"), (4000, None),
])
def test_the_snapshot_for_an_scn_is_the_oldest_whose_target_reaches_it(tmp_path, scn, expected):
    # s3 records no target (taken before targets were recorded): it is passed over
    snaps = Snaps(tmp_path, {"s1": 1000, "s2": 2000, "s3": None, "s4": 3000})
    snapid, why = restoreplan.choose_snapshot(snaps, None, scn)
    assert snapid == expected
    if expected:
        assert why == f"the oldest snapshot whose recovery target (SCN {snaps.targets[expected]}) is at or past " \
                      f"SCN {scn}"


def test_an_scn_needs_snapshot_contents_on_this_host(tmp_path):
    with pytest.raises(RestoreError, match="does not show snapshot contents to this host"):
        restoreplan.choose_snapshot(Snaps(tmp_path, {"s1": 1000}, shows=False), None, 10)


def test_plan_text():
    plan = restoreplan.Plan("orcl", "SCN 1234", "scn 1234", "orcl-20261201T030000", "the oldest …",
                            "SCN 1300, 2026-12-01 03:00:00", 1100,
                            [ThreadVerdict(1, 10, 12), ThreadVerdict(2, 7, 9, 8, "sequence 8 missing")],
                            expected="0:01:30 (median …)", mount="none", problem="thread 2: sequence 8 missing")
    assert plan.text().splitlines() == [
        "Restore plan for orcl (nothing was cloned)",
        "Target:            SCN 1234",
        "Snapshot:          orcl-20261201T030000, the oldest …",
        "Snapshot target:   SCN 1300, 2026-12-01 03:00:00",
        "Image copies:      checkpoint SCN 1100",
        "Archivelogs:       thread 1: sequences 10-12, all there",
        "                   thread 2: sequences 7-9: sequence 8 missing",
        "Recovery:          set until scn 1234",
        "Expected duration: 0:01:30 (median …)",
        "Mount:             none",
        "Verdict:           WOULD FAIL: thread 2: sequence 8 missing",
    ]
    assert plan.exit_code == 1 and plan.to_dict()["archivelogs_complete"] is False


class FakeOracle:
    def __init__(self):
        self.rman_scripts: list[str] = []

    def sqlplus(self, script: str, quiet: bool = False) -> str:
        return ""

    def rman(self, script: str) -> str:
        self.rman_scripts.append(script)
        return ""


@pytest.mark.parametrize("template, scn, expected", [
    (None, 1234, "set until scn 1234;"),
    (None, None, "set until time \"to_date('2026-12-01 03:00:00', 'yyyy-mm-dd hh24:mi:ss')\";"),
    # an edited template from before ${until}: a time restore still works, an SCN restore is refused
    ("set until time \"to_date('${lasttime}', 'yyyy-mm-dd hh24:mi:ss')\";\nrecover database;\n", None,
     "set until time \"to_date('2026-12-01 03:00:00', 'yyyy-mm-dd hh24:mi:ss')\";"),
    ("set until time \"to_date('${lasttime}', 'yyyy-mm-dd hh24:mi:ss')\";\nrecover database;\n", 1234, None),
])
def test_recovery_until_time_or_scn(tmp_path, template, scn, expected):
    from imagecopy.errors import ConfigError
    from imagecopy.templates import TEMPLATE_DIR, Templates
    from restorecommon import RestoreEngine, RestoreSettings
    if template is not None:
        for name in ("restore_nocopy.sql", "restore_sql_header.sql"):
            (tmp_path / name).write_text((TEMPLATE_DIR / name).read_text())
        (tmp_path / "restore_recover.rman").write_text(template)
    settings = RestoreSettings("orcl", tmp_path, tmp_path, "c", "s", tmp_path, target_scn=scn)
    oracle = FakeOracle()
    engine = RestoreEngine(settings, None, oracle, Templates(tmp_path if template else TEMPLATE_DIR))
    if expected is None:
        with pytest.raises(ConfigError, match=r"does not use \$\{until\}"):
            engine.recover("2026-12-01 03:00:00")
        assert oracle.rman_scripts == []
    else:
        engine.recover("2026-12-01 03:00:00")
        assert expected in oracle.rman_scripts[0]
