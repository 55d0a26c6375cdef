"""The restore results catalog: SQLite for real, Oracle through a recording fake connection."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
import sqlglot

from imagecopy import logs
from imagecopy.catalog import (
    CATALOG_FILE,
    CatalogError,
    RestoreResult,
    SqliteCatalog,
    open_catalog,
    summarize,
)
from imagecopy.catalog_oracle import ConnectSpec, OracleCatalog, oracledb_connect, parse_connect_string
from imagecopy.config import Configuration
from imagecopy.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2016, 11, 9, 8, 0, 0)


def result(db: str = "orcl", start: datetime = datetime(2016, 11, 8, 22, 47, 22), minutes: float = 2,
           success: bool = True, diff: float | None = 10, validated: bool = False, **kw: Any) -> RestoreResult:
    return RestoreResult(db_unique_name=db, start_time=start, finish_time=start + timedelta(minutes=minutes),
                         success=success, verification_diff_seconds=diff if success else None,
                         snapid=kw.pop("snapid", f"{db}-20161108T215335"),
                         restore_target=kw.pop("restore_target", datetime(2016, 11, 8, 21, 53, 30)),
                         validated=validated, logfile=kw.pop("logfile", f"20161108T224722-{db}.log"),
                         log_contents=kw.pop("log_contents", "RMAN> recover database;\nMedia recovery complete.\n"))


# --------------------------------------------------------------------------- summarize

def test_summary_figures_like_the_old_report():
    rows = [
        result(start=NOW - timedelta(days=3), minutes=2, diff=10),
        result(start=NOW - timedelta(days=2), minutes=4, diff=20),
        result(start=NOW - timedelta(days=1, hours=1), minutes=90, diff=30, validated=True),
        result(start=NOW - timedelta(days=1), success=False, minutes=1),
        result(start=NOW - timedelta(days=150), minutes=500, diff=9999),        # older than 100 days: ignored
        result(start=NOW - timedelta(days=120), success=False),
    ]
    s = summarize(rows, NOW)
    assert s["last_success"] == NOW - timedelta(days=1, hours=1)
    assert s["last_fail"] == NOW - timedelta(days=1)
    assert s["last_validated"] == NOW - timedelta(days=1, hours=1)
    assert s["avg_diff_seconds"] == pytest.approx(20)          # successful restores, validated or not
    assert s["avg_restore_minutes"] == pytest.approx(3)        # successful restores without validation


def test_summary_of_nothing():
    assert summarize([], NOW) == {"last_success": None, "last_fail": None, "last_validated": None,
                                  "avg_diff_seconds": None, "avg_restore_minutes": None}
    failed_only = summarize([result(start=NOW - timedelta(hours=5), success=False)], NOW)
    assert failed_only["last_fail"] == NOW - timedelta(hours=5)
    assert failed_only["avg_diff_seconds"] is None and failed_only["avg_restore_minutes"] is None


# --------------------------------------------------------------------------- SQLite

def test_sqlite_create_twice_and_round_trip(tmp_path):
    path = tmp_path / CATALOG_FILE
    with SqliteCatalog(path, retention_days=None) as cat:    # 2016 is long past the 100 days kept
        cat.create()
        cat.create()
        r = result(start=datetime(2016, 11, 8, 22, 47, 22, 123456))
        cat.record(r)
    with SqliteCatalog(path) as cat:          # opening an existing file creates nothing new
        rows = cat.history()
    assert len(rows) == 1
    got = rows[0]
    assert got.start_time == datetime(2016, 11, 8, 22, 47, 22)       # whole seconds, as an Oracle DATE
    assert got.finish_time == datetime(2016, 11, 8, 22, 49, 22)
    assert (got.db_unique_name, got.success, got.validated, got.snapid) == ("orcl", True, False, r.snapid)
    assert got.verification_diff_seconds == 10
    assert got.restore_target == r.restore_target
    assert (got.logfile, got.log_contents) == (r.logfile, r.log_contents)
    raw = sqlite3.connect(path).execute("SELECT start_time, finish_time FROM restoreaction").fetchone()
    assert raw == ("2016-11-08T22:47:22", "2016-11-08T22:49:22")   # ISO text


def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path):
    with SqliteCatalog(tmp_path / CATALOG_FILE) as cat:
        assert cat._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cat._db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_sqlite_history_filters_and_order(tmp_path):
    with SqliteCatalog(tmp_path / CATALOG_FILE, retention_days=None) as cat:
        cat.record(result("db2", start=NOW - timedelta(days=1)))
        cat.record(result("orcl", start=NOW - timedelta(days=2)))
        cat.record(result("orcl", start=NOW - timedelta(days=1), success=False))
        cat.record(result("orcl", start=NOW - timedelta(days=1), success=False))   # the same run again
        assert [(r.db_unique_name, r.start_time) for r in cat.history()] == [
            ("orcl", NOW - timedelta(days=2)), ("db2", NOW - timedelta(days=1)), ("orcl", NOW - timedelta(days=1))]
        assert len(cat.history("orcl")) == 2
        assert [r.success for r in cat.history("orcl", since=NOW - timedelta(days=1, hours=1))] == [False]
        assert all(r.log_contents is None for r in cat.history(with_log=False))


def test_sqlite_summary_numbers(tmp_path):
    with SqliteCatalog(tmp_path / CATALOG_FILE, retention_days=None) as cat:
        for r in [result(start=NOW - timedelta(days=3), minutes=2, diff=10),
                  result(start=NOW - timedelta(days=2), minutes=4, diff=-20),
                  result(start=NOW - timedelta(days=1), minutes=60, diff=40, validated=True),
                  result(start=NOW - timedelta(hours=10), success=False),
                  result(start=NOW - timedelta(days=101), minutes=100, diff=1000),
                  result("db2", start=NOW - timedelta(hours=1), success=False)]:
            cat.record(r)
        s = cat.summary("orcl", now=NOW)
    assert s == {"last_success": NOW - timedelta(days=1), "last_fail": NOW - timedelta(hours=10),
                 "last_validated": NOW - timedelta(days=1), "avg_diff_seconds": pytest.approx(10),
                 "avg_restore_minutes": pytest.approx(3)}


def test_sqlite_record_purges_rows_older_than_retention(tmp_path):
    with SqliteCatalog(tmp_path / CATALOG_FILE) as cat:
        cat.record(result(start=datetime.now() - timedelta(days=150)))
        cat.record(result(start=datetime.now() - timedelta(days=99)))
        cat.record(result(start=datetime.now() - timedelta(hours=1)))
        assert len(cat.history()) == 2


def test_sqlite_zone_aware_times_are_stored_as_local_time(tmp_path):
    aware = datetime(2016, 11, 8, 21, 47, 22, tzinfo=timezone.utc)
    with SqliteCatalog(tmp_path / CATALOG_FILE, retention_days=None) as cat:
        cat.record(RestoreResult("orcl", aware, aware + timedelta(minutes=1), True))
        (row,) = cat.history()
    assert row.start_time == aware.astimezone().replace(tzinfo=None)
    assert row.snapid is None and row.verification_diff_seconds is None and row.restore_target is None


def test_sqlite_readonly_neither_creates_nor_writes(tmp_path):
    path = tmp_path / CATALOG_FILE
    with pytest.raises(CatalogError, match="does not exist"):
        SqliteCatalog(path, readonly=True)
    assert not path.exists()
    with SqliteCatalog(path, retention_days=None) as cat:
        cat.record(result())
    with SqliteCatalog(path, readonly=True) as ro:
        assert len(ro.history("orcl")) == 1
        with pytest.raises(CatalogError, match="cannot record"):
            ro.record(result(start=NOW))


def test_sqlite_unopenable_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError, match="Restore catalog"):
        SqliteCatalog(tmp_path / "no-such-dir" / CATALOG_FILE)


WRITER = """
import sys
from datetime import datetime, timedelta
from imagecopy.catalog import RestoreResult, SqliteCatalog
path, db, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = datetime(2016, 11, 8, 22, 0, 0)
with SqliteCatalog(path, retention_days=None) as cat:
    for i in range(n):
        t = start + timedelta(minutes=i)
        cat.record(RestoreResult(db, t, t + timedelta(seconds=30), i % 3 != 0, 5.0, "snap", t, False,
                                 f"{db}-{i}.log", "x" * 20000))
