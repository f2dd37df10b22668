"""The technician's bench: diagnose a device, download its event log, unpair, reset.

Every function takes an open DeviceLink and runs on the device thread.  Functions
that change a device (unpair, factory reset) or read personal data (the event log)
authenticate first with the manufacturer key.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from .auth import ManufacturerKey, authenticate
from .client import DeviceClient
from .errors import CounterfeitDevice, ProtocolFault
from .firmware import DEFAULT_APPROVED, ApprovedFirmware
from .link import DeviceLink
from .protocol.codes import SelfTestId
from .protocol.messages import DeviceEvent, DeviceIdentity, DeviceStatus, SelfTestReport

MAX_PAGES = 10_000


class BatteryHealth(str, Enum):
    GOOD = "good"
    WORN = "worn"                # usable, plan a replacement
    REPLACE = "replace"          # do not issue

    @property
    def label(self) -> str:
        return {"good": "Good", "worn": "Worn: plan a replacement", "replace": "Replace before issuing"}[self.value]


def battery_health(status: DeviceStatus) -> BatteryHealth:
    """Capacity against design (state of health) and charge cycles, as the supplier rates them."""
    if status.battery_health_pct < 60 or status.battery_cycles > 800:
        return BatteryHealth.REPLACE
    if status.battery_health_pct < 80 or status.battery_cycles > 500:
        return BatteryHealth.WORN
    return BatteryHealth.GOOD


class Severity(str, Enum):
    OK = "ok"
    WARNING = "warning"
    FAULT = "fault"              # not fit to issue


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    text: str
    action: str = ""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    identity: DeviceIdentity
    status: DeviceStatus
    authentic: bool | None                  # None: not checked (no key given)
    firmware_approved: bool
    battery: BatteryHealth
    self_test: SelfTestReport | None
    findings: tuple[Finding, ...]

    @property
    def fit_to_issue(self) -> bool:
        return not any(f.severity is Severity.FAULT for f in self.findings)


def identify(link: DeviceLink) -> DeviceIdentity:
    """Say hello (starts a new session on the device) and return who it is."""
    return DeviceClient(link).hello()


def read_status(link: DeviceLink) -> DeviceStatus:
    return DeviceClient(link).status()


def diagnose(link: DeviceLink, *, key: ManufacturerKey | None = None, approved: ApprovedFirmware = DEFAULT_APPROVED,
             run_self_test: bool = True) -> Diagnosis:
    client = DeviceClient(link)
    ident = client.hello()
    status = client.status()
    findings: list[Finding] = []
    authentic: bool | None = None
    if key is not None:
        try:
            authenticate(client, key)
            authentic = True
        except CounterfeitDevice as e:
            authentic = False
            findings.append(Finding(Severity.FAULT, e.what, e.action))
    fw_ok = approved.is_approved(ident.kind, ident.firmware)
    if not fw_ok:
        findings.append(Finding(Severity.FAULT, f"firmware {ident.firmware} is not on the approved list "
                                f"({', '.join(approved.approved_for(ident.kind)) or 'none approved'})",
                                "update the firmware before issuing"))
    health = battery_health(status)
    if health is BatteryHealth.REPLACE:
        findings.append(Finding(Severity.FAULT, f"battery worn out ({status.battery_health_pct}% capacity, "
                                f"{status.battery_cycles} cycles)", "replace the battery or return to supplier"))
    elif health is BatteryHealth.WORN:
        findings.append(Finding(Severity.WARNING, f"battery wearing ({status.battery_health_pct}% capacity, "
                                f"{status.battery_cycles} cycles)", "plan a battery replacement"))
    if status.battery_pct < 20 and not status.charging:
        findings.append(Finding(Severity.WARNING, f"battery at {status.battery_pct}%", "charge before issuing"))
    if status.case_open:
        findings.append(Finding(Severity.FAULT, "case open or damaged", "mark faulty"))
    if status.paired:
        findings.append(Finding(Severity.WARNING, f"still paired with {status.partner_serial}",
                                "unpair it before returning it to stock"))
    report = None
    if run_self_test:
        report = client.self_test()
        for fail in report.failures:
            if fail.check in (SelfTestId.PARTNER_RANGE, SelfTestId.STRAP, SelfTestId.GPS_FIX, SelfTestId.MAINS_POWER):
                continue        # situational on a bench, not faults of the device
            findings.append(Finding(Severity.FAULT, f"self-test failed: {fail.check.name.lower().replace('_', ' ')}",
                                    "mark faulty and return to supplier"))
    if not findings:
        findings.append(Finding(Severity.OK, f"{ident.kind.label} {ident.serial} is fit to issue"))
    return Diagnosis(ident, status, authentic, fw_ok, health, report, tuple(findings))


def download_events(link: DeviceLink, *, key: ManufacturerKey, since_seq: int = 1, page_size: int = 16,
                    progress: Callable[[int, int], None] | None = None) -> list[DeviceEvent]:
    """The device's event log from ``since_seq`` on, page by page. progress(done, total)."""
    client = _authenticated(link, key)
    out: list[DeviceEvent] = []
    seq = since_seq
    for _ in range(MAX_PAGES):
        page = client.get_events(seq, page_size)
        out.extend(page.events)
        if progress:
            progress(len(out), len(out) + page.remaining)
        if not page.remaining or not page.events:
            return out
        if page.next_seq <= seq:
            raise ProtocolFault(f"{client.serial} sent an event page that does not move forward",
                                "press Retry; if it happens again, report a firmware fault", port=link.name)
        seq = page.next_seq
    return out


def unpair(link: DeviceLink, *, key: ManufacturerKey) -> DeviceStatus:
    """Forget the device's partner and monitoring configuration (e.g. on return to stock)."""
    client = _authenticated(link, key)
    client.unpair()
    return client.status()


def factory_reset(link: DeviceLink, *, key: ManufacturerKey, confirm_serial: str) -> DeviceStatus:
    """Pairing, configuration and event log erased.  ``confirm_serial`` must be the device's serial."""
    client = _authenticated(link, key)
    client.factory_reset(confirm_serial)
    return client.status()


def _authenticated(link: DeviceLink, key: ManufacturerKey) -> DeviceClient:
    client = DeviceClient(link)
    client.hello()
    authenticate(client, key)
    return client


__all__ = [
    "BatteryHealth", "Diagnosis", "Finding", "Severity", "battery_health", "diagnose", "download_events",
    "factory_reset", "identify", "read_status", "unpair",
]
