"""Every script against bad arguments, configurations, environments and file systems.

Each row of cases.CASES is one test: the exit status, one message line matching
the row's pattern, no traceback, and nothing changed under the world's directory
(a tree snapshot before and after).  The totals are printed at the end of the run.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from e2e import siteconfig

from .cases import AS_USER, CASES, Case
from .conftest import record, tree

REPO = Path(__file__).resolve().parents[2]


def build_world(root: Path, case: Case) -> Path:
    """A site with database orcl, its existing backup area and a configuration, then broken as the row says."""
    siteconfig.make_dirs(root)
    (root / "backup" / "orcl").mkdir()
    (root / "oh" / "bin").mkdir(parents=True)
    cfg = root / "backup.cfg"
    text = siteconfig.render(root, root / "oh", {"orcl": 1433672784})
    cfg.write_text(case.config(text) if case.config else text)
    return cfg


def expand(value: str, root: Path, cfg: Path) -> str:
    return value.replace("{root}", str(root)).replace("{cfg}", str(cfg))


def run_case(case: Case, root: Path, cfg: Path, box) -> subprocess.CompletedProcess:
    argv = [expand(a, root, cfg) for a in case.argv]
    extra = {k: expand(v, root, cfg) for k, v in case.env.items()}
    if case.script in AS_USER:
        env = box.env(**{"BACKUPCONFIG": str(cfg), **extra})
        return box.run(box.python, box.script(case.script), *argv, env=env, timeout=120, cwd=root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env.pop("ORACLE_SID", None)
    env.update({"BACKUPCONFIG": str(cfg), **extra})
    return subprocess.run([sys.executable, str(REPO / case.script), *argv], capture_output=True, text=True,
                          env=env, timeout=120, cwd=root)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path, request):
    if case.script in AS_USER:
        box = request.getfixturevalue("box")
        if box.user is None and "unreadable" in case.id:
            pytest.skip("needs root to run the script as another user than the file's owner")
        root = box.workdir(f"case-{len(list(box.base.iterdir()))}")
    else:
        box, root = None, tmp_path / "world"
        root.mkdir()
    cfg = build_world(root, case)
    if case.needs_root and os.geteuid() != 0:
        pytest.skip("mounts a small tmpfs: needs root")
    if case.setup:
        cleanup = case.setup(root)
        if callable(cleanup):
            request.addfinalizer(cleanup)
    if box is not None:
        box.give(root)
    before = tree(root)
    result = run_case(case, root, cfg, box)
    combined = result.stdout + result.stderr
    traceback = "Traceback (most recent call last)" in combined
    lines = [line for line in (result.stdout if case.stream == "stdout" else result.stderr).splitlines()
             if line.strip()]
    if case.usage:
        clear = bool(lines) and re.search(case.pattern, "\n".join(lines)) is not None
    else:
        clear = len(lines) == 1 and re.search(case.pattern, lines[0]) is not None
    record(clear and result.returncode == case.exit, traceback)
    assert not traceback, combined
    assert result.returncode == case.exit, f"exit {result.returncode}\n{combined}"
    assert clear, f"expected one line matching {case.pattern!r}:\n{combined}"
    after = tree(root)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    unexpected = sorted(p for p in changed if not p.startswith(case.may_change or ("\0",)))
    assert unexpected == [], f"the run changed {unexpected}"
