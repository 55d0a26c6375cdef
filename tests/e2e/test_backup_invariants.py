"""The daily job checks its own result: a backup that would not restore must not exit 0.

Templates are meant to be edited by DBAs; each case here is an edit that
breaks the backup silently (RMAN and SQL*Plus succeed), run from a copy of
the scripts.  The job must end with exit 1 and say which rule failed.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from .conftest import REPO, ok

pytestmark = pytest.mark.slow


def scripts_with(tmp_path: Path, template: str, edit) -> Path:
    """A copy of the scripts whose ``template`` is replaced by ``edit(text)``."""
    app = tmp_path / "app"
    for p in REPO.glob("*.py"):
        if p.name != "setup.py":
            app.mkdir(exist_ok=True)
            shutil.copy2(p, app / p.name)
    for rel in ("imagecopy", "storage", "templates"):
        shutil.copytree(REPO / rel, app / rel, ignore=shutil.ignore_patterns("__pycache__"))
    path = app / "templates" / template
    path.write_text(edit(path.read_text()))
    return app


def no_recover_copy(text: str) -> str:
    assert "recover copy of database" in text
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("recover copy"))


def target_after_switch(text: str) -> str:
    assert "alter system archive log current;" in text
    return "alter system archive log current;\n" + text.replace("alter system archive log current;\n", "")


@pytest.mark.parametrize("template, edit, message", [
    ("rman_refresh.rman", no_recover_copy, "was not rolled forward"),
    ("sql_archive_current.sql", target_after_switch, "not past the recovery target"),
])
def test_a_backup_that_would_not_restore_fails(configured, template, edit, message):
    benv = configured
    benv.workload(5)
    ok(benv.backup("imagecopywithsnap"))            # level-0 copies with the shipped templates
    benv.app = scripts_with(benv.root, template, edit)
    benv.checker().forget()
    time.sleep(1.1)
    benv.workload(5)
    result = benv.backup("imagecopywithsnap")
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    log = sorted((benv.area / "backup_logs").glob("orcl_*_imagecopywithsnap.log"))[-1].read_text()
    assert "Backup check failed: " in log and message in log
    assert not (benv.area / "backup.lck").exists()


def test_a_good_backup_logs_that_the_checks_hold(configured):
    benv = configured
    for _ in range(2):
        benv.workload(5)
        ok(benv.backup("imagecopywithsnap"))
        time.sleep(1.1)
    log = sorted((benv.area / "backup_logs").glob("orcl_*_imagecopywithsnap.log"))[-1].read_text()
    assert "Backup invariants hold" in log


def test_backup_metrics_record_success_and_a_backup_that_would_not_restore(configured):
    """[generic] backupmetricsfile: each daily run's result, its own checks and the snapshot history."""
    from imagecopy import backupmetrics
    from imagecopy.promfile import parse_textfile
    benv = configured
    prom = benv.root / "backup.prom"
    benv.config.write_text(benv.config.read_text().replace("[generic]\n", f"[generic]\nbackupmetricsfile: {prom}\n"))
    key = (("database", "orcl"),)
    for _ in range(2):
        benv.workload(5)
        ok(benv.backup("imagecopywithsnap"))
        time.sleep(1.1)
    good = parse_textfile(prom.read_text(), backupmetrics.FAMILIES)
    assert good[backupmetrics.RUN_SUCCESS][key] == 1
    assert good[backupmetrics.CHECK_FAILURES][key] == 0
    assert good[backupmetrics.SNAPSHOTS][key] == 2
    assert good[backupmetrics.NEWEST][key] > good[backupmetrics.OLDEST][key]
    assert good[backupmetrics.NEWEST_UNIQUE][key] > 0
    assert oct(prom.stat().st_mode & 0o777) == "0o644"            # node_exporter reads it
    benv.app = scripts_with(benv.root, "rman_refresh.rman", no_recover_copy)
    benv.workload(5)
    assert benv.backup("imagecopywithsnap").returncode == 1
    bad = parse_textfile(prom.read_text(), backupmetrics.FAMILIES)
    assert bad[backupmetrics.RUN_SUCCESS][key] == 0
    assert bad[backupmetrics.CHECK_FAILURES][key] >= 1
    assert bad[backupmetrics.LAST_SUCCESS][key] == good[backupmetrics.LAST_SUCCESS][key]
    assert bad[backupmetrics.SNAPSHOTS][key] == 3
