"""The kit itself: home unit power and movement, batteries, faults and tampers.

These events are rare (a handful a day per device), so they are walked one by one,
per device, in time order.  A device that sends the same event twice within a few
seconds (a resend, clock jitter) raises one hit.
"""
from __future__ import annotations

import numpy as np

from emdesk.domain.monitoring import EventKind

from .events import CODE, KINDS, MINUTE_MS, POSITION, EventBatch
from .hits import Hit, Span
from .watch import Watch

DUPLICATE_MS = 10_000       # the same event again within this is a resend
DEAD_PCT = 2.0              # a battery level at or below this is as good as empty

_INSTANT = {
    EventKind.HMU_MOVED: "AL05",
    EventKind.DEVICE_FAULT: "AL24",
    EventKind.STRAP_TAMPER: "TAMPER-STRAP",
    EventKind.BODY_TAMPER: "TAMPER-BODY",
    EventKind.CASE_TAMPER: "TAMPER-CASE",
}


def device_hits(watch: Watch, ev: EventBatch, span: Span) -> list[Hit]:
    """AL04, AL05, AL21, AL23, AL24 and the tampers of the wearer's kit that start in the span."""
    hits: list[Hit] = []
    for d, device in enumerate(watch.devices):
        if device.protected:
            continue
        mine = ev.device == d
        rare = np.flatnonzero(mine & (ev.kind != POSITION))
        if rare.size:
            hits += _walk(device.serial, ev.at[mine], ev.kind[mine], ev.at[rare], ev.kind[rare],
                          ev.value[rare], watch, span.now_ms)
    return sorted((h for h in hits if span.start_ms <= h.start_ms < min(span.end_ms, span.now_ms)),
                  key=lambda h: (h.start_ms, h.code))


def _walk(serial: str, all_at, all_kind, at, kind, value, watch: Watch, now: int) -> list[Hit]:
    """One device's rare events in order; ``all_at``/``all_kind``: everything it sent."""
    s = watch.settings
    hits: list[Hit] = []
    last_seen: dict[int, int] = {}
    power_off = low = None             # since when (ms), or None
    lowest = float("inf")
    dead_until = None                  # the device is dead until this (None: not dead)
    for t, k, v in zip(at.tolist(), kind.tolist(), value.tolist()):
        what = KINDS[k]
        if what is not EventKind.BATTERY_LEVEL:
            seen, last_seen[k] = last_seen.get(k), t
            if seen is not None and t - seen <= DUPLICATE_MS:
                continue
        if what in _INSTANT:
            # A fault is the kit's own doing; a tamper or a moved home unit is the wearer's.
            fault = what is EventKind.DEVICE_FAULT
            hits.append(Hit(_INSTANT[what], t, t, technical=fault, confidence=0.8 if fault else 1.0,
                            detail=f"{serial}: {what.value.replace('_', ' ')}"))
        elif what is EventKind.HMU_POWER_OFF and power_off is None:
            power_off = t
        elif what is EventKind.HMU_POWER_ON and power_off is not None:
            hits.append(Hit("AL04", power_off, t, detail=f"{serial}: home unit off mains for {_min(t - power_off)}"))
            power_off = None
        level = v if what is EventKind.BATTERY_LEVEL else float("nan")
        if what is EventKind.BATTERY_LOW or level <= s.battery_low_pct:
            low = t if low is None else low
            lowest = min(lowest, level) if level == level else lowest
        elif low is not None and (what in (EventKind.CHARGING, EventKind.BATTERY_DEAD) or level > s.battery_low_pct):
            hits.append(_low(serial, low, t, lowest, s.battery_low_pct, what))
            low, lowest = None, float("inf")
        if (dead_until is not None and t < dead_until) or not (what is EventKind.BATTERY_DEAD or level <= DEAD_PCT):
            continue
        after = _next_alive(all_at, all_kind, t)
        if what is EventKind.BATTERY_DEAD:
            hits.append(_dead(serial, t, after, "reported its battery dead"))
        elif level <= DEAD_PCT and ((after if after is not None else now) - t) > s.gap_s * 1000:
            hits.append(_dead(serial, t, after, f"battery at {level:.0f}% and then silent"))
        else:
            continue
        dead_until = after if after is not None else 2**62
    if power_off is not None:
        hits.append(Hit("AL04", power_off, None,
                        detail=f"{serial}: home unit off mains for {_min(now - power_off)} so far; not back on"))
    if low is not None:
        hits.append(_low(serial, low, None, lowest, s.battery_low_pct, None))
    return hits


def _next_alive(all_at: np.ndarray, all_kind: np.ndarray, t: int) -> int | None:
    """The first word from the device after ``t`` other than a repeated 'battery dead'."""
    later = np.searchsorted(all_at, t, "right")
    alive = np.flatnonzero(all_kind[later:] != CODE[EventKind.BATTERY_DEAD])
    return int(all_at[later + alive[0]]) if alive.size else None


def _low(serial: str, start: int, end: int | None, lowest: float, limit: float, why) -> Hit:
    level = f"down to {lowest:.0f}%" if lowest != float("inf") else "reported low"
    ended = {EventKind.CHARGING: "; charging", EventKind.BATTERY_DEAD: "; then dead",
             None: "; still low"}.get(why, "; recovered")
    return Hit("AL21", start, end, detail=f"{serial}: battery {level} (alert at {limit:.0f}%){ended}")


def _dead(serial: str, start: int, end: int | None, why: str) -> Hit:
    back = f"; heard from again after {_min(end - start)}" if end is not None else "; silent since"
    return Hit("AL23", start, end, detail=f"{serial}: {why}{back}")


def _min(duration_ms: int) -> str:
    return f"{round(duration_ms / MINUTE_MS)} min"
