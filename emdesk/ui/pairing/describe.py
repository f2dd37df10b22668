"""Conditions and devices in the words the wizard shows them."""
from __future__ import annotations

from emdesk.devices.protocol.messages import DeviceIdentity, DeviceStatus
from emdesk.domain.conditions import Conditions

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def describe_conditions(c: Conditions) -> str:
    parts = []
    if c.curfew and c.curfew.windows:
        times = sorted({f"{w.start:%H:%M}–{w.end:%H:%M}" for w in c.curfew.windows})
        days = ", ".join(_WEEKDAYS[w.weekday] for w in sorted(c.curfew.windows, key=lambda w: w.weekday))
        parts.append(f"curfew {' / '.join(times)} ({days})")
    if c.zones:
        parts.append(f"{len(c.zones)} zone{'s' if len(c.zones) != 1 else ''}")
    if c.location:
        parts.append(f"location every {c.location.fix_interval_s} s")
    if c.alcohol:
        parts.append(f"alcohol ({c.alcohol.mode.value})")
    if c.checkins:
        parts.append(f"{c.checkins.per_week} check-ins a week")
    return "; ".join(parts) or "no conditions for the devices (time zone only)"


def describe_device(identity: DeviceIdentity, status: DeviceStatus) -> str:
    power = f"battery {status.battery_pct}%" + (" (charging)" if status.charging else "")
    strap = "" if identity.kind.value == "hmu" else (" · strap OPEN" if status.strap_open else " · strap closed")
    return (f"{identity.kind.label} {identity.serial} · {identity.model} · firmware {identity.firmware} · "
            f"{power}{strap}")
