"""A device's diagnosis in words: who it is, and the findings against the approved list."""
from __future__ import annotations

from emdesk.devices import bench as bench_ops
from emdesk.devices.bench import Diagnosis, Severity
from emdesk.devices.firmware import DEFAULT_APPROVED
from emdesk.devices.link import DeviceLink, LinkPolicy

from .. import palette

_TONES = {Severity.OK: "good", Severity.WARNING: "warn", Severity.FAULT: "bad"}


def device_html(d: Diagnosis) -> str:
    ident, st = d.identity, d.status
    bad = palette.css("bad")
    authentic = {True: "genuine", False: f"<b style='color:{bad}'>FAILED the authenticity check</b>",
                 None: "not checked"}[d.authentic]
    pairing = f"paired with {st.partner_serial}" if st.paired else "not paired"
    return (f"<b>{ident.kind.label} {ident.serial}</b> · {ident.model} rev {ident.hardware_rev}<br>"
            f"Firmware {ident.firmware} ({'approved' if d.firmware_approved else 'NOT approved'}) · {authentic}<br>"
            f"Battery {st.battery_pct}% · health {st.battery_health_pct}% over {st.battery_cycles} cycles "
            f"({d.battery.label.lower()}) · {pairing}")


def findings_html(d: Diagnosis) -> str:
    lines = []
    for f in d.findings:
        action = f" — {f.action}" if f.action else ""
        lines.append(f"<span style='color:{palette.css(_TONES[f.severity])}; font-weight:bold'>"
                     f"{f.severity.value.upper()}</span> {f.text}{action}")
    verdict = (f"<b style='color:{palette.css('good')}'>Fit to issue</b>" if d.fit_to_issue
               else f"<b style='color:{palette.css('bad')}'>Not fit to issue</b>")
    return verdict + "<br>" + "<br>".join(lines)


def open_and_diagnose(port: str, policy: LinkPolicy | None, key) -> tuple[DeviceLink, Diagnosis]:
    """Open the cradle's port and diagnose the device on it (device lane); the link stays open."""
    link = DeviceLink.open(port, policy=policy) if policy else DeviceLink.open(port)
    try:
        return link, bench_ops.diagnose(link, key=key, approved=DEFAULT_APPROVED)
    except BaseException:
        link.close()
        raise
