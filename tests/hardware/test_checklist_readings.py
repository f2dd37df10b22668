"""A real pairing over emulated devices gives the checklist its readings: the pairing id, the
serials and the self-test values, which then complete the install's reading steps."""
from __future__ import annotations

from datetime import time

from emdesk.devices.pairing import pair_devices
from emdesk.devices.readings import checklist_readings
from emdesk.domain.checklists import READINGS, evaluate
from emdesk.domain.checklists import ChecklistTick
from emdesk.domain.conditions import Conditions, Curfew, CurfewWindow, LocationMonitoring
from emdesk.domain.devices import DeviceKind
from emdesk.services.checklists import load_templates
from hardware.testing import KEY, tag_and_hmu

CURFEW = Curfew(windows=tuple(CurfewWindow(weekday=d, start=time(19), end=time(7)) for d in range(7)))


def test_an_rf_pairing_reads_range_battery_strap_and_mains():
    with tag_and_hmu() as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, Conditions(curfew=CURFEW), key=KEY)
    readings = checklist_readings(result)
    assert readings["pairing_id"] == result.pairing_id and len(result.pairing_id) > 0
    assert (readings["tag_serial"], readings["hmu_serial"]) == ("RF-104233", "HMU-000123")
    assert readings["range_rssi_dbm"] < 0 and readings["strap_closed"] is True and readings["mains_power"] is True
    assert 0 < readings["tag_battery_pct"] <= 100 and "gps_ttff_s" not in readings
    assert set(readings) <= set(READINGS)


def test_a_gps_pairing_reads_the_first_fix_and_completes_the_reading_steps():
    cond = Conditions(curfew=CURFEW, location=LocationMonitoring(fix_interval_s=30))
    with tag_and_hmu("gps_tag", tag_serial="GPS-000042") as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, cond, key=KEY)
    readings = checklist_readings(result)
    assert readings["gps_ttff_s"] > 0
    gps = next(t for t in load_templates() if t.name == "install_gps")
    ticks = [ChecklistTick(visit_id="v", order_id="o", subject_id="s", template="install_gps@1", step=s.key,
                           at=result.finished_at, by="u", source="devices", hlc=f"1764147600000-000{i}-desk",
                           value={k: v for k, v in readings.items() if k in (*s.readings, *s.optional_readings)})
             for i, s in enumerate(gps.steps) if s.kind.value == "reading"]
    states = {s.key: s for s in evaluate(gps, ticks, kinds={DeviceKind.GPS_TAG, DeviceKind.HMU}).steps}
    assert states["pairing"].done and states["first_fix"].done, (states["pairing"], states["first_fix"])
