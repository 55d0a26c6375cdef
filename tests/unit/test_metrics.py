"""Prometheus textfile output: format, escaping, merging with the file, atomic replacement."""
from __future__ import annotations

import os
import stat
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from imagecopy import atomicfile, metrics
from imagecopy.catalog import RestoreResult
from imagecopy.metrics import (
    escape_label,
    format_value,
    merge,
    parse_labels,
    parse_textfile,
    render,
    write_textfile,
)

START = datetime(2016, 11, 8, 22, 47, 22)


def run(db: str = "orcl", start: datetime = START, seconds: float = 125.5, success: bool = True,
        diff: float | None = 10, validated: bool = False) -> RestoreResult:
    return RestoreResult(db, start, start + timedelta(seconds=seconds), success, diff if success else None,
                         "snap", None, validated)


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def samples(path: Path) -> dict[str, dict]:
    return parse_textfile(path.read_text())


def test_format_of_one_database(tmp_path):
    path = tmp_path / "autorestore.prom"
    write_textfile(path, [run(validated=True)])
    finish = START + timedelta(seconds=125.5)
    text = path.read_text()
    assert text == (
        "# HELP oib_autorestore_last_success_timestamp_seconds Unix time the last successful restore test of "
        "the database finished.\n"
        "# TYPE oib_autorestore_last_success_timestamp_seconds gauge\n"
        f'oib_autorestore_last_success_timestamp_seconds{{database="orcl"}} {epoch(finish)}\n'
        "# HELP oib_autorestore_last_run_timestamp_seconds Unix time the last restore test of the database "
        "finished, successful or not.\n"
        "# TYPE oib_autorestore_last_run_timestamp_seconds gauge\n"
        f'oib_autorestore_last_run_timestamp_seconds{{database="orcl"}} {epoch(finish)}\n'
        "# HELP oib_autorestore_last_run_success 1 if the last restore test of the database succeeded, else 0.\n"
        "# TYPE oib_autorestore_last_run_success gauge\n"
        'oib_autorestore_last_run_success{database="orcl"} 1\n'
        "# HELP oib_autorestore_duration_seconds Duration of the last restore test of the database in seconds.\n"
        "# TYPE oib_autorestore_duration_seconds gauge\n"
        'oib_autorestore_duration_seconds{database="orcl"} 125.5\n'
        "# HELP oib_autorestore_verified_lag_seconds Restore target time minus the time verified in the "
        "restored database, in seconds.\n"
        "# TYPE oib_autorestore_verified_lag_seconds gauge\n"
        'oib_autorestore_verified_lag_seconds{database="orcl"} 10\n'
        "# HELP oib_autorestore_validated 1 if the last restore test also validated every block of the "
        "database, else 0.\n"
        "# TYPE oib_autorestore_validated gauge\n"
        'oib_autorestore_validated{database="orcl"} 1\n'
    )


def test_every_sample_line_is_well_formed(tmp_path):
    path = tmp_path / "autorestore.prom"
    write_textfile(path, [run("orcl"), run("db2", success=False)])
    families = set()
    for line in path.read_text().splitlines():
        if line.startswith("# TYPE "):
            families.add(line.split()[2])
            assert line.endswith(" gauge")
        elif not line.startswith("# HELP "):
            name = line.split("{")[0]
            assert name in families, "a sample comes after its TYPE line"
            float(line.rsplit(" ", 1)[1])


def test_failed_run_keeps_the_last_success_and_drops_the_lag(tmp_path):
    path = tmp_path / "autorestore.prom"
    write_textfile(path, [run(start=START)])
    later = START + timedelta(days=1)
    write_textfile(path, [run(start=later, seconds=30, success=False)])
    s = samples(path)
    key = (("database", "orcl"),)
    assert s[metrics.LAST_SUCCESS][key] == epoch(START + timedelta(seconds=125.5))
    assert s[metrics.LAST_RUN][key] == epoch(later + timedelta(seconds=30))
    assert s[metrics.RUN_SUCCESS][key] == 0
    assert s[metrics.DURATION][key] == 30
    assert key not in s.get(metrics.LAG, {})       # the failed run verified nothing; an old lag would mislead


def test_merge_keeps_other_databases(tmp_path):
    path = tmp_path / "autorestore.prom"
    write_textfile(path, [run("orcl", diff=10)])
    write_textfile(path, [run("db2", start=START + timedelta(hours=2), diff=99)])
    write_textfile(path, [run("orcl", start=START + timedelta(days=1), diff=20)])
    s = samples(path)
    assert s[metrics.LAG] == {(("database", "db2"),): 99, (("database", "orcl"),): 20}
    assert set(s[metrics.LAST_SUCCESS]) == {(("database", "db2"),), (("database", "orcl"),)}
    # databases sorted within each family, whatever order they were written in
    lines = [line for line in path.read_text().splitlines() if line.startswith(metrics.LAG)]
    assert lines == ['oib_autorestore_verified_lag_seconds{database="db2"} 99',
                     'oib_autorestore_verified_lag_seconds{database="orcl"} 20']


