"""restore.py --plan (nothing cloned) and restore.py --scn (a real recovery to that SCN), end to end."""
from __future__ import annotations

import hashlib
import json
import time

import pytest
from oracle_sim import clock, truth
from oracle_sim.instance import Instance

from . import test_autorestore as ar
from .test_autorestore import Site
from .test_restore_parity import run_cleanup_commands

sandbox = ar.sandbox
site = ar.site

pytestmark = pytest.mark.slow
DBID = 1433672784


def restore_py(site: Site, *args: str, **env: str):
    return site.box.py(site.box.script("restore.py"), str(site.cfg), "orcl", *args, env=site.env(**env))


def prepared(site: Site) -> tuple[list, float]:
    """Two daily backups, then transactions a second apart, then the third: the rows and a target between two."""
    site.add_db("orcl", DBID)
    site.write_config()
    site.ok(site.backup("config"))
    site.cycles(2, workload=("-n", "3"))
    site.simctl("workload", "--sid", "orcl", "-n", "8", "--sleep", "1.02")
    rows = ar._rows(site)
    time.sleep(1.1)
    site.ok(site.backup("imagecopywithsnap"))
    return rows, clock.parse(rows[-4][1]) + 1


def clones(site: Site) -> list[str]:
    return [p.name for p in (site.w / "clones").iterdir() if not p.name.startswith(".")]


def plan_rows(out: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    label = ""
    for line in out.splitlines()[1:]:
        label = line[:19].strip().rstrip(":") or label
        rows.setdefault(label, []).append(line[19:])
    return rows


def test_plan_for_a_time_names_the_snapshot_logs_and_duration_and_clones_nothing(site):
    rows, target = prepared(site)
    newest = site.snapshots("orcl")[-1]
    result = restore_py(site, "--plan", "--target", clock.fmt(target))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.startswith("Restore plan for orcl (nothing was cloned)\n")
    plan = plan_rows(out)
    assert plan["Snapshot"][0].startswith(f"{newest.name}, the oldest snapshot created at or after the target")
    manifest = json.loads((newest / "snapshot_manifest.json").read_text())
    assert plan["Snapshot target"] == [f"SCN {manifest['target']['scn']}, {manifest['target']['time']}"]
    assert plan["Image copies"] == [f"checkpoint SCN {min(manifest['copies'].values())}"]
    [logs] = plan["Archivelogs"]
    assert logs.startswith("thread 1: sequences ") and logs.endswith(", all there")
    assert plan["Recovery"] == [f"set until time \"to_date('{clock.fmt(target)}', 'yyyy-mm-dd hh24:mi:ss')\""]
    assert plan["Expected duration"] == [f"unknown (Restore catalog {site.w}/autorestore/log/autorestore.db does "
                                         "not exist (no restore test recorded here))"]
    assert plan["Mount"] == ["none: the clone's own directory is used (autorestoremountmethod: clonepath)"]
    assert plan["Verdict"] == ["the restore can reach the target"]
    assert clones(site) == [] and not list((site.w / "autorestore" / "log").glob("*restore-orcl.log"))
    # after a nightly restore test, the catalog knows how long one takes
    site.ok(site.autorestore())
    doc = json.loads(site.ok(restore_py(site, "--plan", "--target", clock.fmt(target), "--json")))
    assert doc["snapshot"] == newest.name and doc["ok"] and doc["archivelogs_complete"]
    assert doc["archivelogs"][0]["first_missing_sequence"] is None
    assert doc["expected_duration"].endswith("(median of 1 successful restore tests of orcl, last 100 days)")


def test_plan_names_the_first_missing_archivelog(site):
    rows, target = prepared(site)
    newest = site.snapshots("orcl")[-1]
    manifest = json.loads((newest / "snapshot_manifest.json").read_text())
    start = min(manifest["copies"].values())
    needed = [g for g in manifest["archivelogs"] if g["next_change"] > start]
    (newest / needed[1]["path"]).unlink()
    result = restore_py(site, "--plan", "--target", clock.fmt(target))
    assert result.returncode == 1, result.stdout
    plan = plan_rows(result.stdout)
    assert plan["Archivelogs"][0].endswith(f": sequence {needed[1]['sequence']} missing: {needed[1]['path']} "
                                           "is not in the snapshot")
    assert plan["Verdict"][0].startswith(f"WOULD FAIL: thread 1: sequence {needed[1]['sequence']} missing")


def test_restore_to_an_scn_is_production_at_that_scn(site):
    rows, _ = prepared(site)
    # the SCN of a transaction of the last workload: the restore holds it and nothing after it.  The
    # row's time is whole seconds and the transactions are 1.02 s apart, so the end of that second is
    # after this transaction and before the next (the middle of it was not: the test failed by chance).
    scn = truth.scn_before(site.state, DBID, clock.parse(rows[-4][1]) + 0.999) + 1
    plan = plan_rows(site.ok(restore_py(site, "--plan", "--scn", str(scn))))
    newest = site.snapshots("orcl")[-1].name
    assert plan["Snapshot"][0].startswith(f"{newest}, the oldest snapshot whose recovery target (SCN ")
    assert plan["Recovery"] == [f"set until scn {scn}"]
    result = restore_py(site, "--scn", str(scn), "--sid", "scn1", "--yes", ORASIM_RECORD_OPEN="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Target SCN:      " + str(scn) in result.stdout
    assert f"Requested SCN:   {scn} (the changes below it)" in result.stdout
    assert Instance(site.state, "scn1").open_mode == "READ ONLY"
    opened = json.loads((site.state / "opened" / "scn1.jsonl").read_text().splitlines()[-1])
    assert opened["scn"] == scn - 1
    for file_no, info in opened["files"].items():
        expected = truth.blocks_as_of(site.state, DBID, int(file_no), scn - 1, header=info["header"])
        assert info["blocks"] == [hashlib.sha256(expected[b]).hexdigest() for b in sorted(expected)], file_no
    verified = [line.split(":", 1)[1].strip() for line in result.stdout.splitlines()
                if line.startswith("Verified time:")][0]
    assert verified == rows[-4][1]
    run_cleanup_commands(site, result.stdout)


def test_an_scn_no_snapshot_reaches(site):
    rows, _ = prepared(site)
    result = restore_py(site, "--plan", "--scn", "99999999")
    assert result.returncode == 1
    plan = plan_rows(result.stdout)
    assert plan["Snapshot"] == ["none"] and plan["Archivelogs"] == ["not checked: no snapshot"]
    assert plan["Verdict"] == ["WOULD FAIL: no snapshot covers the target"]
    result = restore_py(site, "--scn", "99999999", "--sid", "x1", "--yes")
    assert result.returncode == 1 and "No snapshot records a recovery target at or past SCN 99999999" in result.stdout