"""


def test_two_processes_write_concurrently(tmp_path):
    path = tmp_path / CATALOG_FILE
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, str(script), str(path), db, "150"], env=env,
                              stderr=subprocess.PIPE, text=True) for db in ("orcl", "db2")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with SqliteCatalog(path, readonly=True) as cat:
        assert len(cat.history("orcl")) == 150
        assert len(cat.history("db2")) == 150


# --------------------------------------------------------------------------- Oracle, faked

class OraError(Exception):
    """Shaped like python-oracledb's errors: args[0] carries the ORA- code."""

    def __init__(self, code: int, message: str):
        super().__init__(types.SimpleNamespace(code=code, message=message))


class FakeCursor:
    def __init__(self, conn: FakeConnection):
        self.conn = conn
        self.rows: list[tuple] = []

    def execute(self, sql: str, binds: dict | None = None) -> None:
        self.conn.calls.append((sql, binds))
        answer = self.conn.responder(sql, binds or {})
        if isinstance(answer, Exception):
            raise answer
        self.rows = list(answer or [])

    def fetchone(self) -> tuple | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple]:
        return list(self.rows)

    def close(self) -> None:
        self.conn.closed_cursors += 1


class FakeConnection:
    def __init__(self, responder: Callable[[str, dict], Any] | None = None):
        self.responder = responder or (lambda sql, binds: [(0,)] if sql.startswith("SELECT count") else [])
        self.calls: list[tuple[str, dict | None]] = []
        self.commits = self.rollbacks = self.closes = self.closed_cursors = 0

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        self.rollbacks += 1

    def close(self) -> None:
        self.closes += 1


