"""The softnas storage under test: the driver against its HTTPS API test server (tests/apiservers)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .backend_base import Backend

BACKENDS: dict[str, Callable[[Path], Backend]] = {}
