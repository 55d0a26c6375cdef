"""How SQL*Plus lays out a query result: widths, headings, wrapping, pages.

Column widths follow SQL*Plus: a VARCHAR2 column is as wide as its declared
size (its heading is cut to fit), a NUMBER is NUMWIDTH (10) or its heading,
a DATE is as wide as the NLS date format; ``COLUMN x FORMAT aN`` overrides.
A row wider than LINESIZE flows onto further lines (a column that does not
fit starts a new line; one wider than the line is cut into line-sized
pieces), which is what the 12.1 captures show for V$BLOCK_CHANGE_TRACKING.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..sql import values as V
from ..sql.query import Column, ResultSet


@dataclass
class ColumnFormat:
    width: int | None = None      # FORMAT aN
    number_mask: str | None = None  # FORMAT 999
    heading: str | None = None
    noprint: bool = False


@dataclass
class Settings:
    """The SET options SQL*Plus keeps (defaults as in 12.1)."""

    pagesize: int = 14
    linesize: int = 80
    feedback: int = 6           # 0 = off; n = show counts from n rows
    timing: bool = False
    echo: bool = False
    serveroutput: bool = False
    heading: bool = True
    trimspool: bool = False
    trimout: bool = True
    verify: bool = True
    termout: bool = True
    long: int = 80
    newpage: int = 1
    tab: bool = True
    colsep: str = " "
    define: str | None = "&"
    sqlblanklines: bool = False
    numwidth: int = 10
    null: str = ""
    wrap: bool = True
    underline: str = "-"
    autocommit: bool = False
    columns: dict[str, ColumnFormat] = field(default_factory=dict)


def _width(col: Column, fmt: ColumnFormat | None, texts: list[str], settings: Settings) -> int:
    heading = fmt.heading if fmt and fmt.heading else col.name
    if col.kind == "NUMBER":
        if fmt and fmt.number_mask:
            return max(len(fmt.number_mask) + 1, len(heading))
        return max(settings.numwidth, len(heading))
    if fmt and fmt.width:
        return fmt.width
    if col.kind == "CHAR" and col.width:
        return col.width
    longest = max((len(t) for t in texts), default=0)
    if col.kind == "DATE":
        return max(longest, 1)
    return max(longest, len(heading), 1)


def cell_text(value: Any, col: Column, fmt: ColumnFormat | None, settings: Settings, nls: dict[str, str]) -> str:
    if value is None:
        return settings.null
    if col.kind == "NUMBER" and isinstance(value, (int, float)):
        if fmt and fmt.number_mask:
            return V.format_number(value, fmt.number_mask)
        return V.display_number(value, max(settings.numwidth, len(col.name)))
    if V.is_timestamp(value):
        return V.format_date(value, nls.get("NLS_TIMESTAMP_FORMAT", V.DEFAULT_TS_FORMAT))
    if V.is_date(value):
        return V.format_date(value, nls.get("NLS_DATE_FORMAT", V.DEFAULT_DATE_FORMAT))
    if isinstance(value, (float, int)):
        return V.number_text(value)
    return str(value)


def flow(fields: list[str], widths: list[int], linesize: int, colsep: str) -> list[str]:
    """Place fields on lines of ``linesize`` the way SQL*Plus wraps a wide row."""
    lines: list[str] = [""]
    fresh = True
    for text, width in zip(fields, widths):
        text = text.ljust(width)
        cur = lines[-1]
        gap = "" if fresh else colsep
        if len(cur) + len(gap) + width <= linesize:
            lines[-1] = cur + gap + text
        elif width > linesize:
            if not fresh:
                lines.append("")
            chunks = [text[i:i + linesize] for i in range(0, width, linesize)]
            lines[-1] = chunks[0]
            lines.extend(chunks[1:])
        else:
            lines.append(text)
        fresh = False
    return lines


def _cell_lines(text: str, width: int, wrap: bool) -> list[str]:
    if len(text) <= width:
        return [text]
    if not wrap:
        return [text[:width]]
    return [text[i:i + width] for i in range(0, len(text), width)]


def render(rs: ResultSet, settings: Settings, nls: dict[str, str]) -> list[tuple[str, bool]]:
    """The lines of a result (header, dashes, rows) as (text, is_data); no feedback line.

    The NEWPAGE blank lines are not data: the spool does not pad them.
    """
    shown = [i for i, c in enumerate(rs.columns)
             if not (settings.columns.get(c.name.upper()) and settings.columns[c.name.upper()].noprint)]
    cols = [rs.columns[i] for i in shown]
    fmts = [settings.columns.get(c.name.upper()) for c in cols]
    texts = [[cell_text(r[i], rs.columns[i], fmts[k], settings, nls) for r in rs.rows] for k, i in enumerate(shown)]
    widths = [_width(c, f, t, settings) for c, f, t in zip(cols, fmts, texts)]
    header: list[str] = []
    if settings.heading and settings.pagesize > 0:
        heads = []
        for c, f, w in zip(cols, fmts, widths):
            h = f.heading if f and f.heading else c.name
            h = h[:w]
            heads.append(h.rjust(w) if c.kind == "NUMBER" else h)
        header = flow(heads, widths, settings.linesize, settings.colsep)
        header += flow([settings.underline * w for w in widths], widths, settings.linesize, settings.colsep)
    body: list[list[str]] = []
    for r in range(len(rs.rows)):
        cells = []
        for k, c in enumerate(cols):
            t = texts[k][r]
            cells.append(_cell_lines(t.rjust(widths[k]) if c.kind == "NUMBER" else t, widths[k], settings.wrap))
        depth = max((len(x) for x in cells), default=1)
        lines = []
        for d in range(depth):
            lines += flow([x[d] if d < len(x) else "" for x in cells], widths, settings.linesize, settings.colsep)
        body.append(lines)
    if settings.pagesize <= 0:
        return [(line, True) for lines in body for line in lines]
    out: list[tuple[str, bool]] = []
    per_page = max(1, settings.pagesize - len(header) - settings.newpage)
    used = per_page
    for lines in body:
        if used + len(lines) > per_page:
            out += [("", False)] * settings.newpage + [(h, True) for h in header]
            used = 0
        out += [(line, True) for line in lines]
        used += len(lines)
    return out
