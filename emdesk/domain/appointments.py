"""What the wearer is told: when to expect the officer, and what the visit involves.

The planner chooses the arrival; the wearer is given an hour around it (a booked
appointment keeps its own window), so a late-running route still keeps its word.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .clock import local
from .devices import DeviceKind
from .visits import VisitKind

SPAN = timedelta(hours=1)

_WHAT = {
    VisitKind.INSTALL: "to fit your {kit}",
    VisitKind.CHECK: "to check your monitoring equipment",
    VisitKind.REPAIR: "to repair or replace your {kit}",
    VisitKind.REMOVAL: "to remove your monitoring equipment",
}
_EXPECT = {
    VisitKind.INSTALL: ("The visit takes about an hour. Please be in, with proof of identity; we will explain "
                        "your conditions, fit the tag and set up the home unit, which needs a mains socket."),
    VisitKind.CHECK: "The visit takes about 20 minutes: we look at the tag, its strap and the home unit.",
    VisitKind.REPAIR: "The visit takes about 40 minutes. Please keep the equipment plugged in and charged.",
    VisitKind.REMOVAL: ("The visit takes about half an hour. Please have every piece of equipment ready, "
                        "with its charger and leads: we take all of it back."),
}


def appointment_span(arrival: datetime, window_start: datetime | None = None, window_end: datetime | None = None,
                     *, booked: bool = False) -> tuple[datetime, datetime]:
    """The span the wearer is given: the booked window, or an hour starting at the planned
    arrival rounded down to the quarter hour, moved inside the window if there is one."""
    if booked and window_start is not None and window_end is not None:
        return window_start, window_end
    at = local(arrival)
    start = at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0).astimezone(arrival.tzinfo)
    end = start + SPAN
    if window_start is not None and window_end is not None and window_end - window_start >= SPAN:
        if start < window_start:
            start, end = window_start, window_start + SPAN
        elif end > window_end:
            start, end = window_end - SPAN, window_end
    return start, end


_WORN = {DeviceKind.RF_TAG: "tag", DeviceKind.GPS_TAG: "GPS tag", DeviceKind.ALCOHOL_TAG: "alcohol tag"}


def _kit(kinds: tuple[DeviceKind, ...]) -> str:
    return next((_WORN[k] for k in kinds if k in _WORN), "tag")


def appointment_text(kind: VisitKind, arrival: datetime, window_start: datetime | None = None,
                     window_end: datetime | None = None, *, booked: bool = False,
                     equipment: tuple[DeviceKind, ...] = ()) -> str:
    """E.g. "We will visit between 19:00 and 20:00 on Tuesday 3 December to fit your tag. ..."
    (UK local time, whatever the season)."""
    start, end = appointment_span(arrival, window_start, window_end, booked=booked)
    a, b = local(start), local(end)
    day = f"{a:%A} {a.day} {a:%B}"
    what = _WHAT[VisitKind(kind)].format(kit=_kit(equipment))
    return f"We will visit between {a:%H:%M} and {b:%H:%M} on {day} {what}. {_EXPECT[VisitKind(kind)]}"
