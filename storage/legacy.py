"""Running a storage driver written for the old (Python 2) toolset.

Such a driver did ``from backupcommon import SnapHandler, Configuration, info,
debug, error, size2str, scriptpath``, defined ``__init__(self, configname)``
calling the base ``__init__(configname)``, read settings through the class-level
``Configuration.get(param, section)`` and returned plain dicts from
``getsnapinfo``, ``listclones`` and ``filesystem_info``.  ``backupcommon``
re-exports the thin adapters of this module under those names, so such a
driver loads unchanged (once its Python 2 syntax is ported) and
``storage.create_snapper`` builds it with its one-argument constructor.

The adapters hold no logic of their own: ``SnapHandler`` is the current
``storage.base.SnapHandler`` (retention, autoclone, rendering all live there)
with one addition, the old dicts turned into ``SnapshotInfo``/``CloneInfo``
as they leave the old driver's methods, so the rest of the toolset sees the
typed objects only; ``Configuration`` forwards to the current
``imagecopy.config.Configuration`` of the database being worked on.
"""
from __future__ import annotations

import functools
import inspect
import logging
import string
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping

from imagecopy import config as _config
from imagecopy.errors import ConfigError

from .base import CloneInfo, SnapshotInfo
from .base import SnapHandler as _BaseHandler

log = logging.getLogger("backupcommon")

__all__ = ["SnapHandler", "Configuration", "scriptpath", "getconfigname", "info", "debug", "error", "exception"]


class Configuration:
    """The old class-level configuration: ``Configuration.get(param, section=None)``.

    Bound to one configuration (``bind``, done by ``storage.create_snapper``
    before it builds an old-style driver, or ``init``, as the old scripts
    did); the lookup rule and the errors are those of
    ``imagecopy.config.Configuration``.
    """

    configfilename: ClassVar[str | None] = None
    defaultsection: ClassVar[str | None] = None
    substitutions: ClassVar[dict[str, str]] = {}
    _bound: ClassVar[_config.Configuration | None] = None

    @classmethod
    def bind(cls, config: _config.Configuration) -> None:
        cls._bound = config
        cls.configfilename = str(config.path)
        cls.defaultsection = config.section

    @classmethod
    def init(cls, defaultsection: str | None = None, additionaldefaults: Mapping[str, str] | None = None,
             configfilename: str | None = None) -> None:
        """Read the configuration file (``configfilename``, else $BACKUPCONFIG, else the default)."""
        cls.bind(_config.Configuration(_config.locate(configfilename), defaultsection, additionaldefaults))

    @classmethod
    def current(cls) -> _config.Configuration:
        if cls._bound is None:
            raise ConfigError("backupcommon.Configuration used before a configuration was read")
        return cls._bound

    @classmethod
    def getconfigname(cls) -> str:
        return str(cls.current().path)

    @classmethod
    def sections(cls) -> list[str]:
        return cls.current().sections()

    @classmethod
    def get(cls, parameter: str, section: str | None = None) -> str:
        return cls.current().get(parameter, section)

    @classmethod
    def get2(cls, parameter: str, section: str | None = None) -> str:
        """``get`` with ``${name}`` filled from ``Configuration.substitutions``."""
        return string.Template(cls.get(parameter, section)).substitute(cls.substitutions)


def getconfigname() -> str:
    return Configuration.getconfigname()


def scriptpath() -> str:
    """Where an old driver looks for its credentials file: beside the scripts in a
    checkout, beside the configuration file when installed (see imagecopy.config.files_dir)."""
    bound = Configuration._bound
    return str(_config.files_dir(bound.path if bound is not None else None))


def info(msg: str) -> None:
    log.info("%s", msg)


def debug(msg: str) -> None:
    log.debug("%s", msg)


def error(msg: str) -> None:
    log.error("%s", msg)


def exception(msg: str) -> None:
    log.error("%s", msg, exc_info=True)


class SnapHandler(_BaseHandler):
    """Base class for old-style drivers: constructor ``(configname)``.

    ``storage.create_snapper`` binds ``Configuration`` to the database's
    configuration and calls ``cls(dbname)``; the old driver's
    ``super().__init__(configname)`` lands here.  Building one with the current
    ``(config, dbname)`` works too.
    """

    # A plain attribute (the current base has a read-only property): old drivers assign it.
    configname: Any = None

    def __init_subclass__(cls, **kwargs: Any):
        """Make the old class-level ``Configuration`` this driver's own during each of its methods.

        ``Configuration`` is one binding per process; with drivers of two databases
        alive at once (report.py, autorestore.py), each call must read its own.
        """
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            # Plain functions only: static and class methods have no instance to take the config from.
            if inspect.isfunction(value) and not name.startswith("__"):
                setattr(cls, name, _bound_to_own_config(value))

    def __init__(self, configname: Any, dbname: str | None = None):
        if dbname is None:
            config = Configuration.current()
            if config.section != configname:
                config = config.for_section(configname)
            super().__init__(config, configname)
        else:
            super().__init__(configname, dbname)
        self.configname = self.dbname

    # The old methods return dicts (and the old driver's own code relies on that): the typed
    # objects the rest of the toolset sees are made here, where the base asks for them.
    def _info(self, s: Any) -> SnapshotInfo:
        info = self.getsnapinfo(s)
        return super()._info(s) if not isinstance(info, Mapping) else _snapshot(info)

    def filesystem(self, name: str | None = None) -> CloneInfo:
        return _clone(self.filesystem_info(name))

    def clones(self) -> list[CloneInfo]:
        return [_clone(c) for c in self.listclones()]


def _bound_to_own_config(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: SnapHandler, *args: Any, **kwargs: Any) -> Any:
        own = self.__dict__.get("config")
        if own is None:             # inside __init__, before the base set it: bound by the caller
            return method(self, *args, **kwargs)
        previous = Configuration._bound
        Configuration.bind(own)
        try:
            return method(self, *args, **kwargs)
        finally:
            if previous is not None:
                Configuration.bind(previous)

    return call


def _snapshot(info: Any) -> SnapshotInfo:
    return SnapshotInfo.from_mapping(info) if isinstance(info, Mapping) else info


def _clone(info: Any) -> CloneInfo:
    return CloneInfo.from_mapping(info) if isinstance(info, Mapping) else info


def is_legacy(cls: type) -> bool:
    return isinstance(cls, type) and issubclass(cls, SnapHandler)


def legacy_module_path(name: str) -> Path | None:
    """``<name>.py`` beside the scripts, where the old toolset kept its drivers."""
    if not name.isidentifier():
        return None
    path = _config.SCRIPT_DIR / f"{name}.py"
    return path if path.is_file() else None
