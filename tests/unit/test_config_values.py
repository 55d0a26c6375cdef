"""Numbers, words and choices in the configuration: bad values are configuration errors (exit 2)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagecopy import confcheck
from imagecopy.config import Configuration
from imagecopy.errors import ConfigError

BASE = """
[generic]
backupdest: /nfs/backup
oraclehome: /u01/oh
maxlockwait: 30
[rman]
catalog: /@rman
[autorestore]
autorestoredestination: /restore/dest
autorestorelogdir: /restore/log
autorestoremountpoint: /restore/mnt
[orcl]
dbid: 1433672784
recoverywindow: 2
parallel: 2
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "backup.cfg"
    p.write_text(text)
    return p


@pytest.mark.parametrize("value", ["-5", "nan", "NaN", "inf", "-inf", "1e308", "1e13", "infinity", "", "5 min"])
def test_maxlockwait_refuses_what_would_hang_or_crash(tmp_path, value):
    cfg = Configuration(write(tmp_path, BASE.replace("maxlockwait: 30", f"maxlockwait: {value}")), "orcl", env={})
    with pytest.raises(ConfigError, match=r"\[generic\] key 'maxlockwait'"):
        cfg.getfloat("maxlockwait", "generic")
    with pytest.raises(ConfigError, match="maxlockwait"):
        confcheck.check(cfg)


@pytest.mark.parametrize("key, value", [
    ("recoverywindow", "-1"), ("parallel", "0"), ("parallel", "99999999999999999999"), ("dbid", "-3"),
    ("snapexpirationdays", "-7"), ("snapexpirationmonths", "1.5"), ("autorestorethread", "0"),
])
def test_integer_keys_refuse_negative_overflow_and_fractions(tmp_path, key, value):
    text = BASE + f"{key}: {value}\n" if key not in BASE else BASE.replace(f"{key}: ", f"{key}: {value}\n#", 1)
    cfg = Configuration(write(tmp_path, text), "orcl", env={})
    with pytest.raises(ConfigError, match=f"key '{key}'"):
        confcheck.check(cfg)


@pytest.mark.parametrize("word, expected", [
    ("1", True), ("0", False), ("true", True), ("FALSE", False), ("Yes", True), ("no", False), ("ON", True),
    ("off", False), (" yes ", True),
])
def test_booleans_accept_every_usual_word_in_any_case(tmp_path, word, expected):
    cfg = Configuration(write(tmp_path, BASE + f"autorestoreenabled: {word}\ndosnapshot: {word}\n"), "orcl", env={})
    assert cfg.getbool("autorestoreenabled") is expected
    assert cfg.getbool("dosnapshot") is expected


@pytest.mark.parametrize("word", ["2", "enabled", "y", "maybe", ""])
def test_other_words_are_not_booleans(tmp_path, word):
    cfg = Configuration(write(tmp_path, BASE + f"dosnapshot: {word}\n"), "orcl", env={})
    with pytest.raises(ConfigError, match="key 'dosnapshot' must be true or false"):
        confcheck.check(cfg)


def test_an_unknown_mount_method_is_a_configuration_error(tmp_path):
    cfg = Configuration(write(tmp_path, BASE.replace("[orcl]", "autorestoremountmethod: nfs\n[orcl]")), "orcl", env={})
    with pytest.raises(ConfigError, match="autorestoremountmethod' must be one of fstab, clonepath, not 'nfs'"):
        confcheck.check(cfg)
    ok = Configuration(write(tmp_path, BASE.replace("[orcl]", "autorestoremountmethod: ClonePath\n[orcl]")), "orcl",
                       env={})
    assert ok.getchoice("autorestoremountmethod", "autorestore", ("fstab", "clonepath"), "fstab") == "clonepath"


@pytest.mark.parametrize("path", ["relative/dir", "/x;purge -age 0", "/x'y", '/x"y', "/x\ny"])
def test_restore_paths_are_absolute_and_safe_for_adrci_and_init_ora(tmp_path, path):
    text = BASE.replace("autorestorelogdir: /restore/log", "autorestorelogdir: " + path.replace("\n", "\n  "))
    cfg = Configuration(write(tmp_path, text), "orcl", env={})
    with pytest.raises(ConfigError, match="autorestorelogdir"):
        confcheck.check(cfg, ["orcl"], restore=True)


def test_the_good_configuration_passes(tmp_path):
    confcheck.check(Configuration(write(tmp_path, BASE), "orcl", env={}), ["orcl"], restore=True)


def test_an_unreadable_configuration_is_one_configuration_error(tmp_path):
    directory = tmp_path / "adir.cfg"
    directory.mkdir()
    with pytest.raises(ConfigError, match="cannot be read"):
        Configuration(directory, "orcl", env={})


@pytest.mark.parametrize("catalog, warned", [("/@rman", False), ("rman/secret@rmandb", True)])
def test_a_world_readable_file_with_a_catalog_password_is_warned_about(tmp_path, catalog, warned):
    p = write(tmp_path, BASE.replace("catalog: /@rman", f"catalog: {catalog}"))
    os.chmod(p, 0o644)
    cfg = Configuration(p, "orcl", env={})
    assert (confcheck.warn_if_readable_secrets(cfg) is not None) is warned
    os.chmod(p, 0o640)
    assert confcheck.warn_if_readable_secrets(cfg) is None
