"""The settings of the ``netapp`` driver: its two files, read in the old toolset's order, and its login.

``[netapp]`` keys come first from ``netappcredentials.cfg`` (beside the scripts in a
checkout, beside backup.cfg when installed, or ``[netapp] credentialsfile``), then
from the main file; the login from the environment, that file or the main file.
"""
from __future__ import annotations

import configparser
import os
import re
from pathlib import Path

from imagecopy import config as _config
from imagecopy.config import Configuration
from imagecopy.errors import ConfigError

from .credentials import from_environment, login_in, read_file
from .http import HttpSettings

SECTION = "netapp"
CRED_SECTION = "netappcredentials"
CRED_FILE = "netappcredentials.cfg"


class Layered(Configuration):
    """The main configuration with ``[netapp]`` keys of the credentials file read first (the old order)."""

    def __init__(self, main: Configuration, *layers: configparser.ConfigParser | None):
        # Not Configuration.__init__: the main file is parsed already and shared.
        self.path, self.section, self._parser = main.path, main.section, main._parser
        self.layers = [*(layer for layer in layers if layer is not None), *getattr(main, "layers", [])]

    def get(self, param: str, section: str | None = None, default: str | None = None) -> str:
        for layer in self.layers if section == SECTION else ():
            if layer.has_option(SECTION, param):
                return layer.get(SECTION, param)
        return super().get(param, section, default)


def credentials_file(config: Configuration) -> tuple[configparser.ConfigParser | None, Path]:
    """``netappcredentials.cfg`` where the old toolset kept it (or ``credentialsfile``), parsed; None when
    there is none."""
    name = config.get("credentialsfile", SECTION, CRED_FILE).strip() or CRED_FILE
    path = _config.files_dir(config.path) / Path(name).expanduser()     # an absolute name stays as it is
    if not path.exists():
        if name != CRED_FILE:
            raise ConfigError(f"{config.path}: [{SECTION}] credentialsfile {path}: no such file")
        return None, path
    return read_file(path, "the NetApp settings and login"), path


def login(settings: Configuration, creds: configparser.ConfigParser | None, cred_path: Path) -> tuple[str, str]:
    """The environment's pair, else ``[netappcredentials]`` of the credentials file, else of the main file."""
    found = from_environment(os.environ, "NETAPP_USER", "NETAPP_PASSWORD", SECTION)
    for parser, path in ((creds, cred_path), (settings._parser, settings.path)):
        if found is None and parser is not None and parser.has_option(CRED_SECTION, "user") \
                and parser.has_option(CRED_SECTION, "password"):
            found = login_in(parser, path, CRED_SECTION, "NetApp")
    if found is None:
        raise ConfigError(f"no NetApp login: set [{CRED_SECTION}] user and password in {cred_path} "
                          f"(or in {settings.path}), or NETAPP_USER and NETAPP_PASSWORD")
    return found.user, found.password


def http_settings(settings: Configuration, directory: Path, base_url: str) -> HttpSettings:
    """``storage.http``'s settings; a relative ``cacert`` is in ``certs/`` of ``directory`` (as before)."""
    cacert = settings.get("cacert", SECTION, "").strip()
    if cacert and not Path(cacert).expanduser().is_absolute():
        settings = Layered(settings, _one(SECTION, "cacert", str(directory / "certs" / cacert)))
    return HttpSettings.from_config(settings, SECTION, base_url)


def _one(section: str, key: str, value: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_dict({section: {key: value}})
    return parser


def parse_size(config: Configuration, raw: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)B?\s*", raw, re.I)
    if not m:
        raise ConfigError(f"{config.path}: [{SECTION}] volumesize must be a size such as 500G, not '{raw}'")
    return int(float(m.group(1)) * 1024 ** " KMGTP".index((m.group(2) or " ").upper()))
