"""Small routing instances built by hand: times on 3 December 2026 (UK time is UTC in winter)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


from emdesk.routing import Job, Officer

DAY = datetime(2026, 12, 3, tzinfo=timezone.utc)
BIRMINGHAM = (52.4862, -1.8904)


def at(h: float) -> datetime:
    return DAY + timedelta(hours=h)


def officer(oid: str = "a", *, lat: float = BIRMINGHAM[0], lon: float = BIRMINGHAM[1], start: float = 8,
            end: float = 20, region: str = "West Midlands", breaks=(), carries=()) -> Officer:
    return Officer(id=oid, name=oid, lat=lat, lon=lon, shift_start=at(start), shift_end=at(end), region=region,
                   breaks=tuple(breaks), carries=tuple(carries))


def job(jid: str, dlat: float = 0.0, dlon: float = 0.0, *, minutes: int = 20, window=None,
        region: str = "West Midlands", **kw) -> Job:
    ws, we = (at(window[0]), at(window[1])) if window else (None, None)
    return Job(id=jid, lat=BIRMINGHAM[0] + dlat, lon=BIRMINGHAM[1] + dlon, service_minutes=minutes,
               window_start=ws, window_end=we, region=region, **kw)


