"""generaterestore prints an emergency restore script that RMAN can run on an empty instance."""
from __future__ import annotations

import pytest

from .conftest import ok

pytestmark = pytest.mark.slow


def test_printed_script_restores_spfile_and_controlfile_on_an_empty_instance(configured):
    benv = configured
    benv.workload(5)
    ok(benv.backup("imagecopywithsnap"))
    assert list(benv.area.glob("c-*-*-*")), "no controlfile autobackup in the backup area"
    out = ok(benv.backup("generaterestore"))
    script = out.split("=============\n", 1)[1]
    assert f"set controlfile autobackup format for device type disk to '{benv.area}/%F';" in script

    # Lose the instance's spfile and controlfiles, as a dead host would.
    inst = benv.database().instance
    controlfiles = inst.control_files()
    ok(benv.sim.sqlplus("conn / as sysdba\nshutdown abort\nexit\n", sid="orcl"))
    spfile = inst.spfile_path
    spfile.unlink()
    for cf in controlfiles:
        cf.unlink()

    result = benv.sim.rman(script, "target", "/", sid="orcl")
    text = result.stdout
    assert "starting Oracle instance without parameter file for retrieval of spfile" in text
    assert "SPFILE restore from AUTOBACKUP complete" in text, text
    assert spfile.exists()
    assert "channel ORA_DISK_1: restore complete" in text        # the controlfile
    assert all(cf.exists() for cf in controlfiles)
    # Everything up to the mount went through: the first error is the copy into the database's
    # storage ("backup as copy ... copy of database", valid RMAN the simulator does not simulate).
    before, _, first_error = text.partition("RMAN-00571")
    assert "sql statement: alter database disable block change tracking" in before, text
    assert "Statement processed" in before                       # alter database mount
    assert "copy of database from tag 'image_copy_backup' is not simulated]" in first_error.split("RMAN>", 1)[0], text
