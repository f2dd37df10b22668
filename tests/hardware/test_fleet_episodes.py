"""Each scripted episode shows in the telemetry as its label says (one wearer forced per kind)."""
from __future__ import annotations

from collections import Counter

import pytest
from shapely.geometry import Point

from emdesk.domain.devices import DeviceKind
from emdesk.domain.geography import to_bng, zone_contains, zone_geometry
from fleet_kit import DAY, SEED, devices_of, fleet_store, forced_noise, forced_violations, metres, ts, wearer
from hardware.fleet import NOISE, VIOLATIONS, EpisodeError, simulate, violation_period
from hardware.fleet.episodes import curfew_spans

MIN = 60.0


def _episode(fleet_and_force, kind):
    fleet, force = fleet_and_force
    ref = next(r for r, k in force.items() if k == kind)
    label = next(l for _, l in fleet.labels if l["order_reference"] == ref and l["kind"] == kind)
    serials = devices_of(ref)
    lines = [l for _, l in fleet.telemetry if l["device"] in serials.values()]
    return ref, label, serials, lines


def _of(lines, serial, *kinds):
    return [l for l in lines if l["device"] == serial and (not kinds or l["kind"] in kinds)]


def _curfew(ref):
    period = violation_period(DAY)
    start = period.start.timestamp()
    cs, ce = next((a, b) for a, b in curfew_spans(wearer(ref), period) if a > 0)
    return start + cs, start + ce


def test_every_violation_kind_is_scripted_and_labelled():
    fleet, force = forced_violations()
    labelled = {(l["order_reference"], l["kind"]) for _, l in fleet.labels if l["truth"] == "violation"}
    assert set(force.items()) <= labelled
    assert {k for _, k in labelled} == set(VIOLATIONS)


def test_every_noise_kind_is_scripted_and_labelled():
    fleet, force = forced_noise()
    labelled = {(l["order_reference"], l["kind"]) for _, l in fleet.labels if l["truth"] == "noise"}
    assert set(force.items()) <= labelled


def test_forcing_a_kind_the_order_cannot_have_is_refused():
    fleet, force = forced_violations()
    ref = next(r for r, k in force.items() if k == "checkin_missed")     # a non-fitted device only
    with pytest.raises(EpisodeError, match="cannot have exclusion_long"):
        simulate(fleet_store(), DAY, seed=SEED, force={ref: "exclusion_long"})


def _curfew_checks(kind, label, serials, lines):
    cs, ce = _curfew(label["order_reference"])
    start, end = ts(label["start"]), ts(label["end"])
    ranges = [(ts(l["at"]), l["kind"]) for l in _of(lines, serials[DeviceKind.HMU], "hmu_range_in", "hmu_range_out")]
    inside = [k for t, k in ranges if start + 60 < t < end - 60]
    if kind == "late_return":
        assert start == cs and end - start >= 20 * MIN and end < ce
        assert any(k == "hmu_range_in" and end <= t <= end + 60 for t, k in ranges)
    elif kind == "left_during_curfew":
        assert cs < start and end < ce and end - start >= 30 * MIN
        assert any(k == "hmu_range_out" and start <= t <= start + 60 for t, k in ranges)
        assert any(k == "hmu_range_in" and end <= t <= end + 60 for t, k in ranges)
    elif kind == "absent_whole_curfew":
        assert (start, end) == (cs, ce)
    else:
        assert cs < start and end == ce and end - start >= 30 * MIN
        assert any(k == "hmu_range_out" and start <= t <= start + 60 for t, k in ranges)
    assert "hmu_range_in" not in inside


def _zone_depth(shape, lat, lon):
    return zone_geometry(shape).exterior.distance(Point(*to_bng(lat, lon)))


