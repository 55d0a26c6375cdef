"""The checks every appliance's end-to-end cycle makes, once, on an :class:`ApplianceSite`.

Each ``test_<appliance>_cycle.py`` says only what is its driver's own: the
export a share is seen at, how its listing says what it cannot know, which of
its calls make up the drop of a clone, which failures are harmless (a logout at
exit, a pin after a good restore), and how another database's volume is made
and found untouched.  What the checks are is here:

* :func:`daily_cycle`, :func:`clone_actions`, :func:`restore_test_opens`: the
  whole cycle with every zsnapper action;
* :func:`failed_restore_test_drops_its_clone`;
* :func:`old_style_site`, :func:`refused_without_a_trusted_ca`: the old
  toolset's configuration (its text stays in each test file, as its users have it);
* :func:`fault_at_each_call_of_a_daily_backup` and
  :func:`fault_at_each_call_of_a_nightly_restore_test`: a 500 armed at each
  call the clean run made, one run per call.
"""
from __future__ import annotations

import importlib
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterable, Sequence, Union

from .appliance_site import ApplianceSite
from .harness import assert_one_error_line

Call = tuple                                    # one call of the server's log, as ApplianceSite.storage_calls says it
Indices = Callable[[list[Call]], Collection[int]]   # which of a run's calls (indices) play a part
Expected = Union[Call, Callable[[Call], bool]]      # a call as it is, or a test of one

WRONG_VERIFY = "select to_date('2001-01-01 00:00:00', 'yyyy-mm-dd hh24:mi:ss') from dual"


def where(test: Callable[[Call], bool]) -> Indices:
    """The indices of the calls that pass ``test``."""
    return lambda calls: {i for i, call in enumerate(calls) if test(call)}


def no_calls(calls: list[Call]) -> Collection[int]:
    """No call at all."""
    return ()


def post_to(suffix: str) -> Callable[[Call], bool]:
    """A POST to a path ending in ``suffix``."""
    return lambda call: call[0] == "POST" and call[1].endswith(suffix)


def _assert_made(calls: list[Call], made: Sequence[Expected]) -> None:
    for expected in made:
        found = any(expected(c) for c in calls) if callable(expected) else expected in calls
        assert found, f"no call {expected} among {calls}"


def _catalog(site: ApplianceSite) -> sqlite3.Connection:
    return sqlite3.connect(site.w / "autorestore" / "log" / "autorestore.db")


# -- the whole cycle ---------------------------------------------------------------------------
def daily_cycle(site: ApplianceSite, export: str) -> tuple[list[dict], str]:
    """The backup share (``zvolume.py create``, seen at ``export``), three daily jobs, and what every
    read-only zsnapper action says of their snapshots: (``list --json``, ``list``)."""
    out = site.setup()
    assert out.strip() == f"Backup volume for orcl created: 127.0.0.1:{export}"
    site.ok(site.backup("config"))
    site.daily_backups(3)
    snaps = site.snapshots()
    assert len(snaps) == 3 and all(s["numclones"] == 0 for s in snaps)
    assert [s["creation"] for s in snaps] == sorted(s["creation"] for s in snaps)
    assert [p.name for p in site.checker().snapshots()] == [s["id"] for s in snaps]
    listing = site.ok(site.zsnapper("list"))
    assert all(f"{s['id']} [" in listing for s in snaps), listing
    assert site.ok(site.zsnapper("checkage")).startswith("OK: The latest snapshot age")
    assert site.ok(site.zsnapper("clean", "--dry-run")).count(" valid") == 3
    return snaps, listing


def clone_actions(site: ApplianceSite, snapid: str, export: str, newest: str, own: str) -> None:
    """zsnapper clone of ``snapid`` (the clone's export: ``export`` with its ``{name}``, and the NFS
    mount command), dropclone; autoclone (the restore test's clone, of the ``newest`` snapshot),
    dropclone; and dropclone refusing ``own``, the database's own volume."""
    out = site.ok(site.zsnapper("clone", snapid))
    [clone] = site.clones()
    assert clone["origin"] == snapid
    path = export.format(name=clone["clonename"])
    assert f"Mount point: {path}" in out
    assert f" 127.0.0.1:{path} <mount_directory_here>" in out
    assert site.ok(site.zsnapper("list", "--json")).count('"numclones": 1') == 1
    site.ok(site.zsnapper("dropclone", clone["clonename"]))
    site.ok(site.zsnapper("autoclone"))
    assert [(c["clonename"], c["origin"]) for c in site.clones()] == [("autorestore", newest)]
    site.ok(site.zsnapper("dropclone", "autorestore"))
    refused = site.zsnapper("dropclone", own)
    assert refused.returncode == 1 and "not a clone of orcl" in refused.stderr


