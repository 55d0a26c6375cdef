"""The bad-input corpus: a world to break, a sandbox for the scripts that refuse root, and the totals."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

TOTALS = {"cases": 0, "clear errors": 0, "tracebacks": 0}


@pytest.fixture(scope="session")
def box():
    """A copy of the project runnable by an unprivileged user (autorestore.py and restore.py refuse root)."""
    from e2e.sandbox import build_sandbox
    sandbox = build_sandbox()
    yield sandbox
    subprocess.run(["rm", "-rf", str(sandbox.base)], check=False)


def record(clear: bool, traceback: bool) -> None:
    TOTALS["cases"] += 1
    TOTALS["clear errors"] += int(clear)
    TOTALS["tracebacks"] += int(traceback)


def pytest_terminal_summary(terminalreporter) -> None:
    if TOTALS["cases"]:
        terminalreporter.write_line(
            f"bad-input corpus: {TOTALS['cases']} cases, {TOTALS['clear errors']} clear errors, "
            f"{TOTALS['tracebacks']} tracebacks")


def tree(root: Path) -> dict[str, tuple]:
    """Every path under ``root``: kind, size, mode, mtime: a failed run must leave all of them as they were.

    A directory's own size and mtime are left out: a file created and removed again (a lock's
    temporary file) changes them, and what a directory holds is compared entry by entry anyway.
    """
    state = {}
    for p in [root, *root.rglob("*")]:
        st = p.lstat()
        state[str(p.relative_to(root))] = (st.st_mode,) if p.is_dir() and not p.is_symlink() else \
            (st.st_mode, st.st_size, st.st_mtime_ns)
    return state
