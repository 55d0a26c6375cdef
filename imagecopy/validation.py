"""Which nights the restore test also block-validates a database.

A full ``backup validate check logical database`` reads every block, so it
is too slow to run after every nightly restore.  Two policies decide, as in
the old toolset:

* **modulus** ``M > 0`` (``[autorestore] autorestoremodulus``): a database is
  validated on the days where *days since 1970-01-01* mod M equals a hash of
  its name (or of ``stringforvalidationmod``) mod M, i.e. once every M days
  on a fixed, predictable day, and the databases are spread over the cycle;
* else **chance** ``N > 0`` (``autorestorevalidatechance``): with
  probability 1/N each night;
* else never.

The old toolset used Python 2's ``hash()``; Python 3 salts string hashes per
process (``PYTHONHASHSEED``), which would move the validation day on every
run and differ between hosts.  The hash here is CRC-32 of the UTF-8 name:
stable across processes, hosts and Python versions.  (The days therefore
differ from the old toolset's; only the rule is the same.)

Everything here is pure: the caller passes the date and the random source.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Protocol, Sequence

if TYPE_CHECKING:
    from .config import Configuration

EPOCH = date(1970, 1, 1)


class RandomSource(Protocol):
    """What :func:`should_validate` needs of ``random.Random``."""

    def randint(self, a: int, b: int) -> int: ...


def stable_hash(name: str) -> int:
    """A hash of ``name`` that is the same in every process and on every host."""
    return zlib.crc32(name.encode("utf-8"))


def validation_day(name: str, modulus: int, today: date) -> tuple[bool, int, date]:
    """(validate today?, days to the next validation, date of the next validation).

    ``today`` is the date the restore test runs on.  Pass the host's local
    date, so ``--listvalidationdates`` names the nights a DBA sees (the old
    toolset took the day number from the UTC date but printed local dates,
    which disagreed for runs near midnight).  On a validation day the answer is ``(True, M, today + M)``: today
    is validated and "next" is the following cycle, as the old toolset
    computed it.

    :raises ValueError: when ``modulus`` is not positive.
    """
    if modulus <= 0:
        raise ValueError(f"validation modulus must be positive, not {modulus}")
    day_mod = (today - EPOCH).days % modulus
    name_mod = stable_hash(name) % modulus
    if day_mod == name_mod:
        days = modulus
    else:
        # Days until day_mod comes round to name_mod again.
        days = (name_mod - day_mod) % modulus
    return day_mod == name_mod, days, today + timedelta(days=days)


def should_validate(name: str, modulus: int, chance: int, today: date, rng: RandomSource) -> bool:
    """Whether tonight's restore of ``name`` also validates every block.

    ``modulus > 0`` wins over ``chance``; ``chance`` N > 0 validates with
    probability 1/N (``rng.randint(1, N) == N``); both 0 (or negative): never.
    """
    if modulus > 0:
        return validation_day(name, modulus, today)[0]
    if chance > 0:
        return rng.randint(1, chance) == chance
    return False


@dataclass(frozen=True)
class ValidationSetting:
    """The validation policy of one database.

    ``hashstring`` is what the validation day is derived from: the
    database's ``stringforvalidationmod``, or its name when unset.
    """

    name: str
    modulus: int = 0
    chance: int = 0
    hashstring: str | None = None

    @property
    def key(self) -> str:
        return self.hashstring or self.name

    def should_validate(self, today: date, rng: RandomSource) -> bool:
        return should_validate(self.key, self.modulus, self.chance, today, rng)


def setting_from_config(config: Configuration, db: str) -> ValidationSetting:
    """Read a database's policy: ``[autorestore]`` keys with the ``[<db>] autorestore<key>`` override.

    A missing ``autorestoremodulus``/``autorestorevalidatechance`` counts as 0
    (off): validation is an optional extra, not something a restore needs.

    :raises ConfigError: when a value is not a non-negative integer.
    """
    cfg = config.for_section(db)
    return ValidationSetting(
        name=db,
        modulus=cfg.getint("autorestoremodulus", "autorestore", default=0, minimum=0),
        chance=cfg.getint("autorestorevalidatechance", "autorestore", default=0, minimum=0),
        hashstring=cfg.get("stringforvalidationmod", default="").strip() or None,
    )


def _policy_text(s: ValidationSetting) -> str:
    if s.chance > 0:
        return f"Validation is based on chance, probability 1/{s.chance}"
    return "Database validation is not turned on"


def describe_schedule(settings: Sequence[ValidationSetting], today: date) -> list[str]:
    """The lines ``autorestore.py --listvalidationdates`` prints.

    With a modulus: ``<db>: <YYYY-MM-DD> (in N days)`` per database.  When no
    database uses a modulus and all share one policy, one line as the old
    toolset printed (``Validation is based on chance, probability 1/N`` or
    ``Database validation is not turned on``); a database section may
    override the policy, so mixed settings get one line per database.
    """
    if not settings:
        return []
    if all(s.modulus <= 0 for s in settings) and len({s.chance for s in settings}) == 1:
        return [_policy_text(settings[0])]
    lines = []
    for s in settings:
        if s.modulus > 0:
            _, days, when = validation_day(s.key, s.modulus, today)
            lines.append(f"{s.name}: {when.isoformat()} (in {days} days)")
        else:
            text = _policy_text(s)
            lines.append(f"{s.name}: {text[0].lower()}{text[1:]}")
    return lines
