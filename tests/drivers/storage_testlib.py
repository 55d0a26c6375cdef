"""Helpers of the storage tests: a real configuration file and a localfs layout in a temp dir."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from imagecopy.config import Configuration

BASE_CONFIG = {
    "generic": {"snappermodule": "localfs", "snapperclass": "LocalFS", "backupdest": "{root}/backup",
                "warningsnapage": "24", "criticalsnapage": "48", "maxlockwait": "1", "logretention": "7"},
    "localfs": {"snapshotdir": "{root}/snapshots", "clonedir": "{root}/clones"},
    "autorestore": {"autorestoreclonename": "autorestore", "autorestoresnapage": "0"},
    "orcl": {"snapexpirationdays": "7", "snapexpirationmonths": "0"},
}


def write_config(root: Path, overrides: dict[str, dict[str, str | None]] | None = None) -> Path:
    """Write ``backup.cfg`` under ``root`` from BASE_CONFIG; an override value None removes the key
    (a section override None removes the section)."""
    sections = {name: dict(keys) for name, keys in BASE_CONFIG.items()}
    for name, keys in (overrides or {}).items():
        if keys is None:
            sections.pop(name, None)
            continue
        target = sections.setdefault(name, {})
        for key, value in keys.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
    lines = []
    for name, keys in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k}: {v.format(root=root)}" for k, v in keys.items()]
        lines.append("")
    path = root / "backup.cfg"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def set_snapshot_age(root: Path, snapid: str, age: timedelta, db: str = "orcl") -> datetime:
    """Pretend a localfs snapshot was taken ``age`` ago by rewriting its metadata."""
    meta = root / "snapshots" / db / ".meta" / f"{snapid}.json"
    data = json.loads(meta.read_text(encoding="utf-8"))
    created = datetime.now(timezone.utc) - age
    data["created"] = created.isoformat()
    meta.write_text(json.dumps(data), encoding="utf-8")
    return created


@dataclass
class Layout:
    """A temp dir with a configuration file, a backup area holding some files, and empty storage dirs."""

    root: Path
    config_path: Path

    @property
    def area(self) -> Path:
        return self.root / "backup" / "orcl"

    def config(self, section: str = "orcl") -> Configuration:
        return Configuration(self.config_path, section=section, env={})



def make_layout(root: Path) -> Layout:
    """A configuration file, a backup area holding a few files, and empty storage dirs under ``root``."""
    cfg = write_config(root)
    area = root / "backup" / "orcl"
    (area / "archivelog").mkdir(parents=True)
    (area / "data_D-ORCL_I-1433672784_TS-SYSTEM_FNO-1_01").write_bytes(b"\x01" * 300_000)
    (area / "archivelog" / "1_10_123.arc").write_bytes(b"\x02" * 5000)
    (area / "autorestore.cfg").write_text("[dbparams]\ndb_name: ORCL\n", encoding="utf-8")
    (root / "snapshots").mkdir()
    (root / "clones").mkdir()
    return Layout(root, cfg)
