"""User-editable RMAN and SQL text in ``templates/``, filled in with ``${name}``.

A DBA may change what a step runs without touching Python; a name the
template uses that the toolset does not supply is an error naming both.
"""
from __future__ import annotations

import os
import string
import sys
import sysconfig
from pathlib import Path
from typing import Mapping

from .config import SCRIPT_DIR
from .errors import ConfigError

INSTALLED = Path("share") / "oracle-imagecopy-backup" / "templates"


def _template_dir() -> Path:
    """``templates/`` beside the scripts (a checkout), else where ``pip install`` put them.

    setup.py installs them as data files under ``<data prefix>/share/...``: the
    environment's prefix (a venv, /usr/local), or the user base for ``--user``.
    """
    beside = SCRIPT_DIR / "templates"
    if beside.is_dir():
        return beside
    prefixes = [Path(sys.prefix), Path(sysconfig.get_path("data"))]
    try:
        prefixes.append(Path(sysconfig.get_path("data", f"{os.name}_user")))
    except KeyError:
        pass
    for prefix in prefixes:
        if (prefix / INSTALLED).is_dir():
            return prefix / INSTALLED
    return prefixes[0] / INSTALLED   # missing: rendering names this path in its error


TEMPLATE_DIR = _template_dir()


class Templates:
    def __init__(self, directory: Path = TEMPLATE_DIR, values: Mapping[str, object] | None = None):
        self.directory = Path(directory)
        self.values: dict[str, object] = dict(values or {})

    def path(self, name: str) -> Path:
        return self.directory / name

    def render(self, name: str, **extra: object) -> str:
        """The template ``name`` with ``${...}`` filled from the values and ``extra``."""
        path = self.path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"Template file {path} not found") from None
        return substitute(text, {**self.values, **extra}, str(path))


def substitute(text: str, values: Mapping[str, object], where: str = "template") -> str:
    try:
        return string.Template(text).substitute({k: "" if v is None else str(v) for k, v in values.items()})
    except KeyError as exc:
        raise ConfigError(f"{where}: unknown name ${{{exc.args[0]}}}") from None
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
