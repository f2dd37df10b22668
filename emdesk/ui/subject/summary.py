"""The top of a subject's file in words: the order, the conditions, each device's health.

Rich text, because a state reads best as a coloured word in a sentence ("battery 12%
<b>low</b>"); the colours come from the palette, the words from the service.
"""
from __future__ import annotations

from html import escape

from emdesk.services.subject_file import DeviceHealth, HomeUnit, SubjectFile, Tamper

from .. import palette
from ..formatting import fmt_date, fmt_when

# A device state as the colour it reads in.
_STATE_TONE = {"ok": "good", "low": "warn", "late": "warn", "dead": "bad", "silent": "bad",
               "unknown": "faint", "n/a": "faint"}


def coloured(text: str, tone: str, *, bold: bool = True) -> str:
    weight = "font-weight:bold;" if bold else ""
    return f"<span style='color:{palette.css(tone)};{weight}'>{escape(text)}</span>"


def heading(title: str) -> str:
    return f"<b style='color:{palette.css('muted')}'>{escape(title)}</b>"


def header_line(f: SubjectFile) -> str:
    """Under the name: reference, cohort, risk, status."""
    o = f.order
    risk = f"{o.risk_level} risk" if o.risk_level else "risk not assessed"
    return " · ".join(p for p in (o.reference, o.cohort, risk, o.status) if p)


def order_html(f: SubjectFile) -> str:
    o, p = f.order, f.person
    dates = f"{fmt_date(o.start) or '…'} to {fmt_date(o.end) or 'no end date'}"
    lines = [f"{escape(o.order_type + ', ' if o.order_type else '')}{escape(dates)} · {escape(o.region)}",
             f"Responsible officer: {escape(o.responsible_officer or 'not recorded')}"]
    if p.shown:
        born = f"Born {fmt_date(p.date_of_birth)}" if p.date_of_birth else "Date of birth not recorded"
        lines.append(f"{escape(born)} · {escape(p.home or 'no address recorded')}")
    else:
        lines.append(coloured("Personal details are not shown to your role", "faint", bold=False))
    return f"{heading('Order')}<br>" + "<br>".join(lines)


def conditions_html(f: SubjectFile) -> str:
    if not f.conditions:
        return f"{heading('Conditions')}<br>{coloured('None recorded on the order', 'faint', bold=False)}"
    rows = "<br>".join(f"<b>{escape(c.title)}</b>: {escape(c.text)}" for c in f.conditions)
    return f"{heading('Conditions')}<br>{rows}"


def _tamper(t: Tamper) -> str:
    state = coloured("cleared", "good") if t.cleared else coloured(f"not cleared ({t.status.lower()})", "bad")
    return f"{escape(t.kind.capitalize())} tamper {escape(fmt_when(t.at))}: {state}"


def _home_unit(h: HomeUnit) -> list[str]:
    out = []
    if h.on_mains is not None:
        power = coloured("on mains", "good") if h.on_mains else coloured("off mains", "warn")
        out.append(f"Power {power} since {escape(fmt_when(h.power_since))}")
    if h.tag_in_range is not None:
        where = coloured("in range", "good") if h.tag_in_range else coloured("out of range", "warn")
        out.append(f"Tag {where} since {escape(fmt_when(h.range_since))}")
    return out or [coloured("No power or range reports yet", "faint", bold=False)]


def device_html(d: DeviceHealth) -> str:
    fitted = f"fitted {fmt_date(d.fitted_at)}" if d.fitted_at else d.state.lower()
    if d.removed_at:
        fitted += f", removed {fmt_date(d.removed_at)}"
    head = f"<b>{escape(d.kind)} {escape(d.serial)}</b> · {escape(fitted)}"
    facts = []
    if d.battery != "n/a":
        level = f"{d.battery_pct:.0f}% " if d.battery_pct is not None else ""
        when = f" at {fmt_when(d.battery_at)}" if d.battery_at else ""
        facts.append(f"Battery {escape(level)}{coloured(d.battery, _STATE_TONE[d.battery])}{escape(when)}")
    contact = fmt_when(d.last_contact) if d.last_contact else "never heard"
    facts.append(f"Last contact {escape(contact)} {coloured(d.contact, _STATE_TONE[d.contact])}")
    lines = [" · ".join(facts)]
    lines += [_tamper(t) for t in d.tampers]
    if d.home_unit is not None:
        lines += _home_unit(d.home_unit)
    return head + "<br>" + "<br>".join(lines)


def devices_html(f: SubjectFile) -> str:
    if not f.devices:
        return f"{heading('Devices')}<br>{coloured('No device allocated to this order', 'faint', bold=False)}"
    return f"{heading('Devices')}" + "".join(
        f"<p style='margin:2px 0 6px 0'>{device_html(d)}</p>" for d in f.devices)


def device_states(d: DeviceHealth) -> list[str]:
    """The states a device is in, worst first, for a one-line summary (and tests)."""
    states = [s for s in (d.battery, d.contact) if s not in ("ok", "n/a", "unknown")]
    states += [f"{t.kind} tamper" for t in d.tampers if not t.cleared]
    return states


__all__ = ["conditions_html", "device_html", "device_states", "devices_html", "header_line", "order_html"]
