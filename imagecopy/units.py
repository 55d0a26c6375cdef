"""Sizes as the toolset prints them."""
from __future__ import annotations

_UNITS = ((1 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "kB"))


def size2str(size: int) -> str:
    """Bytes as the old toolset showed them: binary units, rounded to the nearest integer.

    >>> size2str(173015040), size2str(282624), size2str(512)
    ('165MB', '276kB', '512B')
    """
    n = max(int(size), 0)
    for unit, suffix in _UNITS:
        if n >= unit:
            # Round half up: Python's round() would round 2.5 to 2.
            return f"{(n + unit // 2) // unit}{suffix}"
    return f"{n}B"
