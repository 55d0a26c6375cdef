"""Fixtures of the storage driver tests (tests/drivers: not named "storage", which would shadow
the product's package when tests/ is on sys.path)."""
from __future__ import annotations

from pathlib import Path

import pytest

from .storage_testlib import Layout, make_layout


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    """A configuration file, a backup area holding a few files, and empty storage dirs."""
    return make_layout(tmp_path)
