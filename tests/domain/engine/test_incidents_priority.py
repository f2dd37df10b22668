"""Alerts into incidents, excused time, second opinions and priorities: case tables."""
from __future__ import annotations

import pytest

from emdesk.domain.engine.hits import Hit, Span
from emdesk.domain.engine.incidents import Excused, accumulated_seconds, excused_seconds, merge
from emdesk.domain.engine.priority import score
from emdesk.domain.engine.technical import explain
from emdesk.domain.orders import Cohort, RiskLevel

from kit import t, uk, watch

M = 60_000


def H(code, start, end, **kw):
    return Hit(code, t(start), None if end is None else t(end), **kw)


MERGES = [
    # (hits, expected [(codes, start, end)])
    ([H("AL08", "2026-12-01T19:00Z", "2026-12-01T19:47Z"), H("AL09", "2026-12-01T19:47Z", "2026-12-01T19:47Z")],
     [(["AL08", "AL09"], "2026-12-01T19:00Z", "2026-12-01T19:47Z")]),
    # two absences 3 hours apart are two incidents
    ([H("AL10", "2026-12-01T20:00Z", "2026-12-01T20:40Z"), H("AL10", "2026-12-01T23:40Z", "2026-12-02T00:10Z")],
     [(["AL10"], "2026-12-01T20:00Z", "2026-12-01T20:40Z"), (["AL10"], "2026-12-01T23:40Z", "2026-12-02T00:10Z")]),
    # within the merge gap (10 min) they are one
    ([H("AL10", "2026-12-01T20:00Z", "2026-12-01T20:40Z"), H("AL10", "2026-12-01T20:45Z", "2026-12-01T21:00Z")],
     [(["AL10"], "2026-12-01T20:00Z", "2026-12-01T21:00Z")]),
    # an open hit keeps the incident open
    ([H("AL10", "2026-12-01T20:00Z", None)], [(["AL10"], "2026-12-01T20:00Z", None)]),
    # a wild fix (technical) does not swallow a real entry of the same zone
    ([H("GPS-JUMP", "2026-12-01T12:00Z", "2026-12-01T12:00Z", technical=True, confidence=0.95),
      H("ZONE-EXCLUSION-ENTRY", "2026-12-01T12:00Z", "2026-12-01T12:30Z", condition="zone:park")],
     [(["GPS-JUMP"], "2026-12-01T12:00Z", "2026-12-01T12:00Z"),
      (["ZONE-EXCLUSION-ENTRY"], "2026-12-01T12:00Z", "2026-12-01T12:30Z")]),
    # silence after the battery died is the battery's incident
    ([H("AL23", "2026-12-02T02:31Z", None), H("COMMS-GAP", "2026-12-02T02:31Z", None, technical=True)],
     [(["AL23", "COMMS-GAP"], "2026-12-02T02:31Z", None)]),
]


@pytest.mark.parametrize(("hits", "expected"), MERGES)
def test_merge(hits, expected):
    got = [(d.codes, d.start_ms, d.end_ms) for d in merge(hits)]
    assert got == [(c, t(s), None if e is None else t(e)) for c, s, e in expected]


def test_seconds_are_real_elapsed_time_across_the_autumn_change():
    # 19:00 on Sat 24 Oct to 07:00 on Sun 25 Oct 2026: 13 real hours (the clocks went back)
    (d,) = merge([Hit("AL12", uk("2026-10-24", "19:00"), uk("2026-10-25", "07:00"))])
    assert d.seconds(0) == 13 * 3600


EXCUSES = [
    ([(0, 10)], 0, 30, 10),
    ([(0, 10), (5, 15)], 0, 30, 15),        # overlapping excuses count once
    ([(20, 40)], 0, 30, 10),                # only the part inside
    ([], 0, 30, 0),
]


@pytest.mark.parametrize(("excuses", "start", "end", "minutes"), EXCUSES)
def test_excused_seconds(excuses, start, end, minutes):
    assert excused_seconds(start * M, end * M, [Excused(a * M, b * M) for a, b in excuses]) == minutes * 60


def test_accumulated_time_counts_overlaps_once_less_excuses_and_open_ones_to_the_clock():
    span = Span(0, 24 * 60 * M, 100 * M)
    parts = [(10 * M, 40 * M, []), (30 * M, 50 * M, [Excused(45 * M, 50 * M)]), (90 * M, None, [])]
    # 10-50 (40 min) less 5 excused, plus 90-100 still going: 45 min
    assert accumulated_seconds(parts, span) == 45 * 60


SECOND_OPINIONS = [
    # (hit, technical after)
    (H("AL04", "2026-12-01T20:15Z", "2026-12-01T20:31Z"), True),        # 16 min: a supply cut
    (H("AL04", "2026-12-01T20:15Z", "2026-12-01T23:31Z"), False),       # hours: unplugged
    (H("AL04", "2026-12-01T20:15Z", None), False),                      # still off
    (H("COMMS-GAP", "2026-12-01T14:00Z", "2026-12-01T14:25Z", technical=True, confidence=0.6), True),
]


@pytest.mark.parametrize(("hit", "technical"), SECOND_OPINIONS)
def test_second_opinions(hit, technical):
    (after,) = explain([hit])
    assert after.technical is technical
    if technical:
        assert after.confidence >= 0.8 and after.detail


def test_a_power_cut_during_an_absence_is_not_excused_as_technical():
    hits = explain([H("AL04", "2026-12-01T20:15Z", "2026-12-01T20:31Z"), H("AL10", "2026-12-01T20:10Z", "2026-12-01T21:00Z")])
    assert not hits[0].technical


def _prio(code, *, risk=None, cohort=None, minutes=30, technical=False, certain=True, condition=""):
    (d,) = merge([Hit(code, t("2026-12-01T14:00Z"), t("2026-12-01T14:00Z") + minutes * M, technical=technical,
                      certain=certain, confidence=0.95 if technical else 1.0, condition=condition)])
    from dataclasses import replace
    return score(d, replace(watch(risk=risk), cohort=cohort), t("2026-12-02T06:00Z"))


def test_priorities_order_serious_above_minor_and_say_why():
    ranked = [_prio("PROXIMITY"), _prio("ZONE-EXCLUSION-ENTRY"), _prio("AL10"), _prio("AL21"),
              _prio("GPS-JUMP", technical=True)]
    assert [p.score for p in ranked] == sorted((p.score for p in ranked), reverse=True)
    assert ranked[0].score > ranked[1].score > ranked[3].score > ranked[4].score
    assert all(p.reasons for p in ranked)
    assert "technical" in ranked[4].reasons[-1]


@pytest.mark.parametrize(("more", "less"), [
    (dict(risk=RiskLevel.VERY_HIGH), dict(risk=RiskLevel.LOW)),
    (dict(cohort=Cohort.SPECIALS), dict(cohort=Cohort.COURT_SENTENCE)),
    (dict(minutes=180), dict(minutes=3)),
    (dict(certain=True), dict(certain=False)),
])
def test_each_factor_moves_the_score_and_leaves_a_reason(more, less):
    a, b = _prio("AL10", **more), _prio("AL10", **less)
    assert a.score > b.score
    assert len(a.reasons) != len(b.reasons) or a.reasons != b.reasons
