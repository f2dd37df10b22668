"""Victim protection: the wearer must keep away from the protected person's phone.

Each believable wearer fix is set against the protected person's latest position at or
before it.  Both are uncertain (their accuracy circles) and the protected person may have
moved since their fix, so the rule allows for both before it is sure.  Neither party's
position is ever written into a hit: the operator sees distances, never places.
"""
from __future__ import annotations

import numpy as np

from . import events
from .hits import Hit, Span
from .tracks import ALWAYS, accuracy_m, grid, minutes, protected_fix_rows, stretches, wearer_fix_rows
from .watch import Watch

# How far the protected person may have walked since their last fix (brisk walking pace).
WALKING_MPS = 1.5


def proximity_hits(watch: Watch, ev: events.EventBatch, good: np.ndarray, span: Span) -> list[Hit]:
    """One PROXIMITY hit per continuous stretch of wearer fixes within (or possibly within)
    the protected radius.  A fix with no protected position recent enough is not judged,
    and ends a stretch: nothing is known about it either way."""
    rule = watch.conditions.proximity
    if rule is None:
        return []
    wearer = wearer_fix_rows(watch, ev, good, span.now_ms)
    victim = protected_fix_rows(watch, ev, span.now_ms)
    if wearer.size == 0 or victim.size == 0:
        return []
    at = ev.at[wearer]
    v_at = ev.at[victim]
    latest = np.searchsorted(v_at, at, side="right") - 1
    seen = latest >= 0
    latest = np.where(seen, latest, 0)
    age_s = (at - v_at[latest]) / 1000.0
    judged = seen & (age_s <= watch.settings.proximity_max_age_s)

    wx, wy = grid(ev, wearer)
    vx, vy = grid(ev, victim)
    apart = np.hypot(wx - vx[latest], wy - vy[latest])
    # Worst case either way: both fixes off by their accuracy, and the protected person
    # walked straight towards (or away from) the wearer since their fix.
    margin = accuracy_m(ev.hdop[wearer]) + accuracy_m(ev.hdop[victim][latest]) + WALKING_MPS * age_s
    depth = rule.radius_m - apart
    near = judged & (depth > -margin)

    out: list[Hit] = []
    for s in stretches(at, near, depth, margin, ALWAYS, span):
        closest = rule.radius_m - s.depth_m
        words = (f"within the protected person's {rule.radius_m:.0f} m zone: "
                 f"{minutes(s.start_ms, s.end_ms)}, closest about {max(0.0, closest):.0f} m apart")
        if not s.certain:
            words += "; possible: within the positions' accuracy of the edge"
        out.append(Hit(code="PROXIMITY", start_ms=s.start_ms, end_ms=s.end_ms,
                       certain=s.certain, detail=words, depth_m=max(0.0, s.depth_m)))
    return out
