"""How values read on screen: UK dates, London wall-clock times, flag labels."""
from __future__ import annotations

from datetime import date, datetime

from emdesk.domain.clock import local


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value) if value.tzinfo else value
        return value.strftime("%d %b %Y")
    return value.strftime("%d %b %Y")


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    shown = local(value) if value.tzinfo else value
    return shown.strftime("%d %b %Y %H:%M")


def fmt_when(value: datetime | None) -> str:
    """A near date and time, compact: "Thu 26 Nov 19:00"."""
    if value is None:
        return ""
    shown = local(value) if value.tzinfo else value
    return shown.strftime("%a %d %b %H:%M")


def fmt_time(value: datetime | None) -> str:
    if value is None:
        return ""
    shown = local(value) if value.tzinfo else value
    return shown.strftime("%H:%M")


def fmt_window(start: datetime | None, end: datetime | None) -> str:
    """A visit slot as the officer plans the day: "09:00–11:00"."""
    if start is None and end is None:
        return "any time"
    return f"{fmt_time(start) or '…'}–{fmt_time(end) or '…'}"


def humanize(code: str) -> str:
    """A stored enum value as words ("dangerous_dog" -> "Dangerous dog"); labels pass through."""
    if "_" not in code and code[:1].isupper():
        return code
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def fmt_flags(flags: tuple[str, ...] | list[str]) -> str:
    return ", ".join(humanize(f) for f in flags)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"
