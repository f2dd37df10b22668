"""Simplifying a trail for display keeps the fixes that are evidence; stops are found."""
from __future__ import annotations

import numpy as np
import pytest

from emdesk.domain.conditions import Circle, Zone, ZoneKind
from emdesk.domain.geography import from_bng, to_bng
from emdesk.domain.trails import crossings, doubtful, in_stretches, plan, simplified, stops

MIN = 60_000
E0, N0 = 407_000.0, 287_000.0          # Birmingham on the grid


def walk(points_m, *, every_ms=MIN, hdop=1.0):
    """A trail through grid offsets (metres from E0, N0), one fix per ``every_ms``."""
    xy = np.asarray(points_m, float)
    lat, lon = from_bng(E0 + xy[:, 0], N0 + xy[:, 1])
    at = np.arange(len(xy), dtype=np.int64) * every_ms + 1_764_547_200_000
    return at, np.asarray(lat), np.asarray(lon), np.full(len(xy), hdop)


def straight(n, step=100.0, wobble=0.0):
    return [(i * step, wobble * (i % 2)) for i in range(n)]


@pytest.mark.parametrize(("points", "tolerance", "kept"), [
    (straight(50), 5.0, [0, 49]),                        # a straight road: the ends only
    (straight(50, wobble=3.0), 5.0, [0, 49]),            # GPS wobble under tolerance: gone
    (straight(50, wobble=3.0), 1.0, list(range(50))),   # ... over it: every zigzag kept
    ([(0, 0), (100, 0), (100, 100)], 5.0, [0, 1, 2]),    # a corner is kept
    ([(0, 0)], 5.0, [0]),
    ([], 5.0, []),
])
def test_douglas_peucker_picks_the_vertices_that_shape_the_line(points, tolerance, kept):
    xy = np.asarray(points, float).reshape(-1, 2)
    assert simplified(xy[:, 0], xy[:, 1], tolerance).tolist() == kept


@pytest.mark.parametrize(("stretch", "inside"), [
    ((10, 12), [9, 10, 11, 12]),           # the stretch's fixes and the one before it
    ((0, 1), [0, 1]),
    ((47, None), [46, 47, 48, 49]),        # still going: to the end
    ((100, 200), []),                      # after the trail
])
def test_a_violation_stretch_keeps_its_fixes(stretch, inside):
    at = np.arange(50, dtype=np.int64) * MIN
    start, end = stretch
    mask = in_stretches(at, [(start * MIN, None if end is None else end * MIN)])
    assert np.flatnonzero(mask).tolist() == inside


def _zone(dx, dy, r, kind=ZoneKind.EXCLUSION, name="z"):
    lat, lon = from_bng(E0 + dx, N0 + dy)
    return Zone(name=name, kind=kind, shape=Circle(lat=float(lat), lon=float(lon), radius_m=r))


@pytest.mark.parametrize(("zone", "expected"), [
    (_zone(2_500, 0, 250), [(23, True), (28, False)]),   # through a circle: in at 2.3 km, out at 2.8 km
    (_zone(2_500, 2_000, 300), []),                      # beside the road: never crossed
    (_zone(0, 0, 350), [(4, False)]),                    # starts inside, leaves
])
def test_zone_crossings_are_found_with_their_direction(zone, expected):
    at, lat, lon, _ = walk(straight(50))
    x, y = to_bng(lat, lon)
    found = crossings(at, np.asarray(x), np.asarray(y), [zone])
    assert [(c.index, c.entered) for c in found] == expected


def test_simplification_keeps_violations_crossings_and_doubtful_fixes_a_straight_line_would_drop():
    at, lat, lon, hdop = walk(straight(50))
    hdop[17] = 9.0                    # a doubtful fix in the middle of the road
    hdop[33] = np.nan                 # no HDOP reported: doubtful too
    zone = _zone(2_500, 0, 250)
    p = plan(at, lat, lon, hdop, zones=[zone], stretches=[(at[40], at[42])])
    kept = set(p.kept.tolist())
    assert {0, 49} <= kept
    assert {22, 23, 27, 28} <= kept           # both sides of both crossings
    assert {39, 40, 41, 42} <= kept           # the violation and the fix before it
    assert {17, 33} <= kept
    assert 10 not in kept and 45 not in kept  # plain road between: dropped
    assert [c.entered for c in p.crossings] == [True, False]


@pytest.mark.parametrize(("hdop", "flag"), [(1.0, False), (4.0, False), (4.5, True), (np.nan, True)])
def test_a_fix_is_doubtful_when_its_accuracy_is_poor(hdop, flag):
    assert doubtful(np.array([hdop])).tolist() == [flag]


def _stay_then_go(stay, *, jitter=10.0, every_ms=MIN):
    pts = [(jitter * (i % 3), jitter * ((i + 1) % 2)) for i in range(stay)]
    pts += [(200.0 + 150 * i, 0.0) for i in range(10)]
    return walk(pts, every_ms=every_ms)


@pytest.mark.parametrize(("stay", "every_ms", "dwell_min", "radius", "found"), [
    (12, MIN, 5, 50, [(0, 11, 11)]),          # 11 minutes at one place
    (5, MIN, 5, 50, []),                      # 4 minutes: not a stop
    (6, MIN, 5, 50, [(0, 5, 5)]),             # exactly 5: a stop
    (12, MIN, 5, 5, []),                      # jitter wider than the radius: no stop
    (4, 3 * MIN, 5, 50, [(0, 3, 9)]),         # few fixes, far apart, still a dwell
])
def test_stops_are_dwells_within_the_radius(stay, every_ms, dwell_min, radius, found):
    at, lat, lon, _ = _stay_then_go(stay, every_ms=every_ms)
    x, y = to_bng(lat, lon)
    got = stops(at, np.asarray(x), np.asarray(y), lat, lon, min_dwell_ms=dwell_min * MIN, radius_m=radius)
    assert [(s.first, s.last, s.dwell_ms // MIN) for s in got] == found
    for s in got:
        assert abs(s.lat - lat[s.first]) < 0.001


def test_a_stop_s_ends_are_kept_and_two_stops_are_two():
    pts = [(0.0, 0.0)] * 10 + [(300.0 * i, 0.0) for i in range(1, 6)] + [(1_500.0, 5.0)] * 8
    at, lat, lon, hdop = walk(pts)
    p = plan(at, lat, lon, hdop)
    assert [(s.first, s.last) for s in p.stops] == [(0, 9), (14, 22)]
    assert {0, 9, 14, 22} <= set(p.kept.tolist())
