"""report.py: parsing the job query, formatting, JSON, and carrying on past a failing database."""
from __future__ import annotations

import json
import re
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlglot

import report
from imagecopy.catalog import CATALOG_FILE, RestoreResult, SqliteCatalog
from imagecopy.errors import OracleError, StorageError
from imagecopy.templates import TEMPLATE_DIR, Templates
from report import DatabaseReport, JobInfo, SnapshotSummary
from storage.retention import VERIFIED, Pin

# What SQL*Plus prints for the job query (pages 0: no headings; values padded to the line).
JOB_OUTPUT = """
JOB: IMAGECOPY_JOB|SCHEDULED|2016-11-08 21:53:35|+000000000 00:00:23.412345
JOB: ARCHLOGBACKUP_JOB|SCHEDULED|2016-11-08 18:00:00|+000000000 00:00:02.000000
LASTFAIL: ARCHLOGBACKUP_JOB|2016-11-02 06:00:01
"""


@pytest.mark.parametrize("raw, shown", [
    ("+000000000 00:00:23.412345", "+000 00:00:23"),
    ("+000 00:00:23", "+000 00:00:23"),
    ("+000000001 02:03:04.5", "+001 02:03:04"),
    ("-000000000 00:00:01.000000", "-000 00:00:01"),
    ("0 5:06:07", "+000 05:06:07"),
    ("", None),
    ("   ", None),
    (None, None),
    ("weird", "weird"),
])
def test_format_duration(raw, shown):
    assert report.format_duration(raw) == shown


def test_parse_jobs():
    jobs = report.parse_jobs(JOB_OUTPUT)
    assert jobs == {
        "IMAGECOPY_JOB": JobInfo("IMAGECOPY_JOB", "SCHEDULED", "2016-11-08 21:53:35", "+000 00:00:23", None),
        "ARCHLOGBACKUP_JOB": JobInfo("ARCHLOGBACKUP_JOB", "SCHEDULED", "2016-11-08 18:00:00", "+000 00:00:02",
                                     "2016-11-02 06:00:01"),
    }


def test_parse_jobs_never_run_and_padding():
    out = ("   JOB: IMAGECOPY_JOB|DISABLED||                                     \n"
           "JOB: IMAGECOPY_JOB|SCHEDULED|2016-11-08 21:53:35|+000000000 00:00:23.4\n"     # a later owner wins
           "LASTFAIL: NOSUCH_JOB|2016-11-02 06:00:01\n"
           "select 'JOB: '||job_name from dual;\n")                                       # an echoed statement
    assert report.parse_jobs(out) == {
        "IMAGECOPY_JOB": JobInfo("IMAGECOPY_JOB", "SCHEDULED", "2016-11-08 21:53:35", "+000 00:00:23")}
    assert report.parse_jobs("JOB: IMAGECOPY_JOB|DISABLED||\n")["IMAGECOPY_JOB"] == JobInfo(
        "IMAGECOPY_JOB", "DISABLED", None, None)


def test_parse_jobs_empty_and_errors():
    assert report.parse_jobs("") == {}
    with pytest.raises(ValueError, match="ORA-00942"):
        report.parse_jobs("ERROR at line 2:\nORA-00942: table or view does not exist\n")


def sample_report() -> DatabaseReport:
    return DatabaseReport(
        "orcl",
        jobs=report.parse_jobs(JOB_OUTPUT),
        snapshots=SnapshotSummary(9, datetime(2016, 11, 8, 20, 53, 36, tzinfo=timezone.utc),
                                  datetime(2016, 5, 24, 13, 52, 5, tzinfo=timezone.utc)),
        restore={"last_success": datetime(2016, 11, 8, 22, 48, 51), "last_fail": None,
                 "last_validated": datetime(2016, 11, 8, 22, 48, 51), "avg_diff_seconds": 10.4,
                 "avg_restore_minutes": 1.6})


