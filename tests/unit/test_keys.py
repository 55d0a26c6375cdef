"""The one table of configuration keys (imagecopy/keys.py) and what is held to it: the
unknown-key warning, backup.cfg.sample, the README's key table and the code's defaults."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from imagecopy import confcheck
from imagecopy.config import Configuration
from imagecopy.keys import DB, KEYS, TOOL_SECTIONS, table, unknown_keys
from storage import driver_keys

REPO = Path(__file__).resolve().parents[2]
KNOWN = table(driver_keys())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "backup.cfg"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("section, key, expected", [
    ("autorestore", "autorestoremodulos", "[autorestore] unknown key 'autorestoremodulos' "
                                          "(did you mean 'autorestoremodulus'?): ignored"),
    ("generic", "maxlockwiat", "[generic] unknown key 'maxlockwiat' (did you mean 'maxlockwait'?): ignored"),
    ("orcl", "snapexpirationday", "[orcl] unknown key 'snapexpirationday' "
                                  "(did you mean 'snapexpirationdays'?): ignored"),
    ("orcl", "genericoraclehme", "[orcl] unknown key 'genericoraclehme' (did you mean 'genericoraclehome'?)"),
    ("zfs", "parnet", "[zfs] unknown key 'parnet' (did you mean 'parent'?): ignored"),
    ("rman", "nonsense", "[rman] unknown key 'nonsense': ignored"),
])
def test_an_unknown_key_is_named_with_the_closest_known_one(tmp_path, section, key, expected):
    path = write(tmp_path, f"[generic]\nbackupdest: /b\n[{section}]\n{key}: 1\n")
    [line] = unknown_keys(path, KNOWN)
    assert line.startswith(f"{path}: ") and expected in line


@pytest.mark.parametrize("section, key", [
    ("orcl", "genericoraclehome"),          # the override rule: <section><key>
    ("orcl", "zfsparent"),
    ("orcl", "autorestoreautorestoresnapage"),
    ("orcl", "standbyarchivewait"),
    ("generic", "standbyarchivewait"),      # a database key that [generic] may hold for all
    ("orcl", "zfssapool"),                  # a section whose driver declares no keys: not judged
    ("mydriver", "anything"),               # a driver of the user's own
    ("zfscredentials", "zfspassword"),
])
def test_known_keys_and_undeclared_sections_pass(tmp_path, section, key):
    path = write(tmp_path, f"[generic]\nsnappermodule: mydriver\n[{section}]\n{key}: 1\n")
    skip = {"mydriver", "zfssa", "zfscredentials", "credentials"}
    assert unknown_keys(path, KNOWN, skip) == []


def test_the_warning_is_logged_by_the_configuration_check(tmp_path, caplog):
    path = write(tmp_path, "[generic]\nbackupdest: /b\n[autorestore]\nautorestoremodulos: 7\n[orcl]\ndbid: 1\n")
    lines = confcheck.warn_unknown_keys(Configuration(path, "orcl", env={}))
    assert lines and "did you mean 'autorestoremodulus'" in caplog.text


def _sample_keys() -> list[tuple[str, str]]:
    """(section, key) of every key backup.cfg.sample sets or shows commented out."""
    out, section = [], None
    for line in (REPO / "backup.cfg.sample").read_text(encoding="utf-8").splitlines():
        head = re.match(r"^\[(\w+)\]", line)
        if head:
            section = head.group(1)
        elif section and (m := re.match(r"^#?([a-z_]+):", line)):
            out.append((section, m.group(1)))
    return out


def test_the_sample_knows_only_table_keys_and_shows_every_tool_key(tmp_path):
    sample = REPO / "backup.cfg.sample"
    assert unknown_keys(sample, KNOWN) == []
    shown = set(_sample_keys())
    db_shown = {k for s, k in shown if s not in KNOWN}
    missing = [f"[{k.section}] {k.name}" for k in KEYS
               if (k.name not in db_shown if k.section == DB else (k.section, k.name) not in shown)]
    assert missing == [], "backup.cfg.sample lacks these keys"
    for section, keys in driver_keys().items():
        if section == DB:       # a driver's key of the database sections (netapp's further volumes)
            assert {k.name for k in keys} <= db_shown, "backup.cfg.sample shows no database with these keys"
            continue
        assert f"[{section}]\n" in (REPO / "backup.cfg.sample").read_text(encoding="utf-8"), \
            f"backup.cfg.sample has no [{section}] block"
        assert {(section, k.name) for k in keys} - shown - {(section, n) for n in _commented_as_group(section)} \
            == set(), f"backup.cfg.sample: [{section}] does not show every key"


def _commented_as_group(section: str) -> set[str]:
    """Keys a driver section documents in a comment naming them together (btrfs: 'sudo, host, …: as in [zfs]')."""
    text = (REPO / "backup.cfg.sample").read_text(encoding="utf-8")
    block = text.split(f"[{section}]\n", 1)[1].split("\n[", 1)[0]
    return {w for line in block.splitlines() if line.startswith("#") and "as in [" in line
            for w in re.findall(r"[a-z]+", line.split(":", 1)[0])}


def _readme_rows() -> list[tuple[str, list[str]]]:
    text = (REPO / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] not in ("section", "---"):
            rows.append((cells[0], re.findall(r"`([a-z_]+)`", cells[1])))
    return rows


def test_the_readme_key_table_matches_the_table():
    documented: set[tuple[str, str]] = set()
    for section, keys in _readme_rows():
        sections = [DB if s.strip() == "*db*" else s.strip() for s in section.split(" or ")]
        for key in keys:
            for s in sections:
                assert key in KNOWN.get(s, {}), f"README documents [{s}] {key}, which no table knows"
                documented.add((s, key))
    missing = [f"[{k.section}] {k.name}" for k in KEYS if (k.section, k.name) not in documented]
    assert missing == [], "README's key table lacks these keys"


CONFIG_READS = {"get", "getint", "getfloat", "getbool", "getchoice"}


def _literal_defaults():
    """(file:line, section, key, default) of every configuration read with literal key, section and default."""
    files = [p for p in [*REPO.glob("*.py"), *REPO.glob("imagecopy/*.py"), *REPO.glob("storage/*.py")]
             if p.name not in ("setup.py", "demo.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in CONFIG_READS and len(node.args) >= 2):
                continue
            receiver = ast.unparse(node.func.value)
            if not re.fullmatch(r"(self\.)?(config|cfg|c)", receiver):
                continue
            key, section = node.args[0], node.args[1]
            at = 3 if node.func.attr == "getchoice" else 2
            default = node.args[at] if len(node.args) > at else next(
                (kw.value for kw in node.keywords if kw.arg == "default"), None)
            if all(isinstance(n, ast.Constant) for n in (key, section, default)) and default is not None:
                yield f"{path.name}:{node.lineno}", section.value or DB, key.value, default.value


def test_every_literal_default_in_the_code_is_the_tables():
    wrong = []
    for where, section, key, default in _literal_defaults():
        entry = KNOWN.get(section, {}).get(key)
        if entry is None:
            wrong.append(f"{where}: [{section}] {key} is not in the table")
        elif default == "" and entry.default is None:
            continue            # "" read as "not set" for a key with no default: the same thing
        elif str(default).lower() != str(entry.default).lower():
            wrong.append(f"{where}: [{section}] {key} default {default!r}, the table says {entry.default!r}")
    assert wrong == []


def test_tool_sections_are_the_tables():
    assert set(TOOL_SECTIONS) | {DB} == {k.section for k in KEYS}
