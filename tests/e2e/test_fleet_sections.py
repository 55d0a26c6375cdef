"""exec_all.py and report.py walk the databases only, never the storage or credentials sections."""
from __future__ import annotations

import json

import pytest

from .conftest import ok

pytestmark = pytest.mark.slow

STORAGE_SECTIONS = """
[huaweidorado]
vstore: 0
mounthost: nfs1

[softnas]
serveraddress: softnas1

[zfs]
parent: tank/backup

[btrfs]
root: /srv/btrfs

[zfscredentials]
zfsuser: someone

[netappcredentials]
user: someone

[credentials]
user: someone
"""


@pytest.fixture
def fleet(benv):
    with benv.config.open("a") as fh:
        fh.write(STORAGE_SECTIONS)
    return benv


def test_exec_all_runs_only_the_database_sections(fleet):
    out = ok(fleet.script("exec_all.py", "config"))
    started = [line for line in out.splitlines() if line.startswith("--- ")]
    assert started == ["--- orcl: backup.py orcl config"], out


def test_report_lists_only_the_database_sections(fleet):
    out = ok(fleet.script("report.py"))
    headers = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headers == ["orcl:"], out
    doc = json.loads(ok(fleet.script("report.py", "--json")))
    assert [d["database"] for d in doc["databases"]] == ["orcl"]