def test_text_layout_like_the_old_report():
    assert report.format_text(sample_report()) == [
        "orcl:",
        "  Backup job: SCHEDULED, last: 2016-11-08 21:53:35, duration: +000 00:00:23, last failure: none",
        "  Archivelog job: SCHEDULED, last: 2016-11-08 18:00:00, duration: +000 00:00:02, "
        "last failure: 2016-11-02 06:00:01",
        "  Snapshots: 9, latest: 2016-11-08 20:53:36, oldest: 2016-05-24 13:52:05, last verified: none",
        "  Last successful restore: 2016-11-08 22:48:51, last restore failure: none, last successful validation: "
        "2016-11-08 22:48:51, avg difference from target (s): 10, avg restore time (min): 2",
    ]


def test_text_when_nothing_is_there_yet():
    rep = DatabaseReport("db2", jobs={}, snapshots=SnapshotSummary(0),
                         restore={"last_success": None, "last_fail": None, "last_validated": None,
                                  "avg_diff_seconds": None, "avg_restore_minutes": None})
    assert report.format_text(rep) == [
        "db2:",
        "  Backup job: not scheduled",
        "  Archivelog job: not scheduled",
        "  Snapshots: none",
        "  Last successful restore: none, last restore failure: none, last successful validation: none, "
        "avg difference from target (s): none, avg restore time (min): none",
    ]


def test_text_failed_parts_say_why_in_their_place():
    rep = sample_report()
    rep.jobs = None
    rep.restore = None
    rep.errors = {"jobs": "SQL*Plus exited with code 1: ORA-12541: TNS:no listener",
                  "restore": "Restore catalog /x/autorestore.db does not exist"}
    assert report.format_text(rep) == [
        "orcl:",
        "  Error getting information: job state: SQL*Plus exited with code 1: ORA-12541: TNS:no listener",
        "  Snapshots: 9, latest: 2016-11-08 20:53:36, oldest: 2016-05-24 13:52:05, last verified: none",
        "  Error getting information: restore catalog: Restore catalog /x/autorestore.db does not exist",
    ]


def test_json_document():
    rep = sample_report()
    rep.errors = {"restore": "x"}
    doc = json.loads(json.dumps(report.to_json(rep)))
    assert doc == {
        "database": "orcl",
        "backup_job": {"name": "IMAGECOPY_JOB", "state": "SCHEDULED", "last_start": "2016-11-08 21:53:35",
                       "duration": "+000 00:00:23", "last_failure": None},
        "archivelog_job": {"name": "ARCHLOGBACKUP_JOB", "state": "SCHEDULED", "last_start": "2016-11-08 18:00:00",
                           "duration": "+000 00:00:02", "last_failure": "2016-11-02 06:00:01"},
        "snapshots": {"count": 9, "latest": "2016-11-08T20:53:36+00:00", "oldest": "2016-05-24T13:52:05+00:00",
                      "verified": None, "pins": [], "continuity": None, "gaps": []},
        "restore": {"last_success": "2016-11-08T22:48:51", "last_fail": None,
                    "last_validated": "2016-11-08T22:48:51", "avg_diff_seconds": 10.4, "avg_restore_minutes": 1.6},
        "errors": {"restore": "x"},
    }
    assert report.to_json(DatabaseReport("x"))["backup_job"] is None


def test_error_reason_carries_the_oracle_lines():
    exc = OracleError("SQL*Plus exited with code 1", details=["ORA-01017: invalid username/password"])
    assert report.error_reason(exc) == "SQL*Plus exited with code 1: ORA-01017: invalid username/password"
    assert report.error_reason(StorageError("HTTP 503 from appliance")) == "HTTP 503 from appliance"


@pytest.mark.parametrize("argv, expected", [
    ([], (None, False)),
    (["--json"], (None, True)),
    (["orcl,db2"], (["orcl", "db2"], False)),
    (["--json", "orcl"], (["orcl"], True)),
    (["orcl, db2,"], (["orcl", "db2"], False)),
])
def test_parse_args(argv, expected):
    assert report.parse_args(argv) == expected


@pytest.mark.parametrize("argv", [["a", "b"], ["--verbose"], ["-x"]])
def test_bad_arguments(argv, capsys):
    assert report.main(argv) == 2
    assert "Usage: report.py" in capsys.readouterr().err


