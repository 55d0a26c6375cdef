"""Oracle's built-in SQL functions, shared by SQL (as SQLite functions) and PL/SQL.

Each function takes a context (NLS settings, the clock, SYS_CONTEXT) and
Oracle values (see ``values``) and follows Oracle's rules rather than
SQLite's: NULL in, NULL out; ``''`` is NULL; ``'a' || NULL`` is ``'a'``;
numbers and dates convert implicitly with the session's NLS formats.
"""
from __future__ import annotations

import calendar
import math
import re
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable, Protocol

from ..instance import OraError
from . import values as V


class FnContext(Protocol):
    """What functions need from the session."""

    date_format: str
    ts_format: str
    user: str

    def sysdate(self) -> str: ...

    def systimestamp(self) -> str: ...

    def sys_context(self, namespace: str, key: str) -> str | None: ...


def _null(v: Any) -> bool:
    return v is None or v == ""


def _str(ctx: FnContext, v: Any) -> str | None:
    return None if _null(v) else V.to_text(v, ctx.date_format, ctx.ts_format)


def _num(v: Any) -> int | float | None:
    return V.to_number(v)


def _int(v: Any) -> int | None:
    n = _num(v)
    return None if n is None else int(n)


def _out(v: Any) -> Any:
    """Oracle has no empty string: results of '' are NULL."""
    if v == "":
        return None
    if isinstance(v, float):
        return V.normalize_number(v)
    return v


def _date(ctx: FnContext, v: Any) -> str | None:
    if _null(v):
        return None
    if V.is_date(v):
        return v
    if isinstance(v, str):
        return V.parse_date(v, ctx.date_format)
    raise OraError("ORA-00932", "inconsistent datatypes: expected DATE got NUMBER")


# -- conversion ----------------------------------------------------------------

def f_to_char(ctx: FnContext, v: Any, fmt: Any = None, _nls: Any = None) -> Any:
    if _null(v):
        return None
    if V.is_date(v):
        return _out(V.format_date(v, fmt) if fmt else _str(ctx, v))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _out(V.format_number(v, fmt) if fmt else V.number_text(v))
    if fmt and isinstance(v, str):
        return _out(V.format_number(V.to_number(v), fmt))
    return _out(str(v))


def f_to_date(ctx: FnContext, v: Any, fmt: Any = None, _nls: Any = None) -> Any:
    if _null(v):
        return None
    if V.is_date(v):
        return v
    if isinstance(v, (int, float)) and not fmt:
        raise OraError("ORA-01840", "input value not long enough for date format")
    return V.parse_date(str(v), fmt or ctx.date_format)


def f_to_timestamp(ctx: FnContext, v: Any, fmt: Any = None, _nls: Any = None) -> Any:
    if _null(v):
        return None
    if V.is_date(v):
        return V.ts_value(V.to_dt(v))
    return V.parse_date(str(v), fmt or "DD-MON-RR HH.MI.SSXFF AM", timestamp=True)


def f_to_number(ctx: FnContext, v: Any, fmt: Any = None, _nls: Any = None) -> Any:
    if _null(v):
        return None
    if fmt and isinstance(v, str):
        if "X" in str(fmt).upper():
            try:
                return int(v.strip(), 16)
            except ValueError:
                raise OraError("ORA-01722", "invalid number") from None
        v = v.replace(",", "").replace("$", "").strip()
    return _out(V.to_number(v))


# -- NULL handling -------------------------------------------------------------

def f_nvl(ctx: FnContext, a: Any, b: Any) -> Any:
    return b if _null(a) else a


def f_nvl2(ctx: FnContext, a: Any, b: Any, c: Any) -> Any:
    return c if _null(a) else b


def f_coalesce(ctx: FnContext, *args: Any) -> Any:
    return next((a for a in args if not _null(a)), None)


def f_nullif(ctx: FnContext, a: Any, b: Any) -> Any:
    return None if compare(ctx, a, b) == 0 else a


