"""A wearer's trail made fit to draw: fewer vertices, none of the fixes that matter lost.

A week of fixes is thousands of points, most of them on a straight road or at home.
Douglas-Peucker (shapely's ``simplify``, on the British National Grid so the tolerance
is metres) picks the vertices that keep the shape; then the fixes that are evidence go
back in whatever the shape says: every fix in a violation's stretch, both fixes either
side of a zone boundary crossing, the first and last fix of each stop, the first and
last of the trail, and every doubtful fix (its accuracy is drawn, so it must be there).

Stops: the wearer stayed within ``radius_m`` of where the stop began for at least
``min_dwell_ms``; the stop runs from its first fix to its last.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from .conditions import Zone
from .engine.tracks import accuracy_m
from .engine.zone_rules import depth_inside_m
from .geography import to_bng

DEFAULT_TOLERANCE_M = 8.0        # under a fix's own accuracy: nothing a reader could see is lost
DEFAULT_STOP_DWELL_MS = 5 * 60_000
DEFAULT_STOP_RADIUS_M = 50.0
DOUBTFUL_ACCURACY_M = 20.0       # HDOP over 4, or not reported at all (taken as 5)


@dataclass(frozen=True)
class Fix:
    """One position as the map shows it (``accuracy_m`` from the fix's HDOP)."""

    at_ms: int
    lat: float
    lon: float
    accuracy_m: float
    doubtful: bool = False


@dataclass(frozen=True)
class Stop:
    start_ms: int
    end_ms: int
    lat: float                   # the centre: the mean of the stop's fixes
    lon: float
    first: int                   # fix indices, inclusive
    last: int

    @property
    def dwell_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Crossing:
    """A zone boundary crossed between fix ``index - 1`` and fix ``index``."""

    index: int
    at_ms: int
    zone: str
    entered: bool


@dataclass(frozen=True)
class Plan:
    """What to draw of a trail: the kept fix indices (sorted), its stops and crossings."""

    kept: np.ndarray
    stops: tuple[Stop, ...]
    crossings: tuple[Crossing, ...]


def doubtful(hdop: np.ndarray, limit_m: float = DOUBTFUL_ACCURACY_M) -> np.ndarray:
    """Fixes whose accuracy radius is over ``limit_m`` (a missing HDOP counts as poor)."""
    return accuracy_m(np.asarray(hdop, float)) > limit_m


def simplified(x: np.ndarray, y: np.ndarray, tolerance_m: float = DEFAULT_TOLERANCE_M) -> np.ndarray:
    """Indices of the vertices Douglas-Peucker keeps of the line through (x, y), metres."""
    n = len(x)
    if n <= 2:
        return np.arange(n)
    xy = np.column_stack([x, y])
    kept = shapely.get_coordinates(shapely.simplify(shapely.linestrings(xy), tolerance_m, preserve_topology=False))
    # The simplified line's vertices are input vertices, in order: match them greedily.
    out = np.empty(len(kept), dtype=np.int64)
    i = 0
    xs, ys = xy[:, 0].tolist(), xy[:, 1].tolist()
    for k, (kx, ky) in enumerate(kept.tolist()):
        while xs[i] != kx or ys[i] != ky:
            i += 1
        out[k] = i
        i += 1
    return out


def in_stretches(at: np.ndarray, stretches: Sequence[tuple[int, int | None]]) -> np.ndarray:
    """Fixes inside any [start, end] stretch (end None: to the end of the trail), plus the
    fix just before each, which shows where the wearer came from."""
    mask = np.zeros(len(at), bool)
    for start, end in stretches:
        lo = int(np.searchsorted(at, start, side="left"))
        hi = len(at) if end is None else int(np.searchsorted(at, end, side="right"))
        if lo < len(at):                  # a stretch after the last fix has none of them
            mask[max(0, lo - 1):hi] = True
    return mask


def crossings(at: np.ndarray, x: np.ndarray, y: np.ndarray, zones: Sequence[Zone]) -> list[Crossing]:
    """Each change of inside/outside of each zone, in time order."""
    out: list[Crossing] = []
    if len(at) < 2:
        return out
    for zone in zones:
        inside = depth_inside_m(zone.shape, x, y) >= 0      # on the line is inside, as the rules have it
        for i in (np.flatnonzero(inside[1:] != inside[:-1]) + 1).tolist():
            out.append(Crossing(i, int(at[i]), zone.name, bool(inside[i])))
    out.sort(key=lambda c: (c.index, c.zone))
    return out


def stops(at: np.ndarray, x: np.ndarray, y: np.ndarray, lat: np.ndarray, lon: np.ndarray, *,
          min_dwell_ms: int = DEFAULT_STOP_DWELL_MS, radius_m: float = DEFAULT_STOP_RADIUS_M) -> list[Stop]:
    """Places the wearer stayed: every fix within ``radius_m`` of the stop's first fix, for at
    least ``min_dwell_ms`` from first to last."""
    n = len(at)
    out: list[Stop] = []
    r2 = radius_m * radius_m
    i = 0
    while i < n - 1:
        # How far the run within the radius of fix i goes: vectorised over a growing window.
        j = i + 1
        step = 64
        while j < n:
            hi = min(n, j + step)
            far = np.flatnonzero((x[j:hi] - x[i]) ** 2 + (y[j:hi] - y[i]) ** 2 > r2)
            if far.size:
                j += int(far[0])
                break
            j = hi
            step *= 2
        last = j - 1
        if last > i and at[last] - at[i] >= min_dwell_ms:
            out.append(Stop(int(at[i]), int(at[last]), float(np.mean(lat[i:j])), float(np.mean(lon[i:j])), i, last))
            i = j
        else:
            i += 1
    return out


def plan(at: np.ndarray, lat: np.ndarray, lon: np.ndarray, hdop: np.ndarray, *, zones: Sequence[Zone] = (),
         stretches: Sequence[tuple[int, int | None]] = (), tolerance_m: float = DEFAULT_TOLERANCE_M,
         min_dwell_ms: int = DEFAULT_STOP_DWELL_MS, radius_m: float = DEFAULT_STOP_RADIUS_M) -> Plan:
    """The fixes to draw of a trail (arrays in time order), its stops and zone crossings."""
    at = np.asarray(at, np.int64)
    lat, lon, hdop = (np.asarray(a, float) for a in (lat, lon, hdop))
    n = len(at)
    if n == 0:
        return Plan(np.zeros(0, np.int64), (), ())
    x, y = (np.asarray(v, float) for v in to_bng(lat, lon))
    keep = np.zeros(n, bool)
    keep[simplified(x, y, tolerance_m)] = True
    keep[[0, n - 1]] = True
    keep |= in_stretches(at, stretches)
    keep |= doubtful(hdop)
    crossed = crossings(at, x, y, zones)
    for c in crossed:
        keep[[c.index - 1, c.index]] = True
    found = stops(at, x, y, lat, lon, min_dwell_ms=min_dwell_ms, radius_m=radius_m)
    for s in found:
        keep[[s.first, s.last]] = True
    return Plan(np.flatnonzero(keep), tuple(found), tuple(crossed))


__all__ = ["Crossing", "Fix", "Plan", "Stop", "crossings", "doubtful", "in_stretches", "plan", "simplified", "stops"]
