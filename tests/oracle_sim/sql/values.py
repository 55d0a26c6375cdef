"""Oracle values as the simulated SQL engine holds them: dates, numbers, format masks.

SQLite has no DATE type, so a DATE travels through SQLite (and the PL/SQL
interpreter) as text with a tag character in front: ``"\\x01YYYY-MM-DD HH:MM:SS"``
(TIMESTAMPs: ``"\\x02YYYY-MM-DD HH:MM:SS.ffffff"``).  The tag keeps dates
ordered and comparable inside SQLite, and lets every function, the ``||``
operator and the output formatter tell a date from a string without type
inference.  Numbers are Python ints or floats; NULL is None; Oracle's empty
string is NULL too, so functions turn ``""`` into None.
"""
from __future__ import annotations

import calendar
import re
import time
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from ..instance import OraError

DATE_TAG = "\x01"
TS_TAG = "\x02"
DEFAULT_DATE_FORMAT = "DD-MON-RR"
DEFAULT_TS_FORMAT = "DD-MON-RR HH.MI.SSXFF AM TZR"

MONTHS = ["JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER",
          "OCTOBER", "NOVEMBER", "DECEMBER"]
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]


# -- dates ---------------------------------------------------------------------

def is_date(v: Any) -> bool:
    return isinstance(v, str) and v[:1] in (DATE_TAG, TS_TAG)


def is_timestamp(v: Any) -> bool:
    return isinstance(v, str) and v[:1] == TS_TAG


def date_value(dt: datetime) -> str:
    return DATE_TAG + dt.strftime("%Y-%m-%d %H:%M:%S")


def ts_value(dt: datetime) -> str:
    return TS_TAG + dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def from_epoch(ts: float | None, timestamp: bool = False) -> str | None:
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts)
    return ts_value(dt) if timestamp else date_value(dt.replace(microsecond=0))


def from_db_text(text: str | None) -> str | None:
    """A DATE column value as the engine stores it ('YYYY-MM-DD HH:MM:SS')."""
    if text is None or text == "":
        return None
    if is_date(text):
        return text
    return DATE_TAG + str(text)[:19]


def to_db_text(v: Any) -> Any:
    """The engine's storage form of a value (dates untagged)."""
    if is_date(v):
        return to_dt(v).strftime("%Y-%m-%d %H:%M:%S")
    return v


def to_dt(v: str) -> datetime:
    body = v[1:]
    if "." in body:
        return datetime.strptime(body, "%Y-%m-%d %H:%M:%S.%f")
    return datetime.strptime(body, "%Y-%m-%d %H:%M:%S")


def to_epoch(v: str) -> float:
    return to_dt(v).timestamp()


# -- format masks ----------------------------------------------------------------

_DATE_TOKENS = [
    "SYYYY", "YYYY", "IYYY", "RRRR", "YYY", "YY", "RR", "Y", "MONTH", "MON", "MM", "RM", "DDD", "DD",
    "DAY", "DY", "D", "HH24", "HH12", "HH", "MI", "SSSSS", "SS", "FF9", "FF8", "FF7", "FF6", "FF5", "FF4",
    "FF3", "FF2", "FF1", "FF", "A.M.", "P.M.", "AM", "PM", "Q", "WW", "IW", "W", "J", "TZH", "TZM", "TZR",
    "TZD", "X", "FM", "FX",
]


def _tokens(mask: str) -> list[tuple[str, str, str]]:
    """(kind, token, original) with kind 'f' (field) or 'l' (literal text)."""
    out: list[tuple[str, str, str]] = []
    i, up = 0, mask.upper()
    while i < len(mask):
        if mask[i] == '"':
            j = mask.find('"', i + 1)
            j = len(mask) if j < 0 else j
            out.append(("l", mask[i + 1:j], mask[i + 1:j]))
            i = j + 1
            continue
        for tok in _DATE_TOKENS:
            if up.startswith(tok, i):
                out.append(("f", tok, mask[i:i + len(tok)]))
                i += len(tok)
                break
        else:
            if mask[i].isalnum():
                raise OraError("ORA-01821", "date format not recognized")
            out.append(("l", mask[i], mask[i]))
            i += 1
    return out


def _case(word: str, orig: str) -> str:
    if orig[:2].isupper() or len(orig) == 1 and orig.isupper():
        return word.upper()
    if orig[:1].isupper():
        return word.capitalize()
    return word.lower()