def f_decode(ctx: FnContext, expr: Any, *pairs: Any) -> Any:
    """DECODE compares NULL equal to NULL, unlike '='."""
    for i in range(0, len(pairs) - 1, 2):
        search = pairs[i]
        if (_null(expr) and _null(search)) or (not _null(expr) and not _null(search)
                                               and compare(ctx, expr, search) == 0):
            return pairs[i + 1]
    return pairs[-1] if len(pairs) % 2 else None


def f_lnnvl(ctx: FnContext, cond: Any) -> Any:
    return 1 if not cond else 0


# -- strings -------------------------------------------------------------------

def f_upper(ctx: FnContext, s: Any) -> Any:
    return None if _null(s) else _str(ctx, s).upper()


def f_lower(ctx: FnContext, s: Any) -> Any:
    return None if _null(s) else _str(ctx, s).lower()


def f_initcap(ctx: FnContext, s: Any) -> Any:
    if _null(s):
        return None
    return re.sub(r"[A-Za-z0-9]+", lambda m: m.group(0).capitalize(), _str(ctx, s))


def f_length(ctx: FnContext, s: Any) -> Any:
    return None if _null(s) else len(_str(ctx, s))


def f_substr(ctx: FnContext, s: Any, pos: Any, length: Any = "missing") -> Any:
    if _null(s) or _null(pos) or (length != "missing" and _null(length)):
        return None
    text, p = _str(ctx, s), _int(pos)
    if p == 0:
        p = 1
    start = p - 1 if p > 0 else len(text) + p
    if start < 0 or start >= len(text):
        return None
    if length == "missing":
        return _out(text[start:])
    n = _int(length)
    return None if n < 1 else _out(text[start:start + n])


def f_instr(ctx: FnContext, s: Any, sub: Any, pos: Any = 1, occurrence: Any = 1) -> Any:
    if _null(s) or _null(sub) or _null(pos) or _null(occurrence):
        return None
    text, needle, p, n = _str(ctx, s), _str(ctx, sub), _int(pos), _int(occurrence)
    if p == 0 or n < 1:
        return 0
    if p > 0:
        i = p - 2
        for _ in range(n):
            i = text.find(needle, i + 1)
            if i < 0:
                return 0
        return i + 1
    i = len(text) + p + 1
    for _ in range(n):
        i = text.rfind(needle, 0, i + len(needle) - 1)
        if i < 0:
            return 0
    return i + 1


def f_replace(ctx: FnContext, s: Any, old: Any, new: Any = None) -> Any:
    if _null(s):
        return None
    if _null(old):
        return s
    return _out(_str(ctx, s).replace(_str(ctx, old), _str(ctx, new) or ""))


def f_translate(ctx: FnContext, s: Any, src: Any, dst: Any) -> Any:
    if _null(s) or _null(src) or _null(dst):
        return None
    src_s, dst_s = _str(ctx, src), _str(ctx, dst)
    table = {ord(c): (dst_s[i] if i < len(dst_s) else None) for i, c in enumerate(src_s)}
    return _out(_str(ctx, s).translate(table))


def _trim_set(ctx: FnContext, chars: Any) -> str | None:
    return " " if chars is None else _str(ctx, chars)


def f_trim(ctx: FnContext, s: Any, chars: Any = None) -> Any:
    return None if _null(s) else _out(_str(ctx, s).strip(_trim_set(ctx, chars)))


def f_ltrim(ctx: FnContext, s: Any, chars: Any = None) -> Any:
    return None if _null(s) else _out(_str(ctx, s).lstrip(_trim_set(ctx, chars)))


def f_rtrim(ctx: FnContext, s: Any, chars: Any = None) -> Any:
    return None if _null(s) else _out(_str(ctx, s).rstrip(_trim_set(ctx, chars)))


