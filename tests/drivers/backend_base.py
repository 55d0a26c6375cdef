"""What every storage under test is: a configuration file, a backup area, a clean-up (see backends.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from imagecopy.config import Configuration
from storage import create_snapper
from storage.base import SnapHandler


@dataclass
class Backend:
    kind: str
    root: Path
    config_path: Path
    backupdest: Path
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    # Appliances: the local directory standing for the appliance's "/" (its mount points are
    # paths on the appliance, reached here through the test's mounts); None: mount points are local.
    appliance_root: Path | None = None

    @property
    def area(self) -> Path:
        return self.backupdest / "orcl"

    @property
    def remote(self) -> bool:
        return self.kind.endswith("-ssh")

    def local(self, mountpoint: str) -> Path:
        """Where this host reads a filesystem the storage reports at ``mountpoint``."""
        if self.appliance_root is None:
            return Path(mountpoint)
        return self.appliance_root / mountpoint.lstrip("/")

    def config(self, db: str = "orcl") -> Configuration:
        return Configuration(self.config_path, section=db, env={})

    def driver(self, db: str = "orcl") -> SnapHandler:
        return create_snapper(self.config(db), db)

    def rewrite_config(self, section: str, **keys: str) -> None:
        """Change keys of one section (the file is small and ours)."""
        text = self.config_path.read_text(encoding="utf-8")
        sections = _parse(text)
        sections.setdefault(section, {}).update(keys)
        self.config_path.write_text(_render(sections), encoding="utf-8")

    def close(self) -> None:
        for fn in reversed(self.cleanups):
            fn()


def _parse(text: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("["):
            current = out.setdefault(line.strip("[]"), {})
        elif ": " in line:
            k, v = line.split(": ", 1)
            current[k] = v
    return out


def _render(sections: dict[str, dict[str, str]]) -> str:
    return "".join(f"[{name}]\n" + "".join(f"{k}: {v}\n" for k, v in keys.items()) + "\n"
                   for name, keys in sections.items())


