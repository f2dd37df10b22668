"""The violation period: 07:00 one day to 06:59 the next, Europe/London (NAO Figure 3).

On the days the clocks change a period lasts 23 or 25 real hours.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np

from emdesk.domain.clock import at_local, local_date

from .events import instant, ms

PERIOD_START = time(7, 0)


def period_day(at: datetime) -> date:
    """The UK date on which the violation period holding ``at`` began."""
    day = local_date(at)
    return day if at >= at_local(day, PERIOD_START) else day - timedelta(days=1)


def period_bounds(day: date) -> tuple[int, int]:
    """[start, end) in ms of the period that begins at 07:00 on ``day``."""
    return ms(at_local(day, PERIOD_START)), ms(at_local(day + timedelta(days=1), PERIOD_START))


def period_of_ms(at_ms: int) -> tuple[int, int]:
    return period_bounds(period_day(instant(at_ms)))


def period_starts(at_ms: np.ndarray) -> np.ndarray:
    """Each instant's period start, for a whole array at once (a handful of boundaries,
    then one binary search)."""
    if at_ms.size == 0:
        return np.zeros(0, np.int64)
    first = period_day(instant(int(at_ms.min())))
    last = period_day(instant(int(at_ms.max())))
    days = [first + timedelta(days=k) for k in range((last - first).days + 2)]
    bounds = np.array([period_bounds(d)[0] for d in days], np.int64)
    return bounds[np.searchsorted(bounds, at_ms, side="right") - 1]
