"""Exclusion and inclusion zones: visits, certainty, hours, clock changes, the span."""
from datetime import datetime, time, timezone

import numpy as np
import pytest
from zkit import (
    ORIGIN, VICTIM, all_good, batch, brief, fix, place, span, track, uk, utc, watch,
)

from emdesk.domain.conditions import Circle, Conditions, CurfewWindow, Polygon, Zone, ZoneKind
from emdesk.domain.engine import events
from emdesk.domain.engine.tracks import accuracy_m, grid
from emdesk.domain.engine.zone_rules import depth_inside_m, zone_hits

M = events.MINUTE_MS
ENTRY, EXIT = "ZONE-EXCLUSION-ENTRY", "ZONE-INCLUSION-EXIT"

CIRCLE = Circle(lat=ORIGIN[0], lon=ORIGIN[1], radius_m=200.0)
SQUARE = Polygon(points=(place(-200, -200), place(200, -200), place(200, 200), place(-200, 200)))
DAYTIME = tuple(CurfewWindow(weekday=d, start=time(8), end=time(18)) for d in range(7))
OFFICE = tuple(CurfewWindow(weekday=d, start=time(9), end=time(17)) for d in range(7))


def zone(shape=CIRCLE, kind=ZoneKind.EXCLUSION, **bounds) -> Zone:
    return Zone(name="school", kind=kind, shape=shape, **bounds)


T = uk(2026, 6, 10, 12, 0)                      # a Wednesday in summer time
DAY = span(uk(2026, 6, 10, 7, 0), uk(2026, 6, 11, 7, 0))
IN_OUT = [(1000, 0), (100, 0), (0, 0), (50, 0), (1000, 0)]


def at(hh, mm, east, north=0.0):
    return fix(uk(2026, 6, 10, hh, mm), east, north)