def test_shipped_job_query_parses_as_oracle_sql():
    text = Templates(values={"tns": "orcl"}).render(report.JOB_TEMPLATE)
    assert "conn /@orcl as sysdba" in text
    assert "whenever sqlerror exit failure" in text     # a failed connect ends SQL*Plus with an error
    statements = [s.strip() for s in re.split(r";\s*$", "\n".join(
        line for line in text.splitlines()
        if not re.match(r"\s*(--|whenever|conn|set|exit)", line, re.I)), flags=re.M) if s.strip()]
    assert len(statements) == 2
    for sql in statements:
        parsed = sqlglot.parse_one(sql, read="oracle")
        assert isinstance(parsed, sqlglot.exp.Select)
        assert "%BACKUPEXEC" in sql
    assert (TEMPLATE_DIR / report.JOB_TEMPLATE).is_file()


# --------------------------------------------------------------------------- main(), with fakes

FAKE_SQLPLUS = """#!{python}
import sys
script = sys.stdin.read()
open({log!r}, "a").write(script + "\\n=====\\n")
if "conn /@broken " in script:
    print("ERROR:\\nORA-12541: TNS:no listener")
    sys.exit(1)
print({output!r})
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A configuration with three databases, a fake sqlplus, fake storage and a SQLite catalog."""
    home = tmp_path / "oh"
    (home / "bin").mkdir(parents=True)
    sqlplus = home / "bin" / "sqlplus"
    sqlplus.write_text(FAKE_SQLPLUS.format(python=sys.executable, log=str(tmp_path / "scripts.log"),
                                           output=JOB_OUTPUT))
    sqlplus.chmod(0o755)
    logdir = tmp_path / "log"
    logdir.mkdir()
    cfg = tmp_path / "backup.cfg"
    cfg.write_text(f"[generic]\noraclehome: {home}\nbackupdest: {tmp_path}/backup\n"
                   f"[autorestore]\nautorestorelogdir: {logdir}\nautorestorecatalog:\n"
                   "[orcl]\ndbid: 1\n[broken]\ndbid: 2\n[db2]\ndbid: 3\n")
    monkeypatch.setenv("BACKUPCONFIG", str(cfg))
    now = datetime.now().replace(microsecond=0)
    with SqliteCatalog(logdir / CATALOG_FILE) as cat:
        cat.record(RestoreResult("orcl", now - timedelta(hours=3), now - timedelta(hours=3) + timedelta(minutes=2),
                                 True, 10.0, "orcl-1", None, False))

    class FakeSnapper:
        def __init__(self, db: str):
            self.db = db

        def listsnapshots(self, sortbycreation=False, sortreverse=False):
            assert sortbycreation and sortreverse        # newest first
            if self.db == "db2":
                raise StorageError("appliance said HTTP 503")
            return ["new", "mid", "old"] if self.db == "orcl" else []

        def getsnapinfo(self, s):
            created = {"new": datetime(2016, 11, 8, 20, 53, 36, tzinfo=timezone.utc),
                       "old": datetime(2016, 5, 24, 13, 52, 5, tzinfo=timezone.utc)}[s]
            return SimpleNamespace(id=s, creation=created, numclones=0, space_total=0, space_unique=0)

        def pins(self):
            return [Pin("mid", "last verified by a restore test", None, VERIFIED),
                    Pin("old", "audit", date(2027, 6, 30))]

        def _snapid(self, s):
            return s

        def snapshot_path(self, snapid):
            return None     # a storage that shows no snapshot contents here

    monkeypatch.setattr(report, "create_snapper", lambda config, db: FakeSnapper(db))
    return SimpleNamespace(tmp=tmp_path, now=now, scripts=tmp_path / "scripts.log")


