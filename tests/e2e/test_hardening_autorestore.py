"""autorestore.py against bad input: a hostile autorestore.cfg, bad values, bad arguments, a catalog it cannot write."""
from __future__ import annotations

import re
import stat

import pytest

from . import test_autorestore
from .test_autorestore import Site, configured

pytestmark = pytest.mark.slow
sandbox = test_autorestore.sandbox
site = test_autorestore.site


def set_key(site: Site, key: str, value: str, section: str = "autorestore") -> None:
    text = site.cfg.read_text()
    if re.search(rf"(?m)^{key}: ", text):
        text = re.sub(rf"(?m)^{key}: .*$", f"{key}: {value}", text)
    else:
        text = text.replace(f"[{section}]\n", f"[{section}]\n{key}: {value}\n", 1)
    site.cfg.write_text(text)
    site.box.give(site.cfg)


def one_line(result) -> str:
    combined = result.stdout + result.stderr
    assert "Traceback" not in combined, combined
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, combined
    return lines[0]


def only_db(site: Site) -> Site:
    site.add_db("orcl", 1433672784)
    site.write_config()
    return site


@pytest.mark.parametrize("key, value, section, message", [
    ("autorestoremountmethod", "nfs", "autorestore", "must be one of fstab, clonepath, not 'nfs'"),
    ("maxlockwait", "nan", "generic", "key 'maxlockwait' must be a finite number"),
    ("autorestoremaxtoleranceminutes", "-5", "autorestore", "must be at least"),
    ("autorestorelogdir", "relative/log", "autorestore", "must be an absolute path"),
    ("autorestoreenabled", "maybe", "orcl", "must be true or false"),
])
def test_a_bad_value_is_a_configuration_error_not_a_failed_restore(site, key, value, section, message):
    only_db(site)
    set_key(site, key, value, section)
    result = site.autorestore()
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in one_line(result)
    assert not (site.w / "autorestore" / "log" / "autorestore.db").exists(), "a failed restore was recorded"


@pytest.mark.parametrize("args, message", [
    (("orcl", "--slot=abc"), "--slot must be a number"),
    (("orcl", "--slot=0"), "--slot must be a number"),
    (("--slot=1",), "--slot needs one database"),
])
def test_bad_arguments_are_one_line(site, args, message):
    only_db(site)
    result = site.autorestore(*args)
    assert result.returncode == 2
    assert message in (result.stdout + result.stderr)
    assert "Traceback" not in result.stdout + result.stderr


def test_a_slot_for_a_database_that_is_not_enabled(site):
    only_db(site)
    set_key(site, "autorestoreenabled", "no", "orcl")
    result = site.autorestore("orcl", "--slot=1")
    assert result.returncode == 2
    assert "not enabled for autorestore" in one_line(result)


def test_an_unreadable_configuration_is_one_line(site):
    only_db(site)
    if site.box.user is None:
        pytest.skip("needs a user other than the file's owner, or root to give the file away")
    site.cfg.chmod(0)
    result = site.autorestore()
    assert result.returncode == 2
    assert "cannot be read: Permission denied" in one_line(result)


def test_enabled_yes_restores_and_a_hostile_autorestore_cfg_fails_that_restore(site):
    """``autorestoreenabled: yes`` is enabled; an INI continuation line in the snapshot never reaches SQL*Plus."""
    configured(site)
    set_key(site, "autorestoreenabled", "yes", "orcl")
    assert "Exitstatus is 0" in site.ok(site.autorestore())
    cfgfile = site.snapshots("orcl")[-1] / "autorestore.cfg"
    pwned = site.w / "pwned"
    text = cfgfile.read_text()
    text = re.sub(r"(?m)^db_name: (.*)$", rf"db_name: \1\n  host touch {pwned}", text)
    cfgfile.chmod(0o644)
    cfgfile.write_text(text)
    result = site.autorestore()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Exitstatus is 1" in result.stdout
    site.assert_clean()
    assert not pwned.exists()
    rows = site.catalog()
    assert rows[-1]["success"] == 0
    assert "key 'db_name' has an invalid value" in rows[-1]["logfilecontents"]
    assert "host touch" not in (site.w / "autorestore" / "dest").joinpath("init.ora").read_text() \
        if (site.w / "autorestore" / "dest" / "init.ora").exists() else True


def test_a_catalog_that_cannot_be_written_fails_the_run_and_says_so(site):
    configured(site)
    catalog = site.w / "autorestore" / "log" / "autorestore.db"
    catalog.unlink(missing_ok=True)
    catalog.mkdir()         # nothing can open a directory as the SQLite catalog
    site.box.give(catalog)
    result = site.autorestore()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Exitstatus is 1" in result.stdout
    assert "the restore result was not recorded in the catalog" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    site.assert_clean()


def test_restore_files_are_not_world_readable(site):
    configured(site)
    site.ok(site.autorestore())
    logdir = site.w / "autorestore" / "log"
    for path in [*logdir.glob("*.log"), logdir / "autorestore.db"]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o007 == 0, f"{path} is {oct(mode)}"
    prom = site.w / "autorestore" / "oib.prom"
    assert stat.S_IMODE(prom.stat().st_mode) == 0o644     # the node exporter reads it
