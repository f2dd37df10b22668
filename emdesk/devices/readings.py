"""A pairing's results as checklist readings (``emdesk.domain.checklists.READINGS``).

The checklist's reading steps take their values from the devices, never from a keyboard:
the pairing wizard hands ``checklist_readings(result)`` to
``InstallService.record_installation(..., readings=...)`` (or to
``ChecklistService.record_readings``).  A self-test check the device skipped gives no reading.
"""
from __future__ import annotations

from typing import Any

from .pairing import DeviceReport, PairingResult
from .protocol.codes import CheckOutcome, SelfTestId


def _check(report: DeviceReport | None, check: SelfTestId):
    if report is None or report.self_test is None:
        return None
    found = report.self_test.get(check)
    return None if found is None or found.outcome is CheckOutcome.SKIPPED else found


def checklist_readings(result: PairingResult) -> dict[str, Any]:
    """What the devices measured during this pairing, by reading name."""
    out: dict[str, Any] = {}
    if result.paired and result.pairing_id:
        out["pairing_id"] = result.pairing_id
    if result.tag_serial:
        out["tag_serial"] = result.tag_serial
    if result.hmu_serial:
        out["hmu_serial"] = result.hmu_serial
    tag, hmu = result.tag, result.hmu
    rng = _check(tag, SelfTestId.PARTNER_RANGE) or _check(hmu, SelfTestId.PARTNER_RANGE)
    if rng is not None and rng.passed:
        out["range_rssi_dbm"] = int(rng.value)
    fix = _check(tag, SelfTestId.GPS_FIX)
    if fix is not None and fix.passed:
        out["gps_ttff_s"] = int(fix.value)
    for name, report in (("tag_battery_pct", tag), ("hmu_battery_pct", hmu)):
        battery = _check(report, SelfTestId.BATTERY)
        if battery is not None:
            out[name] = int(battery.value)
    for name, report, check in (("strap_closed", tag, SelfTestId.STRAP), ("mains_power", hmu, SelfTestId.MAINS_POWER),
                                ("alcohol_sensor", tag, SelfTestId.ALCOHOL_SENSOR)):
        found = _check(report, check)
        if found is not None:
            out[name] = found.passed
    return out


__all__ = ["checklist_readings"]
