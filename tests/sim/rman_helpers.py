"""Helpers for the simulated RMAN's tests: running scripts, normalising output for comparison with real logs."""
from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# The sample logs' paths, mapped to placeholders, as the simulated paths are.
SAMPLE_PATHS = {"/nfs/autorestore/mnt": "<MNT>", "/nfs/autorestore/dest": "<DEST>", "/nfs/backup/orcl": "<BK>"}

RULES = [
    (r"Production on \w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}", "Production on <BANNER>"),
    (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "<DATE>"),
    (r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", "<STACKDATE>"),
    (r"SID=\d+", "SID=<N>"),
    (r"RECID=\d+ STAMP=\d+", "RECID=<N> STAMP=<N>"),
    (r"elapsed time: \d\d:\d\d:\d\d", "elapsed time: <T>"),
    (r"c-\d+-\d{8}-[0-9A-Fa-f]{2}", "c-<F>"),
    (r"_FNO-(\d+)_[0-9a-z]{8}", r"_FNO-\1_<U>"),
    (r"/[0-9a-z]{8}_1_1\b", "/<PIECE>"),
    (r"/\S*/o1_mf_([a-z0-9]+)_[0-9a-z]{8}_\.dbf", r"<DF:\1>"),
    (r"^\d+ +\d+ +1   1   ", "<K> <K> 1   1   "),
    (r"(Uncataloged|Changed|Deleted) \d+ objects", r"\1 <N> objects"),
    (r"(name|handle)=\S+", r"\1=<F>"),
    (r"File Name: \S+", "File Name: <F>"),
    (r"as file \S+", "as file <F>"),
    (r"datafile \d+ switched to datafile copy \"\S+\"", "datafile <N> switched to datafile copy <F>"),
    (r"sequence[= ]\d+", "sequence <N>"),
    (r"ORA_DISK_\d", "ORA_DISK_<N>"),
    (r"file number=\d+", "file number=<N>"),
    (r"^\d+ +(OK|FAILED) +\d+ +\d+ +\d+ +\d+$", r"<FILE> \1 <N> <N> <N> <N>"),
    (r"^  (Data|Index|Other) +\d+ +\d+$", r"  \1 <N> <N>"),
    (r"SCN of \d+", "SCN of <N>"),
]


def ok(result) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "", result.stderr
    return result.stdout


def failed(result) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout


def script(body: str, connect: str = "/") -> str:
    return f"set echo on\nconnect target {connect}\n{body}\nexit\n"


def normalise(text: str, paths: dict[str, str] | None = None) -> list[str]:
    """Lines with dates, keys, SIDs, random names and the given paths replaced by placeholders."""
    for real, placeholder in sorted({**SAMPLE_PATHS, **(paths or {})}.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(real, placeholder)
    out = []
    for line in text.split("\n"):
        line = line.rstrip()
        for pattern, repl in RULES:
            line = re.sub(pattern, repl, line)
        out.append(line)
    return out


def squash(lines: list[str]) -> list[str]:
    """Drop a line or pair of lines that repeats the one before it (lists of files differ in length)."""
    out: list[str] = []
    for line in lines:
        out.append(line)
        for k in (1, 2):
            if len(out) >= 2 * k and out[-k:] == out[-2 * k:-k] and any(x.strip() for x in out[-k:]):
                del out[-k:]
                break
    return out


def fixture(name: str) -> list[str]:
    return (FIXTURES / name).read_text().rstrip("\n").split("\n")


def section(lines: list[str], first: str, length: int) -> list[str]:
    """``length`` lines starting at the first line equal to ``first``."""
    start = lines.index(first)
    return lines[start:start + length]
