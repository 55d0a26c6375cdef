"""Validation day: the old modulus rule on a stable hash, the chance rule, and the listing."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from imagecopy.config import Configuration
from imagecopy.errors import ConfigError
from imagecopy.validation import (
    ValidationSetting,
    describe_schedule,
    setting_from_config,
    should_validate,
    stable_hash,
    validation_day,
)

REPO = Path(__file__).resolve().parents[2]
DAY = date(2016, 11, 8)     # day 17113 since 1970-01-01


class FixedRandom:
    """A random source that always answers ``value`` and records what it was asked."""

    def __init__(self, value: int):
        self.value = value
        self.calls: list[tuple[int, int]] = []

    def randint(self, a: int, b: int) -> int:
        self.calls.append((a, b))
        return self.value


@pytest.mark.parametrize("name, modulus, today, expected", [
    # crc32("orcl") = 530616672: mod 7 = 5 and 17113 mod 7 = 5, so today; "next" is a whole cycle on.
    ("orcl", 7, DAY, (True, 7, date(2016, 11, 15))),
    # mod 30: 12 vs 13, so the day comes round again in 29 days.
    ("orcl", 30, DAY, (False, 29, date(2016, 12, 7))),
    ("orcl", 30, date(2016, 12, 7), (True, 30, date(2017, 1, 6))),
    ("db2", 7, DAY, (False, 2, date(2016, 11, 10))),
    ("proddb", 30, DAY, (False, 20, date(2016, 11, 28))),
    # The hash is case sensitive, as the section names are.
    ("ORCL", 7, DAY, (False, 3, date(2016, 11, 11))),
    # Modulus 1: every day, "next" is tomorrow.
    ("orcl", 1, DAY, (True, 1, date(2016, 11, 9))),
    ("anything", 1, date(1970, 1, 1), (True, 1, date(1970, 1, 2))),
])
def test_validation_day_table(name, modulus, today, expected):
    assert validation_day(name, modulus, today) == expected


def test_hash_is_crc32_of_utf8():
    assert stable_hash("orcl") == 530616672
    assert stable_hash("dbå") == stable_hash("dbå")   # non-ASCII names hash too
    assert stable_hash("orcl") != stable_hash("orcl2")


@pytest.mark.parametrize("modulus", [0, -3])
def test_modulus_must_be_positive(modulus):
    with pytest.raises(ValueError):
        validation_day("orcl", modulus, DAY)


@pytest.mark.parametrize("name", ["orcl", "db2", "proddb", "x", "a-long-database-unique-name"])
@pytest.mark.parametrize("modulus", [1, 2, 7, 30, 31])
def test_validated_exactly_once_per_cycle(name, modulus):
    start = date(2020, 2, 1)
    days = [start + timedelta(days=i) for i in range(3 * modulus + 5)]
    flags = [validation_day(name, modulus, d)[0] for d in days]
    for i in range(len(days) - modulus + 1):
        assert sum(flags[i:i + modulus]) == 1, f"window starting {days[i]}"


@pytest.mark.parametrize("modulus", [1, 7, 30])
def test_next_date_is_the_next_validation_day(modulus):
    today = date(2021, 6, 1)
    for offset in range(modulus + 2):
        day = today + timedelta(days=offset)
        _, days, when = validation_day("orcl", modulus, day)
        assert when == day + timedelta(days=days)
        assert 1 <= days <= modulus
        assert validation_day("orcl", modulus, when)[0]
        # no validation day in between
        assert not any(validation_day("orcl", modulus, day + timedelta(days=k))[0] for k in range(1, days))


def test_same_answers_whatever_the_python_hash_seed():
    code = ("import json, datetime; from imagecopy.validation import validation_day; "
            "d = datetime.date(2016, 11, 8); "
            "print(json.dumps([[n, m, validation_day(n, m, d)[0], validation_day(n, m, d)[1]] "
            "for n in ('orcl', 'db2', 'proddb') for m in (7, 30)]))")
    answers = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(REPO))
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                             cwd=REPO).stdout
        answers.append(json.loads(out))
    assert answers[0] == answers[1]
    here = [[n, m, *validation_day(n, m, DAY)[:2]] for n in ("orcl", "db2", "proddb") for m in (7, 30)]
    assert answers[0] == here
    # and the seeds really differ in what hash() gives, so the test can tell
    seeds = [subprocess.run([sys.executable, "-c", "print(hash('orcl'))"], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONHASHSEED=s)).stdout for s in ("1", "2")]
    assert seeds[0] != seeds[1]


@pytest.mark.parametrize("modulus, chance, rng_value, expected", [
    (1, 0, None, True),        # modulus 1: every day
    (7, 0, None, True),        # orcl's day (see the table above)
    (30, 0, None, False),      # not orcl's day
    (30, 1, None, False),      # modulus wins over chance, even a certain one
    (0, 1, 1, True),           # chance 1: always
    (0, 4, 4, True),           # 1/N: randint(1, N) == N
    (0, 4, 1, False),
    (0, 4, 3, False),
    (0, 0, None, False),       # 0/0: never
])
def test_should_validate_table(modulus, chance, rng_value, expected):
    rng = FixedRandom(rng_value if rng_value is not None else -1)
    assert should_validate("orcl", modulus, chance, DAY, rng) is expected
    # the random source is asked only under the chance rule, and for 1..N
    assert rng.calls == ([(1, chance)] if modulus <= 0 and chance > 0 else [])


def test_chance_is_about_one_in_n():
    rng = random.Random(42)
    hits = sum(should_validate("orcl", 0, 5, DAY, rng) for _ in range(5000))
    assert 850 < hits < 1150


def test_listing_with_modulus():
    settings = [ValidationSetting("orcl", 30), ValidationSetting("db2", 7),
                ValidationSetting("other", 7, hashstring="orcl")]
    assert describe_schedule(settings, DAY) == [
        "orcl: 2016-12-07 (in 29 days)",
        "db2: 2016-11-10 (in 2 days)",
        # validated on orcl's day: stringforvalidationmod moves it; today is the day, so the next is a cycle on
        "other: 2016-11-15 (in 7 days)",
    ]


@pytest.mark.parametrize("settings, expected", [
    ([ValidationSetting("orcl", 0, 5), ValidationSetting("db2", 0, 5)],
     ["Validation is based on chance, probability 1/5"]),
    ([ValidationSetting("orcl"), ValidationSetting("db2")], ["Database validation is not turned on"]),
    ([ValidationSetting("orcl", 0, 5), ValidationSetting("db2", 0, 0)],
     ["orcl: validation is based on chance, probability 1/5", "db2: database validation is not turned on"]),
    ([ValidationSetting("orcl", 7, 0), ValidationSetting("db2", 0, 3)],
     ["orcl: 2016-11-15 (in 7 days)", "db2: validation is based on chance, probability 1/3"]),
    ([], []),
])
def test_listing_without_modulus(settings, expected):
    assert describe_schedule(settings, DAY) == expected


def _config(tmp_path: Path, text: str) -> Configuration:
    path = tmp_path / "backup.cfg"
    path.write_text(text)
    return Configuration(path)


def test_settings_from_config_with_overrides(tmp_path):
    config = _config(tmp_path, """
[autorestore]
autorestoremodulus: 30
autorestorevalidatechance: 4
[orcl]
dbid: 1
[db2]
autorestoreautorestoremodulus: 0
stringforvalidationmod: orcl
""")
    assert setting_from_config(config, "orcl") == ValidationSetting("orcl", 30, 4, None)
    assert setting_from_config(config, "db2") == ValidationSetting("db2", 0, 4, "orcl")


def test_settings_default_off_and_bad_values(tmp_path):
    config = _config(tmp_path, "[autorestore]\n[orcl]\ndbid: 1\n")
    assert setting_from_config(config, "orcl") == ValidationSetting("orcl", 0, 0, None)
    bad = _config(tmp_path, "[autorestore]\nautorestoremodulus: weekly\n[orcl]\ndbid: 1\n")
    with pytest.raises(ConfigError, match=r"\[autorestore\] key 'autorestoremodulus' must be an integer"):
        setting_from_config(bad, "orcl")