def test_latest_result_per_database_wins():
    older, newer = run(start=START, diff=1), run(start=START + timedelta(hours=1), success=False)
    for order in ([older, newer], [newer, older]):
        m = merge({}, order)
        key = (("database", "orcl"),)
        assert m[metrics.RUN_SUCCESS][key] == 0
        assert m[metrics.LAST_SUCCESS][key] == epoch(older.finish_time)


def test_last_success_never_moves_back():
    key = (("database", "orcl"),)
    existing = {metrics.LAST_SUCCESS: {key: 2e9}}
    assert merge(existing, [run()])[metrics.LAST_SUCCESS][key] == 2e9


def test_foreign_and_broken_lines_are_dropped(tmp_path):
    path = tmp_path / "autorestore.prom"
    path.write_text('# a comment\nsomething_else{database="x"} 5\n'
                    'oib_autorestore_validated{database="db2"} 1\n'
                    'oib_autorestore_validated{database="broken} 1\n'
                    'oib_autorestore_duration_seconds{database="db3"} notanumber\n'
                    'oib_autorestore_duration_seconds{database="db4"} 12 1478645000000\n')
    write_textfile(path, [run("orcl")])
    s = samples(path)
    assert "something_else" not in path.read_text()
    assert s[metrics.VALIDATED] == {(("database", "db2"),): 1, (("database", "orcl"),): 0}
    assert s[metrics.DURATION] == {(("database", "db4"),): 12, (("database", "orcl"),): 125.5}


@pytest.mark.parametrize("raw, escaped", [
    ("orcl", "orcl"),
    ('we"ird', 'we\\"ird'),
    ("back\\slash", "back\\\\slash"),
    ("new\nline", "new\\nline"),
    ('all\\"\n', 'all\\\\\\"\\n'),
])
def test_label_escaping_round_trips(tmp_path, raw, escaped):
    assert escape_label(raw) == escaped
    assert parse_labels(f'database="{escaped}"') == (("database", raw),)
    path = tmp_path / "autorestore.prom"
    write_textfile(path, [run(raw)])
    assert f'{{database="{escaped}"}}' in path.read_text()
    assert (("database", raw),) in samples(path)[metrics.RUN_SUCCESS]
    assert len(path.read_text().splitlines()) == 18        # no raw newline leaked into the file


def test_parse_labels_several_and_malformed():
    assert parse_labels('b="2", a="1",') == (("a", "1"), ("b", "2"))
    assert parse_labels("") == ()
    for bad in ('a=1', 'a="x', '="x"'):
        with pytest.raises(ValueError):
            parse_labels(bad)


@pytest.mark.parametrize("value, text", [(1.0, "1"), (0.0, "0"), (125.5, "125.5"), (-20.0, "-20"),
                                          (float("nan"), "NaN"), (float("inf"), "+Inf"), (1478645242.0, "1478645242")])
def test_values(value, text):
    assert format_value(value) == text


def test_render_of_nothing_is_empty():
    assert render({}) == ""


def test_written_through_a_temp_file_in_the_same_directory(tmp_path, monkeypatch):
    path = tmp_path / "autorestore.prom"
    path.write_text('oib_autorestore_validated{database="db2"} 1\n')
    seen = []
    real_replace = os.replace

    def spying_replace(src, dst):
        # at the moment of the rename the old file is still whole and the new one complete
        seen.append((Path(src), Path(dst), path.read_text(), Path(src).read_text()))
        real_replace(src, dst)

    monkeypatch.setattr(atomicfile.os, "replace", spying_replace)
    write_textfile(path, [run("orcl")])
    ((src, dst, before, new),) = seen
    assert src.parent == path.parent and dst == path
    assert not src.name.endswith(".prom")           # node_exporter reads *.prom: never a half-written one
    assert before == 'oib_autorestore_validated{database="db2"} 1\n'
    assert new == path.read_text() and new.endswith("\n")
    assert not src.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644     # readable by node_exporter's user
    assert sorted(p.name for p in tmp_path.iterdir()) == [".autorestore.prom.lock", "autorestore.prom"]


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "autorestore.prom"
    write_textfile(path, [run("db2")])
    before = path.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomicfile.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_textfile(path, [run("orcl")])
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".autorestore.prom.lock", "autorestore.prom"]


def test_concurrent_writers_lose_no_database(tmp_path):
    path = tmp_path / "autorestore.prom"
    names = [f"db{i}" for i in range(12)]
    threads = [threading.Thread(target=write_textfile, args=(path, [run(n)])) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {labels[0][1] for labels in samples(path)[metrics.RUN_SUCCESS]} == set(names)


def test_readers_never_see_a_partial_file(tmp_path):
    path = tmp_path / "autorestore.prom"
    write_textfile(path, [run("seed")])
    stop = threading.Event()
    bad: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            text = path.read_text()
            if not text.endswith("\n") or "seed" not in text:
                bad.append(text)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(150):
            write_textfile(path, [run(f"db{i % 7}", start=START + timedelta(minutes=i))])
    finally:
        stop.set()
        t.join()
    assert bad == []