@pytest.mark.parametrize("kind", VIOLATIONS)
def test_the_violation_is_in_the_telemetry(kind):
    ref, label, serials, lines = _episode(forced_violations(), kind)
    start, end = ts(label["start"]), ts(label["end"])
    assert label["truth"] == "violation"
    if kind in ("late_return", "left_during_curfew", "absent_whole_curfew", "out_at_curfew_end"):
        _curfew_checks(kind, label, serials, lines)
    elif kind in ("exclusion_brief", "exclusion_long", "inclusion_exit"):
        zones = wearer(ref).order.conditions.zones
        fixes = [f for f in _of(lines, serials[DeviceKind.GPS_TAG], "position") if start <= ts(f["at"]) <= end]
        assert len(fixes) >= 2
        gaps = [ts(b["at"]) - ts(a["at"]) for a, b in zip(fixes, fixes[1:])]
        assert max(gaps) <= 16           # every 15 s while it lasts
        if kind == "inclusion_exit":
            assert end - start >= 15 * MIN
            assert not any(zone_contains(zones[0].shape, f["lat"], f["lon"]) for f in fixes)
        else:
            zone = next(z for z in zones if all(zone_contains(z.shape, f["lat"], f["lon"]) for f in fixes))
            assert max(_zone_depth(zone.shape, f["lat"], f["lon"]) for f in fixes) >= 60     # deep, not grazing
            if kind == "exclusion_brief":
                assert 2 * MIN <= end - start <= 5 * MIN
            else:
                assert end - start >= 20 * MIN
    elif kind in ("strap_tamper", "hmu_moved"):
        assert start == end
        assert any(l["kind"] == kind and ts(l["at"]) == start for l in lines)
    elif kind == "battery_died":
        tag = _of(lines, serials[DeviceKind.GPS_TAG])
        kinds = [l["kind"] for l in tag]
        assert kinds.index("battery_low") < kinds.index("battery_dead") == len(kinds) - 1
        assert ts(tag[-1]["at"]) == start and end == violation_period(DAY).end.timestamp()
    elif kind == "hmu_unplugged":
        power = [(ts(l["at"]), l["kind"]) for l in _of(lines, serials[DeviceKind.HMU], "hmu_power_off", "hmu_power_on")]
        assert power[0] == (start, "hmu_power_off")
        assert all(t >= start + 2 * 3600 for t, k in power if k == "hmu_power_on")
        assert end - start >= 2 * 3600
    elif kind == "drinking":
        readings = [l["value"] for l in _of(lines, serials[DeviceKind.ALCOHOL_TAG], "alcohol_reading")
                    if start <= ts(l["at"]) <= end]
        assert len(readings) >= 3 and min(readings) > 20
        peak = readings.index(max(readings))
        assert readings[:peak + 1] == sorted(readings[:peak + 1])
        assert readings[peak:] == sorted(readings[peak:], reverse=True)
    elif kind == "checkin_missed":
        window = wearer(ref).order.conditions.checkins.window_min * MIN
        assert start == end
        assert not [l for l in _of(lines, serials[DeviceKind.NON_FITTED], "checkin")
                    if end - window <= ts(l["at"]) <= end]
    else:
        pytest.fail(f"no check for {kind}")


@pytest.mark.parametrize("kind", NOISE)
def test_the_noise_is_in_the_telemetry(kind):
    ref, label, serials, lines = _episode(forced_noise(), kind)
    start, end = ts(label["start"]), ts(label["end"])
    assert label["truth"] == "noise"
    w = wearer(ref)
    gps = serials.get(DeviceKind.GPS_TAG)
    fixes = _of(lines, gps, "position") if gps else []
    within = [f for f in fixes if start <= ts(f["at"]) <= end]
    if kind == "gps_drift":
        cs, ce = _curfew(ref)
        assert cs <= start and end <= ce and 10 * MIN - 60 <= end - start <= 30 * MIN
        assert len(within) >= 5
        assert all(f["hdop"] >= 4 and 29 <= metres(*w.home, f["lat"], f["lon"]) <= 81 for f in within)
    elif kind == "multipath_jump":
        fixes.sort(key=lambda f: ts(f["at"]))
        i = fixes.index(within[0])
        before, after = fixes[i - 1], fixes[i + len(within)]
        assert 1 <= len(within) <= 2 and ts(after["at"]) - start <= 60
        assert all(250 <= metres(before["lat"], before["lon"], f["lat"], f["lon"]) <= 2100 for f in within)
        assert metres(before["lat"], before["lon"], after["lat"], after["lon"]) < 100
    elif kind == "wild_fix_in_zone":
        assert start == end and len(within) == 1
        fix = within[0]
        assert any(zone_contains(z.shape, fix["lat"], fix["lon"]) for z in w.order.conditions.zones)
        fixes.sort(key=lambda f: ts(f["at"]))
        i = fixes.index(fix)
        assert min(metres(fix["lat"], fix["lon"], n["lat"], n["lon"]) for n in (fixes[i - 1], fixes[i + 1])) > 1000
        prev = fixes[i - 1]
        assert metres(fix["lat"], fix["lon"], prev["lat"], prev["lon"]) / (ts(fix["at"]) - ts(prev["at"])) > 70
    elif kind == "comms_gap":
        assert 10 * MIN <= end - start <= 60 * MIN
        serial = next(l["device"] for l in lines if l["kind"] == "comms_lost")
        mine = _of(lines, serial)
        restored = next(i for i, l in enumerate(mine) if l["kind"] == "comms_restored")
        assert ts(mine[restored]["at"]) == end
        late = [i for i, l in enumerate(mine) if start < ts(l["at"]) < end and l["kind"] != "comms_lost"]
        assert late and min(late) > restored           # the backlog comes after the reconnection
    elif kind == "hmu_power_cut":
        power = [(ts(l["at"]), l["kind"]) for l in _of(lines, serials[DeviceKind.HMU], "hmu_power_off", "hmu_power_on")]
        assert (start, "hmu_power_off") in power and (end, "hmu_power_on") in power
        assert 5 * MIN <= end - start <= 25 * MIN
    elif kind == "clock_jitter":
        serial = gps or serials[DeviceKind.ALCOHOL_TAG]
        stamps = [ts(l["at"]) for l in _of(lines, serial) if start - 10 <= ts(l["at"]) <= end + 10]
        assert any(b < a for a, b in zip(stamps, stamps[1:]))            # some go backwards
    elif kind == "duplicate_delivery":
        texts = Counter(tuple(sorted(l.items())) for l in lines if start <= ts(l["at"]) <= end)
        assert max(texts.values()) == 2
    elif kind == "out_of_order_delivery":
        stamps = [ts(l["at"]) for l in lines if start <= ts(l["at"]) <= end]
        assert len(stamps) >= 3 and stamps != sorted(stamps)
    else:
        pytest.fail(f"no check for {kind}")
