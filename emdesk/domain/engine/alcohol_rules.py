"""Alcohol: transdermal readings over the order's threshold, sustained."""
from __future__ import annotations

import numpy as np

from emdesk.domain.conditions import AlcoholMode
from emdesk.domain.monitoring import EventKind

from . import events
from .hits import Hit, Span
from .tracks import runs
from .watch import Watch


def threshold(watch: Watch) -> float:
    """mg/100 ml: the order's own level when it monitors a level, else the service's."""
    rule = watch.conditions.alcohol
    if rule is not None and rule.mode is AlcoholMode.LEVEL and rule.threshold is not None:
        return float(rule.threshold)
    return watch.settings.alcohol_threshold


def alcohol_hits(watch: Watch, ev: events.EventBatch, span: Span) -> list[Hit]:
    """One ALCOHOL hit per episode of at least ``alcohol_sustain`` consecutive readings
    over the threshold: from the first reading over to the first back under.

    A lone high reading is not raised: perfume, hand gel or a solvent near the skin can
    give one, while drinking raises several readings in a row as the level rises and falls.
    """
    if watch.conditions.alcohol is None:
        return []
    rows = np.flatnonzero(ev.of_kind(EventKind.ALCOHOL_READING) & np.isfinite(ev.value)
                          & (ev.at <= span.now_ms))
    if rows.size == 0:
        return []
    at, value = ev.at[rows], ev.value[rows]
    limit = threshold(watch)
    sustain = max(1, watch.settings.alcohol_sustain)
    until = min(span.end_ms, span.now_ms)
    out: list[Hit] = []
    starts, ends = runs(value > limit)
    for i, j in zip(starts.tolist(), ends.tolist()):
        start = int(at[i])
        if j - i < sustain or not (span.start_ms <= start < until):
            continue
        end = int(at[j]) if j < rows.size else None
        out.append(Hit(code="ALCOHOL", start_ms=start, end_ms=end,
                       detail=(f"{j - i} readings over {limit:g} mg/100 ml, "
                               f"peak {float(value[i:j].max()):g} mg/100 ml")))
    return out
