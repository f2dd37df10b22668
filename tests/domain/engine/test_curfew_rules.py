"""Curfew rules (AL08-AL12): case tables over real curfew intervals, clock changes included."""
from __future__ import annotations

import pytest

from kit import HOME, batch, codes, north, period, t, track, uk, watch

from emdesk.domain.engine.curfew_rules import curfew_hits
from emdesk.domain.engine.events import HOUR_MS
from emdesk.domain.engine.gps_rules import fix_quality

NIGHTLY = "Mon-Sun 19:00-07:00"
DAY = "2026-12-01"     # winter: UK time is UTC


def run(w, rows, sp):
    ev = batch(rows, w)
    good, _ = fix_quality(w, ev, sp)
    return curfew_hits(w, ev, good, sp)


HMU_CASES = [
    ("home all night", [("2026-12-01T18:30Z", "hmu_range_in")], []),
    ("late by 2 min: within grace",
     [("2026-12-01T17:00Z", "hmu_range_out"), ("2026-12-01T19:02Z", "hmu_range_in")], []),
    ("late by 47 min",
     [("2026-12-01T17:00Z", "hmu_range_out"), ("2026-12-01T19:47Z", "hmu_range_in")],
     [("AL08", "2026-12-01T19:00Z", "2026-12-01T19:47Z"), ("AL09", "2026-12-01T19:47Z", "2026-12-01T19:47Z")]),
    ("late, given unsorted with duplicates",
     [("2026-12-01T19:47Z", "hmu_range_in"), ("2026-12-01T17:00Z", "hmu_range_out"),
      ("2026-12-01T19:47:03Z", "hmu_range_in"), ("2026-12-01T16:59:58Z", "hmu_range_out")],
     [("AL08", "2026-12-01T19:00Z", "2026-12-01T19:47Z"), ("AL09", "2026-12-01T19:47Z", "2026-12-01T19:47Z")]),
    ("no look-back: first word is 'in range' at 19:47",
     [("2026-12-01T19:47Z", "hmu_range_in")],
     [("AL08", "2026-12-01T19:00Z", "2026-12-01T19:47Z"), ("AL09", "2026-12-01T19:47Z", "2026-12-01T19:47Z")]),
    ("left and back within the curfew",
     [("2026-12-01T18:00Z", "hmu_range_in"), ("2026-12-01T23:00Z", "hmu_range_out"),
      ("2026-12-01T23:40Z", "hmu_range_in")],
     [("AL10", "2026-12-01T23:00Z", "2026-12-01T23:40Z")]),
    ("out 3 min in the night: within grace",
     [("2026-12-01T18:00Z", "hmu_range_in"), ("2026-12-01T23:00Z", "hmu_range_out"),
      ("2026-12-01T23:03Z", "hmu_range_in")], []),
    ("left during, out at the end",
     [("2026-12-01T18:00Z", "hmu_range_in"), ("2026-12-02T05:30Z", "hmu_range_out"),
      ("2026-12-02T08:00Z", "hmu_range_in")],
     [("AL10", "2026-12-02T05:30Z", "2026-12-02T07:00Z"), ("AL11", "2026-12-02T07:00Z", "2026-12-02T08:00Z")]),
    ("left 2 min before the end: within grace",
     [("2026-12-01T18:00Z", "hmu_range_in"), ("2026-12-02T06:58Z", "hmu_range_out")], []),
    ("absent all night: AL12 only",
     [("2026-12-01T17:00Z", "hmu_range_out"), ("2026-12-02T08:00Z", "hmu_range_in")],
     [("AL12", "2026-12-01T19:00Z", "2026-12-02T07:00Z")]),
    ("absent all night, never back",
     [("2026-12-01T17:00Z", "hmu_range_out")],
     [("AL12", "2026-12-01T19:00Z", "2026-12-02T07:00Z")]),
    ("late, then out again in the night",
     [("2026-12-01T17:00Z", "hmu_range_out"), ("2026-12-01T20:00Z", "hmu_range_in"),
      ("2026-12-02T01:00Z", "hmu_range_out"), ("2026-12-02T02:00Z", "hmu_range_in")],
     [("AL08", "2026-12-01T19:00Z", "2026-12-01T20:00Z"), ("AL09", "2026-12-01T20:00Z", "2026-12-01T20:00Z"),
      ("AL10", "2026-12-02T01:00Z", "2026-12-02T02:00Z")]),
    ("last night's curfew is the previous period's",
     [("2026-12-01T05:00Z", "hmu_range_out"), ("2026-12-01T18:00Z", "hmu_range_in")], []),
]