def format_date(v: str, mask: str) -> str:
    dt = to_dt(v)
    fm = False
    out = []
    for kind, tok, orig in _tokens(mask):
        if kind == "l":
            out.append(tok)
            continue
        if tok == "FM":
            fm = not fm
            continue
        if tok == "FX":
            continue

        def num(n: int, width: int, fm: bool = fm) -> str:
            return str(n) if fm else str(n).zfill(width)

        if tok in ("YYYY", "RRRR", "IYYY", "SYYYY"):
            out.append(num(dt.year, 4))
        elif tok == "YYY":
            out.append(num(dt.year % 1000, 3))
        elif tok in ("YY", "RR"):
            out.append(num(dt.year % 100, 2))
        elif tok == "Y":
            out.append(str(dt.year % 10))
        elif tok == "MM":
            out.append(num(dt.month, 2))
        elif tok == "MON":
            out.append(_case(MONTHS[dt.month - 1][:3], orig))
        elif tok == "MONTH":
            name = _case(MONTHS[dt.month - 1], orig)
            out.append(name if fm else name.ljust(9))
        elif tok == "RM":
            out.append(["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"][dt.month - 1])
        elif tok == "DD":
            out.append(num(dt.day, 2))
        elif tok == "DDD":
            out.append(num(dt.timetuple().tm_yday, 3))
        elif tok == "D":
            out.append(str((dt.weekday() + 1) % 7 + 1))
        elif tok == "DAY":
            name = _case(DAYS[dt.weekday()], orig)
            out.append(name if fm else name.ljust(9))
        elif tok == "DY":
            out.append(_case(DAYS[dt.weekday()][:3], orig))
        elif tok == "HH24":
            out.append(num(dt.hour, 2))
        elif tok in ("HH", "HH12"):
            out.append(num((dt.hour % 12) or 12, 2))
        elif tok == "MI":
            out.append(num(dt.minute, 2))
        elif tok == "SS":
            out.append(num(dt.second, 2))
        elif tok == "SSSSS":
            out.append(num(dt.hour * 3600 + dt.minute * 60 + dt.second, 5))
        elif tok.startswith("FF"):
            digits = int(tok[2:] or 6)
            out.append(f"{dt.microsecond:06d}".ljust(9, "0")[:digits])
        elif tok in ("AM", "PM", "A.M.", "P.M."):
            word = ("AM" if dt.hour < 12 else "PM") if "." not in tok else ("A.M." if dt.hour < 12 else "P.M.")
            out.append(_case(word, orig))
        elif tok == "Q":
            out.append(str((dt.month - 1) // 3 + 1))
        elif tok == "WW":
            out.append(num((dt.timetuple().tm_yday - 1) // 7 + 1, 2))
        elif tok == "IW":
            out.append(num(dt.isocalendar()[1], 2))
        elif tok == "W":
            out.append(str((dt.day - 1) // 7 + 1))
        elif tok == "J":
            out.append(str(dt.toordinal() + 1721425))
        elif tok == "X":
            out.append(".")
        elif tok in ("TZH", "TZM", "TZR", "TZD"):
            off = -time.altzone if time.localtime().tm_isdst > 0 else -time.timezone
            sign = "+" if off >= 0 else "-"
            hh, mm = divmod(abs(off) // 60, 60)
            out.append({"TZH": f"{sign}{hh:02d}", "TZM": f"{mm:02d}", "TZR": f"{sign}{hh:02d}:{mm:02d}",
                        "TZD": time.tzname[0]}[tok])
    return "".join(out)


def parse_date(text: str, mask: str, now: datetime | None = None, timestamp: bool = False) -> str:
    """TO_DATE: parse ``text`` with an Oracle format mask."""
    now = now or datetime.now()
    parts: dict[str, int] = {}
    pm: bool | None = None
    i = 0
    s = text.strip()
    for kind, tok, _orig in _tokens(mask):
        if kind == "l":
            if tok.isspace():
                while i < len(s) and s[i].isspace():
                    i += 1
                continue
            if i < len(s) and not s[i].isalnum():
                i += 1
            elif i < len(s) and s[i:i + len(tok)].upper() == tok.upper():
                i += len(tok)
            elif i < len(s):
                raise OraError("ORA-01861", "literal does not match format string")
            continue
        if tok in ("FM", "FX"):
            continue
        while i < len(s) and s[i] == " ":
            i += 1
        if tok in ("MON", "MONTH", "DY", "DAY"):
            m = re.match(r"[A-Za-z]+", s[i:])
            word = m.group(0).upper() if m else ""
            i += len(word)
            if tok in ("MON", "MONTH"):
                names = [n[:3] for n in MONTHS] if tok == "MON" else MONTHS
                if word not in names and word[:3] not in [n[:3] for n in MONTHS]:
                    raise OraError("ORA-01843", "not a valid month")
                parts["MM"] = [n[:3] for n in MONTHS].index(word[:3]) + 1
            continue
        if tok in ("AM", "PM", "A.M.", "P.M."):
            word = s[i:i + len(tok)].upper()
            i += len(tok)
            pm = word.startswith("P")
            continue
        width = {"YYYY": 4, "SYYYY": 4, "RRRR": 4, "IYYY": 4, "YYY": 3, "YY": 2, "RR": 2, "Y": 1, "J": 7,
                 "DDD": 3, "SSSSS": 5, "D": 1, "Q": 1, "W": 1}.get(tok, 9 if tok.startswith("FF") else 2)
        m = re.match(rf"\d{{1,{width}}}", s[i:])
        if not m:
            raise OraError("ORA-01858", "a non-numeric character was found where a numeric was expected")
        value = int(m.group(0))
        digits = m.group(0)
        i += len(digits)
        if tok in ("YYYY", "SYYYY", "IYYY"):
            parts["Y"] = value
        elif tok == "RRRR" or tok == "RR":
            parts["Y"] = value if len(digits) > 2 else (2000 + value if value < 50 else 1900 + value)
        elif tok in ("YY", "YYY", "Y"):
            base = now.year - now.year % (10 ** len(digits))
            parts["Y"] = base + value
        elif tok == "MM":
            parts["MM"] = value
        elif tok == "DD":
            parts["DD"] = value
        elif tok == "HH24":
            parts["HH"] = value
        elif tok in ("HH", "HH12"):
            if not 1 <= value <= 12:
                raise OraError("ORA-01849", "hour must be between 1 and 12")
            parts["HH12"] = value
        elif tok == "MI":
            parts["MI"] = value
        elif tok == "SS":
            parts["SS"] = value
        elif tok.startswith("FF"):
            parts["FF"] = int(digits.ljust(6, "0")[:6])
        elif tok == "J":
            d = datetime.fromordinal(value - 1721425)
            parts.update(Y=d.year, MM=d.month, DD=d.day)
    if i < len(s):
        raise OraError("ORA-01830", "date format picture ends before converting entire input string")
    year, month = parts.get("Y", now.year), parts.get("MM", now.month)
    if not 1 <= month <= 12:
        raise OraError("ORA-01843", "not a valid month")
    day = parts.get("DD", 1)
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise OraError("ORA-01847", "day of month must be between 1 and last day of month")
    hour = parts.get("HH", 0)
    if "HH12" in parts:
        hour = parts["HH12"] % 12 + (12 if pm else 0)
    if not 0 <= hour <= 23:
        raise OraError("ORA-01850", "hour must be between 0 and 23")
    if not 0 <= parts.get("MI", 0) <= 59:
        raise OraError("ORA-01851", "minutes must be between 0 and 59")
    if not 0 <= parts.get("SS", 0) <= 59:
        raise OraError("ORA-01852", "seconds must be between 0 and 59")
    dt = datetime(year, month, day, hour, parts.get("MI", 0), parts.get("SS", 0), parts.get("FF", 0))
    return ts_value(dt) if timestamp else date_value(dt)


def add_days(v: str, days: float) -> str:
    dt = to_dt(v) + timedelta(days=days)
    return ts_value(dt) if is_timestamp(v) else date_value(dt.replace(microsecond=0))


def days_between(a: str, b: str) -> float | int:
    diff = (to_dt(a) - to_dt(b)).total_seconds() / 86400
    return int(diff) if diff == int(diff) else diff


# -- numbers -------------------------------------------------------------------

def to_number(v: Any) -> int | float | None:
    """Implicit or explicit conversion to NUMBER (ORA-01722 when not a number)."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        raise OraError("ORA-06550", "PLS-00306: wrong number or types of arguments in call")
    if isinstance(v, (int, float)):
        return v
    if is_date(v):
        raise OraError("ORA-00932", "inconsistent datatypes: expected NUMBER got DATE")
    text = str(v).strip()
    try:
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        num = float(Decimal(text))
    except (InvalidOperation, ValueError):
        raise OraError("ORA-01722", "invalid number") from None
    return int(num) if num == int(num) and abs(num) < 1e15 and "e" not in text.lower() else num


def normalize_number(v: int | float) -> int | float:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e18:
        return int(v)
    return v


def number_text(v: int | float) -> str:
    """TO_CHAR(number) without a mask: no leading zero, no trailing zeros."""
    v = normalize_number(v)
    if isinstance(v, int):
        return str(v)
    d = Decimal(format(v, ".15g"))
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.startswith("0."):
        text = text[1:]
    elif text.startswith("-0."):
        text = "-" + text[2:]
    return text or "0"


def display_number(v: int | float, width: int = 10) -> str:
    """A NUMBER as SQL*Plus shows it in a column ``width`` wide (NUMWIDTH)."""
    text = number_text(v)
    if len(text) <= width:
        return text
    v = normalize_number(v)
    int_len = (len(str(int(abs(v)))) if abs(v) >= 1 else 0) + (1 if v < 0 else 0)
    if isinstance(v, float) and int_len < width - 1:
        digits = width - int_len - 1
        text = number_text(round(v, digits))
        if len(text) <= width:
            return text
    mant = max(1, width - 6 - (1 if v < 0 else 0))
    text = f"{v:.{mant}E}"
    m = re.match(r"(-?[\d.]+)E([+-])(\d+)", text)
    if m:
        text = f"{m.group(1)}E{m.group(2)}{int(m.group(3)):02d}"
    return text if len(text) <= width else "#" * width


def format_number(v: int | float, mask: str) -> str:
    """TO_CHAR(number, mask) for the common masks: FM, 9, 0, ',', '.', G, D, S, MI, $, X."""
    up = mask.upper()
    fm = up.startswith("FM")
    body = up[2:] if fm else up
    if body and set(body) <= {"X", "0"} and "X" in body:
        text = format(int(round(v)), "X" if "X" in mask else "x")
        text = text.rjust(len(body), "0" if body[0] == "0" else " ")
        return text.strip() if fm else " " + text
    lead_s, trail_mi = body.startswith("S"), body.endswith("MI")
    trail_s = not lead_s and body.endswith("S")
    body = body[1:] if lead_s else body[:-2] if trail_mi else body[:-1] if trail_s else body
    dollar = "$" in body
    body = body.replace("$", "").replace("G", ",").replace("D", ".")
    int_mask, _, frac_mask = body.partition(".")
    slots = sum(1 for ch in int_mask if ch in "90")
    zero_at = next((i for i, ch in enumerate(c for c in int_mask if c in "90") if ch == "0"), None)
    whole, _, frac = f"{round(abs(v), len(frac_mask)):.{len(frac_mask)}f}".partition(".")
    if whole == "0" and frac_mask and zero_at is None:
        whole = ""
    if zero_at is not None:
        whole = whole.zfill(slots - zero_at)
    if len(whole) > slots:
        return "#" * (len(mask) + 1)
    out, left = [], len(whole)
    for ch in reversed(int_mask):
        if ch in "90":
            out.append(whole[left - 1] if left > 0 else " ")
            left -= 1
        elif ch == ",":
            out.append("," if left > 0 else " ")
    text = "".join(reversed(out)) + ("." + frac if frac_mask else "")
    if dollar:
        stripped = text.lstrip()
        text = " " * (len(text) - len(stripped)) + "$" + stripped
    neg = v < 0
    if lead_s:
        stripped = text.lstrip()
        text = " " * (len(text) - len(stripped)) + ("-" if neg else "+") + stripped
    elif trail_mi or trail_s:
        text += ("-" if neg else ("+" if trail_s else " "))
    else:
        stripped = text.lstrip()
        text = " " * (len(text) - len(stripped)) + ("-" if neg else " ") + stripped
    return text.strip() if fm else text


def to_text(v: Any, date_format: str, ts_format: str = DEFAULT_TS_FORMAT) -> str | None:
    """Implicit conversion to VARCHAR2 (for ||, string functions, output)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return number_text(v)
    if is_timestamp(v):
        return format_date(v, ts_format)
    if is_date(v):
        return format_date(v, date_format)
    return str(v)

