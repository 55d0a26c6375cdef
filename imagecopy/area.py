"""The backup area must exist before anything is written into it.

A backup area that is not there is a storage mount that failed: creating its
directories on local disk would back up onto the database host, snapshot an
area without image copies and let retention drop the good snapshots.  So no
action creates the area; only ``zvolume.py create`` does, and ``config`` may
create the database's directory inside an existing shared ``backupdest``
(first-time setup on a plain directory) and ``archivelog/`` inside the area.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from . import layout
from .config import Configuration
from .errors import ConfigError

log = logging.getLogger(__name__)


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def require(config: Configuration, db: str, action: str) -> Path:
    """The database's backup area, checked to exist (as a directory) before ``action`` runs.

    :raises ConfigError: (exit 2) naming the missing directory; nothing is created.
    """
    area = layout.backup_area(config, db)
    dest = Path(config.get("backupdest", "generic").strip()).expanduser()
    if not _is_dir(dest):
        what = "is not a directory" if dest.exists() else "does not exist"
        raise ConfigError(f"Backup destination {dest} ([generic] backupdest) {what}: is the backup storage "
                          "mounted? Nothing was done")
    shared_setup = action == "config" and area != dest
    if not _is_dir(area) and not (shared_setup and not area.exists()):
        what = "is not a directory" if area.exists() else "does not exist"
        raise ConfigError(f"Backup area {area} {what}: is the backup storage mounted (zvolume.py {db} create "
                          "creates it)? Nothing was done")
    return area


def same_filesystem(area: Path, datafiles: list[str]) -> str | None:
    """A warning when the backup area is on the filesystem of one of the (local) ``datafiles``.

    ASM names (``+DATA/...``) and paths this host cannot see are skipped.
    """
    try:
        area_dev = os.stat(area).st_dev
    except OSError:
        return None
    for name in datafiles:
        if not name.startswith("/"):
            continue
        try:
            dev = os.stat(name).st_dev
        except OSError:
            continue
        if dev == area_dev:
            return (f"The backup area {area} is on the same filesystem as datafile {name}: "
                    "a backup on the production filesystem is not a backup")
    return None
