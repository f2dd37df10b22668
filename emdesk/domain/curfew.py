"""Curfew arithmetic: hours per curfew day and per week, and real time across DST.

Two kinds of hours, on purpose.  The statute limits (2 to 20 hours a day, 112 in any
7 days, 9 a day for HDC) are read on the order as written, in wall-clock hours: a
19:00-07:00 curfew is a 12-hour curfew every night of the year.  Monitoring needs the
real instants: on the night the clocks go forward that curfew lasts 11 hours, on the
night they go back 13, and the wearer must be home for exactly that.

A "curfew day" is the weekday a window starts on (Monday's 19:00-07:00 is Monday's).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from .clock import at_local, local_date, utc
from .conditions import Curfew, CurfewWindow, ReleaseDayWindow

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_MINUTES = 24 * 60


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _span(start: time, end: time) -> tuple[int, int]:
    """Minutes from the start of the curfew day; an end at or before the start is tomorrow."""
    s, e = _minutes(start), _minutes(end)
    return s, (e if e > s else e + _DAY_MINUTES)


def _union_minutes(spans: Iterable[tuple[int, int]]) -> int:
    total, reach = 0, None
    for s, e in sorted(spans):
        if reach is None or s > reach:
            total += e - s
            reach = e
        elif e > reach:
            total += e - reach
            reach = e
    return total


def is_usable(window: object) -> bool:
    """A window with a real weekday and times.

    Drafts may hold windows with a weekday outside Monday..Sunday; validation reports
    those, and the arithmetic leaves them out rather than failing.
    """
    return (isinstance(window, CurfewWindow) and isinstance(window.weekday, int)
            and 0 <= window.weekday <= 6 and isinstance(window.start, time) and isinstance(window.end, time))


def _release(curfew: Curfew | None) -> ReleaseDayWindow | None:
    release = getattr(curfew, "release_day", None)
    if (isinstance(release, ReleaseDayWindow) and isinstance(release.day, date)
            and isinstance(release.start, time) and isinstance(release.end, time)):
        return release
    return None


def _valid_windows(curfew: Curfew | None) -> list[CurfewWindow]:
    return [w for w in (getattr(curfew, "windows", None) or ()) if is_usable(w)]


def day_hours(curfew: Curfew | None) -> dict[int, float]:
    """Wall-clock curfew hours for each curfew day, 0 (Monday) to 6 (Sunday)."""
    spans: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    for w in _valid_windows(curfew):
        spans[w.weekday].append(_span(w.start, w.end))
    return {d: _union_minutes(s) / 60 for d, s in spans.items()}


def weekly_hours(curfew: Curfew | None) -> float:
    """Wall-clock hours in a regular week (the release day aside)."""
    return sum(day_hours(curfew).values())


def _hours_on(release: ReleaseDayWindow, day: date, regular: dict[int, float]) -> float:
    if release.day == day:
        s, e = _span(release.start, release.end)
        return (e - s) / 60
    return regular[day.weekday()]


def hours_in_any_7_days(curfew: Curfew | None) -> float:
    """The most wall-clock curfew hours in any 7 consecutive curfew days.

    Every stretch of a regular week holds the same hours.  The release day is the first
    curfew day and replaces that weekday's window, so the first week may differ.
    """
    regular = day_hours(curfew)
    week = sum(regular.values())
    release = _release(curfew)
    if release is None:
        return week
    first = sum(_hours_on(release, release.day + timedelta(days=k), regular) for k in range(7))
    return max(week, first)


def overlapping_windows(curfew: Curfew | None) -> list[tuple[int, int]]:
    """Index pairs (into ``curfew.windows``) of windows that overlap in a week."""
    windows = getattr(curfew, "windows", None) or ()
    week = 7 * _DAY_MINUTES
    spans = []
    for i, w in enumerate(windows):
        if is_usable(w):
            s, e = _span(w.start, w.end)
            base = w.weekday * _DAY_MINUTES
            spans.append((i, base + s, base + e))
    out = []
    for a in range(len(spans)):
        for b in range(a + 1, len(spans)):
            i, s1, e1 = spans[a]
            j, s2, e2 = spans[b]
            # Sunday night runs into next Monday: compare a week apart as well.
            if any(s1 < e2 + shift and s2 + shift < e1 for shift in (-week, 0, week)):
                out.append((i, j))
    return out


def curfew_intervals(curfew: Curfew | None, start_date: date, end_date: date) -> list[tuple[datetime, datetime]]:
    """The real curfew periods, as UTC instants, of curfew days ``start_date``..``end_date``.

    Each window is placed with ``at_local`` at both ends, so its real length follows
    the clock changes.  Overlapping or touching periods are merged.
    """
    if curfew is None or end_date < start_date:
        return []
    windows = _valid_windows(curfew)
    release = _release(curfew)
    raw: list[tuple[datetime, datetime]] = []
    day = start_date
    while day <= end_date:
        if release is not None and release.day == day:
            todays = [(release.start, release.end)]
        else:
            todays = [(w.start, w.end) for w in windows if w.weekday == day.weekday()]
        for start, end in todays:
            begin = at_local(day, start)
            finish = at_local(day + timedelta(days=1) if end <= start else day, end)
            if finish > begin:
                raw.append((begin, finish))
        day += timedelta(days=1)
    raw.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in raw:
        if merged and begin <= merged[-1][1]:
            if finish > merged[-1][1]:
                merged[-1] = (merged[-1][0], finish)
        else:
            merged.append((begin, finish))
    return merged


def in_curfew(curfew: Curfew | None, instant: datetime) -> bool:
    """Whether the wearer must be at home at this instant (aware datetime)."""
    moment = utc(instant)
    today = local_date(moment)
    # Yesterday's overnight window may still be running.
    for begin, finish in curfew_intervals(curfew, today - timedelta(days=1), today):
        if begin <= moment < finish:
            return True
    return False


def describe_day(weekday: int) -> str:
    return DAY_NAMES[weekday] if 0 <= weekday <= 6 else f"day {weekday}"


# --- Compact notation --------------------------------------------------------------
# "Mon-Fri 19:00-07:00; Sat-Sun 20:00-06:00": how orders are written and read aloud.
# It expands day by day, in the order written, so window i of the expansion is what
# validation calls ``curfew.windows[i]``.

_DAY_ALIASES = {
    **{name.lower(): i for i, name in enumerate(DAY_NAMES)},
    **{name: i for i, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    "tues": 1, "wed": 2, "weds": 2, "thur": 3, "thurs": 3,
}
_EVERY_DAY = {"daily", "every day", "everyday", "all days"}
_SEGMENT = re.compile(r"^(?P<days>.+?)\s*:?\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")


def parse_clock(text: str) -> time:
    """``"19:00"`` -> 19:00; ``"24:00"`` reads as midnight ending the day."""
    text = text.strip()
    if text in ("24:00", "24:00:00"):
        return time(0)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
    if not match:
        raise ValueError(f"'{text}' is not a time; use HH:MM, e.g. 19:00")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"'{text}' is not a time of day; use HH:MM from 00:00 to 23:59")
    return time(hour, minute, second)


def parse_day(text: str) -> int:
    key = text.strip().lower().rstrip(".")
    if key not in _DAY_ALIASES:
        raise ValueError(f"'{text.strip()}' is not a day; use Mon, Tue, Wed, Thu, Fri, Sat or Sun")
    return _DAY_ALIASES[key]


def _parse_days(text: str) -> list[int]:
    if text.strip().lower() in _EVERY_DAY:
        return list(range(7))
    days: list[int] = []
    for part in text.split(","):
        if "-" in part:
            first, last = (parse_day(p) for p in part.split("-", 1))
            days.extend((first + k) % 7 for k in range((last - first) % 7 + 1))
        else:
            days.append(parse_day(part))
    return days


def parse_windows(text: str) -> tuple[CurfewWindow, ...]:
    """Windows from compact notation; raises ValueError saying what is wrong."""
    windows: list[CurfewWindow] = []
    for segment in re.split(r"[;\n]", text):
        segment = segment.strip()
        if not segment:
            continue
        match = _SEGMENT.match(segment)
        if not match:
            raise ValueError(f"'{segment}' is not days and times; write e.g. 'Mon-Fri 19:00-07:00'")
        start, end = parse_clock(match["start"]), parse_clock(match["end"])
        windows.extend(CurfewWindow(weekday=d, start=start, end=end) for d in _parse_days(match["days"]))
    if not windows:
        raise ValueError("no curfew windows given; write e.g. 'Mon-Fri 19:00-07:00'")
    return tuple(windows)


def _clock(t: time) -> str:
    return f"{t:%H:%M}" if not t.second else f"{t:%H:%M:%S}"


def format_windows(windows: Iterable[CurfewWindow]) -> str | None:
    """Compact notation that ``parse_windows`` reads back to the same windows in order;
    None if some window cannot be written that way (a weekday outside Mon..Sun)."""
    segments: list[tuple[time, time, list[int]]] = []
    for w in windows:
        if not is_usable(w):
            return None
        last = segments[-1] if segments else None
        if last and (last[0], last[1]) == (w.start, w.end) and w.weekday > last[2][-1]:
            last[2].append(w.weekday)
        else:
            segments.append((w.start, w.end, [w.weekday]))
    return "; ".join(f"{_days_text(days)} {_clock(s)}-{_clock(e)}" for s, e, days in segments)


def _days_text(days: list[int]) -> str:
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(DAY_NAMES[r[0]] if len(r) == 1 else f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}" for r in runs)
