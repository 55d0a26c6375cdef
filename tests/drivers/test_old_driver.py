"""A storage driver written in the old toolset's style loads and works through zsnapper.py.

The driver below is written here for the test, in the shape an old driver had:
it imports its helpers from ``backupcommon``, takes ``configname`` alone in its
constructor and passes it to the base, reads settings through the class-level
``Configuration.get(param, section)``, and returns plain dicts with naive UTC
datetimes.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

OLD_DRIVER = '''
import os
import shutil
from datetime import datetime

from backupcommon import Configuration, SnapHandler, debug, error, info, scriptpath, size2str


class DirSnap(SnapHandler):
    def __init__(self, configname):
        self.root = Configuration.get("root", "dirsnap")
        self.area = os.path.join(Configuration.get("backupdest", "generic"), configname)
        self.scripts = scriptpath()
        super(DirSnap, self).__init__(configname)

    def _snaps(self):
        return os.path.join(self.root, "snaps", self.configname)

    def _clones(self):
        return os.path.join(self.root, "clones")

    def listsnapshots(self, sortbycreation=False, sortreverse=False):
        if not os.path.isdir(self._snaps()):
            return []
        names = [n for n in os.listdir(self._snaps()) if not n.endswith(".created")]
        key = (lambda n: (self.getsnapinfo(n)["creation"], n)) if sortbycreation else None
        return sorted(names, key=key, reverse=sortreverse)

    def getsnapinfo(self, snapstruct):
        with open(os.path.join(self._snaps(), snapstruct + ".created")) as fh:
            created = datetime.strptime(fh.read().strip(), "%Y-%m-%d %H:%M:%S")
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(self._snaps(), snapstruct))
                   for f in fs)
        clones = [c for c in self.listclones() if c["origin"] == snapstruct]
        return {"id": snapstruct, "creation": created, "numclones": len(clones), "space_total": size,
                "space_unique": 0}

    def snap(self):
        if not os.path.isdir(self._snaps()):
            os.makedirs(self._snaps())
        snapid = "%s-%03d" % (self.configname, len(self.listsnapshots()) + 1)
        shutil.copytree(self.area, os.path.join(self._snaps(), snapid))
        with open(os.path.join(self._snaps(), snapid + ".created"), "w") as fh:
            fh.write(datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"))
        info("Snapshot %s taken, %s" % (snapid, size2str(self.getsnapinfo(snapid)["space_total"])))
        return snapid

    def dropsnap(self, snapid):
        debug("dropping %s" % snapid)
        shutil.rmtree(os.path.join(self._snaps(), snapid))
        os.remove(os.path.join(self._snaps(), snapid + ".created"))

    def clone(self, snapid, clonename):
        shutil.copytree(os.path.join(self._snaps(), snapid), os.path.join(self._clones(), clonename))
        with open(os.path.join(self._clones(), clonename + ".origin"), "w") as fh:
            fh.write(self.configname + " " + snapid)

    def dropclone(self, cloneid):
        for c in self.listclones():
            if c["clonename"] == cloneid:
                shutil.rmtree(c["mountpoint"])
                os.remove(c["mountpoint"] + ".origin")
                return
        error("no clone %s" % cloneid)
        raise Exception("clone", "Clone %s not found" % cloneid)

    def listclones(self):
        out = []
        if not os.path.isdir(self._clones()):
            return out
        for n in sorted(os.listdir(self._clones())):
            if n.endswith(".origin"):
                with open(os.path.join(self._clones(), n)) as fh:
                    db, origin = fh.read().split()
                if db == self.configname:
                    name = n[:-len(".origin")]
                    out.append({"clonename": name, "origin": origin,
                                "mountpoint": os.path.join(self._clones(), name)})
        return out

    def filesystem_info(self, filesystemname=None):
        for c in self.listclones():
            if c["clonename"] == filesystemname:
                return c
        return {"clonename": self.configname, "origin": None, "mountpoint": self.area}

    def mountstring(self, filesystemname):
        return "nfshost:%s" % self.filesystem_info(filesystemname)["mountpoint"]

    def createvolume(self):
        os.makedirs(self.area)
'''


def write_config(root: Path, module: str) -> Path:
    cfg = root / "backup.cfg"
    cfg.write_text(f"[generic]\nsnappermodule: {module}\nsnapperclass: DirSnap\nbackupdest: {root}/backup\n"
                   f"warningsnapage: 24\ncriticalsnapage: 48\n\n[dirsnap]\nroot: {root}/storage\n\n"
                   "[orcl]\nsnapexpirationdays: 7\nsnapexpirationmonths: 0\n")
    (root / "backup" / "orcl").mkdir(parents=True)
    (root / "backup" / "orcl" / "datafile.dbf").write_bytes(b"\1" * 4096)
    return cfg


def run(script: Path, cfg: Path, *args: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, BACKUPCONFIG=str(cfg))
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env,
                          timeout=60, cwd=str(cfg.parent))


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


def exercise(zs, root: Path) -> None:
    """create, list, clone, listclones, dropclone and clean through zsnapper.py."""
    first = re.fullmatch(r"Snapshot created: (orcl-001)\n", ok(zs("orcl", "create"))).group(1)
    second = re.fullmatch(r"Snapshot created: (orcl-002)\n", ok(zs("orcl", "create"))).group(1)
    lines = ok(zs("orcl", "list")).splitlines()
    assert [line.split()[0] for line in lines] == [first, second]
    assert re.fullmatch(r"orcl-001 \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\] total=4kB unique=0B clones=0", lines[0])
    out = ok(zs("orcl", "clone", second))
    clonename = re.search(r"^Clone name: (orcl-002_clone_\d{8}T\d{6})$", out, re.M).group(1)
    assert f"Mount point: {root}/storage/clones/{clonename}" in out
    assert f"nfshost:{root}/storage/clones/{clonename}" in out
    assert ok(zs("orcl", "listclones")) == f"{clonename} [{second}] [mount point: {root}/storage/clones/{clonename}]\n"
    assert ok(zs("orcl", "list")).splitlines()[1].endswith("clones=1")
    # The first snapshot is made 30 days old; clean drops it and keeps the newest.
    (root / "storage" / "snaps" / "orcl" / f"{first}.created").write_text(
        (datetime.utcnow() - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S"))
    assert ok(zs("orcl", "dropclone", clonename)) == "Clone dropped.\n"
    assert ok(zs("orcl", "listclones")) == ""
    cleaned = ok(zs("orcl", "clean")).splitlines()
    assert cleaned[0].startswith(first) and cleaned[0].endswith(" dropped")
    assert cleaned[1].startswith(second) and cleaned[1].endswith(" valid")
    assert [s["id"] for s in json.loads(ok(zs("orcl", "list", "--json")))] == [second]
    assert ok(zs("orcl", "checkage")).startswith("OK: ")


def test_old_driver_on_sys_path(tmp_path: Path) -> None:
    drivers = tmp_path / "mydrivers"
    drivers.mkdir()
    (drivers / "olddirsnap.py").write_text(OLD_DRIVER)
    cfg = write_config(tmp_path, "olddirsnap")
    exercise(lambda *a: run(REPO / "zsnapper.py", cfg, *a, pythonpath=drivers), tmp_path)


def test_old_driver_beside_the_scripts(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    for item in REPO.iterdir():
        if item.suffix == ".py" and item.name != "setup.py":
            shutil.copy2(item, app / item.name)
    for package in ("imagecopy", "storage", "templates"):
        shutil.copytree(REPO / package, app / package, ignore=shutil.ignore_patterns("__pycache__"))
    (app / "dirsnapper.py").write_text(OLD_DRIVER)
    cfg = write_config(tmp_path, "dirsnapper")
    exercise(lambda *a: run(app / "zsnapper.py", cfg, *a), tmp_path)


@pytest.mark.parametrize("module, message", [("nosuchdriver", "no such storage driver"),
                                             ("bad..name", "not a module name")])
def test_unknown_driver_is_still_one_line(tmp_path: Path, module: str, message: str) -> None:
    cfg = write_config(tmp_path, module)
    proc = run(REPO / "zsnapper.py", cfg, "orcl", "list")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def test_two_old_drivers_in_one_process_each_read_their_own_section(tmp_path: Path, monkeypatch) -> None:
    """report.py and autorestore.py hold drivers of several databases in one process."""
    from imagecopy.config import Configuration as Config
    from storage import create_snapper

    drivers = tmp_path / "mydrivers"
    drivers.mkdir()
    (drivers / "olddirsnap2.py").write_text(OLD_DRIVER + '''

    def where(self):
        return Configuration.get("root", "dirsnap"), Configuration.get("snapexpirationdays")
''')
    monkeypatch.syspath_prepend(str(drivers))
    cfg = write_config(tmp_path, "olddirsnap2")
    cfg.write_text(cfg.read_text() + "dirsnaproot: /srv/orcl\n\n[prod2]\nsnapexpirationdays: 3\n"
                   "dirsnaproot: /srv/prod2\n")
    config = Config(cfg, env={})
    orcl, prod2 = create_snapper(config, "orcl"), create_snapper(config, "prod2")
    assert orcl.where() == ("/srv/orcl", "7")
    assert prod2.where() == ("/srv/prod2", "3")
    assert orcl.where() == ("/srv/orcl", "7")
