"""A failed RMAN or SQL*Plus run is reported once, on screen and in the session log, with its Oracle lines."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def session_log(benv, action: str, db: str = "orcl") -> str:
    logs = sorted((benv.root / "backup" / db / "backup_logs").glob(f"{db}_*_{action}.log"))
    assert logs, f"no session log for {action}"
    return logs[-1].read_text()


def test_rman_failure_is_logged_once(benv):
    benv.area.mkdir()       # the backup area must exist: a missing one is refused before any Oracle call
    result = benv.backup("validatebackup")          # nothing backed up yet: RMAN fails
    assert result.returncode == 1
    assert result.stdout.count("RMAN exited with code 1") == 1, result.stdout
    assert "RMAN-06023" in result.stdout
    assert session_log(benv, "validatebackup").count("RMAN exited with code 1") == 1


def test_sqlplus_failure_is_logged_once(benv):
    with benv.config.open("a") as fh:
        fh.write("\n[nodb]\ndbid: 42\nrecoverywindow: 2\nparallel: 1\nsnapexpirationdays: 7\ngimanaged: false\n")
    (benv.root / "backup" / "nodb").mkdir()
    result = benv.script("backup.py", "nodb", "missingarchlog")   # no such TNS alias: SQL*Plus fails
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.count("SQL*Plus exited with code 1") == 1, result.stdout
    assert "ORA-" in result.stdout
    assert session_log(benv, "missingarchlog", "nodb").count("SQL*Plus exited with code 1") == 1