def _pad(ctx: FnContext, s: Any, n: Any, fill: Any, left: bool) -> Any:
    if _null(s) or _null(n) or (fill is not None and _null(fill)):
        return None
    text, width, pad = _str(ctx, s), _int(n), _str(ctx, fill) if fill is not None else " "
    if width <= 0:
        return None
    if len(text) >= width:
        return text[:width]
    filler = (pad * width)[:width - len(text)]
    return filler + text if left else text + filler


def f_lpad(ctx: FnContext, s: Any, n: Any, fill: Any = None) -> Any:
    return _pad(ctx, s, n, fill, True)


def f_rpad(ctx: FnContext, s: Any, n: Any, fill: Any = None) -> Any:
    return _pad(ctx, s, n, fill, False)


def f_concat(ctx: FnContext, a: Any, b: Any) -> Any:
    return _out((_str(ctx, a) or "") + (_str(ctx, b) or ""))


def f_chr(ctx: FnContext, n: Any) -> Any:
    return None if _null(n) else chr(_int(n))


def f_ascii(ctx: FnContext, s: Any) -> Any:
    return None if _null(s) else ord(_str(ctx, s)[0])


def _regex(pattern: str, flags: Any) -> re.Pattern:
    f = 0
    for ch in str(flags or ""):
        f |= {"i": re.I, "n": re.S, "m": re.M}.get(ch, 0)
    # Oracle's POSIX classes map onto Python's escapes
    for cls, repl in (("[:digit:]", r"\d"), ("[:alpha:]", "a-zA-Z"), ("[:alnum:]", "a-zA-Z0-9"),
                      ("[:space:]", r"\s"), ("[:upper:]", "A-Z"), ("[:lower:]", "a-z")):
        pattern = pattern.replace(cls, repl)
    try:
        return re.compile(pattern, f)
    except re.error:
        raise OraError("ORA-12726", "unmatched bracket in regular expression") from None


def f_regexp_like(ctx: FnContext, s: Any, pattern: Any, flags: Any = None) -> Any:
    if _null(s) or _null(pattern):
        return None
    return 1 if _regex(_str(ctx, pattern), flags).search(_str(ctx, s)) else 0


def f_regexp_replace(ctx: FnContext, s: Any, pattern: Any, repl: Any = None, pos: Any = 1,
                     occurrence: Any = 0, flags: Any = None) -> Any:
    if _null(s) or _null(pattern):
        return s
    rx = _regex(_str(ctx, pattern), flags)
    r = re.sub(r"\\(\d)", r"\\g<\1>", _str(ctx, repl) or "")
    text = _str(ctx, s)
    return _out(rx.sub(r, text, count=0 if not occurrence else 1))


def f_regexp_substr(ctx: FnContext, s: Any, pattern: Any, pos: Any = 1, occurrence: Any = 1,
                    flags: Any = None, group: Any = 0) -> Any:
    if _null(s) or _null(pattern):
        return None
    matches = list(_regex(_str(ctx, pattern), flags).finditer(_str(ctx, s), _int(pos) - 1))
    n = _int(occurrence) or 1
    return _out(matches[n - 1].group(_int(group) or 0)) if len(matches) >= n else None


def f_regexp_count(ctx: FnContext, s: Any, pattern: Any, pos: Any = 1, flags: Any = None) -> Any:
    if _null(s) or _null(pattern):
        return None
    return len(_regex(_str(ctx, pattern), flags).findall(_str(ctx, s), _int(pos) - 1))


# -- numbers -------------------------------------------------------------------

def _round_half_up(x: float, digits: int) -> float:
    q = 10 ** digits
    return math.floor(abs(x) * q + 0.5) / q * (1 if x >= 0 else -1)


def f_round(ctx: FnContext, v: Any, digits: Any = None) -> Any:
    if _null(v):
        return None
    if V.is_date(v):
        return f_trunc(ctx, V.add_days(v, 0.5), digits) if digits is None else f_trunc(ctx, v, digits)
    return _out(_round_half_up(_num(v), _int(digits) or 0))


