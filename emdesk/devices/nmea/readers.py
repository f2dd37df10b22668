"""Field readers with the C library semantics gpsd relies on.

gpsd reads NMEA fields with ``atoi``/``safe_atof`` (the longest numeric prefix, 0 when
there is none), angles as ``dddmm.mmmm`` with a mandatory decimal point, times as
``hhmmss[.sss]`` without range checks and dates as ``ddmmyy`` with a 1969 pivot, and
turns a broken-down UTC time into seconds with its own ``mkgmtime`` (days and hours
out of range simply carry over).  Reproducing its fixes means reading fields exactly
the same way, oddities included.
"""
from __future__ import annotations

import re

from .masks import NAN

_CUMDAYS = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_INT_RE = re.compile(r"\s*[+-]?\d+")
_FLOAT_RE = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


_LONG_MAX = (1 << 63) - 1


def atoi(s: str) -> int:
    """C's ``atoi`` as glibc does it: ``(int) strtol(s)``, saturating then truncating.

    A field can hold any number of digits (an AIS sentence is not length-checked like
    ``$`` sentences are), so a long one is never handed whole to ``int()``: Python
    refuses strings of more than 4,300 digits, and the work would grow with the square.
    """
    if s.isdigit():
        if len(s) <= 18:
            return int(s)
        m = None
    elif not s:
        return 0
    else:
        m = _INT_RE.match(s)
        if m is None:
            return 0
        if m.end() <= 20:
            return int(m.group())
    text = (m.group() if m else s).strip()
    negative = text.startswith("-")
    digits = text.lstrip("+-").lstrip("0")
    value = _LONG_MAX + negative if len(digits) > 19 else min(int(digits or "0"), _LONG_MAX + negative)
    value = -value if negative else value
    value &= 0xFFFFFFFF                  # the cast to a 32-bit int
    return value - (1 << 32) if value >= 1 << 31 else value


def atof(s: str) -> float:
    """gpsd's safe_atof: the longest numeric prefix; no digits -> 0."""
    if not s:
        return 0.0     # (empty fields are common: skip the exception)
    try:
        return float(s)
    except ValueError:
        pass
    m = _FLOAT_RE.match(s)
    if m is None:
        return 0.0
    try:
        return float(m.group())
    except ValueError:  # pragma: no cover - "1e" style oddities
        return 0.0


def cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // b
    return q if a >= 0 else -q


def decode_angle(s: str) -> float:
    """dddmm.mmmm -> degrees; gpsd insists on the decimal point (else NaN)."""
    dot = s.find(".")
    if dot < 0:
        return NAN
    head = s[:dot]
    if not head:
        minutes = 0
    elif head.isdigit():
        minutes = int(head)
    else:
        m = _INT_RE.fullmatch(head)
        if m is None:
            return NAN
        minutes = int(head)
    minutes -= cdiv(minutes, 100) * 40
    return (minutes + atof(s[dot:])) * (1.0 / 60.0)


def decode_hhmmss(s: str):
    """'hhmmss[.sss]' -> (h, m, s, nsec), or None.  No range checks, like gpsd."""
    head = s[:6]
    if len(head) < 6 or not head.isdigit():
        return None
    nsec = 0
    if len(s) > 7 and s[6] == "." and s[7].isdigit():
        tail = s[7:]
        power = 9 - min(len(tail), 20)
        if power >= 0:
            nsec = (int(tail) if tail.isdigit() else atoi(tail)) * 10 ** power
    hours, rest = divmod(int(head), 10000)
    minutes, seconds = divmod(rest, 100)
    return hours, minutes, seconds, nsec


def decode_ddmmyy(s: str):
    """'ddmmyy' -> (tm_year, tm_mon, mday) with 69..99 -> 19xx, or None."""
    if len(s) != 6 or not s.isdigit():
        return None
    mday = int(s[0:2])
    mon = int(s[2:4])
    year = int(s[4:6])
    if year < 69:
        year += 100
    if not 1 <= mon <= 12 or not 1 <= mday <= 31:
        return None
    return year, mon - 1, mday


def mkgmtime(tm_year: int, tm_mon: int, mday: int, hour: int, minute: int, sec: int) -> int:
    """gpsd's mkgmtime(): out-of-range days and hours simply carry over."""
    year = 1900 + tm_year + tm_mon // 12
    mon = tm_mon % 12
    days = (year - 1970) * 365 + _CUMDAYS[mon]
    days += cdiv(year - 1968, 4) - cdiv(year - 1900, 100) + cdiv(year - 1600, 400)
    if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) and mon < 2:
        days -= 1
    days += mday - 1
    return ((days * 24 + hour) * 60 + minute) * 60 + sec


def two_digits(s: str, i: int) -> int:
    """C's ``DD(s + i)``: two characters as digits, whatever they are."""
    return (ord(s[i]) - 48) * 10 + (ord(s[i + 1]) - 48)


def field(f: list[str], i: int) -> str:
    return f[i] if i < len(f) else ""
