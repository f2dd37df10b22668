"""Alcohol: sustained readings over the threshold, one hit per episode."""
import pytest
from zkit import batch, brief, reading, span, uk, watch

from emdesk.domain.conditions import AlcoholMode, AlcoholMonitoring, Conditions
from emdesk.domain.engine import events
from emdesk.domain.engine.alcohol_rules import alcohol_hits, threshold
from emdesk.domain.monitoring import EventKind

M = events.MINUTE_MS
T = uk(2026, 6, 10, 20, 0)
DAY = span(uk(2026, 6, 10, 7, 0), uk(2026, 6, 11, 7, 0))
ABSTAIN = AlcoholMonitoring(mode=AlcoholMode.ABSTINENCE)
LEVEL_50 = AlcoholMonitoring(mode=AlcoholMode.LEVEL, threshold=50.0)


def readings(*values, start=T, every_min=30):
    return [reading(start + k * every_min * M, EventKind.ALCOHOL_READING, v) for k, v in enumerate(values)]


CASES = [
    # (case, condition, rows, span, expected briefs)
    ("two consecutive over", ABSTAIN, readings(0, 25, 30, 5), DAY, [("ALCOHOL", T + 30 * M, T + 90 * M, True, 1.0)]),
    ("a lone spike", ABSTAIN, readings(0, 80, 0, 0), DAY, []),
    ("spikes with a reading under between", ABSTAIN, readings(80, 0, 80, 0), DAY, []),
    ("at the threshold is not over", ABSTAIN, readings(20, 20, 20), DAY, []),
    ("still over at the last reading", ABSTAIN, readings(0, 40, 60), DAY, [("ALCOHOL", T + 30 * M, None, True, 1.0)]),
    ("two episodes", ABSTAIN, readings(30, 30, 0, 30, 30, 0), DAY,
     [("ALCOHOL", T, T + 60 * M, True, 1.0), ("ALCOHOL", T + 90 * M, T + 150 * M, True, 1.0)]),
    ("level mode: under the order's 50 is allowed", LEVEL_50, readings(0, 35, 45, 0), DAY, []),
    ("level mode: over the order's 50", LEVEL_50, readings(0, 55, 70, 0), DAY,
     [("ALCOHOL", T + 30 * M, T + 90 * M, True, 1.0)]),
    ("abstinence ignores a stray threshold", AlcoholMonitoring(mode=AlcoholMode.ABSTINENCE, threshold=50.0),
     readings(0, 35, 45, 0), DAY, [("ALCOHOL", T + 30 * M, T + 90 * M, True, 1.0)]),
    ("an episode begun before the span", ABSTAIN, readings(40, 40, 0, start=uk(2026, 6, 10, 6, 0)), DAY, []),
    ("readings after now are not read", ABSTAIN, readings(0, 40, 40, 40),
     span(DAY.start_ms, DAY.end_ms, T + 45 * M), []),
    ("no alcohol condition", None, readings(40, 40, 40), DAY, []),
]


@pytest.mark.parametrize(("case", "condition", "rows", "the_span", "expected"), CASES, ids=[c[0] for c in CASES])
def test_alcohol_hits(case, condition, rows, the_span, expected):
    got = alcohol_hits(watch(Conditions(alcohol=condition)), batch(rows), the_span)
    assert [brief(h) for h in got] == expected
    assert all(h.condition == "alcohol" for h in got)


def test_detail_gives_the_peak():
    (hit,) = alcohol_hits(watch(Conditions(alcohol=ABSTAIN)), batch(readings(0, 25, 64.5, 30, 5)), DAY)
    assert "peak 64.5 mg/100 ml" in hit.detail and "3 readings" in hit.detail


@pytest.mark.parametrize(("condition", "settings", "limit"), [
    (ABSTAIN, {}, 20.0),
    (ABSTAIN, {"alcohol_threshold": 10.0}, 10.0),
    (LEVEL_50, {}, 50.0),
    (AlcoholMonitoring(mode=AlcoholMode.LEVEL), {}, 20.0),       # a level order that names none
    (AlcoholMonitoring(mode=None), {}, 20.0),
])
def test_threshold(condition, settings, limit):
    assert threshold(watch(Conditions(alcohol=condition), **settings)) == limit


def test_sustain_setting():
    rows = readings(0, 40, 40, 0)
    assert alcohol_hits(watch(Conditions(alcohol=ABSTAIN), alcohol_sustain=3), batch(rows), DAY) == []
    assert len(alcohol_hits(watch(Conditions(alcohol=ABSTAIN), alcohol_sustain=2), batch(rows), DAY)) == 1
