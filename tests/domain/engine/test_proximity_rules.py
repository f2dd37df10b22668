"""Victim protection: the wearer near the protected person's phone, and nothing told of where."""
import re

import pytest
from zkit import VICTIM, all_good, batch, brief, fix, span, uk, watch

from emdesk.domain.conditions import Conditions, Proximity
from emdesk.domain.engine import events
from emdesk.domain.engine.proximity_rules import proximity_hits

M = events.MINUTE_MS
T = uk(2026, 6, 10, 12, 0)
DAY = span(uk(2026, 6, 10, 7, 0), uk(2026, 6, 11, 7, 0))
RULE = Conditions(proximity=Proximity(device_serial="PHONE-V", radius_m=500.0))


def wearer(minute, east, hdop=1.0):
    return fix(T + minute * M, east, 0, hdop)


def victim(minute, east=0.0, hdop=1.0):
    return fix(T + minute * M, east, 0, hdop, device=VICTIM)


CASES = [
    # (case, rows, expected briefs)
    ("wearer walks up to the protected phone and away",
     [victim(0), wearer(0, 2000), victim(1), wearer(1, 1000), victim(2), wearer(2, 300),
      victim(3), wearer(3, 200), victim(4), wearer(4, 1000)],
     [("PROXIMITY", T + 2 * M, T + 4 * M, True, 1.0)]),
    ("at the edge with poor accuracy: possible",
     [victim(0), wearer(0, 2000), victim(1), wearer(1, 520, hdop=4.0), victim(2), wearer(2, 2000)],
     [("PROXIMITY", T + M, T + 2 * M, False, 1.0)]),
    ("just inside the edge with poor accuracy: still only possible",
     [victim(0), wearer(0, 2000), victim(1), wearer(1, 490, hdop=4.0), victim(2), wearer(2, 2000)],
     [("PROXIMITY", T + M, T + 2 * M, False, 1.0)]),
    ("at the edge with good accuracy, just outside: nothing",
     [victim(0), wearer(0, 2000), victim(1), wearer(1, 520), victim(2), wearer(2, 2000)], []),
    ("the protected phone's fix 5 minutes old: the walk allowance makes it possible",
     [victim(0), wearer(5, 300), wearer(6, 2000)],
     [("PROXIMITY", T + 5 * M, T + 6 * M, False, 1.0)]),
    ("protected position stale: not judged",
     [victim(0), wearer(20, 100), wearer(21, 100), wearer(22, 2000)], []),
    ("no protected position before the fix: not judged",
     [wearer(0, 100), victim(1, 5000)], []),
    ("still close at the end of the evidence",
     [victim(0), wearer(0, 2000), victim(1), wearer(1, 100), victim(2), wearer(2, 100)],
     [("PROXIMITY", T + M, None, True, 1.0)]),
    ("the protected person comes to the wearer",
     [victim(0, 3000), wearer(0, 0), victim(1, 200), wearer(1, 0), victim(2, 3000), wearer(2, 0)],
     [("PROXIMITY", T + M, T + 2 * M, True, 1.0)]),
]


@pytest.mark.parametrize(("case", "rows", "expected"), CASES, ids=[c[0] for c in CASES])
def test_proximity_hits(case, rows, expected):
    ev = batch(rows)
    got = proximity_hits(watch(RULE), ev, all_good(ev), DAY)
    assert [brief(h) for h in got] == expected
    for hit in got:
        assert hit.condition == "proximity"
        _no_places(hit.detail, ev)


def _no_places(detail: str, ev: events.EventBatch) -> None:
    assert not re.search(r"\d\.\d", detail), detail            # no degrees, no decimals at all
    for lat, lon in zip(ev.lat, ev.lon):
        for digits in range(1, 7):
            assert f"{lat:.{digits}f}" not in detail and f"{abs(lon):.{digits}f}" not in detail


def test_depth_is_how_far_inside_the_radius():
    ev = batch([victim(0), wearer(0, 2000), victim(1), wearer(1, 300), victim(2), wearer(2, 150), victim(3),
                wearer(3, 2000)])
    (hit,) = proximity_hits(watch(RULE), ev, all_good(ev), DAY)
    assert hit.depth_m == pytest.approx(350, abs=0.5)
    assert "500 m" in hit.detail and "150 m apart" in hit.detail


def test_no_proximity_condition_no_hits():
    ev = batch([victim(0), wearer(0, 0)])
    assert proximity_hits(watch(Conditions()), ev, all_good(ev), DAY) == []


def test_a_disbelieved_wearer_fix_is_not_judged():
    ev = batch([victim(0), wearer(0, 2000), victim(1), wearer(1, 100), victim(2), wearer(2, 2000)])
    good = all_good(ev)
    assert proximity_hits(watch(RULE), ev, good, DAY) != []
    good[(ev.device == 0) & (ev.at == T + M)] = False      # the close fix was judged a jump
    assert proximity_hits(watch(RULE), ev, good, DAY) == []