def fake_catalog(conn: FakeConnection, **kw: Any) -> OracleCatalog:
    return OracleCatalog("/@autorestore", connect=lambda: conn, **kw)


def assert_all_parse(conn: FakeConnection) -> None:
    for sql, _ in conn.calls:
        sqlglot.parse_one(sql, read="oracle")     # raises on anything Oracle would not take


def test_oracle_create_on_an_empty_schema():
    conn = FakeConnection()
    fake_catalog(conn).create()
    sqls = [sql for sql, _ in conn.calls]
    assert sqls[0].startswith("SELECT count(*) FROM user_sequences") and conn.calls[0][1] == {
        "name": "RESTOREACTION_SEQ"}
    assert sqls[1] == "CREATE SEQUENCE restoreaction_seq"
    assert sqls[2].startswith("SELECT count(*) FROM user_tables") and conn.calls[2][1] == {"name": "RESTOREACTION"}
    assert sqls[3].startswith("CREATE TABLE restoreaction (")
    for column in ("db_unique_name", "start_time", "finish_time", "success", "logfile", "logfilecontents CLOB",
                   "verificationtimediffseconds", "snapid", "restore_target", "validated_corruption",
                   "UNIQUE (db_unique_name, start_time, success)"):
        assert column in sqls[3]
    assert_all_parse(conn)
    parsed = sqlglot.parse_one(sqls[3], read="oracle")
    assert isinstance(parsed, sqlglot.exp.Create) and parsed.this.this.name.lower() == "restoreaction"


def test_oracle_create_is_idempotent():
    conn = FakeConnection(lambda sql, binds: [(1,)])       # both objects exist
    cat = fake_catalog(conn)
    cat.create()
    cat.create()
    assert all(sql.startswith("SELECT") for sql, _ in conn.calls)
    assert len(conn.calls) == 6         # sequence, table, failed_step column; twice


def test_oracle_create_tolerates_losing_the_race():
    def responder(sql: str, binds: dict) -> Any:
        if sql.startswith("SELECT count"):
            return [(0,)]
        if sql.startswith("ALTER"):
            return OraError(1430, "ORA-01430: column being added already exists in table")
        return OraError(955, "ORA-00955: name is already used by an existing object")
    fake_catalog(FakeConnection(responder)).create()


def test_oracle_create_reports_other_errors():
    def responder(sql: str, binds: dict) -> Any:
        return [(0,)] if sql.startswith("SELECT") else OraError(1031, "ORA-01031: insufficient privileges")
    with pytest.raises(CatalogError, match="cannot create the catalog: .*ORA-01031"):
        fake_catalog(FakeConnection(responder)).create()


