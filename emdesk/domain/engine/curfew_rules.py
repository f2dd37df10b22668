"""Curfew: was the wearer home for each real curfew interval (UK codes AL08-AL12)?

Presence is read as a list of absences (left, returned).  With a home unit its range
events are the evidence (the tag leaving and re-entering range); with a GPS tag alone a
believable fix near the curfew address is home, and two believable fixes in a row away
from it are out (one stray fix is not).  Each interval is the real time between its
UK wall-clock ends, so a 19:00-07:00 curfew lasts 11 h or 13 h on clock-change nights.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np

from emdesk.domain.clock import local, local_date
from emdesk.domain.curfew import curfew_intervals
from emdesk.domain.devices import DeviceKind
from emdesk.domain.geography import to_bng
from emdesk.domain.monitoring import EventKind

from .events import CODE, MINUTE_MS, EventBatch, instant, ms, stretches
from .hits import Hit, Span
from .watch import Watch

ACCURACY_PER_HDOP_M = 5.0
# An absence already going when the evidence begins: left at some unknown earlier time.
LONG_AGO = -(2**62)

Absence = tuple[int, int | None]   # (left, returned); returned None: still out


def curfew_hits(watch: Watch, ev: EventBatch, good: np.ndarray, span: Span) -> list[Hit]:
    """Hits for the curfew intervals that start inside the span, each judged whole
    (events after the span's end are used when present)."""
    curfew = watch.conditions.curfew
    if curfew is None:
        return []
    first = local_date(instant(span.start_ms)) - timedelta(days=1)
    last = local_date(instant(span.end_ms))
    intervals = [(ms(b), ms(e)) for b, e in curfew_intervals(curfew, first, last)]
    intervals = [(b, e) for b, e in intervals
                 if span.start_ms <= b < span.end_ms and b < span.now_ms
                 and (watch.start_ms is None or b >= watch.start_ms)
                 and (watch.end_ms is None or b < watch.end_ms)]
    if not intervals:
        return []
    absences, source = _evidence(watch, ev, good)
    if source is None:
        return []
    off = (stretches(ev.at, ev.kind, EventKind.HMU_POWER_OFF, EventKind.HMU_POWER_ON)
           if source == "home unit range" else [])
    hits = []
    for begin, end in intervals:
        for hit in _judge(begin, end, absences, watch.settings.curfew_grace_s * 1000, span.now_ms, source):
            if any(_overlaps(hit, a, b) for a, b in off):
                hit = replace(hit, certain=False,
                              detail=hit.detail + "; the home unit was off mains, so its range evidence is weaker")
            hits.append(hit)
    return hits


def _evidence(watch: Watch, ev: EventBatch, good: np.ndarray) -> tuple[list[Absence], str | None]:
    ranged = ev.of_kind(EventKind.HMU_RANGE_IN, EventKind.HMU_RANGE_OUT)
    if watch.has_hmu and ranged.any():
        return _rf_absences(ev.at[ranged], ev.kind[ranged] == CODE[EventKind.HMU_RANGE_IN]), "home unit range"
    if watch.tracked and watch.home is not None:
        wearer = [i for i, d in enumerate(watch.devices)
                  if d.kind in (DeviceKind.GPS_TAG, DeviceKind.NON_FITTED) and not d.protected]
        rows = good & np.isin(ev.device, wearer)
        if rows.any():
            return _gps_absences(watch, ev.at[rows], ev.lat[rows], ev.lon[rows], ev.hdop[rows]), "GPS"
    return [], None


def _rf_absences(at: np.ndarray, inside: np.ndarray) -> list[Absence]:
    # Repeats of the same state (a resend, clock jitter) change nothing.
    change = np.concatenate(([True], inside[1:] != inside[:-1]))
    at, inside = at[change].tolist(), inside[change].tolist()
    out: list[Absence] = []
    left = LONG_AGO if inside[0] else None     # first word "in range": was out before it
    for t, is_in in zip(at, inside):
        if is_in and left is not None:
            out.append((left, t))
            left = None
        elif not is_in:
            left = t
    if left is not None:
        out.append((left, None))
    return out


def _gps_absences(watch: Watch, at, lat, lon, hdop) -> list[Absence]:
    s = watch.settings
    hx, hy = to_bng(*watch.home)
    x, y = to_bng(lat, lon)
    dist = np.hypot(np.asarray(x) - hx, np.asarray(y) - hy)
    away = dist > s.home_radius_m + ACCURACY_PER_HDOP_M * np.nan_to_num(hdop, nan=0.0)
    edges = np.diff(np.concatenate(([0], away.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)   # stop: first fix back
    out: list[Absence] = []
    for a, b in zip(starts.tolist(), stops.tolist()):
        if b - a < 2:          # one stray fix away is not an absence
            continue
        out.append((LONG_AGO if a == 0 else int(at[a]), int(at[b]) if b < at.size else None))
    return out


def _overlaps(hit: Hit, a: int, b: int | None) -> bool:
    return a <= (hit.end_ms if hit.end_ms is not None else 2**62) and (b is None or b > hit.start_ms)


def _judge(begin: int, end: int, absences: list[Absence], grace: int, now: int, source: str) -> list[Hit]:
    """The hits of one curfew interval [begin, end) given the absences, as at ``now``."""
    window = f"{_hm(begin)}-{_hm(end)}"
    over = end <= now
    hits: list[Hit] = []
    for left, back in absences:
        if (back is not None and back <= begin) or left >= min(end, now):
            continue
        if left <= begin:
            if back is None or back >= end:
                if over:
                    came = f"; back at {_hm(back)}" if back is not None else "; not back yet"
                    hits.append(Hit("AL12", begin, end, detail=f"absent for the whole curfew {window} "
                                    f"({_span(end - begin)}){came} ({source})"))
                elif now - begin > grace:
                    hits.append(Hit("AL08", begin, None, detail=f"not home at curfew start {_hm(begin)}; "
                                    f"still out after {_span(now - begin)} ({source})"))
            elif back - begin > grace:
                late = f"returned {_span(back - begin)} after curfew began at {_hm(begin)}"
                hits.append(Hit("AL08", begin, back, detail=f"not home at curfew start {_hm(begin)}; {late} ({source})"))
                hits.append(Hit("AL09", back, back, detail=f"{late}, at {_hm(back)} ({source})"))
            continue
        stop = min(back if back is not None else now, end, now)
        if stop - left <= grace:
            continue
        if back is not None and back < end:
            hits.append(Hit("AL10", left, back, detail=f"left at {_hm(left)} during the curfew {window}, "
                            f"back at {_hm(back)} after {_span(back - left)} ({source})"))
        elif not over:
            hits.append(Hit("AL10", left, None, detail=f"left at {_hm(left)} during the curfew {window}; "
                            f"out {_span(now - left)} so far ({source})"))
        else:
            hits.append(Hit("AL10", left, end, detail=f"left at {_hm(left)} during the curfew {window} "
                            f"and was out when it ended ({source})"))
            came = f"back at {_hm(back)}" if back is not None else "not back yet"
            hits.append(Hit("AL11", end, back, detail=f"out at the end of the curfew {_hm(end)}, having left "
                            f"at {_hm(left)}; {came} ({source})"))
    return hits


def _hm(value_ms: int) -> str:
    return local(instant(value_ms)).strftime("%H:%M")


def _span(duration_ms: int) -> str:
    minutes = round(duration_ms / MINUTE_MS)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes % 60 else f"{minutes // 60} h"