def test_main_reports_every_database_and_goes_on(env, capsys):
    assert report.main([]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "orcl:"
    assert out[1].startswith("  Backup job: SCHEDULED, last: 2016-11-08 21:53:35, duration: +000 00:00:23")
    assert out[3] == "  Snapshots: 3, latest: 2016-11-08 20:53:36, oldest: 2016-05-24 13:52:05, last verified: mid"
    assert out.pop(4) == "  Pinned: old pinned until 2027-06-30: audit"
    assert out.pop(4) == ("  Archivelog continuity: UNKNOWN: the FakeSnapper storage does not show snapshot "
                          "contents to this host (a remote server without sharedpaths, or zfs-fuse)")
    assert out[4].startswith(f"  Last successful restore: {env.now - timedelta(hours=3):%Y-%m-%d %H:%M:%S}, "
                             "last restore failure: none")
    assert out[4].endswith("avg difference from target (s): 10, avg restore time (min): 2")
    assert out[5] == "broken:"
    assert out[6] == ("  Error getting information: job state: SQL*Plus exited with code 1: "
                      "ORA-12541: TNS:no listener")
    assert out[7] == "  Snapshots: none"
    assert out[9] == "db2:"
    assert "  Error getting information: snapshots: appliance said HTTP 503" in out
    scripts = env.scripts.read_text()
    assert "conn /@orcl as sysdba" in scripts and "conn /@db2 as sysdba" in scripts
    assert scripts.count("=====") == 3       # one SQL*Plus run per database


def test_main_only_the_listed_databases_as_json(env, capsys):
    assert report.main(["db2,orcl", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [d["database"] for d in doc["databases"]] == ["db2", "orcl"]
    db2, orcl = doc["databases"]
    assert db2["snapshots"] is None and db2["errors"] == {"snapshots": "appliance said HTTP 503"}
    assert orcl["snapshots"]["count"] == 3 and orcl["errors"] == {}
    assert orcl["restore"]["avg_restore_minutes"] == pytest.approx(2)


def test_main_unknown_database_is_a_usage_error(env, capsys):
    assert report.main(["orcl,nosuch"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "section [nosuch] not found" in captured.err


def test_main_without_configuration(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BACKUPCONFIG", str(tmp_path / "none.cfg"))
    assert report.main([]) == 2
    assert "none.cfg not found" in capsys.readouterr().err


def test_main_missing_catalog_and_bad_database_config(env, capsys):
    (env.tmp / "log" / CATALOG_FILE).unlink()
    cfg = Path(env.tmp / "backup.cfg")
    cfg.write_text(cfg.read_text() + "[nohome]\ndbid: 4\ngenericoraclehome:\n")
    assert report.main(["orcl,nohome"]) == 2            # a database's bad configuration shows in the status
    out = capsys.readouterr().out
    assert "restore catalog: Restore catalog" in out and "does not exist" in out
    assert "Backup job: SCHEDULED" in out              # orcl's other parts still reported
    assert "nohome:\n  Error getting information: job state:" in out


def test_catalog_is_opened_once(env, monkeypatch, capsys):
    opened = []
    real = report.open_catalog
    monkeypatch.setattr(report, "open_catalog", lambda config, readonly: opened.append(1) or real(config,
                                                                                                 readonly=readonly))
    assert report.main([]) == 0
    assert opened == [1]


def test_snapshots_with_an_archivelog_gap_are_shown():
    rep = DatabaseReport("orcl", snapshots=SnapshotSummary(
        3, datetime(2016, 11, 8, 20, 53, 36, tzinfo=timezone.utc),
        datetime(2016, 5, 24, 13, 52, 5, tzinfo=timezone.utc),
        continuity="CRITICAL: 1 of 3 snapshots cannot recover to their target",
        gaps=["orcl-20161108T205336: thread 2: sequence 12 missing"]))
    lines = report.format_text(rep)
    assert "  Archivelog gap: orcl-20161108T205336: thread 2: sequence 12 missing" in lines
    assert not any(line.startswith("  Archivelog continuity") for line in lines)
    rep.snapshots.gaps, rep.snapshots.continuity = [], "OK: archivelogs complete"
    assert "  Archivelog continuity: OK: archivelogs complete" in report.format_text(rep)