def f_trunc(ctx: FnContext, v: Any, fmt: Any = None) -> Any:
    if _null(v):
        return None
    if V.is_date(v):
        dt = V.to_dt(v)
        unit = str(fmt or "DD").upper()
        if unit in ("DD", "DDD", "J", "DAY", "D"):
            dt = datetime(dt.year, dt.month, dt.day)
            if unit in ("DAY", "D"):
                dt -= timedelta(days=(dt.weekday() + 1) % 7)
        elif unit in ("MM", "MON", "MONTH"):
            dt = datetime(dt.year, dt.month, 1)
        elif unit in ("YYYY", "YY", "YEAR", "Y", "RR", "RRRR"):
            dt = datetime(dt.year, 1, 1)
        elif unit in ("HH", "HH24", "HH12"):
            dt = dt.replace(minute=0, second=0, microsecond=0)
        elif unit == "MI":
            dt = dt.replace(second=0, microsecond=0)
        elif unit == "IW":
            dt = datetime(dt.year, dt.month, dt.day) - timedelta(days=dt.weekday())
        elif unit == "Q":
            dt = datetime(dt.year, (dt.month - 1) // 3 * 3 + 1, 1)
        else:
            raise OraError("ORA-01898", "too many precision specifiers")
        return V.date_value(dt)
    n, d = _num(v), _int(fmt) or 0
    q = 10 ** d
    return _out(math.trunc(n * q) / q if d else math.trunc(n))


def f_floor(ctx: FnContext, v: Any) -> Any:
    return None if _null(v) else math.floor(_num(v))


def f_ceil(ctx: FnContext, v: Any) -> Any:
    return None if _null(v) else math.ceil(_num(v))


def f_abs(ctx: FnContext, v: Any) -> Any:
    return None if _null(v) else abs(_num(v))


def f_sign(ctx: FnContext, v: Any) -> Any:
    return None if _null(v) else (0 if _num(v) == 0 else (1 if _num(v) > 0 else -1))


def f_mod(ctx: FnContext, a: Any, b: Any) -> Any:
    if _null(a) or _null(b):
        return None
    x, y = _num(a), _num(b)
    return x if y == 0 else _out(math.fmod(x, y) if isinstance(x, float) or isinstance(y, float) else
                                 int(math.copysign(abs(x) % abs(y), x)))


def f_power(ctx: FnContext, a: Any, b: Any) -> Any:
    return None if _null(a) or _null(b) else _out(_num(a) ** _num(b))


def f_sqrt(ctx: FnContext, a: Any) -> Any:
    return None if _null(a) else _out(math.sqrt(_num(a)))


def f_bitand(ctx: FnContext, a: Any, b: Any) -> Any:
    return None if _null(a) or _null(b) else _int(a) & _int(b)


def f_greatest(ctx: FnContext, *args: Any) -> Any:
    if any(_null(a) for a in args):
        return None
    best = args[0]
    for a in args[1:]:
        if compare(ctx, a, best) > 0:
            best = a
    return best


def f_least(ctx: FnContext, *args: Any) -> Any:
    if any(_null(a) for a in args):
        return None
    best = args[0]
    for a in args[1:]:
        if compare(ctx, a, best) < 0:
            best = a
    return best


# -- dates ---------------------------------------------------------------------

def f_add_months(ctx: FnContext, d: Any, n: Any) -> Any:
    if _null(d) or _null(n):
        return None
    dt = V.to_dt(_date(ctx, d))
    months = dt.month - 1 + _int(n)
    year, month = dt.year + months // 12, months % 12 + 1
    last = calendar.monthrange(year, month)[1]
    day = last if dt.day == calendar.monthrange(dt.year, dt.month)[1] else min(dt.day, last)
    return V.date_value(dt.replace(year=year, month=month, day=day))


def f_months_between(ctx: FnContext, a: Any, b: Any) -> Any:
    if _null(a) or _null(b):
        return None
    x, y = V.to_dt(_date(ctx, a)), V.to_dt(_date(ctx, b))
    months = (x.year - y.year) * 12 + x.month - y.month
    if x.day == y.day:
        return months
    secs = (x.day - y.day) * 86400 + (x.hour - y.hour) * 3600 + (x.minute - y.minute) * 60 + x.second - y.second
    return _out(months + secs / (31 * 86400))


def f_last_day(ctx: FnContext, d: Any) -> Any:
    if _null(d):
        return None
    dt = V.to_dt(_date(ctx, d))
    return V.date_value(dt.replace(day=calendar.monthrange(dt.year, dt.month)[1], microsecond=0))


def f_extract(ctx: FnContext, unit: Any, d: Any) -> Any:
    if _null(d):
        return None
    dt = V.to_dt(_date(ctx, d))
    return {"YEAR": dt.year, "MONTH": dt.month, "DAY": dt.day, "HOUR": dt.hour, "MINUTE": dt.minute,
            "SECOND": dt.second}[str(unit).upper()]


def f_sysdate(ctx: FnContext) -> Any:
    return ctx.sysdate()


def f_systimestamp(ctx: FnContext) -> Any:
    return ctx.systimestamp()


# -- environment -------------------------------------------------------------------

def f_sys_context(ctx: FnContext, namespace: Any, key: Any, _length: Any = None) -> Any:
    return ctx.sys_context(str(namespace or "").upper(), str(key or "").upper())


def f_userenv(ctx: FnContext, key: Any) -> Any:
    return ctx.sys_context("USERENV", str(key or "").upper())


def f_user(ctx: FnContext) -> Any:
    return ctx.user


def f_sys_guid(ctx: FnContext) -> Any:
    return uuid.uuid4().hex.upper()


def f_cast(ctx: FnContext, v: Any, type_name: Any) -> Any:
    t = str(type_name).upper()
    if t.startswith(("NUMBER", "INT", "DECIMAL", "FLOAT", "INTEGER", "DOUBLE", "REAL")):
        return _out(V.to_number(v))
    if t.startswith(("DATE",)):
        return f_to_date(ctx, v)
    if t.startswith("TIMESTAMP"):
        return f_to_timestamp(ctx, v)
    m = re.search(r"\((\d+)", t)
    text = _str(ctx, v)
    if text is not None and m and len(text) > int(m.group(1)):
        raise OraError("ORA-25137", "Data value out of range")
    return _out(text)


def f_identity(ctx: FnContext, v: Any) -> Any:
    return v


# -- operators (called for ||, +, -, *, / so that Oracle's rules apply) ----------

def op_concat(ctx: FnContext, a: Any, b: Any) -> Any:
    return _out((_str(ctx, a) or "") + (_str(ctx, b) or ""))


def op_add(ctx: FnContext, a: Any, b: Any) -> Any:
    if _null(a) or _null(b):
        return None
    if V.is_date(a) and not V.is_date(b):
        return V.add_days(a, _num(b))
    if V.is_date(b) and not V.is_date(a):
        return V.add_days(b, _num(a))
    if V.is_date(a):
        raise OraError("ORA-00975", "date + date not allowed")
    return _out(_num(a) + _num(b))


def op_sub(ctx: FnContext, a: Any, b: Any) -> Any:
    if _null(a) or _null(b):
        return None
    if V.is_date(a) and V.is_date(b):
        return V.days_between(a, b)
    if V.is_date(a):
        return V.add_days(a, -_num(b))
    if V.is_date(b):
        raise OraError("ORA-00932", "inconsistent datatypes: expected DATE got NUMBER")
    return _out(_num(a) - _num(b))


def op_mul(ctx: FnContext, a: Any, b: Any) -> Any:
    if _null(a) or _null(b):
        return None
    return _out(_num(a) * _num(b))


def op_div(ctx: FnContext, a: Any, b: Any) -> Any:
    if _null(a) or _null(b):
        return None
    x, y = _num(a), _num(b)
    if y == 0:
        raise OraError("ORA-01476", "divisor is equal to zero")
    if isinstance(x, int) and isinstance(y, int) and x % y == 0:
        return x // y
    return _out(x / y)


def op_neg(ctx: FnContext, a: Any) -> Any:
    return None if _null(a) else -_num(a)


def op_coerce(ctx: FnContext, other: Any, literal: Any) -> Any:
    """A string literal compared with a DATE or NUMBER converts to that type, as in Oracle."""
    if _null(literal) or not isinstance(literal, str):
        return literal
    if V.is_date(other):
        return V.parse_date(literal, ctx.date_format)
    if isinstance(other, (int, float)) and not isinstance(other, bool):
        return V.to_number(literal)
    return literal


def compare(ctx: FnContext, a: Any, b: Any) -> int:
    """Compare two non-NULL values with Oracle's implicit conversions."""
    if V.is_date(a) or V.is_date(b):
        a = _date(ctx, a) if not V.is_date(a) else a
        b = _date(ctx, b) if not V.is_date(b) else b
        x, y = V.to_dt(a), V.to_dt(b)
    elif isinstance(a, (int, float)) or isinstance(b, (int, float)):
        x, y = _num(a), _num(b)
    else:
        x, y = str(a), str(b)
    return (x > y) - (x < y)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "TO_CHAR": f_to_char, "TO_DATE": f_to_date, "TO_TIMESTAMP": f_to_timestamp, "TO_NUMBER": f_to_number,
    "NVL": f_nvl, "NVL2": f_nvl2, "COALESCE": f_coalesce, "NULLIF": f_nullif, "DECODE": f_decode,
    "LNNVL": f_lnnvl, "UPPER": f_upper, "LOWER": f_lower, "INITCAP": f_initcap, "LENGTH": f_length,
    "SUBSTR": f_substr, "INSTR": f_instr, "REPLACE": f_replace, "TRANSLATE": f_translate, "TRIM": f_trim,
    "LTRIM": f_ltrim, "RTRIM": f_rtrim, "LPAD": f_lpad, "RPAD": f_rpad, "CONCAT": f_concat, "CHR": f_chr,
    "ASCII": f_ascii, "REGEXP_LIKE": f_regexp_like, "REGEXP_REPLACE": f_regexp_replace,
    "REGEXP_SUBSTR": f_regexp_substr, "REGEXP_COUNT": f_regexp_count, "ROUND": f_round, "TRUNC": f_trunc,
    "FLOOR": f_floor, "CEIL": f_ceil, "ABS": f_abs, "SIGN": f_sign, "MOD": f_mod, "POWER": f_power,
    "SQRT": f_sqrt, "BITAND": f_bitand, "GREATEST": f_greatest, "LEAST": f_least,
    "ADD_MONTHS": f_add_months, "MONTHS_BETWEEN": f_months_between, "LAST_DAY": f_last_day,
    "EXTRACT": f_extract, "SYSDATE": f_sysdate, "SYSTIMESTAMP": f_systimestamp,
    "SYS_CONTEXT": f_sys_context, "USERENV": f_userenv, "SYS_GUID": f_sys_guid, "CAST": f_cast,
    "TO_CLOB": f_identity, "TO_NCHAR": f_identity, "TO_NCLOB": f_identity, "LENGTHB": f_length,
}

OPERATORS: dict[str, Callable[..., Any]] = {
    "CONCAT2": op_concat, "ADD": op_add, "SUB": op_sub, "MUL": op_mul, "DIV": op_div, "NEG": op_neg,
    "COERCE": op_coerce,
}
