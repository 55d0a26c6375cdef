"""How long the restore catalog keeps results: ``[autorestore] autorestorecatalogretention``."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from imagecopy.catalog import HISTORY_DAYS, RestoreResult, SqliteCatalog, open_catalog
from imagecopy.catalog_oracle import OracleCatalog
from imagecopy.config import Configuration
from imagecopy.errors import ConfigError


def config_with(tmp_path: Path, catalog: str = "", retention: str | None = None) -> Configuration:
    path = tmp_path / "backup.cfg"
    key = f"autorestorecatalogretention: {retention}\n" if retention is not None else ""
    path.write_text(f"[generic]\noraclehome: {tmp_path}/oh\ntnsadmin: {tmp_path}/tns\n"
                    f"[autorestore]\nautorestorelogdir: {tmp_path}\nautorestorecatalog: {catalog}\n{key}"
                    "[orcl]\ndbid: 1\n")
    return Configuration(path)


def started(days_ago: int) -> RestoreResult:
    start = datetime.now() - timedelta(days=days_ago)
    return RestoreResult(db_unique_name=f"d{days_ago}", start_time=start, finish_time=start, success=True)


def test_sqlite_keeps_a_year_by_default(tmp_path):
    with open_catalog(config_with(tmp_path)) as cat:
        assert isinstance(cat, SqliteCatalog) and cat.retention_days == 365
        for days in (400, 200, 0):
            cat.record(started(days))
        assert [r.db_unique_name for r in cat.history()] == ["d200", "d0"]


def test_the_key_sets_the_days_kept(tmp_path):
    with open_catalog(config_with(tmp_path, retention="30")) as cat:
        for days in (31, 29):
            cat.record(started(days))
        assert [r.db_unique_name for r in cat.history()] == ["d29"]


def test_an_oracle_catalog_keeps_the_old_100_days_unless_set(tmp_path):
    assert open_catalog(config_with(tmp_path, "/@autorestore")).retention_days == HISTORY_DAYS
    cat = open_catalog(config_with(tmp_path, "/@autorestore", retention="400"))
    assert isinstance(cat, OracleCatalog) and cat.retention_days == 400


@pytest.mark.parametrize("value", ["0", "a year"])
def test_a_bad_value_is_one_clear_error(tmp_path, value):
    with pytest.raises(ConfigError, match=r"backup.cfg: \[autorestore\] key 'autorestorecatalogretention'"):
        open_catalog(config_with(tmp_path, retention=value))
