"""zsnapper.py run as a user runs it: a subprocess with $BACKUPCONFIG, checked on output and exit code."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import zsnapper
from imagecopy.errors import StorageError
from storage.localfs import LocalFS

from .storage_testlib import Layout, set_snapshot_age, write_config

SCRIPT = Path(__file__).resolve().parents[2] / "zsnapper.py"
SIZE = r"\d+(?:B|kB|MB|GB|TB)"
LIST_LINE = re.compile(rf"^orcl-\d{{8}}T\d{{6}} \[\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC\] "
                       rf"total={SIZE} unique={SIZE} clones=\d+$")


def zs(layout: Layout | Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["BACKUPCONFIG"] = str(config if config is not None else layout.config_path)  # type: ignore[union-attr]
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          timeout=60, cwd=str(layout.root if isinstance(layout, Layout) else layout))


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout


def created_id(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stderr
    m = re.fullmatch(r"Snapshot created: (orcl-\d{8}T\d{6})\n", proc.stdout)
    assert m, proc.stdout
    return m.group(1)


def test_create_and_list(layout: Layout) -> None:
    first = created_id(zs(layout, "orcl", "create"))
    second = created_id(zs(layout, "orcl", "create"))
    proc = zs(layout, "orcl", "list")
    assert proc.returncode == 0 and proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [first, second]
    assert all(LIST_LINE.match(line) for line in lines), lines
    assert lines[0].endswith("clones=0")
    listed = json.loads(zs(layout, "orcl", "list", "--json").stdout)
    assert [s["id"] for s in listed] == [first, second]
    assert set(listed[0]) == {"id", "creation", "numclones", "space_total", "space_unique", "pins"}
    assert listed[0]["creation"].endswith("+00:00")


def test_clone_listclones_dropclone(layout: Layout) -> None:
    snapid = created_id(zs(layout, "orcl", "create"))
    proc = zs(layout, "orcl", "clone", snapid)
    assert proc.returncode == 0, proc.stderr
    m = re.search(rf"^Clone name: ({re.escape(snapid)}_clone_\d{{8}}T\d{{6}})$", proc.stdout, re.M)
    assert m, proc.stdout
    clonename = m.group(1)
    clonepath = layout.root / "clones" / clonename
    assert f"Mount point: {clonepath}" in proc.stdout
    assert f"Local path (use it directly, no mount needed): {clonepath}" in proc.stdout
    assert (clonepath / "autorestore.cfg").is_file()
    proc = zs(layout, "orcl", "listclones")
    assert proc.stdout == f"{clonename} [{snapid}] [mount point: {clonepath}]\n"
    assert json.loads(zs(layout, "orcl", "listclones", "--json").stdout) == [
        {"clonename": clonename, "origin": snapid, "mountpoint": str(clonepath)}]
    assert zs(layout, "orcl", "list").stdout.rstrip().endswith("clones=1")
    proc = zs(layout, "orcl", "dropclone", clonename)
    assert (proc.returncode, proc.stdout) == (0, "Clone dropped.\n")
    assert not clonepath.exists()
    assert zs(layout, "orcl", "listclones").stdout == ""


def test_dropclone_refuses_a_foreign_directory(layout: Layout) -> None:
    (layout.root / "clones" / "precious").mkdir()
    proc = zs(layout, "orcl", "dropclone", "precious")
    assert proc.returncode == 1
    assert proc.stderr.startswith("ERROR: ") and proc.stderr.count("\n") == 1 and "not a clone" in proc.stderr
    assert (layout.root / "clones" / "precious").is_dir()


def test_clean_and_dry_run(layout: Layout) -> None:
    ids = [created_id(zs(layout, "orcl", "create")) for _ in range(3)]
    for snapid, days in zip(ids, (30, 20, 1)):
        set_snapshot_age(layout.root, snapid, timedelta(days=days))
    dry = zs(layout, "orcl", "clean", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0].startswith(ids[0]) and lines[0].endswith(" would drop (expired: 30 days old)")
    assert lines[2].endswith(" valid (within 7 days)")
    assert len(zs(layout, "orcl", "list").stdout.splitlines()) == 3
    as_json = json.loads(zs(layout, "orcl", "clean", "--dry-run", "--json").stdout)
    assert as_json["dry_run"] is True
    assert [s["status"] for s in as_json["snapshots"]] == ["would drop", "would drop", "valid"]
    proc = zs(layout, "orcl", "clean")
    assert proc.returncode == 0
    assert [line.rsplit(" ", 1)[1] for line in proc.stdout.splitlines()] == ["dropped", "dropped", "valid"]
    assert all(LIST_LINE.match(line.rsplit(" ", 1)[0]) for line in proc.stdout.splitlines())
    assert [line.split()[0] for line in zs(layout, "orcl", "list").stdout.splitlines()] == [ids[2]]
    assert json.loads(zs(layout, "orcl", "clean", "--json").stdout)["snapshots"][0]["status"] == "valid"


def test_autoclone(layout: Layout) -> None:
    proc = zs(layout, "orcl", "autoclone")
    assert proc.returncode == 1 and proc.stderr.startswith("ERROR: Suitable snapshot not found")
    snapid = created_id(zs(layout, "orcl", "create"))
    proc = zs(layout, "orcl", "autoclone")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Clone created.\n") and f"Source snapshot: {snapid}" in proc.stdout
    assert (layout.root / "clones" / "autorestore" / "autorestore.cfg").is_file()


# -- checkage: the Nagios contract ----------------------------------------------------------
def test_checkage_states(layout: Layout) -> None:
    proc = zs(layout, "orcl", "checkage")
    assert (proc.returncode, proc.stdout) == (2, "CRITICAL: The latest snapshot age None (no snapshot exists)\n")
    snapid = created_id(zs(layout, "orcl", "create"))
    proc = zs(layout, "orcl", "checkage")
    # the old line, then Nagios performance data: the age and the thresholds (24 h, 48 h), in seconds
    assert proc.returncode == 0 and re.fullmatch(r"OK: The latest snapshot age 0:00:0\d \| age=\ds;86400;172800\n",
                                                 proc.stdout)
    set_snapshot_age(layout.root, snapid, timedelta(hours=30))
    proc = zs(layout, "orcl", "checkage")
    assert proc.returncode == 1 and proc.stdout.startswith("WARNING: The latest snapshot age 1 day, 6:00:")
    set_snapshot_age(layout.root, snapid, timedelta(hours=50))
    proc = zs(layout, "orcl", "checkage", "--json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 2 and data["status"] == "CRITICAL" and data["latest_snapshot"] == snapid
    assert 50 * 3600 <= data["age_seconds"] < 50 * 3600 + 60


@pytest.mark.parametrize("breakage", ["storage gone", "storage is a file", "config key missing",
                                      "config file missing", "unknown driver", "bad usage"])
def test_checkage_is_unknown_when_it_cannot_judge(layout: Layout, breakage: str) -> None:
    config = None
    args = ["orcl", "checkage"]
    if breakage == "storage gone":
        shutil.rmtree(layout.root / "snapshots")
    elif breakage == "storage is a file":
        shutil.rmtree(layout.root / "snapshots")
        (layout.root / "snapshots").write_text("not a directory")
    elif breakage == "config key missing":
        write_config(layout.root, {"generic": {"criticalsnapage": None}})
    elif breakage == "config file missing":
        config = layout.root / "nonexistent.cfg"
    elif breakage == "unknown driver":
        write_config(layout.root, {"generic": {"snappermodule": "foo"}})
    else:
        args.append("extra")
    proc = zs(layout, *args, config=config)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert proc.stdout.startswith("UNKNOWN: ") and proc.stdout.count("\n") == 1
    no_traceback(proc)


# -- errors: one line, the right code, never a traceback -------------------------------------
def test_missing_configuration_file(layout: Layout) -> None:
    proc = zs(layout, "orcl", "list", config=layout.root / "nope.cfg")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("ERROR: Configuration file ")
    assert "nope.cfg" in proc.stderr
    no_traceback(proc)


@pytest.mark.parametrize("overrides,words", [
    ({"generic": {"snappermodule": "foo"}}, ["[generic] snappermodule 'foo': no such storage driver"]),
    ({"generic": {"snappermodule": "zfssa", "snapperclass": "ZFSSA"}}, ["section [zfssa] not found"]),
    ({"generic": {"snapperclass": "Nope"}}, ["[generic] snapperclass 'Nope'"]),
    ({"localfs": {"clonedir": None}}, ["[localfs] key 'clonedir' is missing"]),
    ({"orcl": None}, ["section [orcl] not found"]),
    ({"orcl": {"snapexpirationdays": "seven"}}, ["[orcl] key 'snapexpirationdays' must be an integer"]),
])
def test_bad_configuration_is_one_line_exit_2(layout: Layout, overrides: dict, words: list[str]) -> None:
    write_config(layout.root, overrides)
    needs_retention = "snapexpirationdays" in str(overrides)
    proc = zs(layout, "orcl", "clean" if needs_retention else "list")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"ERROR: {layout.config_path}: ")
    for w in words:
        assert w in proc.stderr
    no_traceback(proc)


@pytest.mark.parametrize("args", [[], ["orcl"], ["orcl", "bogus"], ["orcl", "clone"], ["orcl", "list", "x"],
                                  ["orcl", "create", "--json"], ["orcl", "list", "--dry-run"],
                                  ["orcl", "list", "--verbose"], ["orcl", "dropclone", "../etc"],
                                  ["../orcl", "list"], ["orcl", "clone", "x/y"]])
def test_bad_usage_exits_2_with_the_usage_line(layout: Layout, args: list[str]) -> None:
    proc = zs(layout, *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines()[-1].startswith("Usage: zsnapper.py <db> <list|create|clone <snap>|")
    assert proc.stderr.startswith("ERROR: ")
    no_traceback(proc)


def test_help_and_in_process_main(layout: Layout, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert zsnapper.main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("Usage: zsnapper.py")
    monkeypatch.setenv("BACKUPCONFIG", str(layout.config_path))
    assert zsnapper.main(["orcl", "listclones"]) == 0
    assert zsnapper.main(["orcl", "checkage"]) == 2
    assert capsys.readouterr().out.startswith("CRITICAL:")


def test_clean_with_a_failed_drop_exits_1(layout: Layout, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [created_id(zs(layout, "orcl", "create")) for _ in range(3)]
    for snapid, days in zip(ids, (30, 20, 1)):
        set_snapshot_age(layout.root, snapid, timedelta(days=days))
    real_drop = LocalFS.dropsnap

    def flaky(self: LocalFS, snapid: str) -> None:
        if snapid == ids[0]:
            raise StorageError("device or resource busy")
        real_drop(self, snapid)

    monkeypatch.setattr(LocalFS, "dropsnap", flaky)
    monkeypatch.setenv("BACKUPCONFIG", str(layout.config_path))
    assert zsnapper.main(["orcl", "clean"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.rsplit(" ", 1)[-1] for line in lines] == ["FAILED", "dropped", "valid"]
    assert lines[0].endswith(" DROP FAILED")


# -- pins and the last verified snapshot ---------------------------------------------------
def test_pin_unpin_list_and_retention(layout: Layout) -> None:
    ids = [created_id(zs(layout, "orcl", "create")) for _ in range(2)]
    for snapid, days in zip(ids, (30, 1)):
        set_snapshot_age(layout.root, snapid, timedelta(days=days))
    proc = zs(layout, "orcl", "pin", ids[0], "--reason", "audit 2026", "--until", "2099-06-30")
    assert (proc.returncode, proc.stdout) == (0, f"Snapshot {ids[0]} pinned until 2099-06-30: audit 2026\n")
    listing = zs(layout, "orcl", "list").stdout.splitlines()
    assert listing[0].endswith("clones=0 [pinned until 2099-06-30: audit 2026]") and "pinned" not in listing[1]
    assert json.loads(zs(layout, "orcl", "list", "--json").stdout)[0]["pins"] == [
        {"snapid": ids[0], "reason": "audit 2026", "kind": "manual", "until": "2099-06-30"}]
    dry = zs(layout, "orcl", "clean", "--dry-run").stdout.splitlines()
    assert dry[0].endswith("valid (pinned until 2099-06-30: audit 2026)")
    assert zs(layout, "orcl", "unpin", ids[0]).stdout == f"Snapshot {ids[0]} unpinned.\n"
    again = zs(layout, "orcl", "unpin", ids[0])
    assert again.returncode == 1 and "has no pin" in again.stderr
    assert zs(layout, "orcl", "clean", "--dry-run").stdout.splitlines()[0].endswith("would drop (expired: 30 days old)")


@pytest.mark.parametrize("args, message", [
    (["pin", "orcl-20260101T000000"], "pin needs --reason"),
    (["pin", "orcl-20260101T000000", "--reason"], "--reason needs a value"),
    (["pin", "orcl-20260101T000000", "--reason", "x", "--until", "30.6.2027"], "--until must be a date"),
    (["pin", "orcl-20260101T000000", "--reason", "x", "--until", "2001-01-01"], "in the past"),
    (["list", "--reason", "x"], "--reason applies to pin only"),
    (["pin", "../etc", "--reason", "x"], "snapshot id"),
    (["pin", "orcl-20260101T000000", "--reason", "x"], "not found"),
])
def test_pin_refuses_bad_input_in_one_line(layout: Layout, args: list[str], message: str) -> None:
    proc = zs(layout, "orcl", *args)
    assert proc.returncode in (1, 2) and message in proc.stderr and proc.stderr.count("\n") <= 2, proc.stderr
    no_traceback(proc)


def test_checkverified_states(layout: Layout) -> None:
    from storage import create_snapper
    proc = zs(layout, "orcl", "checkverified")
    assert (proc.returncode, proc.stdout) == (2, "CRITICAL: The last verified snapshot age None "
                                                 "(no snapshot is verified)\n")
    snapid = created_id(zs(layout, "orcl", "create"))
    create_snapper(layout.config(), "orcl").pin_verified(snapid)
    set_snapshot_age(layout.root, snapid, timedelta(hours=60))       # defaults: warning 50 h, critical 74 h
    proc = zs(layout, "orcl", "checkverified")
    assert proc.returncode == 1 and proc.stdout.startswith("WARNING: The last verified snapshot age 2 days, 12:00")
    assert proc.stdout.rstrip().endswith(";180000;266400")
    data = json.loads(zs(layout, "orcl", "checkverified", "--json").stdout)
    assert data["verified_snapshot"] == snapid and data["status"] == "WARNING"