@pytest.mark.parametrize("rows, expected", [c[1:] for c in HMU_CASES], ids=[c[0] for c in HMU_CASES])
def test_home_unit_curfew(rows, expected):
    w = watch(curfew=NIGHTLY)
    assert codes(run(w, rows, period(DAY))) == [(c, t(a), t(b)) for c, a, b in expected]


IN_PROGRESS = [
    ("out at start, not back by 21:00", "2026-12-01T21:00Z", [("2026-12-01T17:00Z", "hmu_range_out")],
     [("AL08", "2026-12-01T19:00Z", None)]),
    ("out at start, 3 min in: grace", "2026-12-01T19:03Z", [("2026-12-01T17:00Z", "hmu_range_out")], []),
    ("left at 23:00, still out at 23:30", "2026-12-01T23:30Z",
     [("2026-12-01T18:00Z", "hmu_range_in"), ("2026-12-01T23:00Z", "hmu_range_out")],
     [("AL10", "2026-12-01T23:00Z", None)]),
    ("curfew not begun", "2026-12-01T18:00Z", [("2026-12-01T17:00Z", "hmu_range_out")], []),
]


@pytest.mark.parametrize("now, rows, expected", [c[1:] for c in IN_PROGRESS], ids=[c[0] for c in IN_PROGRESS])
def test_curfew_in_progress(now, rows, expected):
    w = watch(curfew=NIGHTLY)
    hits = run(w, rows, period(DAY, now=now))
    assert codes(hits) == [(c, t(a), None if b is None else t(b)) for c, a, b in expected]


# Clock changes: 2026-03-29 forward (night of the 28th is 11 h), 2026-10-25 back (13 h).
CLOCKS = [
    ("spring, absent all night", "2026-03-28", [("2026-03-28T12:00Z", "hmu_range_out")],
     [("AL12", uk("2026-03-28", "19:00"), uk("2026-03-29", "07:00"))], 11),
    ("autumn, absent all night", "2026-10-24", [("2026-10-24T12:00Z", "hmu_range_out")],
     [("AL12", uk("2026-10-24", "19:00"), uk("2026-10-25", "07:00"))], 13),
    # Out at 05:30 BST = 04:30Z; the curfew ends at 07:00 BST = 06:00Z, not 07:00Z.
    ("spring, out at the end", "2026-03-28",
     [("2026-03-28T18:00Z", "hmu_range_in"), ("2026-03-29T04:30Z", "hmu_range_out"),
      ("2026-03-29T06:30Z", "hmu_range_in")],
     [("AL10", t("2026-03-29T04:30Z"), t("2026-03-29T06:00Z")),
      ("AL11", t("2026-03-29T06:00Z"), t("2026-03-29T06:30Z"))], None),
    # Back at 19:47 BST = 18:47Z on the autumn Saturday.
    ("autumn, late by 47 min", "2026-10-24",
     [("2026-10-24T12:00Z", "hmu_range_out"), ("2026-10-24T18:47Z", "hmu_range_in")],
     [("AL08", t("2026-10-24T18:00Z"), t("2026-10-24T18:47Z")),
      ("AL09", t("2026-10-24T18:47Z"), t("2026-10-24T18:47Z"))], None),
]


@pytest.mark.parametrize("day, rows, expected, hours", [c[1:] for c in CLOCKS], ids=[c[0] for c in CLOCKS])
def test_clock_change_nights(day, rows, expected, hours):
    hits = run(watch(curfew=NIGHTLY), rows, period(day))
    assert codes(hits) == expected
    if hours is not None:
        assert hits[0].end_ms - hits[0].start_ms == hours * HOUR_MS


def test_late_return_says_how_late_in_uk_time():
    rows = [("2026-10-24T12:00Z", "hmu_range_out"), ("2026-10-24T18:47Z", "hmu_range_in")]
    al09 = [h for h in run(watch(curfew=NIGHTLY), rows, period("2026-10-24")) if h.code == "AL09"][0]
    assert "returned 47 min after curfew began at 19:00" in al09.detail


