"""GPS fix quality (spikes, poor HDOP), gaps (no fix, no comms) and silent orders."""
from __future__ import annotations

import numpy as np
import pytest

from kit import HOME, batch, codes, north, span, t, track, watch

from emdesk.domain.engine.events import DAY_MS, POSITION, EventBatch
from emdesk.domain.engine.hits import Span
from emdesk.domain.engine.gps_rules import fix_quality, gap_hits, silent_hit, unmonitored
from emdesk.domain.engine.watch import Settings

SPAN = span("2026-12-01T07:00Z", "2026-12-02T07:00Z")
W = watch(devices=("gps_tag", "hmu"))


def _walk(steps: int, every_s: int = 10, metres_per_step: float = 0.0):
    start = t("2026-12-01T10:00Z")
    return [(start + k * every_s * 1000, "position", *north(k * metres_per_step), 1.0) for k in range(steps)]


def _replace(rows, step: int, point, hdop: float = 1.0):
    rows = list(rows)
    rows[step] = (rows[step][0], "position", *point, hdop)
    return rows


STILL = _walk(20)
QUALITY = [
    ("still at home: all good", STILL, [], []),
    ("one fix 1 km away and back: a jump", _replace(STILL, 5, north(1000)), [5], ["GPS-JUMP"]),
    ("two fixes 3 km away together and back: one jump", _replace(_replace(STILL, 5, north(3000)), 6, north(3010)),
     [5, 6], ["GPS-JUMP"]),
    # 300 m every 10 s is 108 km/h: fast, but each fix reachable from the last.
    ("a real drive at 108 km/h", _walk(20, metres_per_step=300), [], []),
    ("a drive with one spike 2 km sideways", _replace(_walk(20, metres_per_step=300), 8, (north(2400)[0], -1.86)),
     [8], ["GPS-JUMP"]),
    ("three fixes with HDOP 9: one poor run",
     _replace(_replace(_replace(STILL, 5, north(300), 9), 6, north(250), 9), 7, HOME, 9), [5, 6, 7], ["GPS-POOR"]),
    ("two separate poor fixes: two runs", _replace(_replace(STILL, 3, HOME, 7), 9, HOME, 8), [3, 9],
     ["GPS-POOR", "GPS-POOR"]),
    ("a last fix far off with nothing after: not a jump", _replace(STILL, 19, north(5000)), [], []),
]


@pytest.mark.parametrize("rows, bad_steps, expected", [c[1:] for c in QUALITY], ids=[c[0] for c in QUALITY])
def test_fix_quality(rows, bad_steps, expected):
    ev = batch(rows, W)
    good, hits = fix_quality(W, ev, SPAN)
    assert [h.code for h in hits] == expected
    assert all(h.technical for h in hits)
    assert sorted(np.flatnonzero(~good).tolist()) == bad_steps


def test_jump_says_how_far_and_how_fast():
    ev = batch(_replace(STILL, 5, north(1000)), W)
    (hit,) = fix_quality(W, ev, SPAN)[1]
    assert hit.confidence >= 0.9
    assert "1.0 km" in hit.detail and "km/h" in hit.detail


def test_non_positions_are_not_good_fixes():
    ev = batch(STILL[:3] + [("2026-12-01T10:00:10Z", "battery_level", 80.0),
                            ("2026-12-01T10:00:20Z", "hmu_range_in")], W)
    good, _ = fix_quality(W, ev, SPAN)
    assert good.tolist() == [POSITION == k for k in ev.kind.tolist()]


def test_two_devices_fixes_are_judged_apart():
    w = watch(devices=("gps_tag", "phone"))
    phone = track("2026-12-01T10:00:15Z", 10, 30, where=north(5000), dev=1)
    ev = batch(_walk(20)[:20] + phone, w)
    good, hits = fix_quality(w, ev, SPAN)
    assert good[ev.kind == POSITION].all() and hits == []


def test_the_protected_phone_raises_no_jump():
    w = watch(devices=("gps_tag", "phone"))
    phone = _replace(track("2026-12-01T10:00:15Z", 10, 30, where=north(5000), dev=1), 4, north(9000))
    phone[4] = phone[4] + ({"dev": 1},)
    good, hits = fix_quality(w, batch(phone, w), SPAN)
    assert hits == [] and (~good).sum() == 1


def test_fix_quality_on_100k_fixes():
    rng = np.random.default_rng(7)
    n = 100_000
    at = t("2026-12-01T07:00Z") + np.arange(n, dtype=np.int64) * 1000
    lat = HOME[0] + np.cumsum(rng.normal(0, 2e-5, n))        # a few metres a second
    lon = np.full(n, HOME[1])
    spikes = np.arange(500, n - 500, 5000)
    lat[spikes] += 0.05                                      # 5.5 km out and back in a second
    nan = np.full(n, np.nan)
    ev = EventBatch(at, np.full(n, POSITION, np.int16), np.zeros(n, np.int16), lat, lon,
                    np.full(n, 1.0), nan, nan, np.zeros(n, bool))
    good, hits = fix_quality(W, ev, span("2026-12-01T07:00Z", "2026-12-03T07:00Z"))
    assert good.shape == (n,)
    assert np.flatnonzero(~good).tolist() == spikes.tolist()
    assert len(hits) == spikes.size


