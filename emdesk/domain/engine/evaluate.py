"""One order, one violation period: events in, incidents (with priorities) out."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import (alcohol_rules, checkin_rules, curfew_rules, device_rules, gps_rules, proximity_rules, technical,
               zone_rules)
from .events import HOUR_MS, EventBatch
from .hits import Hit, Span
from .incidents import Draft, merge
from .priority import Priority, score
from .watch import Watch

# Events read around a period: the state before it (was the wearer home at 07:00?), and
# the end of a curfew that runs past 06:59.
LOOKBACK_MS = 12 * HOUR_MS
LOOKAHEAD_MS = 12 * HOUR_MS


@dataclass(frozen=True)
class Evaluation:
    hits: list[Hit]
    incidents: list[tuple[Draft, Priority]]


def window(period_start_ms: int, period_end_ms: int) -> tuple[int, int]:
    """The events an evaluation of this period reads."""
    return period_start_ms - LOOKBACK_MS, period_end_ms + LOOKAHEAD_MS


def hits_for(watch: Watch, ev: EventBatch, span: Span, *, last_contact_ms: int | None = None) -> list[Hit]:
    good, hits = gps_rules.fix_quality(watch, ev, span)
    hits = list(hits)
    hits += gps_rules.gap_hits(watch, ev, span)
    hits += curfew_rules.curfew_hits(watch, ev, good, span)
    hits += device_rules.device_hits(watch, ev, span)
    hits += zone_rules.zone_hits(watch, ev, good, span)
    hits += proximity_rules.proximity_hits(watch, ev, good, span)
    hits += alcohol_rules.alcohol_hits(watch, ev, span)
    hits += checkin_rules.checkin_hits(watch, ev, span)
    if last_contact_ms is not None:
        silent = gps_rules.silent_hit(watch, last_contact_ms, span)
        if silent is not None:
            hits.append(silent)
    # A rule may read past the period for context; it raises only what began inside it.
    until = min(span.end_ms, span.now_ms)
    hits = [h for h in hits if span.start_ms <= h.start_ms < until or h.code == "UNMONITORED"]
    return technical.explain(hits)


def evaluate_period(watch: Watch, ev: EventBatch, span: Span, *, history: int = 0,
                    last_contact_ms: int | None = None) -> Evaluation:
    if len(ev) and not bool(np.all(np.diff(ev.at) >= 0)):
        ev = ev.sorted()
    hits = hits_for(watch, ev, span, last_contact_ms=last_contact_ms)
    until = min(span.end_ms, span.now_ms)
    drafts = merge(hits, watch.settings)
    return Evaluation(hits, [(d, score(d, watch, until, history=history)) for d in drafts])
