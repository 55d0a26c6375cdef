"""zsnapper.py and autorestore.py read their arguments with argparse (imagecopy/cli.py's ArgParser):
every form the old hand parsing accepted still parses to the same thing, and every form it
refused is still refused, with its message and exit code.

The parse functions are called directly; ``main`` only for the exit codes of refused forms,
which it returns before any configuration, storage or Oracle is touched.
"""
from __future__ import annotations

import os
import signal
from datetime import date

import pytest

import autorestore
import zsnapper
from imagecopy.errors import UsageError
from zsnapper import Command

SNAP = "orcl-20260101T000000"
CLONE = "orcl-20260101T000000_clone_20260102T000000"


@pytest.fixture(autouse=True)
def _process_state():
    """main() sets the umask and a SIGTERM handler: give the test process its own back."""
    umask = os.umask(0o022)
    os.umask(umask)
    handler = signal.getsignal(signal.SIGTERM)
    yield
    os.umask(umask)
    signal.signal(signal.SIGTERM, handler)


# -- zsnapper.py -----------------------------------------------------------------------------

ZSNAPPER_KEPT = [
    (["orcl", "list"], Command("orcl", "list")),
    (["orcl", "list", "--json"], Command("orcl", "list", json=True)),
    (["--json", "orcl", "list"], Command("orcl", "list", json=True)),
    (["orcl", "--json", "list"], Command("orcl", "list", json=True)),
    (["orcl", "list", "--json", "--json"], Command("orcl", "list", json=True)),
    (["orcl", "create"], Command("orcl", "create")),
    (["orcl", "clone", SNAP], Command("orcl", "clone", SNAP)),
    (["orcl", "dropclone", CLONE], Command("orcl", "dropclone", CLONE)),
    (["orcl", "listclones"], Command("orcl", "listclones")),
    (["orcl", "listclones", "--json"], Command("orcl", "listclones", json=True)),
    (["orcl", "clean"], Command("orcl", "clean")),
    (["orcl", "clean", "--dry-run"], Command("orcl", "clean", dry_run=True)),
    (["--dry-run", "orcl", "clean"], Command("orcl", "clean", dry_run=True)),
    (["orcl", "clean", "--dry-run", "--json"], Command("orcl", "clean", json=True, dry_run=True)),
    (["orcl", "autoclone"], Command("orcl", "autoclone")),
    (["orcl", "checkage"], Command("orcl", "checkage")),
    (["orcl", "checkage", "--json"], Command("orcl", "checkage", json=True)),
    (["orcl", "checkverified"], Command("orcl", "checkverified")),
    (["--json", "orcl", "checkverified"], Command("orcl", "checkverified", json=True)),
    (["orcl", "unpin", SNAP], Command("orcl", "unpin", SNAP)),
    (["orcl", "pin", SNAP, "--reason", "audit 2026"], Command("orcl", "pin", SNAP, reason="audit 2026")),
    (["orcl", "pin", SNAP, "--reason=audit 2026"], Command("orcl", "pin", SNAP, reason="audit 2026")),
    (["--reason", "audit", "orcl", "pin", SNAP], Command("orcl", "pin", SNAP, reason="audit")),
    (["orcl", "pin", "--reason", "audit", SNAP], Command("orcl", "pin", SNAP, reason="audit")),
    (["orcl", "pin", SNAP, "--reason", "  audit  "], Command("orcl", "pin", SNAP, reason="audit")),
    (["orcl", "pin", SNAP, "--reason=a=b"], Command("orcl", "pin", SNAP, reason="a=b")),
    # the word after --reason is its value, whatever it looks like
    (["orcl", "pin", SNAP, "--reason", "-x"], Command("orcl", "pin", SNAP, reason="-x")),
    (["orcl", "pin", SNAP, "--reason", "--json"], Command("orcl", "pin", SNAP, reason="--json")),
    (["orcl", "pin", SNAP, "--reason", "--"], Command("orcl", "pin", SNAP, reason="--")),
    (["orcl", "pin", SNAP, "--reason", "a", "--until", "2099-06-30"],
     Command("orcl", "pin", SNAP, reason="a", until=date(2099, 6, 30))),
    (["orcl", "pin", SNAP, "--until=2099-06-30", "--reason=a"],
     Command("orcl", "pin", SNAP, reason="a", until=date(2099, 6, 30))),
    (["--until", " 2099-06-30 ", "orcl", "pin", SNAP, "--reason", "a"],
     Command("orcl", "pin", SNAP, reason="a", until=date(2099, 6, 30))),
    # a date in the past parses; do_pin refuses it
    (["orcl", "pin", SNAP, "--reason", "a", "--until", "2001-01-01"],
     Command("orcl", "pin", SNAP, reason="a", until=date(2001, 1, 1))),
]