CASES = [
    # (case, zone, rows, span, settings, expected briefs)
    ("circle: deep visit", zone(), track(T, 60, IN_OUT), DAY, {}, [(ENTRY, T + M, T + 4 * M, True, 1.0)]),
    ("polygon: deep visit", zone(SQUARE), track(T, 60, IN_OUT), DAY, {}, [(ENTRY, T + M, T + 4 * M, True, 1.0)]),
    ("circle: accuracy circle straddles the edge", zone(),
     track(T, 60, [(500, 0), (196, 0), (0, 196), (500, 0)], hdop=2.0), DAY, {},
     [(ENTRY, T + M, T + 3 * M, False, 1.0)]),
    ("polygon: accuracy circle straddles the edge", zone(SQUARE),
     track(T, 60, [(500, 0), (196, 0), (196, 100), (500, 0)], hdop=2.0), DAY, {},
     [(ENTRY, T + M, T + 3 * M, False, 1.0)]),
    ("outside but within accuracy: not raised", zone(),
     track(T, 60, [(500, 0), (204, 0), (500, 0)], hdop=4.0), DAY, {}, []),
    ("brief 3-minute entry", zone(), track(T, 60, [(500, 0), (0, 0), (0, 0), (0, 0), (500, 0)]), DAY, {},
     [(ENTRY, T + M, T + 4 * M, True, 1.0)]),
    ("brief entry under the dwell setting", zone(),
     track(T, 60, [(500, 0), (0, 0), (0, 0), (0, 0), (500, 0)]), DAY, {"zone_dwell_s": 300}, []),
    ("long stay, still inside at the end", zone(), track(T, 600, [(500, 0)] + [(0, 0)] * 20), DAY, {},
     [(ENTRY, T + 10 * M, None, True, 1.0)]),
    ("a lone fix between fixes outside", zone(), track(T, 60, [(500, 0), (0, 0), (500, 0)]), DAY, {},
     [(ENTRY, T + M, T + 2 * M, True, 0.5)]),
    ("a lone fix at the end is the latest word", zone(), track(T, 60, [(500, 0), (0, 0)]), DAY, {},
     [(ENTRY, T + M, None, True, 1.0)]),
    ("two visits", zone(), track(T, 60, [(0, 0), (0, 0), (500, 0), (0, 0), (0, 0), (500, 0)]), DAY, {},
     [(ENTRY, T, T + 2 * M, True, 1.0), (ENTRY, T + 3 * M, T + 5 * M, True, 1.0)]),
    ("08:00-18:00 zone: entry at 07:50 counts from 08:00", zone(active_windows=DAYTIME),
     [at(7, 40, 500), at(7, 50, 0), at(8, 10, 0), at(8, 30, 500)], DAY, {},
     [(ENTRY, uk(2026, 6, 10, 8, 0), uk(2026, 6, 10, 8, 30), True, 1.0)]),
    ("08:00-18:00 zone: entry at 19:00 is nothing", zone(active_windows=DAYTIME),
     [at(18, 50, 500), at(19, 0, 0), at(19, 30, 0), at(19, 40, 500)], DAY, {}, []),
    ("08:00-18:00 zone: a stay over 18:00 ends with the zone", zone(active_windows=DAYTIME),
     [at(17, 20, 500), at(17, 30, 0), at(17, 50, 0), at(18, 30, 500)], DAY, {},
     [(ENTRY, uk(2026, 6, 10, 17, 30), uk(2026, 6, 10, 18, 0), True, 1.0)]),
    ("inclusion: out during its hours, not after", zone(kind=ZoneKind.INCLUSION, active_windows=OFFICE),
     [at(8, 50, 0), at(10, 0, 600), at(10, 10, 600), at(10, 30, 0), at(18, 0, 600), at(18, 10, 600), at(19, 0, 0)], DAY, {},
     [(EXIT, uk(2026, 6, 10, 10, 0), uk(2026, 6, 10, 10, 30), True, 1.0)]),
    ("inclusion: still out when its hours begin", zone(kind=ZoneKind.INCLUSION, active_windows=OFFICE),
     [at(8, 30, 600), at(9, 20, 0)], DAY, {},
     [(EXIT, uk(2026, 6, 10, 9, 0), uk(2026, 6, 10, 9, 20), True, 1.0)]),
    ("inclusion: just outside within accuracy is possible", zone(kind=ZoneKind.INCLUSION),
     track(T, 60, [(0, 0), (205, 0), (0, 0)], hdop=3.0), DAY, {},
     [(EXIT, T + M, T + 2 * M, False, 0.5)]),
    ("autumn clock change: 07:10 UTC is in hours on Saturday, not on Sunday",
     zone(active_windows=DAYTIME),
     [fix(utc(2026, 10, 24, 7, 0), 500, 0), fix(utc(2026, 10, 24, 7, 10), 0, 0), fix(utc(2026, 10, 24, 8, 10), 0, 0),
      fix(utc(2026, 10, 24, 9, 0), 500, 0),
      fix(utc(2026, 10, 25, 7, 0), 500, 0), fix(utc(2026, 10, 25, 7, 10), 0, 0), fix(utc(2026, 10, 25, 8, 10), 0, 0),
      fix(utc(2026, 10, 25, 9, 0), 500, 0)],
     span(utc(2026, 10, 24), utc(2026, 10, 26)), {},
     [(ENTRY, utc(2026, 10, 24, 7, 10), utc(2026, 10, 24, 9, 0), True, 1.0),
      (ENTRY, utc(2026, 10, 25, 8, 0), utc(2026, 10, 25, 9, 0), True, 1.0)]),
    ("a visit begun before the span is not raised again", zone(),
     [at(6, 30, 0), at(7, 10, 0), at(7, 30, 500)], DAY, {}, []),
    ("fixes after now are not read", zone(), track(T, 60, [(500, 0), (0, 0), (500, 0)]),
     span(DAY.start_ms, DAY.end_ms, T + M + 30_000), {}, [(ENTRY, T + M, None, True, 1.0)]),
    ("a hit starting after the span is not raised", zone(), track(T, 60, IN_OUT),
     span(DAY.start_ms, T + M), {}, []),
    ("the protected person's phone does not count", zone(), track(T, 60, IN_OUT, device=VICTIM), DAY, {}, []),
    ("active_from cuts the start", zone(active_from=datetime.fromtimestamp((T + 2 * M) / 1000, timezone.utc)),
     track(T, 60, IN_OUT), DAY, {}, [(ENTRY, T + 2 * M, T + 4 * M, True, 1.0)]),
    ("active_until before the visit", zone(active_until=datetime.fromtimestamp(T / 1000, timezone.utc)),
     track(T, 60, IN_OUT), DAY, {}, []),
]