SHAPES = [
    ("midnight-spanning 23:00-06:00, back 01:30", "Mon-Sun 23:00-06:00", None,
     [("2026-12-01T22:00Z", "hmu_range_out"), ("2026-12-02T01:30Z", "hmu_range_in")],
     [("AL08", "2026-12-01T23:00Z", "2026-12-02T01:30Z"), ("AL09", "2026-12-02T01:30Z", "2026-12-02T01:30Z")]),
    ("midnight-spanning, out after midnight", "Mon-Sun 23:00-06:00", None,
     [("2026-12-01T22:00Z", "hmu_range_in"), ("2026-12-02T00:30Z", "hmu_range_out"),
      ("2026-12-02T01:30Z", "hmu_range_in")],
     [("AL10", "2026-12-02T00:30Z", "2026-12-02T01:30Z")]),
    ("no curfew that day (Tue off)", "Mon 19:00-07:00; Wed-Sun 19:00-07:00", None,
     [("2026-12-01T17:00Z", "hmu_range_out")], []),
    ("release day 15:30, home 16:30", NIGHTLY, ("2026-12-01", "15:30", "07:00"),
     [("2026-12-01T14:00Z", "hmu_range_out"), ("2026-12-01T16:30Z", "hmu_range_in")],
     [("AL08", "2026-12-01T15:30Z", "2026-12-01T16:30Z"), ("AL09", "2026-12-01T16:30Z", "2026-12-01T16:30Z")]),
]


@pytest.mark.parametrize("curfew, release, rows, expected", [c[1:] for c in SHAPES], ids=[c[0] for c in SHAPES])
def test_curfew_shapes(curfew, release, rows, expected):
    hits = run(watch(curfew=curfew, release=release), rows, period(DAY))
    assert codes(hits) == [(c, t(a), t(b)) for c, a, b in expected]


def _night(where_at_step, hdop=1.0):
    """A GPS tag fixing every 10 min from 18:00 to 08:00."""
    return track("2026-12-01T18:00Z", 14 * 60, 600, where=where_at_step, hdop=hdop)


FAR = north(2000)
GPS = [
    ("home all night", _night(lambda k: HOME), []),
    ("drifting fix with HDOP 9: technical, not a breach",
     [r for r in _night(lambda k: HOME) if r[0] != t("2026-12-01T22:00Z")]
     + [("2026-12-01T22:00Z", "position", *north(300), 9.0)], []),
    ("one stray good fix 200 m off: not sustained",
     [r for r in _night(lambda k: HOME) if r[0] != t("2026-12-01T22:00Z")]
     + [("2026-12-01T22:00Z", "position", *north(200), 1.0)], []),
    ("110 m off with HDOP 3: home, allowing 15 m for accuracy", _night(lambda k: north(110), hdop=3.0), []),
    ("110 m off with HDOP 1: away all night", _night(lambda k: north(110), hdop=1.0),
     [("AL12", "2026-12-01T19:00Z", "2026-12-02T07:00Z")]),
    ("out until 19:50", _night(lambda k: FAR if k < 11 else HOME),
     [("AL08", "2026-12-01T19:00Z", "2026-12-01T19:50Z"), ("AL09", "2026-12-01T19:50Z", "2026-12-01T19:50Z")]),
    ("out 00:00-01:00", _night(lambda k: FAR if 36 <= k < 42 else HOME),
     [("AL10", "2026-12-02T00:00Z", "2026-12-02T01:00Z")]),
]


@pytest.mark.parametrize("rows, expected", [c[1:] for c in GPS], ids=[c[0] for c in GPS])
def test_gps_only_curfew(rows, expected):
    w = watch(curfew=NIGHTLY, devices=("gps_tag",))
    assert codes(run(w, rows, period(DAY))) == [(c, t(a), t(b)) for c, a, b in expected]


def test_home_unit_off_mains_makes_range_evidence_uncertain():
    w = watch(curfew=NIGHTLY)
    rows = [("2026-12-01T18:00Z", "hmu_range_in"), ("2026-12-01T22:00Z", "hmu_power_off"),
            ("2026-12-01T23:00Z", "hmu_range_out"), ("2026-12-01T23:40Z", "hmu_range_in")]
    plain = run(w, rows[:1] + rows[2:], period(DAY))
    off = run(w, rows, period(DAY))
    assert [h.certain for h in plain] == [True]
    assert [(h.code, h.certain) for h in off] == [("AL10", False)]


def test_a_drifting_fix_at_home_is_technical_not_a_breach():
    w = watch(curfew=NIGHTLY, devices=("gps_tag",))
    rows = ([r for r in _night(lambda k: HOME) if r[0] != t("2026-12-01T22:00Z")]
            + [("2026-12-01T22:00Z", "position", *north(300), 9.0)])
    ev = batch(rows, w)
    good, quality = fix_quality(w, ev, period(DAY))
    assert [(h.code, h.technical, h.start_ms) for h in quality] == [("GPS-POOR", True, t("2026-12-01T22:00Z"))]
    assert curfew_hits(w, ev, good, period(DAY)) == []
