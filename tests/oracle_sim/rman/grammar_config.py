"""The CONFIGURE grammar.

Each accepted form becomes a (NAME, VALUE) pair spelled as Oracle's
``V$RMAN_CONFIGURATION`` spells them, so ``CONFIGURE <NAME> <VALUE>;`` is the
line RMAN prints back (``old/new RMAN configuration parameters``, ``show
all``).  VALUE None means ``CLEAR`` (back to the default).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .parser import Parser

CONFIG_HEADS = ["archivelog", "backup", "channel", "controlfile", "default", "device", "maxsetsize", "retention",
                "snapshot"]


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parse_configure(p: Parser) -> tuple[str, str | None]:
    head = p.expect(*[h.upper() for h in CONFIG_HEADS]).value
    if head == "RETENTION":
        p.expect("POLICY")
        if p.accept("CLEAR"):
            return "RETENTION POLICY", None
        p.expect("TO")
        word = p.expect("RECOVERY", "REDUNDANCY", "NONE").value
        if word == "RECOVERY":
            days = p.window()
            return "RETENTION POLICY", f"TO RECOVERY WINDOW OF {days:g} DAYS"
        if word == "REDUNDANCY":
            return "RETENTION POLICY", f"TO REDUNDANCY {p.expect_int()}"
        return "RETENTION POLICY", "TO NONE"
    if head == "BACKUP":
        p.expect("OPTIMIZATION")
        word = p.expect("ON", "OFF", "CLEAR").value
        return "BACKUP OPTIMIZATION", None if word == "CLEAR" else word
    if head == "DEFAULT":
        p.expect("DEVICE")
        p.expect("TYPE")
        if p.accept("CLEAR"):
            return "DEFAULT DEVICE TYPE TO", None
        p.expect("TO")
        p.expect("DISK")
        return "DEFAULT DEVICE TYPE TO", "DISK"
    if head == "CONTROLFILE":
        p.expect("AUTOBACKUP")
        if p.accept("FORMAT"):
            p.expect("FOR")
            p.expect("DEVICE")
            p.expect("TYPE")
            p.expect("DISK")
            if p.accept("CLEAR"):
                return "CONTROLFILE AUTOBACKUP FORMAT FOR DEVICE TYPE", None
            p.expect("TO")
            return "CONTROLFILE AUTOBACKUP FORMAT FOR DEVICE TYPE", f"DISK TO {_q(p.expect_string())}"
        word = p.expect("ON", "OFF", "CLEAR", "FORMAT").value
        return "CONTROLFILE AUTOBACKUP", None if word == "CLEAR" else word
    if head == "DEVICE":
        p.expect("TYPE")
        p.expect("DISK")
        if p.accept("CLEAR"):
            return "DEVICE TYPE", None
        p.expect("PARALLELISM")
        n = p.expect_int()
        kind = "BACKUPSET"
        if p.accept("BACKUP"):
            p.expect("TYPE")
            p.expect("TO")
            word = p.expect("BACKUPSET", "COPY", "COMPRESSED").value
            if word == "COMPRESSED":
                p.expect("BACKUPSET")
                word = "COMPRESSED BACKUPSET"
            kind = word
        return "DEVICE TYPE", f"DISK PARALLELISM {n} BACKUP TYPE TO {kind}"
    if head == "CHANNEL":
        p.expect("DEVICE")
        p.expect("TYPE")
        p.expect("DISK")
        if p.accept("CLEAR"):
            return "CHANNEL", None
        p.expect("FORMAT")
        p.accept_symbol("=")
        # RMAN prints the stored value with three blanks after FORMAT.
        return "CHANNEL", f"DEVICE TYPE DISK FORMAT   {_q(p.expect_string())}"
    if head == "SNAPSHOT":
        p.expect("CONTROLFILE")
        p.expect("NAME")
        if p.accept("CLEAR"):
            return "SNAPSHOT CONTROLFILE NAME", None
        p.expect("TO")
        return "SNAPSHOT CONTROLFILE NAME", f"TO {_q(p.expect_string())}"
    if head == "MAXSETSIZE":
        if p.accept("CLEAR"):
            return "MAXSETSIZE TO", None
        p.expect("TO")
        if p.accept("UNLIMITED"):
            return "MAXSETSIZE TO", "UNLIMITED"
        n = p.expect_int()
        unit = p.accept("K", "M", "G")
        return "MAXSETSIZE TO", f"{n} {unit.value}" if unit else str(n)
    # ARCHIVELOG DELETION POLICY
    p.expect("DELETION")
    p.expect("POLICY")
    if p.accept("CLEAR"):
        return "ARCHIVELOG DELETION POLICY", None
    p.expect("TO")
    word = p.expect("NONE", "APPLIED", "SHIPPED", "BACKED").value
    if word == "NONE":
        return "ARCHIVELOG DELETION POLICY", "TO NONE"
    if word in ("APPLIED", "SHIPPED"):
        p.expect("ON" if word == "APPLIED" else "TO")
        everywhere = bool(p.accept("ALL"))
        p.expect("STANDBY")
        prep = "ON" if word == "APPLIED" else "TO"
        return "ARCHIVELOG DELETION POLICY", f"TO {word} {prep} {'ALL ' if everywhere else ''}STANDBY"
    p.expect("UP")
    n = p.expect_int()
    p.expect("TIMES")
    p.expect("TO")
    p.expect("DEVICE")
    p.expect("TYPE")
    p.expect("DISK")
    return "ARCHIVELOG DELETION POLICY", f"TO BACKED UP {n} TIMES TO DISK"