@pytest.mark.parametrize(("case", "the_zone", "rows", "the_span", "settings", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_zone_hits(case, the_zone, rows, the_span, settings, expected):
    ev = batch(rows)
    got = zone_hits(watch(replace_zones(the_zone), **settings), ev, all_good(ev), the_span)
    assert [brief(h) for h in got] == expected
    assert all(h.condition == "zone:school" for h in got)


def replace_zones(*zones):
    return Conditions(zones=zones)


@pytest.mark.parametrize(("east", "hdop", "certain"), [
    (0, 1.0, True),       # 200 m deep, 5 m accuracy
    (150, 1.0, True),     # 50 m deep
    (190, 1.0, True),     # ~10 m deep, 5 m accuracy: still sure
    (190, 3.0, False),    # ~10 m deep, 15 m accuracy: straddles
    (199, 1.0, False),    # ~1 m deep
])
def test_certainty_follows_the_accuracy_circle(east, hdop, certain):
    ev = batch(track(T, 60, [(500, 0), (east, 0), (500, 0)], hdop=hdop))
    (hit,) = zone_hits(watch(replace_zones(zone())), ev, all_good(ev), DAY)
    assert hit.certain is certain
    assert hit.depth_m == pytest.approx(200 - east, abs=0.5)


def test_no_fixes_no_hits():
    ev = events.EventBatch.empty()
    assert zone_hits(watch(replace_zones(zone())), ev, all_good(ev), DAY) == []


def test_only_believed_fixes_count():
    ev = batch(track(T, 60, [(500, 0), (0, 0), (500, 0)]))
    good = all_good(ev)
    assert zone_hits(watch(replace_zones(zone())), ev, good, DAY) != []
    good[1] = False                 # the fix inside was judged a jump
    assert zone_hits(watch(replace_zones(zone())), ev, good, DAY) == []


def test_each_zone_is_its_own_condition():
    far = Zone(name="ex-partner's street", kind=ZoneKind.EXCLUSION,
               shape=Circle(lat=place(3000, 0)[0], lon=place(3000, 0)[1], radius_m=100))
    ev = batch(track(T, 60, [(0, 0), (1500, 0), (3000, 0), (1500, 0)]))
    got = zone_hits(watch(replace_zones(zone(), far)), ev, all_good(ev), DAY)
    assert [(h.condition, h.start_ms, h.end_ms) for h in got] == [
        ("zone:school", T, T + M), ("zone:ex-partner's street", T + 2 * M, T + 3 * M)]


@pytest.mark.parametrize(("hdop", "radius"), [(None, 25.0), (0.5, 5.0), (1.0, 5.0), (2.5, 12.5), (8.0, 40.0)])
def test_accuracy_radius(hdop, radius):
    assert accuracy_m(np.array([np.nan if hdop is None else hdop]))[0] == radius


def test_depth_is_signed_metres_on_the_grid():
    ev = batch([fix(T, 0, 0), fix(T, 150, 0), fix(T, 250, 0)])
    x, y = grid(ev, np.arange(3))
    assert depth_inside_m(SQUARE, x, y) == pytest.approx([200, 50, -50], abs=0.01)


def test_a_hundred_thousand_fixes():
    # One fix a second, swinging 1 km east and west through a 400 m square every 10 minutes:
    # two visits a swing, each ending at the first fix outside.
    n = 100_000
    seconds = np.arange(n)
    east = 1000 * np.sin(2 * np.pi * seconds / 600)
    lats, lons = place(east, np.zeros(n))
    rows = [(T + int(s) * 1000, events.POSITION, 0, la, lo, 1.0, 0.0, None, False)
            for s, la, lo in zip(seconds, lats, lons)]
    ev = batch(rows)
    long_day = span(T, T + n * 1000)
    got = zone_hits(watch(replace_zones(zone(SQUARE))), ev, all_good(ev), long_day)
    inside = np.abs(east) <= 200
    entries = [k for k in range(n) if inside[k] and (k == 0 or not inside[k - 1])]
    assert [h.start_ms for h in got] == [T + k * 1000 for k in entries]
    assert len(got) == 334          # 166.7 swings, and the track starts in the middle
    # The swing crosses the middle at about 10 m a second, so some fix is within 10 m of it.
    assert all(h.certain and 190 < h.depth_m < 200.01 for h in got)