@pytest.mark.parametrize("argv, expected", ZSNAPPER_KEPT, ids=[" ".join(a) for a, _ in ZSNAPPER_KEPT])
def test_zsnapper_form_kept(argv: list[str], expected: Command) -> None:
    assert zsnapper.parse_args(argv) == expected


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["orcl", "list", "--help"], ["orcl", "nosuch", "-h"],
                                  ["--bogus", "--help"], ["orcl", "pin", SNAP, "--reason", "--help"]])
def test_zsnapper_help_anywhere(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert zsnapper.parse_args(argv) is None
    assert zsnapper.main(argv) == 0
    out = capsys.readouterr()
    assert out.out.startswith(zsnapper.USAGE + "\n") and out.err == ""


# argv, the reason, the exit code: 2 (ERROR and the usage line) or 3 (a Nagios check's UNKNOWN)
ZSNAPPER_REFUSED = [
    ([], "a database and an action are needed", 2),
    (["orcl"], "a database and an action are needed", 2),
    (["--json", "orcl"], "a database and an action are needed", 2),
    (["orcl", "nosuch"], "unknown action 'nosuch'", 2),
    (["orcl", "LIST"], "unknown action 'LIST'", 2),
    (["orcl", "clone"], "clone takes a name", 2),
    (["orcl", "pin", "--reason", "x"], "pin takes a name", 2),
    (["orcl", "list", "x"], "list takes no name", 2),
    (["orcl", "clone", SNAP, "x"], "clone takes a name", 2),
    (["orcl", "create", "--json"], "--json does not apply to create", 2),
    (["orcl", "pin", SNAP, "--reason", "x", "--json"], "--json does not apply to pin", 2),
    (["orcl", "list", "--dry-run"], "--dry-run applies to clean only", 2),
    (["orcl", "list", "--verbose"], "unknown option --verbose", 2),
    (["orcl", "list", "--js"], "unknown option --js", 2),          # no abbreviations
    (["orcl", "clean", "--dry"], "unknown option --dry", 2),
    (["orcl", "list", "-j"], "unknown option -j", 2),
    (["orcl", "list", "--bogus=3"], "unknown option --bogus=3", 2),
    (["orcl", "list", "--zz", "--aa"], "unknown option --aa", 2),
    (["orcl", "list", "--"], "unknown option --", 2),              # not the end of the options
    (["orcl", "--", "list"], "unknown option --", 2),
    (["orcl", "clone", "-1"], "unknown option -1", 2),
    (["orcl", "clone", "-"], "unknown option -", 2),
    (["orcl", "--reas=x", "pin", SNAP], "unknown option --reas=x", 2),
    (["orcl", "list", "--reason", "x"], "--reason applies to pin only", 2),
    (["orcl", "clean", "--until=2099-01-01"], "--until applies to pin only", 2),
    (["orcl", "pin", SNAP], "pin needs --reason TEXT", 2),
    (["orcl", "pin", SNAP, "--reason", "  "], "pin needs --reason TEXT", 2),
    (["orcl", "pin", SNAP, "--reason="], "pin needs --reason TEXT", 2),
    (["orcl", "pin", SNAP, "--until", "2099-01-01"], "pin needs --reason TEXT", 2),
    (["orcl", "pin", SNAP, "--reason"], "--reason needs a value", 2),
    (["orcl", "pin", SNAP, "--reason", "x", "--until"], "--until needs a value", 2),
    (["orcl", "pin", SNAP, "--reason=a", "--reason", "b"], "--reason given twice", 2),
    (["orcl", "pin", SNAP, "--reason=a", "--until=2099-01-01", "--until=2099-01-02"], "--until given twice", 2),
    (["orcl", "pin", SNAP, "--reason", "x", "--until", "30.6.2027"], "--until must be a date like 2027-06-30", 2),
    (["orcl", "pin", SNAP, "--reason", "x", "--until="], "--until must be a date", 2),
    (["orcl", "pin", "../etc", "--reason", "x"], "invalid snapshot id", 2),
    (["orcl", "clone", "x/y"], "contains a slash", 2),
    (["orcl", "clone", ".."], "invalid snapshot id", 2),
    (["orcl", "dropclone", ".hidden"], "starts with '.'", 2),
    (["../orcl", "list"], "database name", 2),
    (["or\x01cl", "list"], "control character", 2),
    # the Nagios checks answer a bad usage as a plugin: UNKNOWN, exit 3
    (["orcl", "checkage", "x"], "checkage takes no name", 3),
    (["orcl", "checkage", "--bogus"], "unknown option --bogus", 3),
    (["orcl", "checkverified", "--dry-run"], "--dry-run applies to clean only", 3),
    (["orcl", "checkverified", "--reason", "x"], "--reason applies to pin only", 3),
    (["orcl", "checkage", "--reason"], "--reason needs a value", 3),
    (["--until", "2099-01-01", "orcl", "checkage"], "--until applies to pin only", 3),
    (["--json", "orcl", "checkage", "--"], "unknown option --", 3),
    (["orcl", "checkage", "--json=1"], "--json", 3),
]


@pytest.mark.parametrize("argv, reason, code", ZSNAPPER_REFUSED,
                         ids=[" ".join(a) or "none" for a, _, _ in ZSNAPPER_REFUSED])
def test_zsnapper_form_refused(argv: list[str], reason: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError) as raised:
        zsnapper.parse_args(argv)
    assert reason in str(raised.value)
    assert zsnapper.main(argv) == code
    out = capsys.readouterr()
    if code == 2:
        assert out.out == "" and out.err == f"ERROR: {raised.value}\n{zsnapper.USAGE}\n"
    else:
        assert out.err == ""
        if "--json" in argv:
            assert '"status": "UNKNOWN"' in out.out and f"UNKNOWN: bad usage: {raised.value}" in out.out
        else:
            assert out.out == f"UNKNOWN: bad usage: {raised.value}\n"


def test_zsnapper_usage_line_is_the_old_one() -> None:
    assert zsnapper.USAGE == (
        "Usage: zsnapper.py <db> <list|create|clone <snap>|dropclone <clone>|listclones|clean [--dry-run]|"
        "autoclone|checkage|pin <snap> --reason TEXT [--until YYYY-MM-DD]|unpin <snap>|checkverified> [--json]")


# -- autorestore.py --------------------------------------------------------------------------

AUTORESTORE_KEPT = [
    (["backup.cfg"], ("backup.cfg", None, None)),
    (["backup.cfg", "orcl"], ("backup.cfg", "orcl", None)),
    (["backup.cfg", "!orcl"], ("backup.cfg", "!orcl", None)),
    (["backup.cfg", "--createcatalog"], ("backup.cfg", "--createcatalog", None)),
    (["backup.cfg", "--listvalidationdates"], ("backup.cfg", "--listvalidationdates", None)),
    (["/etc/oracle-imagecopy-backup/backup.cfg", "orcl"], ("/etc/oracle-imagecopy-backup/backup.cfg", "orcl", None)),
    # the internal --slot=N of a parallel run's child, anywhere; the last one counts
    (["backup.cfg", "orcl", "--slot=1"], ("backup.cfg", "orcl", 1)),
    (["backup.cfg", "--slot=12", "orcl"], ("backup.cfg", "orcl", 12)),
    (["--slot=999", "backup.cfg", "orcl"], ("backup.cfg", "orcl", 999)),
    (["backup.cfg", "orcl", "--slot=007"], ("backup.cfg", "orcl", 7)),
    (["backup.cfg", "orcl", "--slot=1", "--slot=2"], ("backup.cfg", "orcl", 2)),
    # what is not an option is a database name, refused (or not) when the configuration is read
    (["backup.cfg", "-1"], ("backup.cfg", "-1", None)),
    (["backup.cfg", "!"], ("backup.cfg", "!", None)),
    (["backup.cfg", ""], ("backup.cfg", "", None)),
]


@pytest.mark.parametrize("argv, expected", AUTORESTORE_KEPT, ids=[" ".join(a) for a, _ in AUTORESTORE_KEPT])
def test_autorestore_form_kept(argv: list[str], expected: tuple) -> None:
    assert autorestore.parse_args(argv) == expected


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["backup.cfg", "--help"]])
def test_autorestore_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert autorestore.main(argv) == 0
    out = capsys.readouterr()
    assert out.out.startswith(autorestore.USAGE.splitlines()[0] + "\n") and out.err == ""
    assert "--createcatalog" in out.out and "--slot" not in out.out