def test_oracle_record_binds_every_value():
    conn = FakeConnection()
    big_log = "line\n" * 50000                                # far beyond a VARCHAR2: goes in as a CLOB
    r = result(start=datetime(2016, 11, 8, 22, 47, 22, 999), validated=True, log_contents=big_log,
               snapid="orcl-20161108T215335'; drop table x; --")
    fake_catalog(conn).record(r)
    # (first the question whether the table has failed_step: here not, an old catalog)
    (insert_sql, binds), (purge_sql, purge_binds) = [c for c in conn.calls if not c[0].startswith("SELECT")]
    assert insert_sql.startswith("INSERT INTO restoreaction (id, db_unique_name,")
    assert "restoreaction_seq.nextval" in insert_sql
    assert binds == {
        "db_unique_name": "orcl", "start_time": datetime(2016, 11, 8, 22, 47, 22),
        "finish_time": datetime(2016, 11, 8, 22, 49, 22), "success": 1, "logfile": "20161108T224722-orcl.log",
        "logfilecontents": big_log, "verificationtimediffseconds": 10, "snapid": r.snapid,
        "restore_target": datetime(2016, 11, 8, 21, 53, 30), "validated_corruption": 1,
    }
    # values travel only as binds, never in the statement text
    for value in ("orcl", "drop table", "20161108", "Media recovery"):
        assert value not in insert_sql
    assert set(re.findall(r":(\w+)", insert_sql)) == set(binds)
    assert purge_sql == "DELETE FROM restoreaction WHERE start_time < :cutoff"
    assert purge_binds["cutoff"] < datetime.now() - timedelta(days=99)
    assert conn.commits == 1 and conn.rollbacks == 0
    assert_all_parse(conn)


def test_oracle_record_of_a_recorded_run_keeps_one_row():
    def responder(sql: str, binds: dict) -> Any:
        return OraError(1, "ORA-00001: unique constraint violated") if sql.startswith("INSERT") else []
    conn = FakeConnection(responder)
    fake_catalog(conn, retention_days=None).record(result())
    assert conn.commits == 1 and [sql.split()[0] for sql, _ in conn.calls] == ["SELECT", "INSERT"]


def test_oracle_record_failure_rolls_back():
    conn = FakeConnection(lambda sql, binds: OraError(1653, "ORA-01653: unable to extend table"))
    with pytest.raises(CatalogError, match="cannot record the result: .*ORA-01653"):
        fake_catalog(conn).record(result())
    assert conn.rollbacks == 1 and conn.commits == 0


class FakeLob:
    def __init__(self, text: str):
        self.text = text

    def read(self) -> str:
        return self.text


def test_oracle_history_and_summary():
    start = NOW - timedelta(days=1)
    rows = [("orcl", start, start + timedelta(minutes=3), 1, 12, "snap1", start - timedelta(hours=1), 0, "a.log",
             FakeLob("the log")),
            ("orcl", start + timedelta(hours=1), start + timedelta(hours=1, minutes=1), 0, None, "snap2", None, 0,
             "b.log", None)]
    # an old catalog (no failed_step column): the rows have the old columns
    conn = FakeConnection(lambda sql, binds: [(0,)] if sql.startswith("SELECT count") else rows)
    cat = fake_catalog(conn)
    got = cat.history("orcl")
    assert got[0] == RestoreResult("orcl", start, start + timedelta(minutes=3), True, 12.0, "snap1",
                                   start - timedelta(hours=1), False, "a.log", "the log")
    assert got[1].success is False and got[1].log_contents is None
    sql, binds = conn.calls[-1]
    assert "WHERE db_unique_name = :db" in sql and binds == {"db": "orcl"} and "logfilecontents" in sql
    s = cat.summary("orcl", now=NOW)
    sql, binds = conn.calls[-1]
    assert "logfilecontents" not in sql and binds == {"db": "orcl", "since": NOW - timedelta(days=100)}
    assert s["last_success"] == start and s["last_fail"] == start + timedelta(hours=1)
    assert s["avg_diff_seconds"] == 12 and s["avg_restore_minutes"] == 3
    cat.history()
    assert "WHERE" not in conn.calls[-1][0] and conn.calls[-1][1] is None
    assert_all_parse(conn)
    cat.close()
    assert conn.closes == 1


def test_oracle_connects_lazily_and_once():
    made = []
    cat = OracleCatalog("/@autorestore", connect=lambda: made.append(1) or FakeConnection())
    assert made == []
    cat.history()
    cat.history()
    assert made == [1]


# --------------------------------------------------------------------------- connect strings