def restore_test_opens(site: ApplianceSite, lasttime: str) -> None:
    """The nightly restore test: clone, mounted through fstab, restored byte for byte (production
    as of ``lasttime``), dropped."""
    out = site.ok(site.autorestore_run(ORASIM_RECORD_OPEN="1"))
    assert "Exitstatus is 0" in out
    assert site.clones() == [], "the restore test left its clone"
    site.assert_opened_at(lasttime)


def failed_restore_test_drops_its_clone(site: ApplianceSite) -> None:
    """A restore test whose verification finds the wrong time: exit 1, its clone dropped, the reason
    in the catalog."""
    site.setup(verify=WRONG_VERIFY)
    site.ok(site.backup("config"))
    site.daily_backups(2)
    result = site.autorestore_run()
    assert result.returncode == 1 and "Exitstatus is 1" in result.stdout, result.stdout + result.stderr
    assert site.clones() == [], "the failed restore test left its clone"
    assert [s["numclones"] for s in site.snapshots()] == [0, 0]
    [(success, log)] = list(_catalog(site).execute("select success, logfilecontents from restoreaction"))
    assert success == 0 and "more than 5 minutes" in log, log


# -- the old toolset's configuration -----------------------------------------------------------
def old_style_site(site: ApplianceSite, config: str, export: str, backups: int) -> None:
    """The old toolset's ``config`` as it is, the appliance's CA trusted through REQUESTS_CA_BUNDLE
    (as a system store would), the share created (seen at ``export``), ``backups`` daily jobs."""
    site.create_database()
    site.write_config(config)
    site.extra_env["REQUESTS_CA_BUNDLE"] = str(site.ca_file())
    out = site.ok(site.script("zvolume.py", "orcl", "create"))
    assert out.strip() == f"Backup volume for orcl created: 127.0.0.1:{export}"
    site.give_area()
    site.ok(site.backup("config"))
    site.daily_backups(backups)


def refused_without_a_trusted_ca(site: ApplianceSite) -> None:
    """zsnapper list against an appliance whose CA is not trusted: refused in a line naming cacert."""
    refused = site.zsnapper("list")
    assert refused.returncode == 1 and "cacert" in refused.stderr and "Traceback" not in refused.stderr, \
        refused.stdout + refused.stderr


# -- faults at each call -----------------------------------------------------------------------
@dataclass
class OtherDatabase:
    """Another database's volume with a clone, made through the driver itself, which no fault may touch."""

    driver: str                                     # "module.Class" of the driver
    config: str | Callable[[ApplianceSite], str]    # what database ``other`` adds to backup.cfg
    volumes: Callable[[Any], Iterable[str]]         # the names of the server's volumes (shares, file systems)
    keep: set[str]                                  # those of orcl's, the other's and the other's clone
    also: Callable[[ApplianceSite], None] | None = None     # what else no fault may leave or take

    def make(self, site: ApplianceSite) -> None:
        from imagecopy.config import Configuration
        module, name = self.driver.rsplit(".", 1)
        cfg = site.w / "other.cfg"
        more = self.config if isinstance(self.config, str) else self.config(site)
        cfg.write_text(site.cfg.read_text() + "[other]\ndbid: 1\n" + more)
        other = getattr(importlib.import_module(module), name)(Configuration(cfg, "other", env={}), "other")
        other.createvolume()
        other.clone(other.snap(), "other_keep")


def _assert_kept(site: ApplianceSite, snapids: list[str], other: OtherDatabase | None) -> None:
    if other is not None:
        assert other.keep <= set(other.volumes(site.server)), "a fault cost a volume"
        if other.also is not None:
            other.also(site)
    assert set(snapids) <= {s["id"] for s in site.snapshots()}, "a fault cost a snapshot"


