"""Check-ins: a biometric prompt on the non-fitted device at set UK times, answered or not.

A prompt belongs to the span its prompt time falls in; it is judged only once its
answer window has closed, so a window still open at ``now`` raises nothing yet.
"""
from __future__ import annotations

from datetime import timedelta

import numpy as np

from emdesk.domain.clock import at_local, local, local_date
from emdesk.domain.conditions import CheckIns
from emdesk.domain.devices import DeviceKind
from emdesk.domain.monitoring import EventKind

from . import events
from .hits import Hit, Span
from .watch import Watch


def prompts(rule: CheckIns, start_ms: int, end_ms: int) -> list[int]:
    """Prompt instants (ms) in [start, end): each ``at`` time on the first ``per_week`` days
    of each week, Monday first, placed on the UK wall clock day by day."""
    out = []
    day = local_date(events.instant(start_ms))
    last = local_date(events.instant(end_ms))
    while day <= last:
        if day.weekday() < rule.per_week:
            for clock in rule.at:
                moment = events.ms(at_local(day, clock))
                if start_ms <= moment < end_ms:
                    out.append(moment)
        day += timedelta(days=1)
    return sorted(set(out))


def checkin_hits(watch: Watch, ev: events.EventBatch, span: Span) -> list[Hit]:
    """CHECKIN-MISSED (at the window's end) when no check-in came in a prompt's window;
    CHECKIN-FAILED (at the first failed attempt) when only failed ones came."""
    rule = watch.conditions.checkins
    if rule is None:
        return []
    window = rule.window_min * events.MINUTE_MS
    non_fitted = np.array([d.kind is DeviceKind.NON_FITTED and not d.protected for d in watch.devices] + [False])
    dev = np.where((ev.device >= 0) & (ev.device < len(watch.devices)), ev.device, len(watch.devices))
    rows = np.flatnonzero(ev.of_kind(EventKind.CHECKIN) & non_fitted[dev] & np.isfinite(ev.value))
    at, value = ev.at[rows], ev.value[rows]
    out: list[Hit] = []
    for prompt in prompts(rule, span.start_ms, span.end_ms):
        closes = prompt + window
        if closes > span.now_ms:
            continue
        lo, hi = np.searchsorted(at, [prompt, closes], side="left")
        answers = value[lo:hi]
        if np.any(answers == 1):
            continue
        when = local(events.instant(prompt)).strftime("%a %d %b %H:%M")
        if answers.size:
            out.append(Hit(code="CHECKIN-FAILED", start_ms=int(at[lo]), end_ms=int(at[lo]),
                           detail=(f"prompt at {when}: {answers.size} attempt(s), "
                                   "none matched the biometric")))
        else:
            out.append(Hit(code="CHECKIN-MISSED", start_ms=closes, end_ms=closes,
                           detail=f"prompt at {when}: no check-in within {rule.window_min} min"))
    return out
