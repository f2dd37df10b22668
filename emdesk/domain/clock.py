"""Time as the service sees it: Europe/London wall clock, UTC instants underneath.

Every schedule (curfews, violation periods, deadlines) is local UK time across
daylight-saving changes; every stored instant is an aware UTC datetime.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still (tests, the demo world, reproducible reports)."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


def local(dt: datetime) -> datetime:
    return dt.astimezone(LONDON)


def local_date(dt: datetime) -> date:
    return dt.astimezone(LONDON).date()


def at_local(day: date, clock_time: time) -> datetime:
    """The UTC instant of a London wall-clock time on a day.

    A time skipped by the spring change is moved forward an hour (as a person would
    read a clock); a time repeated in autumn takes its first occurrence.
    """
    naive = datetime.combine(day, clock_time)
    aware = naive.replace(tzinfo=LONDON, fold=0)
    back = aware.astimezone(UTC).astimezone(LONDON)
    if back.replace(tzinfo=None) != naive:  # in the spring gap
        aware = (naive + timedelta(hours=1)).replace(tzinfo=LONDON)
    return aware.astimezone(UTC)


def utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: give a timezone (UTC or Europe/London)")
    return dt.astimezone(UTC)
