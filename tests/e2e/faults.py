"""Fault injection for the fault matrix: a storage driver and Oracle tools that fail on request.

* :data:`DRIVER` is the source of module ``faultfs``: the localfs driver whose
  method named by ``OIB_STORAGE_FAULT=<method>:<mode>`` raises a StorageError
  (``raise``), a bug (``crash``), sends SIGTERM to its own process (``sigterm``)
  or hangs (``hang``).
* :func:`wrap_tools` puts a wrapper in front of ``rman`` and ``sqlplus`` of a
  simulated Oracle home: with ``OIB_ORACLE_FAULT=<tool>:<n>:<mode>`` the n-th
  run of that tool (counted in ``OIB_FAULT_COUNTER``) exits 1 with an Oracle
  error (``fail``), sends SIGTERM to its caller (``sigterm``) or hangs
  (``hang``: the caller's scheduler then stops it, as a timeout would).
"""
from __future__ import annotations

from pathlib import Path

DRIVER = '''
import os, signal, time
from imagecopy.errors import StorageError
from storage.localfs import LocalFS


class FaultFS(LocalFS):
    """localfs, with one method failing as OIB_STORAGE_FAULT says."""


def _faulty(name):
    original = getattr(LocalFS, name)

    def method(self, *args, **kwargs):
        target, _, mode = os.environ.get("OIB_STORAGE_FAULT", "").partition(":")
        if target == name:
            if mode == "raise":
                raise StorageError(f"simulated storage failure in {name}")
            if mode == "crash":
                raise RuntimeError(f"simulated driver bug in {name}")
            if mode == "sigterm":
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            if mode == "hang":
                time.sleep(3600)
        return original(self, *args, **kwargs)
    method.__name__ = name
    return method


for _name in ("snap", "clean", "clone", "dropclone", "dropsnap"):
    setattr(FaultFS, _name, _faulty(_name))
'''

TOOL = '''#!{python}
import os, signal, sys, time
from pathlib import Path
tool = Path(__file__).name
real = Path(__file__).with_name("." + tool + ".real")
spec = os.environ.get("OIB_ORACLE_FAULT", "")
counters = os.environ.get("OIB_FAULT_COUNTER")
if spec and counters and spec.split(":")[0] == tool:
    _, n, mode = spec.split(":")
    counter = Path(counters) / tool
    count = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(count))
    if count == int(n):
        (Path(counters) / "reached").write_text(str(os.getpid()))
        if mode == "fail":
            sys.stdin.read()
            print(("RMAN-00554" if tool == "rman" else "ORA-03113") + ": simulated failure", flush=True)
            sys.exit(1)
        if mode == "sigterm":
            os.kill(os.getppid(), signal.SIGTERM)
            time.sleep(30)
            sys.exit(1)
        if mode == "hang":
            time.sleep(3600)
os.execv(str(real), [str(real), *sys.argv[1:]])
'''


def install_driver(directory: Path) -> Path:
    """Write module ``faultfs`` into ``directory`` (to be put on PYTHONPATH)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "faultfs.py").write_text(DRIVER)
    return directory


def wrap_tools(home: Path, python: str) -> None:
    """Put the fault wrapper in front of ``rman`` and ``sqlplus`` of the Oracle home ``home``."""
    for tool in ("rman", "sqlplus"):
        path = home / "bin" / tool
        real = path.with_name(f".{tool}.real")
        if not real.exists():
            path.rename(real)
        path.write_text(TOOL.format(python=python))
        path.chmod(0o755)
