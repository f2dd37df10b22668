"""A simulated day looks like people wearing kit: plausible speeds, home in curfew,
fixes, readings and battery reports at their cadence, most days clean."""
from __future__ import annotations

import statistics
from collections import defaultdict

import pytest

from emdesk.domain.devices import DeviceKind
from fleet_kit import DAY, fleet_store, forced_noise, forced_violations, metres, plain_day, ts
from hardware.fleet import load_wearers, violation_period
from hardware.fleet.episodes import CURFEW_KINDS, checkin_prompts, curfew_spans

MAX_SPEED = 40.0           # m/s between fixes: faster than any car in town
EXCUSED_SPEED = {"multipath_jump", "wild_fix_in_zone"}
EXCUSED_AWAY = CURFEW_KINDS | {"multipath_jump", "wild_fix_in_zone", "gps_drift"}
DAYS = {"plain": plain_day, "violations": lambda: forced_violations()[0], "noise": lambda: forced_noise()[0]}


def _wearers():
    return load_wearers(fleet_store(), violation_period(DAY))


def _labels(fleet):
    out = defaultdict(list)
    for _, l in fleet.labels:
        out[l["order_reference"]].append((l["kind"], ts(l["start"]), ts(l["end"])))
    return out


def _fixes(fleet):
    out = defaultdict(list)
    for _, l in fleet.telemetry:
        if l["kind"] == "position":
            out[l["device"]].append((ts(l["at"]), l["lat"], l["lon"], l["hdop"]))
    return {k: sorted(v) for k, v in out.items()}


def _excused(labels, kinds, t, margin=90):
    return any(k in kinds and s - margin <= t <= e + margin for k, s, e in labels)


@pytest.mark.parametrize("day", DAYS)
def test_speeds_between_fixes_are_plausible_outside_labelled_jumps(day):
    fleet = DAYS[day]()
    labels = _labels(fleet)
    owner = {d.serial: w.reference for w in _wearers() for d in w.devices.values()}
    checked = 0
    for serial, fixes in _fixes(fleet).items():
        for (t1, la1, lo1, _), (t2, la2, lo2, _) in zip(fixes, fixes[1:]):
            if t2 - t1 < 5:
                continue       # two fixes a few seconds apart: GPS error, not speed
            checked += 1
            speed = metres(la1, lo1, la2, lo2) / (t2 - t1)
            assert speed <= MAX_SPEED or _excused(labels[owner[serial]], EXCUSED_SPEED, t1), (serial, t1, speed)
    assert checked > 10_000


@pytest.mark.parametrize("day", DAYS)
def test_curfew_wearers_are_home_in_curfew_unless_labelled(day):
    fleet = DAYS[day]()
    period = violation_period(DAY)
    labels, fixes = _labels(fleet), _fixes(fleet)
    ranges = defaultdict(list)      # the tag neither leaves nor arrives in curfew hours
    for _, l in fleet.telemetry:
        if l["kind"] in ("hmu_range_out", "hmu_range_in"):
            ranges[l["device"]].append(ts(l["at"]))
    seen = 0
    for w in _wearers():
        spans = [(period.start.timestamp() + a, period.start.timestamp() + b) for a, b in curfew_spans(w, period)]
        hmu, gps = w.device(DeviceKind.HMU), w.device(DeviceKind.GPS_TAG)
        for a, b in spans:
            for t in ranges.get(hmu.serial if hmu else "", []):
                assert not (a < t < b) or _excused(labels[w.reference], CURFEW_KINDS, t), (w.reference, t)
            for t, lat, lon, _ in fixes.get(gps.serial if gps else "", []):
                if a + 60 <= t <= b - 60:
                    seen += 1
                    assert metres(*w.home, lat, lon) <= 150 or _excused(labels[w.reference], EXCUSED_AWAY, t), \
                        (w.reference, t)
    assert seen > 500


def test_fixes_come_every_minute_with_good_hdop_mostly():
    fixes = _fixes(plain_day())
    gaps = [b[0] - a[0] for f in fixes.values() for a, b in zip(f, f[1:])]
    hdops = [h for f in fixes.values() for *_, h in f]
    assert 55 <= statistics.median(gaps) <= 65
    assert sum(0.8 <= h <= 2.0 for h in hdops) / len(hdops) >= 0.8


def test_battery_reports_every_half_hour_and_gps_tags_get_charged():
    by_device = defaultdict(list)
    for _, l in plain_day().telemetry:
        by_device[(l["device"], l["kind"])].append(ts(l["at"]))
    worn = [d.serial for w in _wearers() for k, d in w.devices.items() if k.worn]
    gaps = [b - a for s in worn for a, b in zip(by_device[(s, "battery_level")], by_device[(s, "battery_level")][1:])]
    assert 1700 <= statistics.median(gaps) <= 1900
    gps = [w.device(DeviceKind.GPS_TAG).serial for w in _wearers() if w.device(DeviceKind.GPS_TAG)]
    charged = sum(1 for s in gps if by_device[(s, "charging")])
    assert charged >= 0.7 * len(gps)


def test_alcohol_readings_are_half_hourly_and_sober_outside_drinking():
    fleet = plain_day()
    labels = _labels(fleet)
    for w in _wearers():
        tag = w.device(DeviceKind.ALCOHOL_TAG)
        if tag is None:
            continue
        readings = [(ts(l["at"]), l["value"]) for _, l in fleet.telemetry
                    if l["device"] == tag.serial and l["kind"] == "alcohol_reading"]
        assert 46 <= len(readings) <= 48
        for t, v in readings:
            assert v < 20 or _excused(labels[w.reference], {"drinking"}, t, 0)


def test_check_ins_answer_their_prompt_with_a_position():
    fleet = plain_day()
    by_device = defaultdict(list)
    for _, l in fleet.telemetry:
        by_device[l["device"]].append(l)
    answered = 0
    period = violation_period(DAY)
    for w in _wearers():
        nf = w.device(DeviceKind.NON_FITTED)
        if nf is None:
            continue
        lines = by_device[nf.serial]
        for c in (l for l in lines if l["kind"] == "checkin"):
            assert c["value"] == 1.0
            assert any(p["kind"] == "position" and p["at"] == c["at"] for p in lines)
            at = ts(c["at"]) - period.start.timestamp()
            assert any(p <= at <= end for p, end in checkin_prompts(w, period))     # inside a prompt's window
            answered += 1
    assert answered >= 1
