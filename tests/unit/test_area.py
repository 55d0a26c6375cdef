"""A backup area that is not there is refused, never created; one on the datafiles' filesystem is warned about."""
from __future__ import annotations

from pathlib import Path

import pytest

from imagecopy import area
from imagecopy.config import Configuration
from imagecopy.errors import ConfigError

ACTIONS = ("imagecopywithsnap", "missingarchlog", "report", "validatebackup", "backupimagecopy",
           "generaterestore", "setschedule", "config")


def config(tmp_path: Path, dest: Path, shared: bool = True) -> Configuration:
    p = tmp_path / "backup.cfg"
    p.write_text(f"[generic]\nbackupdest: {dest}\nbackupdestshared: {'true' if shared else 'false'}\n[orcl]\n")
    return Configuration(p, "orcl", env={})


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("shared", [True, False])
def test_a_missing_backupdest_is_refused_and_nothing_created(tmp_path, action, shared):
    before = tree(tmp_path)
    cfg = config(tmp_path, tmp_path / "mnt" / "backup", shared)
    with pytest.raises(ConfigError, match="does not exist: is the backup storage mounted"):
        area.require(cfg, "orcl", action)
    assert tree(tmp_path) == before | {"backup.cfg"}


@pytest.mark.parametrize("action", [a for a in ACTIONS if a != "config"])
def test_a_missing_database_area_in_a_shared_dest_is_refused(tmp_path, action):
    (tmp_path / "backup").mkdir()
    with pytest.raises(ConfigError, match=f"Backup area {tmp_path}/backup/orcl does not exist"):
        area.require(config(tmp_path, tmp_path / "backup"), "orcl", action)
    assert not (tmp_path / "backup" / "orcl").exists()


def test_config_may_set_up_the_database_directory_of_an_existing_shared_dest(tmp_path):
    (tmp_path / "backup").mkdir()
    assert area.require(config(tmp_path, tmp_path / "backup"), "orcl", "config") == tmp_path / "backup" / "orcl"


def test_a_file_where_the_area_should_be_is_refused(tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "orcl").write_text("")
    for action in ACTIONS:
        with pytest.raises(ConfigError, match="is not a directory"):
            area.require(config(tmp_path, tmp_path / "backup"), "orcl", action)


def test_same_filesystem_warning(tmp_path):
    (tmp_path / "area").mkdir()
    (tmp_path / "system01.dbf").write_text("")
    warning = area.same_filesystem(tmp_path / "area", ["+DATA/orcl/x.dbf", "/nonexistent/y.dbf",
                                                       str(tmp_path / "system01.dbf")])
    assert warning and "same filesystem" in warning and "system01.dbf" in warning
    assert area.same_filesystem(tmp_path / "area", ["+DATA/orcl/x.dbf", "/proc/version"]) is None
