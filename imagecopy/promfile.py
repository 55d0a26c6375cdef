"""Prometheus textfiles for node_exporter's textfile collector: parse, merge, render, write atomically.

node_exporter reads every ``*.prom`` file of its ``--collector.textfile.directory``
each scrape, so a file must never be seen half written: it is written to a
temporary file in the same directory and renamed over the old one
(``os.replace`` is atomic within a filesystem).  Several runs update one file
(one database each), so :func:`update` reads the file's current series under
a lock, lets the caller merge its own, and writes the result: no run's update
is lost between read and rename.  A file belongs to one writer's metric
families (``families``: name → HELP text); lines of other families are dropped.
"""
from __future__ import annotations

import fcntl
import math
import re
from pathlib import Path
from typing import Callable, Mapping

from .atomicfile import write_atomic

Labels = tuple[tuple[str, str], ...]
Series = dict[str, dict[Labels, float]]     # family → labels → value
Families = Mapping[str, str]                # family → HELP text, in the order the file lists them

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)(?:\s+\S+)?\s*$")
_LABEL_NAME = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*\"")


def escape_label(value: str) -> str:
    """A label value as the exposition format writes it: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_labels(text: str) -> Labels:
    """``a="x",b="y\\"z"`` → ``(("a", "x"), ("b", 'y"z'))``.

    :raises ValueError: on malformed text.
    """
    labels: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _LABEL_NAME.match(text, pos)
        if not m:
            if text[pos:].strip(" ,") == "":
                break
            raise ValueError(f"bad label set: {text!r}")
        i = m.end()
        start = i
        while i < len(text) and text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        if i >= len(text):
            raise ValueError(f"unterminated label value: {text!r}")
        labels.append((m.group(1), _unescape(text[start:i])))
        pos = i + 1
        while pos < len(text) and text[pos] in " ,":
            pos += 1
    return tuple(sorted(labels))


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def parse_textfile(text: str, families: Families) -> Series:
    """The samples of our families in ``text``; comments, other families and broken lines are skipped."""
    series: Series = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _SAMPLE.match(line.strip())
        if not m or m.group("name") not in families:
            continue
        try:
            labels = parse_labels(m.group("labels") or "")
            value = float(m.group("value"))
        except ValueError:
            continue
        series.setdefault(m.group("name"), {})[labels] = value
    return series


def render(series: Series, families: Families) -> str:
    """The file's text: each family with HELP and TYPE, samples sorted by labels."""
    lines: list[str] = []
    for name, help_text in families.items():
        samples = series.get(name)
        if not samples:
            continue
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")
        for labels in sorted(samples):
            label_text = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels)
            lines.append(f"{name}{{{label_text}}} {format_value(samples[labels])}")
    return "\n".join(lines) + "\n" if lines else ""


def update(path: Path | str, families: Families, merge: Callable[[Series], Series]) -> None:
    """Replace the file's series with ``merge(current series)``, under a lock beside it (created when missing)."""
    path = Path(path)
    lock_path = path.with_name(f".{path.name}.lock")
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            try:
                existing = parse_textfile(path.read_text(encoding="utf-8"), families)
            except FileNotFoundError:
                existing = {}
            write_atomic(path, render(merge(existing), families), mode=0o644)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
