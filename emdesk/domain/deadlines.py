"""The contract's clock for a breach (NAO report, Figure 3), and how near each deadline is.

A violation period runs 07:00 to 06:59 the next day, Europe/London.  The notification is
due by 10:00 on the morning the period ends (three hours after its end) and the breach
pack by 12:00 the day after that (29 hours after the period ends): 29 to 53 hours after
the breach.  The times are London wall clock, so on the days the clocks change the gaps
in real hours are an hour shorter or longer.

Specials (orders in the ``specials`` cohort) are answered "more quickly" (NAO report,
paragraph 1.8); no figure is published.  emdesk ASSUMES, until the contract's numbers are
known: notification within 1 hour of the breach and the pack within 12 hours of it, in
real (elapsed) hours, and never later than the standard deadlines of the same period.
Change ``SPECIAL_NOTIFY_WITHIN``/``SPECIAL_PACK_WITHIN`` when the real figures arrive.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import Enum

from .clock import UTC, at_local
from .engine.periods import period_day
from .orders import Cohort

NOTIFY_AT = time(10, 0)     # the morning the period ends
PACK_AT = time(12, 0)       # the day after that

NOTIFY, PACK = "notify", "pack"

# emdesk's assumption for specials (see the module docstring), not published figures.
SPECIAL_NOTIFY_WITHIN = timedelta(hours=1)
SPECIAL_PACK_WITHIN = timedelta(hours=12)

# How long before a deadline it turns amber: the notification is a phone call or a
# message (an hour is enough warning), the pack takes hours to build (20 on average in
# Feb 2026, paragraph 2.12), so it warns a working morning ahead.
AMBER_WITHIN: dict[str, timedelta] = {NOTIFY: timedelta(hours=1), PACK: timedelta(hours=4)}


@dataclass(frozen=True, slots=True)
class Deadlines:
    notify_by: datetime      # aware, UTC
    pack_by: datetime        # aware, UTC


class Urgency(str, Enum):
    OK = "ok"
    AMBER = "amber"          # due within AMBER_WITHIN[kind]
    RED = "red"              # passed


def deadlines(period_start: datetime, *, special: bool = False, breach_at: datetime | None = None) -> Deadlines:
    """The deadlines of the violation period holding ``period_start`` (any instant in the
    period will do; its 07:00 start is the usual argument).

    ``special=True`` (a specials order) runs the shorter clock from ``breach_at``, which it
    then needs; for standard cases ``breach_at`` is accepted and plays no part."""
    if period_start.tzinfo is None:
        raise ValueError("period_start: needs an aware datetime (UTC or London), not a naive one")
    day = period_day(period_start)
    standard = Deadlines(notify_by=at_local(day + timedelta(days=1), NOTIFY_AT),
                         pack_by=at_local(day + timedelta(days=2), PACK_AT))
    if not special:
        return standard
    if breach_at is None:
        raise ValueError("breach_at: a special case's deadlines run from the breach; pass breach_at "
                         "(the incident's started_at)")
    if breach_at.tzinfo is None:
        raise ValueError("breach_at: needs an aware datetime (UTC or London), not a naive one")
    if period_day(breach_at) != day:
        raise ValueError(f"breach_at: {breach_at.isoformat()} is not in the violation period starting "
                         f"{day.isoformat()} 07:00 (period_start); pass the incident's own period_start")
    breach_at = breach_at.astimezone(UTC)
    return Deadlines(notify_by=min(standard.notify_by, breach_at + SPECIAL_NOTIFY_WITHIN),
                     pack_by=min(standard.pack_by, breach_at + SPECIAL_PACK_WITHIN))


def is_special(cohort) -> bool:
    """Whether an order's cohort (a ``Cohort`` or its value) runs the specials clock."""
    return getattr(cohort, "value", cohort) == Cohort.SPECIALS.value


def urgency(due: datetime, now: datetime, kind: str) -> Urgency:
    """OK, AMBER when ``due`` is within the warning for ``kind`` ("notify" or "pack"), RED
    once it has passed."""
    try:
        warn = AMBER_WITHIN[kind]
    except KeyError:
        raise ValueError(f"kind: {kind!r} is not a deadline; use {NOTIFY!r} or {PACK!r}") from None
    if now >= due:
        return Urgency.RED
    return Urgency.AMBER if due - now <= warn else Urgency.OK


# Which clock runs for an incident in each status: the notification until someone has
# decided it is a breach (escalated), then the pack; none once it is closed either way.
_RUNNING = {"open": NOTIFY, "acknowledged": NOTIFY, "escalated": PACK, "closed": None, "auto_closed": None}


def which_deadline(status) -> str | None:
    """"notify", "pack" or None for an incident status (an IncidentStatus or its value)."""
    value = getattr(status, "value", status)
    try:
        return _RUNNING[value]
    except KeyError:
        raise ValueError(f"status: {value!r} is not an incident status ({', '.join(_RUNNING)})") from None


__all__ = ["AMBER_WITHIN", "Deadlines", "NOTIFY", "PACK", "SPECIAL_NOTIFY_WITHIN", "SPECIAL_PACK_WITHIN", "Urgency",
           "deadlines", "is_special", "urgency", "which_deadline"]
