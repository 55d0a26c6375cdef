"""backup.py against bad input and a hostile environment: one line, the documented exit status, nothing created."""
from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from .conftest import ok

pytestmark = pytest.mark.slow


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and mtime: what a failed run must leave as it was."""
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in root.rglob("*")
            if "oracle_home" not in p.parts}


def one_error_line(result: subprocess.CompletedProcess) -> str:
    combined = (result.stdout + result.stderr).strip()
    assert "Traceback" not in combined
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, combined
    return lines[0]


def test_a_missing_backup_area_is_refused_and_nothing_is_created(configured):
    """The NFS mount failed: the daily job must not back up onto local disk and let retention run."""
    benv = configured
    ok(benv.backup("imagecopywithsnap"))
    text = benv.config.read_text()
    gone = benv.root / "nfs" / "backup"
    benv.config.write_text(text.replace(f"backupdest: {benv.root}/backup", f"backupdest: {gone}"))
    before = tree(benv.root)
    for action in ("imagecopywithsnap", "missingarchlog", "config", "report", "backupimagecopy"):
        result = benv.script("backup.py", "orcl", action)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "does not exist: is the backup storage mounted" in one_error_line(result)
    after = tree(benv.root)
    assert {k for k in after if k != "backup.cfg"} == {k for k in before if k != "backup.cfg"}
    assert not gone.exists()


def test_a_missing_database_directory_in_the_shared_dest_is_refused(configured):
    benv = configured
    ok(benv.backup("imagecopywithsnap"))
    moved = benv.root / "elsewhere"
    benv.area.rename(moved)
    result = benv.script("backup.py", "orcl", "imagecopywithsnap")
    assert result.returncode == 2
    assert f"Backup area {benv.area} does not exist" in one_error_line(result)
    assert not benv.area.exists()


def test_the_daily_job_warns_when_the_area_is_on_the_datafiles_filesystem(configured):
    """In the test site the datafiles and the backup area share one filesystem: the log says so."""
    benv = configured
    out = ok(benv.backup("imagecopywithsnap"))
    assert re.search(r"WARNING .*same filesystem as datafile .*not a backup", out), out
    out = ok(benv.backup("report"))
    assert re.search(r"WARNING .*same filesystem as datafile", out), out


@pytest.mark.parametrize("value", ["-5", "nan", "inf", "1e308"])
def test_a_bad_maxlockwait_is_a_configuration_error_also_under_dry_run(configured, value):
    benv = configured
    benv.config.write_text(re.sub(r"(?m)^maxlockwait: .*$", f"maxlockwait: {value}", benv.config.read_text()))
    for args in (("imagecopywithsnap", "--dry-run"), ("missingarchlog",)):
        result = benv.script("backup.py", "orcl", *args, timeout=60)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "key 'maxlockwait'" in one_error_line(result)


@pytest.mark.parametrize("argv, message", [
    (["orcl", "report", "--config="], "--config= needs a file name"),
])
def test_bad_arguments_are_one_line(benv, argv, message):
    result = benv.script("backup.py", *argv)
    assert result.returncode == 2
    assert message in one_error_line(result)


def test_a_configuration_that_is_a_directory_is_one_line(benv):
    result = benv.script("backup.py", "orcl", "report", f"--config={benv.root}")
    assert result.returncode == 2
    assert "is not a file" in one_error_line(result)


def test_setschedule_with_every_awkward_character_in_the_password(configured):
    benv = configured
    secret = """it's "q" & $HOME x&y"""
    result = benv.backup("setschedule", env=benv.env(OSPASSWORD=secret))
    ok(result)
    stored = []
    for path in benv.root.rglob("*.json"):
        text = path.read_text(errors="replace")
        stored += re.findall(r'"password_hash": "([0-9a-f]+)\$([0-9a-f]+)"', text)
    assert stored, "no credential stored"
    assert any(hashlib.sha256((salt + secret).encode()).hexdigest() == digest for salt, digest in stored), stored
    for path in (benv.area / "backup_logs").rglob("*"):
        assert secret not in path.read_text(errors="replace")


def test_a_configuration_error_after_the_log_exists_is_one_line_on_stderr(configured):
    benv = configured
    result = benv.script("backup.py", "orcl", "setschedule", env=benv.env(OSPASSWORD="pw\nhost id"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Log file for this session" in result.stdout
    line = one_error_line(result)
    assert line.startswith("ERROR: OSPASSWORD must not contain a newline") and "(log: " in line


def test_files_are_not_world_readable(configured):
    benv = configured
    ok(benv.backup("imagecopywithsnap"))
    for path in [*(benv.area / "backup_logs").glob("*.log"), benv.area / "autorestore.cfg"]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o007 == 0, f"{path} is {oct(mode)}"


@pytest.mark.parametrize("size_kb", [64])
def test_a_full_disk_while_logging_is_one_line(configured, tmp_path, size_kb):
    """The backup area's filesystem fills up: no 'Logging error' tracebacks, one line, exit 1."""
    benv = configured
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    full = benv.root / "full"
    full.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(full)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount tmpfs here")
    try:
        (full / "orcl").mkdir()
        fd = os.open(full / "orcl" / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"x" * 512):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        text = benv.config.read_text()
        benv.config.write_text(text.replace(f"backupdest: {benv.root}/backup", f"backupdest: {full}"))
        result = benv.script("backup.py", "orcl", "missingarchlog", timeout=120)
        combined = result.stdout + result.stderr
        assert result.returncode in (1, 2), combined     # 2: the lock file cannot be created either
        assert "Traceback" not in combined and "Logging error" not in combined, combined
        assert "No space left on device" in one_error_line(result)
    finally:
        subprocess.run(["umount", "-l", str(full)], capture_output=True)


def test_a_mistyped_key_is_named_and_the_job_goes_on(configured):
    """`autorestoremodulos` used to turn the validation day off without a word."""
    benv = configured
    benv.config.write_text(benv.config.read_text().replace("[autorestore]\n", "[autorestore]\nautorestoremodulos: 7\n"))
    out = ok(benv.backup("imagecopywithsnap"))
    [line] = [line for line in out.splitlines() if "unknown key" in line]
    assert re.fullmatch(r"\S+ WARNING +orcl +" + re.escape(f"{benv.config}: [autorestore] unknown key "
                        "'autorestoremodulos' (did you mean 'autorestoremodulus'?): ignored"), line), line