@pytest.mark.parametrize("value, spec", [
    ("/@autorestore", ConnectSpec("autorestore")),
    (" /@catalog.example.com:1521/cat ", ConnectSpec("catalog.example.com:1521/cat")),
    ("scott/tiger@dbhost:1521/orclpdb", ConnectSpec("dbhost:1521/orclpdb", "scott", "tiger")),
    ("scott/tiger@autorestore", ConnectSpec("autorestore", "scott", "tiger")),
    ('scott/"p@ss/w"@dbhost/svc', ConnectSpec("dbhost/svc", "scott", "p@ss/w")),
])
def test_connect_string_forms(value, spec):
    assert parse_connect_string(value) == spec


@pytest.mark.parametrize("value", ["autorestore", "scott@db", "scott/@db", "/tiger@db", "/@", "scott/tiger@"])
def test_bad_connect_strings(value):
    with pytest.raises(ConfigError, match="expected /@alias or user/password@dsn") as info:
        parse_connect_string(value)
    assert "tiger" not in str(info.value)


def test_password_never_shown():
    cat = OracleCatalog("scott/s3cretpw@dbhost/svc", connect=FakeConnection)
    assert "s3cretpw" not in repr(cat) and "s3cretpw" not in cat.describe()
    assert logs.scrub("password is s3cretpw") == "password is ********"


def fake_oracledb(calls: list, thin: bool = True, fail: bool = False) -> types.ModuleType:
    mod = types.ModuleType("oracledb")

    class Error(Exception):
        pass

    def connect(**kw: Any) -> Any:
        calls.append(("connect", kw))
        if fail:
            raise Error("ORA-12154: TNS:could not resolve the connect identifier specified")
        return FakeConnection()

    mod.Error = Error
    mod.is_thin_mode = lambda: thin
    mod.init_oracle_client = lambda **kw: calls.append(("init_oracle_client", kw))
    mod.connect = connect
    return mod


def test_external_authentication_uses_thick_mode_and_the_wallet(monkeypatch, tmp_path):
    calls: list = []
    monkeypatch.setitem(sys.modules, "oracledb", fake_oracledb(calls))
    home = tmp_path / "oh"
    (home / "lib").mkdir(parents=True)
    (home / "lib" / "libclntsh.so").write_text("")
    monkeypatch.delenv("ORACLE_HOME", raising=False)
    oracledb_connect(ConnectSpec("autorestore"), tnsadmin=tmp_path / "tns", oraclehome=home)
    assert calls == [("init_oracle_client", {"lib_dir": str(home / "lib"), "config_dir": str(tmp_path / "tns")}),
                     ("connect", {"dsn": "autorestore", "externalauth": True})]
    assert os.environ["ORACLE_HOME"] == str(home)


def test_external_authentication_without_client_libraries_in_the_home(monkeypatch, tmp_path):
    calls: list = []
    monkeypatch.setitem(sys.modules, "oracledb", fake_oracledb(calls))
    oracledb_connect(ConnectSpec("autorestore"), tnsadmin=None, oraclehome=tmp_path)
    assert calls[0] == ("init_oracle_client", {"lib_dir": None, "config_dir": None})


def test_password_login_stays_in_thin_mode(monkeypatch, tmp_path):
    calls: list = []
    monkeypatch.setitem(sys.modules, "oracledb", fake_oracledb(calls))
    oracledb_connect(ConnectSpec("dbhost/svc", "scott", "tiger"), tnsadmin=tmp_path)
    assert calls == [("connect", {"user": "scott", "password": "tiger", "dsn": "dbhost/svc",
                                  "config_dir": str(tmp_path)})]


def test_connect_failure_names_the_catalog_without_the_password(monkeypatch):
    monkeypatch.setitem(sys.modules, "oracledb", fake_oracledb([], fail=True))
    with pytest.raises(CatalogError, match=r"restore catalog scott@dbhost/svc: ORA-12154") as info:
        oracledb_connect(ConnectSpec("dbhost/svc", "scott", "tiger"))
    assert "tiger" not in str(info.value)
    cat = OracleCatalog("/@nosuch", connect=None)
    with pytest.raises(CatalogError, match=r"/@nosuch: ORA-12154.*external authentication needs"):
        cat.create()


# --------------------------------------------------------------------------- factory

