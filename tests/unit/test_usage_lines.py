"""Usage lines name the database argument <db>, as the README does."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script", ["dbinfo.py", "zvolume.py", "zsnapper.py"])
def test_usage_names_the_database(script):
    proc = subprocess.run([sys.executable, str(REPO / script)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    usage = [line for line in proc.stderr.splitlines() if line.startswith("Usage:")]
    assert usage and "<db>" in usage[0] and "<config>" not in usage[0], proc.stderr