# argv, what stderr says (the whole usage text when None)
AUTORESTORE_REFUSED = [
    ([], None),
    ([""], None),
    (["  "], None),
    (["--createcatalog"], None),
    (["--createcatalog", "backup.cfg"], None),            # the configuration file comes first
    (["-", "orcl"], None),
    (["backup.cfg", "orcl", "x"], None),
    (["backup.cfg", "orcl", "--createcatalog"], None),
    (["backup.cfg", "--createcatalog", "--listvalidationdates"], None),
    (["backup.cfg", "--createcatalog", "--createcatalog"], None),
    (["backup.cfg", "orcl", "--bogus"], None),
    (["backup.cfg", "--bogus"], "unknown option --bogus (see autorestore.py without arguments)"),
    (["backup.cfg", "-x"], "unknown option -x"),
    (["backup.cfg", "--create"], "unknown option --create"),          # no abbreviations
    (["backup.cfg", "--createcatalog=yes"], "unknown option --createcatalog=yes"),
    (["backup.cfg", "--"], "unknown option --"),
    (["backup.cfg", "--slot"], "unknown option --slot"),
    (["backup.cfg", "orcl", "--slot=abc"], "--slot must be a number from 1 to 999, not 'abc'"),
    (["backup.cfg", "orcl", "--slot=0"], "--slot must be a number from 1 to 999, not '0'"),
    (["backup.cfg", "orcl", "--slot=1000"], "--slot must be a number from 1 to 999, not '1000'"),
    (["backup.cfg", "orcl", "--slot="], "--slot must be a number from 1 to 999, not ''"),
    (["backup.cfg", "orcl", "--slot=-1"], "--slot must be a number from 1 to 999, not '-1'"),
    (["--slot=abc"], "--slot must be a number"),                      # before the usage, as it was
    (["backup.cfg", "--slot=1"], "--slot needs one database name"),
    (["backup.cfg", "!orcl", "--slot=1"], "--slot needs one database name"),
    (["backup.cfg", "--createcatalog", "--slot=1"], "--slot needs one database name"),
    (["backup.cfg", "--bogus", "--slot=1"], "--slot needs one database name"),
]


@pytest.mark.parametrize("argv, reason", AUTORESTORE_REFUSED,
                         ids=[" ".join(a) or "none" for a, _ in AUTORESTORE_REFUSED])
def test_autorestore_form_refused(argv: list[str], reason: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError) as raised:
        autorestore.parse_args(argv)
    if reason is None:
        assert str(raised.value) == autorestore.USAGE
    else:
        assert reason in str(raised.value)
    assert autorestore.main(argv) == 2      # before the root and sandbox checks: nothing else ran
    out = capsys.readouterr()
    assert out.out == "" and out.err == f"{raised.value}\n"
    if reason is not None:
        assert len(out.err.splitlines()) == 1
