"""The contract's clock for a breach (NAO report, Figure 3), and how near each deadline is.

A violation period runs 07:00 to 06:59 the next day, Europe/London.  The notification is
due by 10:00 on the morning the period ends (three hours after its end) and the breach
pack by 12:00 the day after that (29 hours after the period ends): 29 to 53 hours after
the breach.  The times are London wall clock, so on the days the clocks change the gaps
in real hours are an hour shorter or longer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import Enum

from .clock import at_local
from .engine.periods import period_day

NOTIFY_AT = time(10, 0)     # the morning the period ends
PACK_AT = time(12, 0)       # the day after that

NOTIFY, PACK = "notify", "pack"

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


def deadlines(period_start: datetime) -> Deadlines:
    """The deadlines of the violation period holding ``period_start`` (any instant in the
    period will do; its 07:00 start is the usual argument)."""
    if period_start.tzinfo is None:
        raise ValueError("period_start: needs an aware datetime (UTC or London), not a naive one")
    day = period_day(period_start)
    return Deadlines(notify_by=at_local(day + timedelta(days=1), NOTIFY_AT),
                     pack_by=at_local(day + timedelta(days=2), PACK_AT))


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


__all__ = ["AMBER_WITHIN", "Deadlines", "NOTIFY", "PACK", "Urgency", "deadlines", "urgency", "which_deadline"]
