"""Exclusion and inclusion zones: where the wearer must not go, or must stay, and when.

Every fix is measured against every zone at once on the British National Grid, in
metres.  A visit starts at the first fix inside (not an interpolated crossing time: the
fix is the evidence, a guessed crossing is not) and ends at the first fix outside.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from emdesk.domain.clock import LONDON, local_date
from emdesk.domain.conditions import Curfew, Shape, Zone, ZoneKind
from emdesk.domain.curfew import curfew_intervals
from emdesk.domain.geography import zone_geometry

from . import events
from .hits import Hit, Span
from .tracks import ALWAYS, NEVER_AFTER, NEVER_BEFORE, accuracy_m, grid, minutes, stretches, wearer_fix_rows
from .watch import Watch

# A visit of one fix between fixes outside: believable enough to raise, not to be sure of.
LONE_FIX_CONFIDENCE = 0.5


@lru_cache(maxsize=512)
def grid_zone(shape: Shape) -> tuple[BaseGeometry, BaseGeometry]:
    """The zone and its boundary on the grid, prepared for many points (cached per shape)."""
    area = zone_geometry(shape)
    if not area.is_valid:
        area = shapely.make_valid(area)
    edge = area.boundary
    shapely.prepare(area)
    shapely.prepare(edge)
    return area, edge


def depth_inside_m(shape: Shape, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """How far each grid point is inside the zone: positive inside, negative outside, metres."""
    if x.size == 0:
        return np.zeros(0)
    area, edge = grid_zone(shape)
    inside = shapely.intersects_xy(area, x, y)
    to_edge = shapely.distance(edge, shapely.points(x, y))
    return np.where(inside, to_edge, -to_edge)


def _ms_of(moment: datetime) -> int:
    # A bound written without a zone is read as the UK wall clock it was written in.
    return events.ms(moment if moment.tzinfo else moment.replace(tzinfo=LONDON))


def active_intervals(zone: Zone, lo_ms: int, hi_ms: int) -> tuple[tuple[int, int], ...]:
    """When the zone applies, as sorted [start, end) ms intervals covering lo..hi.

    Weekly windows are placed on the UK wall clock day by day (so across the clock
    changes), then cut to ``active_from``/``active_until``; no windows: always.
    """
    if zone.active_windows:
        first = local_date(events.instant(lo_ms)) - timedelta(days=1)
        last = local_date(events.instant(hi_ms))
        spans = [(events.ms(a), events.ms(b))
                 for a, b in curfew_intervals(Curfew(windows=zone.active_windows), first, last)]
    else:
        spans = list(ALWAYS)
    begin = _ms_of(zone.active_from) if zone.active_from else NEVER_BEFORE
    finish = _ms_of(zone.active_until) if zone.active_until else NEVER_AFTER
    return tuple((max(a, begin), min(b, finish)) for a, b in spans if max(a, begin) < min(b, finish))


def zone_hits(watch: Watch, ev: events.EventBatch, good: np.ndarray, span: Span) -> list[Hit]:
    """Entries into exclusion zones, and exits from inclusion zones in their hours."""
    zones = watch.conditions.zones
    rows = wearer_fix_rows(watch, ev, good, span.now_ms)
    if not zones or rows.size == 0:
        return []
    at = ev.at[rows]
    x, y = grid(ev, rows)
    margin = accuracy_m(ev.hdop[rows])
    horizon = max(int(at[-1]), span.end_ms, span.now_ms)
    out: list[Hit] = []
    for zone in zones:
        inside = depth_inside_m(zone.shape, x, y)
        exclusion = zone.kind is ZoneKind.EXCLUSION
        depth = inside if exclusion else -inside
        # A point on the boundary (depth 0) counts as inside, as zone_contains has it.
        violating = inside >= 0 if exclusion else inside < 0
        active = active_intervals(zone, int(at[0]), horizon)
        for s in stretches(at, violating, depth, margin, active, span):
            if (exclusion and s.end_ms is not None
                    and s.end_ms - s.start_ms < watch.settings.zone_dwell_s * 1000):
                continue
            out.append(Hit(
                code="ZONE-EXCLUSION-ENTRY" if exclusion else "ZONE-INCLUSION-EXIT",
                start_ms=s.start_ms, end_ms=s.end_ms, condition=f"zone:{zone.name}",
                certain=s.certain, confidence=LONE_FIX_CONFIDENCE if s.lone else 1.0,
                detail=_detail(zone, exclusion, s), depth_m=max(0.0, s.depth_m)))
    out.sort(key=lambda h: (h.start_ms, h.condition))
    return out


def _detail(zone: Zone, exclusion: bool, s) -> str:
    where = "inside exclusion zone" if exclusion else "outside inclusion zone"
    fixes = "a single fix" if s.stop - s.first == 1 else f"{s.stop - s.first} fixes"
    words = [f"{where} '{zone.name}': {minutes(s.start_ms, s.end_ms)}, {fixes}, "
             f"up to {max(0.0, s.depth_m):.0f} m {'in' if exclusion else 'out'}"]
    if not s.certain:
        words.append("possible: within GPS accuracy of the boundary")
    if s.lone:
        words.append("one fix between fixes on the right side")
    return "; ".join(words)
