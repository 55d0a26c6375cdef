"""The daily cycle on the SoftNAS driver, against the HTTPS test SoftNAS server.

The scripts run as the unprivileged test user and reach the server over HTTPS
(trusting it through ``cacert``), with the old toolset's
``softnascredentials.cfg`` beside them.  The server keeps its volumes as btrfs
subvolumes, so its snapshots hold the real files and the backup invariants are
checked on them after every daily job.  SoftNAS cannot clone: zsnapper's clone
actions, autorestore.py and restore.py say so in one line and exit 2, before
anything is done.  Faults are armed at each SoftNAS call of a daily backup.
"""
from __future__ import annotations

import subprocess

import pytest
from drivers.backend_softnas import POOL, USER, softnas_section, start_server, write_credentials

from . import appliance_checks as checks
from .appliance_site import Appliance, ApplianceSite, sandbox_fixture, site_fixture

pytestmark = pytest.mark.slow

NO_CLONES = "SoftNAS does not support clones"

# The old toolset's sample, as it was (its [softnas] keys only; the CA is one the host trusts).
OLD_STYLE_CONFIG = """[generic]
logretention: 20
backupdest: {backupdest}
warningsnapage: 26
criticalsnapage: 32
tnsadmin: {w}/tns
osuser: oracle
oraclehome: {w}/oh
maxlockwait: 30
snappermodule: softnas
snapperclass: SoftNAS

[softnas]
serveraddress: {address}
pool: {pool}

[rman]
catalog: /@rman

[orcl]
dbid: 1433672784
recoverywindow: 2
parallel: 4
snapexpirationdays: 0
snapexpirationmonths: 1
registercatalog: false
hasdataguard: false
gimanaged: false
"""


sandbox = sandbox_fixture("softnascredentials.cfg", write_credentials)


def _call(call: tuple) -> tuple:
    """(method, path, opcode): one script serves most calls, the opcode says which."""
    method, path, _, body = call
    return method, path, body.get("opcode", "") if isinstance(body, dict) else ""


def softnas(site: ApplianceSite) -> Appliance:
    """The test server: pool ``pool1``, whose volumes' exports are seen here in its directory
    (backupdest); the driver trusts it through a copy of the test CA."""
    server = start_server()
    backupdest = server.root / POOL
    section = softnas_section(server, None)
    section["cacert"] = str(site.ca_file())
    return Appliance(server, {"softnas": section},
                     {"snappermodule": "softnas", "snapperclass": "SoftNAS", "backupdest": backupdest},
                     clone_dir=lambda name: backupdest / name,       # SoftNAS has none; never mounted
                     snapshot_root=server.snapshot_dir(POOL, "orcl"),
                     cleanups=[server.wipe, server.stop], call=_call)


site = site_fixture("softnas", softnas)


def _one_line(result: subprocess.CompletedProcess, code: int, *words: str) -> None:
    """Exit ``code`` and one line on stderr holding ``words``, nothing on stdout, no traceback."""
    said = result.stdout + result.stderr
    assert result.returncode == code and "Traceback" not in said, said
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and all(w in lines[0] for w in words) and not result.stdout.strip(), said


def test_the_daily_cycle_and_every_zsnapper_action(site: ApplianceSite):
    snaps, listing = checks.daily_cycle(site, "/pool1/orcl")
    assert all(s["space_total"] > 0 for s in snaps)
    assert all(s["space_unique"] is None for s in snaps), "what a drop frees is unknown on SoftNAS: never a guess"
    assert "unique=unknown" in listing
    assert site.ok(site.zsnapper("create")).startswith("Snapshot created: orcl-")
    assert len(site.snapshots()) == 4

    # no clones: every clone action says so in one line, exit 2, and nothing changed
    for args in (("clone", snaps[0]["id"]), ("autoclone",), ("listclones",), ("dropclone", "autorestore")):
        _one_line(site.zsnapper(*args), 2, NO_CLONES)
    pin = site.zsnapper("pin", snaps[0]["id"], "--reason", "audit")
    assert pin.returncode == 1 and "cannot pin" in pin.stderr and "Traceback" not in pin.stderr

    # the restore side refuses before anything is done: no log, no question, no storage call
    calls = len(site.server.calls)
    _one_line(site.autorestore_run(), 2, NO_CLONES)
    restore = site.box.script("restore.py")
    for args in (("--plan", "--target", "2026-01-01 00:00:00"),
                 ("--target", "2026-01-01 00:00:00", "--sid", "pitr", "--mountdir", str(site.w), "--yes"),
                 ()):
        _one_line(site.box.py(restore, str(site.cfg), "orcl", *args, env=site.env()), 2, NO_CLONES)
    assert len(site.server.calls) == calls, "nothing reached the server"
    assert not list((site.w / "autorestore" / "log").glob("*.log")), "no restore log was started"
    assert len(site.snapshots()) == 4


def test_an_old_style_configuration_and_credentials_file_work_unchanged(site: ApplianceSite):
    """The old sample's [softnas] keys only (no cacert: the server's CA is one the host trusts, here
    through REQUESTS_CA_BUNDLE as a system store would), softnascredentials.cfg beside the scripts."""
    server = site.server
    checks.old_style_site(site, OLD_STYLE_CONFIG.format(backupdest=server.root / POOL, w=site.w,  # type: ignore
                                                        address=f"127.0.0.1:{server.port}", pool=POOL),
                          "/pool1/orcl", backups=2)
    # the old sample's retention (0 days, 1 month): only the month's newest snapshot stays
    [snap] = site.snapshots()
    assert snap["id"].startswith("orcl-") and len(site.checker().snapshots()) == 1
    creds = site.box.app / "softnascredentials.cfg"
    assert creds.read_text().startswith(f"[credentials]\nuser={USER}\n")
    del site.extra_env["REQUESTS_CA_BUNDLE"]            # without a trusted CA: refused, naming cacert
    checks.refused_without_a_trusted_ca(site)


def test_a_fault_at_each_call_of_a_daily_backup(site: ApplianceSite):
    """A 500 at each SoftNAS call of a daily job: one error line, exit 1, no snapshot lost; a failed
    logout at exit (best effort) costs nothing."""
    checks.fault_at_each_call_of_a_daily_backup(
        site, "softnas", harmless=checks.where(lambda call: call[1].endswith("logout.php")),
        made=[("POST", "/softnas/login.php", ""), ("GET", "/softnas/logout.php", ""),
              ("POST", "/softnas/snserver/snserv.php", "snapcommand")])