def config_with(tmp_path: Path, catalog: str) -> Configuration:
    path = tmp_path / "backup.cfg"
    path.write_text(f"[generic]\noraclehome: {tmp_path}/oh\ntnsadmin: {tmp_path}/tns\n"
                    f"[autorestore]\nautorestorelogdir: {tmp_path}\nautorestorecatalog: {catalog}\n[orcl]\ndbid: 1\n")
    return Configuration(path)


def test_open_catalog_default_is_sqlite_in_the_log_dir(tmp_path):
    with open_catalog(config_with(tmp_path, "")) as cat:
        assert isinstance(cat, SqliteCatalog) and cat.path == tmp_path / CATALOG_FILE
    assert (tmp_path / CATALOG_FILE).is_file()


def test_open_catalog_oracle(tmp_path):
    cat = open_catalog(config_with(tmp_path, "/@autorestore"))
    assert isinstance(cat, OracleCatalog) and cat.spec == ConnectSpec("autorestore")
    assert cat.describe() == "Oracle catalog /@autorestore"


def test_open_catalog_bad_string_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"backup.cfg: \[autorestore\] autorestorecatalog"):
        open_catalog(config_with(tmp_path, "autorestore"))


# -- the step a failed restore stopped at (failed_step), in both catalogs and in old catalogs

OLD_SQLITE_TABLE = """CREATE TABLE restoreaction (
    id INTEGER PRIMARY KEY AUTOINCREMENT, db_unique_name TEXT NOT NULL, start_time TEXT NOT NULL,
    finish_time TEXT NOT NULL, success INTEGER NOT NULL, logfile TEXT, logfilecontents TEXT,
    verificationtimediffseconds REAL, snapid TEXT, restore_target TEXT, validated_corruption INTEGER NOT NULL,
    UNIQUE (db_unique_name, start_time, success))"""


def failed_at(step: str) -> RestoreResult:
    r = result(success=False, snapid="orcl-20161108T215335")
    r.step = step
    return r


def test_sqlite_records_the_failed_step_and_a_success_none(tmp_path):
    with SqliteCatalog(tmp_path / CATALOG_FILE, retention_days=None) as cat:
        cat.record(failed_at("recover"))
        ok = result(start=NOW - timedelta(days=1))
        ok.step = "cleanup"                 # the last step a success ran: not a failure
        cat.record(ok)
        rows = cat.history("orcl")
    assert [(r.success, r.step) for r in rows] == [(True, None), (False, "recover")]


def test_an_old_sqlite_catalog_gets_the_column_and_keeps_its_rows(tmp_path):
    path = tmp_path / CATALOG_FILE
    con = sqlite3.connect(path)
    con.execute(OLD_SQLITE_TABLE)
    con.execute("INSERT INTO restoreaction (db_unique_name, start_time, finish_time, success, "
                "validated_corruption) VALUES ('orcl', '2016-11-08T22:00:00', '2016-11-08T22:05:00', 1, 0)")
    con.commit()
    con.close()
    with SqliteCatalog(path, readonly=True) as cat:        # report.py: read as it is, column or not
        assert [r.step for r in cat.history("orcl")] == [None]
    with SqliteCatalog(path, retention_days=None) as cat:  # a restore test: the column is added
        cat.record(failed_at("open"))
        assert [r.step for r in cat.history("orcl")] == [None, "open"]


def test_oracle_records_the_failed_step_when_the_table_has_the_column():
    conn = FakeConnection(lambda sql, binds: [(1,)] if sql.startswith("SELECT count") else [])
    fake_catalog(conn, retention_days=None).record(failed_at("recover"))
    insert, binds = next(c for c in conn.calls if c[0].startswith("INSERT"))
    assert binds["failed_step"] == "recover" and ":failed_step" in insert
    assert_all_parse(conn)


def test_an_old_oracle_catalog_is_written_without_the_step_and_upgraded_by_create():
    conn = FakeConnection()                 # every count is 0: no failed_step column
    cat = fake_catalog(conn, retention_days=None)
    cat.record(failed_at("recover"))
    insert, binds = next(c for c in conn.calls if c[0].startswith("INSERT"))
    assert "failed_step" not in binds and "failed_step" not in insert
    conn.calls.clear()
    conn.responder = lambda sql, binds: [(1,)] if "user_sequences" in sql or "user_tables" in sql else [(0,)]
    cat.create()
    assert "ALTER TABLE restoreaction ADD (failed_step VARCHAR2(40))" in [sql for sql, _ in conn.calls]
    assert_all_parse(conn)
