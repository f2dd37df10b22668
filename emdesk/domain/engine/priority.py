"""An incident's priority (0-100) and the reasons for it, in words.

Serious and minor breaches must not look alike: the score starts from what was broken
(a protected person's zone above all), then moves with who the wearer is (cohort, risk),
how long and how deep, the hour, how sure the engine is, and the wearer's recent history.
Every step that moves the score leaves a reason the operator can read.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from emdesk.domain.clock import local
from emdesk.domain.orders import Cohort

from .events import instant
from .incidents import Draft
from .watch import RiskLevel, Watch

# What was broken: the starting score and how it reads.
BASE: dict[str, tuple[int, str]] = {
    "PROXIMITY": (95, "came near a protected person"),
    "ZONE-EXCLUSION-ENTRY": (70, "entered an exclusion zone"),
    "AL12": (65, "absent for the whole curfew"),
    "TAMPER-STRAP": (65, "strap tampered with"),
    "TAMPER-CASE": (55, "case tampered with"),
    "TAMPER-BODY": (50, "tag lost skin contact"),
    "AL23": (50, "let the battery die"),
    "ALCOHOL": (55, "drank alcohol against the order"),
    "AL10": (50, "left home during curfew"),
    "AL11": (50, "out at the end of curfew"),
    "AL08": (45, "out past curfew start"),
    "AL09": (40, "returned late for curfew"),
    "ZONE-INCLUSION-EXIT": (50, "left an inclusion zone in its hours"),
    "AL05": (45, "home unit moved"),
    "AL04": (35, "home unit off mains power"),
    "CHECKIN-MISSED": (45, "missed a check-in"),
    "CHECKIN-FAILED": (45, "failed a check-in"),
    "AL24": (25, "device fault"),
    "AL21": (15, "battery low"),
    "UNMONITORED": (40, "silent for 14 days or more"),
    "COMMS-GAP": (20, "no contact from the device"),
    "NO-FIX": (15, "no GPS fix"),
    "GPS-JUMP": (5, "a GPS fix jumped impossibly far"),
    "GPS-POOR": (5, "poor GPS accuracy"),
}
_RISK = {RiskLevel.VERY_HIGH: 20, RiskLevel.HIGH: 12, RiskLevel.MEDIUM: 5, RiskLevel.LOW: 0}
# Police act on bail breaches at once; specials are the cases the contract marks urgent.
_COHORT = {Cohort.SPECIALS: 10, Cohort.COURT_BAIL: 5}


@dataclass(frozen=True)
class Priority:
    score: int
    reasons: tuple[str, ...]


def _minutes(seconds: float) -> str:
    m = int(round(seconds / 60))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def score(draft: Draft, watch: Watch, until_ms: int, *, history: int = 0) -> Priority:
    """``history``: the wearer's genuine incidents in the previous 30 days."""
    base, what = max((BASE.get(c, (20, c)) for c in draft.codes), key=lambda b: b[0])
    reasons = [f"{what} ({', '.join(draft.codes)})"]
    points = float(base)
    if watch.risk is not None and _RISK[watch.risk]:
        points += _RISK[watch.risk]
        reasons.append(f"{watch.risk.value.replace('_', ' ')} risk of serious harm (+{_RISK[watch.risk]})")
    if watch.cohort in _COHORT:
        points += _COHORT[watch.cohort]
        reasons.append(f"{watch.cohort.label} cohort (+{_COHORT[watch.cohort]})")
    seconds = draft.seconds(until_ms)
    if seconds >= 60:
        add = min(15, round(5 * math.log10(seconds / 60 + 1) * 2))
        points += add
        still = " and still going" if draft.end_ms is None else ""
        reasons.append(f"lasted {_minutes(seconds)}{still} (+{add})")
    if draft.depth_m >= 10:
        add = min(10, round(draft.depth_m / 50))
        if add:
            points += add
            reasons.append(f"{draft.depth_m:.0f} m inside the boundary (+{add})")
    hour = local(instant(draft.start_ms)).hour
    if hour >= 22 or hour < 6:
        points += 5
        reasons.append(f"at night ({local(instant(draft.start_ms)):%H:%M}) (+5)")
    if history:
        add = min(10, 3 * history)
        points += add
        reasons.append(f"{history} other breach{'es' if history > 1 else ''} in the last 30 days (+{add})")
    if draft.technical:
        points *= 0.3
        reasons.append(f"likely technical, {draft.confidence:.0%} sure (x0.3)")
    elif not draft.certain:
        points *= 0.8
        reasons.append("possible only: the fixes' accuracy straddles the boundary (x0.8)")
    elif draft.confidence < 1:
        points *= 0.5 + draft.confidence / 2
        reasons.append(f"{draft.confidence:.0%} sure it was the wearer (x{0.5 + draft.confidence / 2:.2f})")
    return Priority(max(0, min(100, int(round(points)))), tuple(reasons))