def fault_at_each_call_of_a_daily_backup(site: ApplianceSite, section: str, *words: str,
                                         made: Sequence[Expected] = (), harmless: Indices = no_calls,
                                         other: OtherDatabase | None = None) -> None:
    """A 500 at each call of a daily job (those of a clean run, which must hold each of ``made``):
    a failed run that says so in a line holding ``<section>: <method>``, "HTTP 500" and ``words``, no
    traceback; a fault at a ``harmless`` call (a logout at exit, best effort) costs nothing; never a
    snapshot lost, nor anything of the ``other`` database."""
    site.setup()
    site.ok(site.backup("config"))
    site.daily_backups(1)
    if other is not None:
        other.make(site)
    before = len(site.server.calls)
    site.daily_backups(1)
    calls = site.storage_calls()[before:]
    _assert_made(calls, made)
    tolerated = harmless(calls)
    for nth, call in enumerate(calls, 1):
        kept = [s["id"] for s in site.snapshots()]
        site.server.fail(nth=nth, status=500)
        result = site.script("backup.py", "orcl", "imagecopywithsnap")
        site.checker().forget()
        assert not site.server.faults, f"call {nth} of {calls} was not made"
        if nth - 1 in tolerated:                # at exit, best effort: the backup stands
            said = result.stdout + result.stderr
            assert result.returncode == 0 and "Traceback" not in said, said
        else:
            assert_one_error_line(result, f"{section}: {call[0]}", "HTTP 500", *words)
        _assert_kept(site, kept, other)
        time.sleep(1.1)                         # snapshot names have one-second resolution


def fault_at_each_call_of_a_nightly_restore_test(site: ApplianceSite, other: OtherDatabase, *,
                                                 dropping: Indices, drop_keeps_clone: bool = False,
                                                 made: Sequence[Expected] = (), harmless: Indices = no_calls,
                                                 harmless_words: Sequence[str] = ()) -> None:
    """A 500 at each call of a nightly restore test: exit 1, "Exitstatus is 1", no traceback, and no
    clone left, unless the fault hit the clone's drop (``dropping``: the calls that make it up; with
    ``drop_keeps_clone``, each of them leaves the clone): then the clone stays and the run says
    "HTTP 500".  A fault at a ``harmless`` call (a logout at exit, a pin after a good restore) leaves
    a good restore test (exit 0, no clone, ``harmless_words`` said).  Never a snapshot lost, nor
    anything of the ``other`` database; the catalog has a row of each run's result."""
    site.setup()
    site.ok(site.backup("config"))
    site.daily_backups(2)
    other.make(site)
    kept = [s["id"] for s in site.snapshots()]
    before = len(site.server.calls)
    site.ok(site.autorestore_run())
    calls = site.storage_calls()[before:]
    _assert_made(calls, made)
    drop, tolerated = dropping(calls), harmless(calls)
    assert drop, f"no call of the clone's drop among {calls}"
    results = [1]
    for nth, call in enumerate(calls, 1):
        # The catalog keeps one row per database, start second and result: a second apart.
        time.sleep(1.1)
        site.server.fail(nth=nth, status=500)
        result = site.autorestore_run()
        assert not site.server.faults, f"call {nth} of {calls} was not made"
        said = result.stdout + result.stderr
        assert "Traceback" not in said, said
        clones = [c["clonename"] for c in site.clones()]
        if nth - 1 in tolerated:
            assert result.returncode == 0 and all(w in said for w in harmless_words), said
            assert clones == [], f"call {nth} ({call}): the restore test left its clone"
        else:
            assert result.returncode == 1 and "Exitstatus is 1" in result.stdout, said
            if nth - 1 in drop and (clones or drop_keeps_clone):    # the drop failed: the clone stays, said so
                assert clones == ["autorestore"] and "HTTP 500" in said, said
                site.ok(site.zsnapper("dropclone", "autorestore"))
            else:
                assert clones == [], f"call {nth} ({call}): the restore test left its clone"
        _assert_kept(site, kept, other)
        results.append(1 if nth - 1 in tolerated else 0)
    rows = _catalog(site).execute("select success from restoreaction order by start_time").fetchall()
    assert [r[0] for r in rows] == results
