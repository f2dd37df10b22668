"""Builders for the zone, proximity, alcohol and check-in rule tables.

Places are given as metres east/north of a fixed point in London, on the British
National Grid, so a case reads "150 m inside a 200 m circle" rather than in degrees.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone

import numpy as np

from emdesk.domain.clock import at_local
from emdesk.domain.conditions import Conditions
from emdesk.domain.devices import DeviceKind
from emdesk.domain.engine import events
from emdesk.domain.engine.hits import Hit, Span
from emdesk.domain.engine.watch import Settings, Watch, WatchedDevice
from emdesk.domain.geography import from_bng, to_bng
from emdesk.domain.monitoring import EventKind

ORIGIN = (51.5074, -0.1278)          # Charing Cross
_X0, _Y0 = to_bng(*ORIGIN)

TAG = WatchedDevice("TAG-1", DeviceKind.GPS_TAG, 0)
PHONE = WatchedDevice("PHONE-V", None, 0, protected=True)
NON_FITTED = WatchedDevice("NFD-1", DeviceKind.NON_FITTED, 0)
DEVICES = (TAG, PHONE, NON_FITTED)
WEARER, VICTIM, HANDSET = 0, 1, 2     # indices into DEVICES


def place(east_m: float, north_m: float) -> tuple[float, float]:
    """(lat, lon) of a point this far east and north of ORIGIN."""
    return from_bng(_X0 + east_m, _Y0 + north_m)


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> int:
    return events.ms(datetime(y, m, d, hh, mm, ss, tzinfo=timezone.utc))


def uk(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> int:
    """An instant given on the UK wall clock."""
    return events.ms(at_local(date(y, m, d), time(hh, mm)))


def watch(conditions: Conditions, devices=DEVICES, **settings) -> Watch:
    return Watch(order_id="ord-1", reference="EM/1", subject_id="sub-1", cohort=None, region="London",
                 conditions=conditions, devices=devices, settings=Settings(**settings))


def fix(at_ms: int, east_m: float, north_m: float, hdop: float | None = 1.0, device: int = WEARER) -> tuple:
    lat, lon = place(east_m, north_m)
    return (at_ms, events.POSITION, device, lat, lon, hdop, 0.0, None, False)


def reading(at_ms: int, kind: EventKind, value: float, device: int = WEARER) -> tuple:
    return (at_ms, events.CODE[kind], device, None, None, None, None, value, False)


def track(t0_ms: int, step_s: int, points, hdop: float | None = 1.0, device: int = WEARER) -> list[tuple]:
    """Fixes every ``step_s`` seconds from ``t0_ms`` at these (east, north) points."""
    return [fix(t0_ms + k * step_s * 1000, e, n, hdop, device) for k, (e, n) in enumerate(points)]


def batch(rows) -> events.EventBatch:
    return events.EventBatch.from_rows(rows)


def all_good(ev: events.EventBatch) -> np.ndarray:
    """Every position believed (the fix-quality step is another rule's)."""
    return ev.kind == events.POSITION


def span(start_ms: int, end_ms: int, now_ms: int | None = None) -> Span:
    return Span(start_ms, end_ms, end_ms if now_ms is None else now_ms)


def brief(hit: Hit) -> tuple:
    """What a case table compares: code, start, end, certain, confidence."""
    return (hit.code, hit.start_ms, hit.end_ms, hit.certain, hit.confidence)
