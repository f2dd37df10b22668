"""Each management figure on the small world (``world.py``), against values worked out by
hand here.  Period 2026-11-01 .. 2026-11-15, as of 2026-11-16 00:00, every region."""
from __future__ import annotations

import pytest

from .world import FROM, TO

# key: (value, numerator, denominator, ids behind it), with the arithmetic.
EXPECTED = {
    # Orders received in the period: O1, O2, O3, O5 (O4, O6 earlier).  Fitted at attempt 1:
    # O1, O3 (on 11-20: decided now), O5; O2 at attempt 3.  3 / 4.
    "installs_within_attempts": (3 / 4, 3, 4, {"V1a", "V2a", "V2b", "V2c", "V3a", "V5a"}),
    # Receipt -> fit: O1 24 h; O2 11-03 08:00 -> 11-05 08:00 = 48 h; O3 11-05 12:00 -> 11-20 10:00
    # = 14 d 22 h = 358 h; O5 12 h.  (24 + 48 + 358 + 12) / 4 = 442 / 4.
    "time_to_install": (110.5, 442, 4, {"V1a", "V2c", "V3a", "V5a"}),
    # Install visits open at 11-16 00:00: V3a (done only on 11-20).  V1x was booked after.
    "install_backlog": (1, 1, 1, {"V3a"}),
    # Open at as-of and over 3 days past due: V3a (due 11-07, 9 days), V4b (window end
    # 11-11 12:00, 4.5 days).  Tolerance 400.
    "visits_outstanding": (2, 2, 2, {"V3a", "V4b"}),
    # Active at as-of: O1..O5 (O6 ended 11-10).  O3 not fitted by then; O4 last heard 10-20
    # 12:00 (its 11-15 comms_lost is the network; 11-20 is after as-of): 26.5 days silent.
    "unmonitored": (2, 2, 5, {"O3", "O4"}),
    "unmonitored_share": (2 / 5, 2, 5, {"O3", "O4"}),
    # O3: 11-16 00:00 - 11-05 12:00 = 10.5 days; O4: 11-16 00:00 - 10-20 12:00 = 26.5 days.
    # (10.5 + 26.5) / 2 = 37 / 2.
    "time_unmonitored": (18.5, 37, 2, {"O3", "O4"}),
    # Wearers with an order active in the period: S1..S6 (S6 until 11-10).  Breaching in
    # the period: S1 (I1), S2 (I2, I3), S5 (I5); I4 is October, I6 never escalated.  3 / 6.
    "wearers_breaching": (3 / 6, 3, 6, {"O1", "O2", "O5"}),
    # Breach -> escalation: I1 3 h, I5 2 h, I2 2 h, I3 1 h.  8 / 4.
    "time_to_notify": (2.0, 8, 4, {"I1", "I2", "I3", "I5"}),
    # Breach -> first sent_at of the series: I1 11-06 22:00 -> 11-07 20:00 = 22 h (v2's
    # 11-08 does not count); I5 24 h; I2 11-10 07:30 -> 11-11 13:30 = 30 h; I3 no pack.
    # (22 + 24 + 30) / 3 = 76 / 3.
    "time_to_pack": (76 / 3, 76, 3, {"I1", "I2", "I5"}),
    # Decided: I1 (recall), I5 (engage); I2 steps only, I3 no pack.  2 / 4.
    "breaches_responded": (2 / 4, 2, 4, {"I1", "I2", "I3", "I5"}),
    # First sent_at -> decided: I1 11-07 20:00 -> 11-09 20:00 = 48 h; I5 11-09 12:00 ->
    # 18:00 = 6 h.  (48 + 6) / 2 = 54 / 2.
    "response_time": (27.0, 54, 2, {"I1", "I5"}),
    "outcome:recall": (1 / 2, 1, 2, {"I1"}),
    "outcome:engage": (1 / 2, 1, 2, {"I5"}),
    # Alerts raised in the period: A1, A2, A3, A4, A5 (A6 is October) = 5; packs first issued
    # in the period: BP-1, BP-2, BP-5 (BP-4 October) = 3.  5 / 3.
    "alerts_per_pack": (5 / 3, 5, 3, {"BP-1", "BP-2", "BP-5"}),
    # Orders ended in the period: O6 (11-10).  Its T6 recovered, H6 lost.  1 / 2.
    "device_recovery": (1 / 2, 1, 2, {"D-T6", "D-H6"}),
}


@pytest.mark.parametrize("key", list(EXPECTED))
def test_each_figure_matches_the_hand_count(service, key):
    figures = {m.key: m for m in service.figures(FROM, TO)}
    value, numerator, denominator, ids = EXPECTED[key]
    m = figures[key]
    assert m.value == pytest.approx(value)
    assert (m.numerator, m.denominator) == (pytest.approx(numerator), denominator)
    assert set(m.ids) == ids


def test_every_figure_is_checked_and_in_display_order(service):
    keys = [m.key for m in service.figures(FROM, TO)]
    assert set(keys) == set(EXPECTED)
    assert keys.index("response_time") < keys.index("outcome:recall") < keys.index("alerts_per_pack")


@pytest.mark.parametrize("key, beyond", [
    ("unmonitored_share", True),        # 40% > 15%
    ("visits_outstanding", False),      # 2 <= 400
])
def test_tolerances_say_when_a_figure_is_beyond(service, key, beyond):
    m = next(m for m in service.figures(FROM, TO) if m.key == key)
    assert m.beyond is beyond and m.tolerance == {"unmonitored_share": 0.15, "visits_outstanding": 400}[key]


def test_the_parts_say_why_each_case_is_listed(service):
    figures = {m.key: m for m in service.figures(FROM, TO)}
    assert figures["unmonitored"].parts == {"never_fitted": ("O3",), "silent": ("O4",)}
    assert figures["breaches_responded"].parts == {"responded": ("I1", "I5"), "awaiting": ("I2",),
                                                   "no_pack_issued": ("I3",)}
    assert set(figures["alerts_per_pack"].parts["alerts"]) == {"A1", "A2", "A3", "A4", "A5"}
