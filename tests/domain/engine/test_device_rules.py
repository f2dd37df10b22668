"""Device rules: home unit power and movement, batteries, faults, tampers."""
from __future__ import annotations

import pytest

from kit import batch, codes, span, t, watch

from emdesk.domain.engine.device_rules import device_hits

W = watch(devices=("hmu", "gps_tag"))
NOW = "2026-12-01T23:00Z"
HMU, TAG = {"dev": 0}, {"dev": 1}


def _levels(start_hour: int, *levels: float):
    return [(f"2026-12-01T{start_hour + i // 6:02d}:{i % 6 * 10:02d}Z", "battery_level", v, TAG)
            for i, v in enumerate(levels)]


CASES = [
    ("power off and back on", [("2026-12-01T19:00Z", "hmu_power_off"), ("2026-12-01T19:34Z", "hmu_power_on")],
     [("AL04", "2026-12-01T19:00Z", "2026-12-01T19:34Z")]),
    ("power off, not back on", [("2026-12-01T19:00Z", "hmu_power_off")],
     [("AL04", "2026-12-01T19:00Z", None)]),
    ("power off sent twice", [("2026-12-01T19:00:02Z", "hmu_power_off"), ("2026-12-01T19:00Z", "hmu_power_off"),
                              ("2026-12-01T19:34Z", "hmu_power_on")],
     [("AL04", "2026-12-01T19:00Z", "2026-12-01T19:34Z")]),
    ("home unit moved, resent 3 s later", [("2026-12-01T12:00Z", "hmu_moved"), ("2026-12-01T12:00:03Z", "hmu_moved")],
     [("AL05", "2026-12-01T12:00Z", "2026-12-01T12:00Z")]),
    ("moved twice, an hour apart", [("2026-12-01T12:00Z", "hmu_moved"), ("2026-12-01T13:00Z", "hmu_moved")],
     [("AL05", "2026-12-01T12:00Z", "2026-12-01T12:00Z"), ("AL05", "2026-12-01T13:00Z", "2026-12-01T13:00Z")]),
    ("tampers", [("2026-12-01T12:00Z", "strap_tamper", TAG), ("2026-12-01T12:01Z", "body_tamper", TAG),
                 ("2026-12-01T12:01:01Z", "body_tamper", TAG), ("2026-12-01T12:02Z", "case_tamper", HMU)],
     [("TAMPER-STRAP", "2026-12-01T12:00Z", "2026-12-01T12:00Z"),
      ("TAMPER-BODY", "2026-12-01T12:01Z", "2026-12-01T12:01Z"),
      ("TAMPER-CASE", "2026-12-01T12:02Z", "2026-12-01T12:02Z")]),
    ("device fault", [("2026-12-01T12:00Z", "device_fault", TAG)],
     [("AL24", "2026-12-01T12:00Z", "2026-12-01T12:00Z")]),
    ("battery falls below 15% and is charged", _levels(10, 40, 20, 14, 10, 8)
     + [("2026-12-01T11:00Z", "charging", TAG), ("2026-12-01T11:10Z", "battery_level", 30, TAG)],
     [("AL21", "2026-12-01T10:20Z", "2026-12-01T11:00Z")]),
    ("battery low reported, level recovers", [("2026-12-01T10:00Z", "battery_low", TAG),
                                              ("2026-12-01T10:05Z", "battery_low", TAG)] + _levels(11, 50),
     [("AL21", "2026-12-01T10:00Z", "2026-12-01T11:00Z")]),
    ("battery low, then dead and silent", [("2026-12-01T10:00Z", "battery_low", TAG),
                                           ("2026-12-01T11:00Z", "battery_dead", TAG),
                                           ("2026-12-01T11:00:02Z", "battery_dead", TAG)],
     [("AL21", "2026-12-01T10:00Z", "2026-12-01T11:00Z"), ("AL23", "2026-12-01T11:00Z", None)]),
    ("dead, then charged back to life", [("2026-12-01T11:00Z", "battery_dead", TAG),
                                         ("2026-12-01T15:00Z", "charging", TAG)],
     [("AL23", "2026-12-01T11:00Z", "2026-12-01T15:00Z")]),
    ("battery at 1% and then silent", _levels(10, 12, 6, 1),
     [("AL21", "2026-12-01T10:00Z", None), ("AL23", "2026-12-01T10:20Z", None)]),
    ("battery at 1% but still talking", _levels(10, 12, 6, 1)
     + [(f"2026-12-01T10:{m:02d}Z", "position", 52.48, -1.89, 1.0, TAG) for m in range(21, 40)],
     [("AL21", "2026-12-01T10:00Z", None)]),
    ("before the period: not this period's", [("2026-12-01T06:00Z", "hmu_moved")], []),
]


@pytest.mark.parametrize("rows, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_device_hits(rows, expected):
    hits = device_hits(W, batch(rows, W), span("2026-12-01T07:00Z", "2026-12-02T07:00Z", NOW))
    assert codes(hits) == [(c, t(a), None if b is None else t(b)) for c, a, b in expected]


def test_power_off_says_for_how_long_tampers_are_the_wearers_faults_the_kits():
    rows = [("2026-12-01T19:00Z", "hmu_power_off"), ("2026-12-01T19:34Z", "hmu_power_on"),
            ("2026-12-01T20:00Z", "strap_tamper", TAG), ("2026-12-01T21:00Z", "device_fault", TAG)]
    al04, tamper, fault = device_hits(W, batch(rows, W), span("2026-12-01T07:00Z", "2026-12-02T07:00Z", NOW))
    assert "34 min" in al04.detail and al04.technical is False
    assert tamper.technical is False and tamper.condition == "tamper"
    assert fault.code == "AL24" and fault.technical is True


def test_the_protected_phone_raises_nothing():
    w = watch(devices=("gps_tag", "phone"))
    rows = [("2026-12-01T10:00Z", "battery_low", {"dev": 1}), ("2026-12-01T10:05Z", "device_fault", {"dev": 1})]
    assert device_hits(w, batch(rows, w), span("2026-12-01T07:00Z", "2026-12-02T07:00Z", NOW)) == []
