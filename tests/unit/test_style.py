"""The code stays ruff-clean (configuration in pyproject.toml)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_ruff_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e .[test])")
    result = subprocess.run([ruff, "check", "--no-cache", str(REPO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60


def _product_modules() -> list[Path]:
    """The toolset's own Python files: the scripts, imagecopy/ and storage/ (not tests, benchmarks)."""
    return sorted(p for p in [*REPO.glob("*.py"), *REPO.glob("imagecopy/*.py"), *REPO.glob("storage/*.py")]
                  if p.name != "setup.py")


def test_no_module_is_over_600_lines():
    long = [f"{p.relative_to(REPO)}: {n} lines" for p in _product_modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert long == [], "split these modules by job"


def test_no_function_is_over_60_lines():
    import ast

    long = []
    for path in _product_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}: {n} lines")
    assert long == [], "split these functions"


def test_library_code_never_imports_a_script():
    """imagecopy/ and storage/ are the library; the scripts beside them use it, never the reverse."""
    import ast

    scripts = {p.stem for p in REPO.glob("*.py")} - {"setup"}
    found = []
    for path in [*REPO.glob("imagecopy/*.py"), *REPO.glob("storage/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            found += [f"{path.relative_to(REPO)}:{node.lineno} imports {n}" for n in names
                      if n.split(".")[0] in scripts]
    assert found == []


def _library_imports() -> dict[str, set[str]]:
    """Each library module → the library modules it imports, at run time (``TYPE_CHECKING``
    blocks left out: they never run), inside functions too, where a hidden cycle would sit."""
    import ast

    modules = {f"{p.parent.name}.{p.stem}": p for p in [*REPO.glob("imagecopy/*.py"), *REPO.glob("storage/*.py")]}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name.split(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        found: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = f"{package}.{base}" if base else package
                found |= {base} | {f"{base}.{a.name}" for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_library_modules_import_each_other_without_cycles():
    """No cycle, not even one hidden in a function-level import (backupjob ↔ schedule had one)."""
    graph = _library_imports()
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == path[0]:
                cycles.append(" → ".join([*path, nxt]))
            elif nxt not in path and nxt > path[0]:     # each cycle once, from its smallest module
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert cycles == []


def test_library_code_does_not_print():
    """Results go through imagecopy/output.py (text, JSON, Nagios) and errors through imagecopy/cli.py."""
    import ast

    found = []
    for path in [*REPO.glob("imagecopy/*.py"), *REPO.glob("storage/*.py")]:
        if path.name in ("output.py", "cli.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == []


def test_files_are_replaced_only_through_the_one_atomic_writer():
    """A rename over a file the toolset owns happens in imagecopy/atomicfile.py (fsync, then rename, then
    the directory's fsync): a second hand-made writer would forget one of the three."""
    found = [f"{p.relative_to(REPO)}" for p in [*REPO.glob("*.py"), *REPO.glob("imagecopy/*.py"),
                                                *REPO.glob("storage/*.py")]
             if p.name != "atomicfile.py" and "os.replace(" in p.read_text(encoding="utf-8")]
    assert found == []
