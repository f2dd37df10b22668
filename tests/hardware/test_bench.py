"""The technician's bench: diagnose, event log download (paged), unpair, factory reset."""
from __future__ import annotations

import pytest

from emdesk.devices import bench, errors
from emdesk.devices.pairing import pair_devices
from emdesk.devices.protocol import EventCode, PairingState
from emdesk.domain.conditions import Conditions
from hardware.testing import KEY, tag_and_hmu


def test_a_healthy_device_is_fit_to_issue(start):
    dev, c = start("gps_tag", "GPS-000001")
    d = bench.diagnose(c.link, key=KEY)
    assert d.fit_to_issue and d.authentic and d.firmware_approved
    assert d.battery is bench.BatteryHealth.GOOD and d.self_test.passed
    assert [f.severity for f in d.findings] == [bench.Severity.OK]
    assert d.findings[0].text == "GPS tag GPS-000001 is fit to issue"


@pytest.mark.parametrize("faults, text", [
    ("counterfeit", "failed the authenticity check"),
    ("unapproved_firmware", "firmware 9.0.0-beta is not on the approved list (2.4.0, 2.4.1)"),
    ("case_open", "case open or damaged"),
])
def test_faults_found_on_the_bench(start, faults, text):
    dev, c = start("rf_tag", "RF-000002", faults)
    d = bench.diagnose(c.link, key=KEY)
    assert not d.fit_to_issue
    assert any(f.severity is bench.Severity.FAULT and text in f.text for f in d.findings), d.findings


def test_battery_health_and_a_device_still_paired(start):
    dev, c = start("rf_tag", "RF-000003", "paired_elsewhere=HMU-777777,flat_battery")
    dev.unit.physical.battery_health_pct = 72
    d = bench.diagnose(c.link, key=KEY, run_self_test=False)
    assert d.battery is bench.BatteryHealth.WORN and d.fit_to_issue and d.self_test is None
    texts = [f.text for f in d.findings]
    assert "still paired with HMU-777777" in texts and "battery at 3%" in texts
    dev.unit.physical.battery_cycles = 900
    assert bench.diagnose(c.link, run_self_test=False).battery is bench.BatteryHealth.REPLACE
    assert bench.diagnose(c.link, run_self_test=False).authentic is None          # no key: not checked


def test_event_log_download_pages_through_everything(start):
    dev, c = start("gps_tag", "GPS-000004")
    for _ in range(20):
        dev.open_strap()
        dev.close_strap()
        dev.report_position()
    total = len(dev.unit.events)
    progress = []
    events = bench.download_events(c.link, key=KEY, page_size=8, progress=lambda done, of: progress.append((done, of)))
    assert [e.seq for e in events] == [e.seq for e in dev.unit.events][:len(events)]
    assert len(events) >= total and progress[-1][0] == progress[-1][1] == len(events)
    assert len(progress) > 60 / 8                                               # really paged
    positions = [e for e in events if e.code is EventCode.POSITION]
    assert len(positions) == 20 and positions[0].text.startswith("$GPRMC,")
    later = bench.download_events(c.link, key=KEY, since_seq=events[-5].seq)
    assert [e.seq for e in later][:5] == [e.seq for e in events[-5:]]


def test_unpair_and_factory_reset_after_a_pairing():
    with tag_and_hmu() as (tag, hmu, tl, hl):
        assert pair_devices(tl, hl, Conditions(), key=KEY).paired
        st = bench.unpair(tl, key=KEY)
        assert st.pairing_state is PairingState.NONE and tag.unit.pairing is None
        with pytest.raises(errors.ProtocolFault):
            bench.factory_reset(hl, key=KEY, confirm_serial="RF-104233")
        st = bench.factory_reset(hl, key=KEY, confirm_serial="HMU-000123")
        assert not st.paired and st.device_time == 0
        assert [e.code for e in hmu.unit.events] == [EventCode.FACTORY_RESET]


def test_bench_refuses_a_counterfeit_before_changing_anything(start):
    dev, c = start("rf_tag", "RF-000005", "counterfeit,paired_elsewhere=HMU-1")
    with pytest.raises(errors.CounterfeitDevice):
        bench.unpair(c.link, key=KEY)
    assert dev.unit.pairing is not None