def _minutely(start: str, minutes: int):
    return track(start, minutes, 60)


GAPS = [
    ("a fix every minute: nothing", _minutely("2026-12-01T10:00Z", 60), None, []),
    ("no fix for 12 min while reporting no_fix",
     _minutely("2026-12-01T09:50Z", 11)
     + [(f"2026-12-01T10:{m:02d}Z", "no_fix") for m in range(2, 12, 2)]
     + _minutely("2026-12-01T10:12Z", 10), None,
     [("NO-FIX", "2026-12-01T10:00Z", "2026-12-01T10:12Z")]),
    ("no fix for 4 min: under the gap",
     _minutely("2026-12-01T09:50Z", 11) + [("2026-12-01T10:02Z", "no_fix")] + _minutely("2026-12-01T10:04Z", 10),
     None, []),
    ("silent 20 min", _minutely("2026-12-01T09:41Z", 20) + _minutely("2026-12-01T10:20Z", 10), None,
     [("COMMS-GAP", "2026-12-01T10:00Z", "2026-12-01T10:20Z")]),
    ("silent since 10:00, now 11:00: open", _minutely("2026-12-01T09:41Z", 20), "2026-12-01T11:00Z",
     [("COMMS-GAP", "2026-12-01T10:00Z", None)]),
    ("no fix since 10:00, still reporting", _minutely("2026-12-01T09:41Z", 20)
     + [(f"2026-12-01T10:{m:02d}Z", "battery_level", 80.0) for m in range(4, 60, 4)], "2026-12-01T11:00Z",
     [("NO-FIX", "2026-12-01T10:00Z", None)]),
    ("comms lost .. restored, reported", _minutely("2026-12-01T09:50Z", 10)
     + [("2026-12-01T10:00Z", "comms_lost"), ("2026-12-01T10:03Z", "comms_restored")]
     + _minutely("2026-12-01T10:03Z", 10), None,
     [("COMMS-GAP", "2026-12-01T10:00Z", "2026-12-01T10:03Z")]),
    ("comms lost and then silent: one gap", _minutely("2026-12-01T09:50Z", 10)
     + [("2026-12-01T09:59:30Z", "comms_lost"), ("2026-12-01T10:30Z", "comms_restored")]
     + _minutely("2026-12-01T10:30Z", 10), None,
     [("COMMS-GAP", "2026-12-01T09:59:30Z", "2026-12-01T10:30Z")]),
    ("a gap begun before the period is the last period's", _minutely("2026-12-01T06:40Z", 10)
     + _minutely("2026-12-01T07:30Z", 10), None, []),
]


@pytest.mark.parametrize("rows, now, expected", [c[1:] for c in GAPS], ids=[c[0] for c in GAPS])
def test_gaps(rows, now, expected):
    ev = batch(rows, W)
    now_ms = t(now) if now else int(ev.at[-1]) + 60_000      # default: just after the last event
    sp = Span(t("2026-12-01T07:00Z"), t("2026-12-02T07:00Z"), now_ms)
    hits = gap_hits(W, ev, sp)
    assert codes(hits) == [(c, t(a), None if b is None else t(b)) for c, a, b in expected]
    assert all(h.technical and h.confidence == 0.6 for h in hits)


def test_a_gap_at_home_is_the_more_surely_technical():
    rows = ([("2026-12-01T09:00Z", "hmu_range_in")] + _minutely("2026-12-01T09:41Z", 20)
            + _minutely("2026-12-01T10:20Z", 10))
    (hit,) = gap_hits(W, batch(rows, W), span("2026-12-01T07:00Z", "2026-12-02T07:00Z", "2026-12-01T10:30Z"))
    assert hit.technical and hit.confidence > 0.6 and "in range" in hit.detail


SILENT = [
    ("13 days", 13, False), ("14 days", 14, True), ("30 days", 30, True),
]


@pytest.mark.parametrize("days, expected", [c[1:] for c in SILENT], ids=[c[0] for c in SILENT])
def test_unmonitored(days, expected):
    now = t("2026-12-01T12:00Z")
    assert unmonitored(now - days * DAY_MS, now, Settings()) is expected


SILENT_HITS = [
    ("silent 14 days as of noon: reached today", "2026-11-17T09:00Z", "2026-11-17T09:00Z"),
    ("silent 13 days: not yet", "2026-11-18T09:00Z", None),
    ("reached yesterday: raised in yesterday's period", "2026-11-16T09:00Z", None),
]


@pytest.mark.parametrize("last, start", [c[1:] for c in SILENT_HITS], ids=[c[0] for c in SILENT_HITS])
def test_silent_hit(last, start):
    hit = silent_hit(W, t(last), span("2026-12-01T07:00Z", "2026-12-02T07:00Z", "2026-12-01T12:00Z"))
    if start is None:
        assert hit is None
    else:
        assert (hit.code, hit.start_ms, hit.end_ms) == ("UNMONITORED", t(last) + 14 * DAY_MS, None)
