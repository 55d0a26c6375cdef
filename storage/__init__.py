"""Storage drivers, and the factory that picks one from the configuration.

``[generic] snappermodule`` / ``snapperclass`` name the driver (a database
section may override them as ``genericsnappermodule`` / ``genericsnapperclass``).
The old toolset's names keep working: ``zfssa``/``ZFSSA``, ``netapp``/``Netapp``,
``softnas``/``SoftNAS``, ``huawei``/``HuaweiDorado`` are this package's drivers;
``storage.<name>`` works too, and so does the dotted path of a driver of your
own that is importable from ``sys.path``.  A driver written for the old toolset
works under a name of its own, from ``sys.path`` or as ``<name>.py`` beside the
scripts: it subclasses ``backupcommon.SnapHandler`` (``storage.legacy``) and is
built with its one-argument constructor (under one of the names above, the
shipped driver is taken).  A driver module imports its third-party
dependencies (HTTP client, SSH) only when used, so one driver's dependencies are
not needed by the others, and ``driver_keys`` can read every shipped driver's
``CONFIG_KEYS`` table.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError
from imagecopy.keys import Key

from . import legacy
from .base import CloneInfo, SnapHandler, SnapshotInfo, backup_area, size2str

log = logging.getLogger(__name__)

__all__ = ["create_snapper", "SnapHandler", "SnapshotInfo", "CloneInfo", "size2str", "backup_area",
           "DEFAULT_MODULE", "BUILTIN_DRIVERS", "DRIVER_SECTIONS", "storage_sections", "driver_keys"]

DEFAULT_MODULE = "localfs"

# Driver module names of this package and each one's usual class, for configurations
# that name only the module.
BUILTIN_DRIVERS: dict[str, str] = {
    "localfs": "LocalFS",
    "zfssa": "ZFSSA",
    "netapp": "Netapp",
    "softnas": "SoftNAS",
    "huawei": "HuaweiDorado",
    "zfs": "ZFS",
    "btrfs": "Btrfs",
}

# The sections of the old toolset's drivers (their own, and their credentials section when the
# credentials are pasted into the main file): never databases, even before a driver declares
# them.  A shipped driver declares its sections and their keys itself (``CONFIG_KEYS``).
DRIVER_SECTIONS: dict[str, tuple[str, ...]] = {
    "zfssa": ("zfssa", "zfscredentials"),
    "netapp": ("netapp", "netappcredentials"),
    "softnas": ("softnas", "softnascredentials"),
    "huawei": ("huawei", "huaweidorado", "huaweidoradocredentials"),
}


@cache
def driver_keys() -> dict[str, tuple[Key, ...]]:
    """Section → keys, as the shipped drivers declare them (each module's ``CONFIG_KEYS``)."""
    out: dict[str, tuple[Key, ...]] = {}
    for name in BUILTIN_DRIVERS:
        if importlib.util.find_spec(f"storage.{name}") is None:
            continue
        try:
            module = importlib.import_module(f"storage.{name}")
        except (ImportError, SyntaxError, StorageError):     # a broken driver is reported when chosen
            continue
        for section, keys in getattr(module, "CONFIG_KEYS", {}).items():
            out[section] = out.get(section, ()) + tuple(keys)
    return out


def storage_sections(configured_module: str | None = None) -> frozenset[str]:
    """Every section name a storage driver reads (lower case).

    ``configured_module`` (``[generic] snappermodule``) adds the sections of a
    driver of the user's own: the old convention is a section named after the
    module (its last dotted part), and ``<that>credentials``.
    """
    names = {name for sections in DRIVER_SECTIONS.values() for name in sections} | set(driver_keys())
    if configured_module:
        short = configured_module.strip().rsplit(".", 1)[-1].lower()
        if short:
            names.update({short, f"{short}credentials"})
    return frozenset(names)


def _setting(config: Configuration, key: str, default: str | None) -> tuple[str, str]:
    """The value of ``[generic] key`` (override rule applied) and where it was read, for messages."""
    value = config.get(key, "generic", default).strip()
    where = f"[generic] {key}"
    if config.section is not None and config.has(f"generic{key}"):
        where = f"[{config.section}] generic{key}"
    return value, where


def _module_name(name: str) -> str:
    """``zfssa`` and ``storage.zfssa`` → ``storage.zfssa``; anything else is a user's module."""
    short = name[len("storage."):] if name.startswith("storage.") else name
    if short in BUILTIN_DRIVERS:
        return f"storage.{short}"
    return name


def create_snapper(config: Configuration, dbname: str) -> SnapHandler:
    """Build the configured storage driver for database ``dbname``.

    :raises ConfigError: unknown module or class, naming the file, section and key.
    :raises StorageError: when the driver module exists but fails to load.
    """
    if config.section != dbname:
        config = config.for_section(dbname)
    modname, mod_where = _setting(config, "snappermodule", DEFAULT_MODULE)
    if not modname:
        raise ConfigError(f"{config.path}: {mod_where} is empty")
    full = _module_name(modname)
    short = full[len("storage."):] if full.startswith("storage.") else None
    default_class = BUILTIN_DRIVERS.get(short) if short else None
    classname, class_where = _setting(config, "snapperclass", default_class)
    module = _import_driver(config, modname, mod_where, full)
    full = module.__name__
    cls = getattr(module, classname, None)
    if cls is None:
        raise ConfigError(f"{config.path}: {class_where} '{classname}': module {full} has no such class")
    if not (isinstance(cls, type) and issubclass(cls, SnapHandler)):
        raise ConfigError(f"{config.path}: {class_where} '{classname}': {full}.{classname} "
                          f"is not a storage driver (a storage.base.SnapHandler subclass)")
    log.debug("Storage driver for %s: %s.%s", dbname, full, classname)
    if legacy.is_legacy(cls):
        # An old driver: class-level Configuration and the one-argument constructor.
        legacy.Configuration.bind(config)
        return cls(dbname)
    return cls(config, dbname)


def _import(name: str) -> ModuleType | None:
    """Import ``name``; None when that module itself does not exist.

    :raises StorageError: when it exists but fails to load (a dependency of the driver
        missing, a syntax error), saying why.
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # Only the driver module itself missing means "no such driver"; a driver whose
        # own dependency is missing says which one.
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise StorageError(f"storage driver '{name}' cannot be loaded: {exc}") from exc
    except (ValueError, TypeError):
        return None  # importlib's answer to names such as ".x" or "a..b"
    except (ImportError, SyntaxError) as exc:
        raise StorageError(f"storage driver '{name}' cannot be loaded: {exc}") from exc


def _import_driver(config: Configuration, modname: str, where: str, full: str) -> ModuleType:
    """The driver module: this package's, else an old driver under its old name
    (importable from sys.path, or ``<name>.py`` beside the scripts)."""
    module = _import(full)
    if module is None and full != modname:
        module = _import(modname)
    if module is None:
        path = legacy.legacy_module_path(modname)
        if path is not None:
            module = _load_file(modname, path)
    if module is None:
        if not all(part.isidentifier() for part in modname.split(".")):
            raise ConfigError(f"{config.path}: {where} '{modname}': not a module name")
        raise ConfigError(f"{config.path}: {where} '{modname}': no such storage driver")
    return module


def _load_file(name: str, path: Path) -> ModuleType:
    """Import ``path`` as module ``name`` (an old driver beside the scripts)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StorageError(f"storage driver {path} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise StorageError(f"storage driver {path} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    return module
