"""A subject file's words: an order's conditions and a device's events as an operator reads them.

Nothing here says where the protected person of a proximity order is, or which phone
they carry: the wearer's file names the condition and its distance only.
"""
from __future__ import annotations

from dataclasses import dataclass

from emdesk.domain.conditions import AlcoholMode, Circle, Conditions, CurfewWindow
from emdesk.domain.curfew import DAY_NAMES, is_usable
from emdesk.domain.monitoring import EventKind


@dataclass(frozen=True)
class ConditionLine:
    kind: str          # curfew, zone, proximity, alcohol, checkins, location
    title: str         # "Curfew", "Exclusion zone: Broad Street"
    text: str          # the hours and limits in words


def days_words(days: list[int]) -> str:
    """Weekday numbers as a reader says them: "every day", "Mon–Fri", "Mon, Wed, Fri"."""
    days = sorted(set(days))
    if len(days) == 7:
        return "every day"
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{DAY_NAMES[days[0]]}–{DAY_NAMES[days[-1]]}"
    return ", ".join(DAY_NAMES[d] for d in days)


def _hours(windows: tuple[CurfewWindow, ...]) -> str:
    groups: dict[tuple[str, str], list[int]] = {}
    for w in windows:
        if is_usable(w):
            groups.setdefault((f"{w.start:%H:%M}", f"{w.end:%H:%M}"), []).append(w.weekday)
    return "; ".join(f"{days_words(days)} {s}–{e}" for (s, e), days in
                     sorted(groups.items(), key=lambda g: (min(g[1]), g[0])))


def conditions_words(conditions: Conditions) -> list[ConditionLine]:
    out: list[ConditionLine] = []
    curfew = conditions.curfew
    if curfew is not None:
        text = _hours(curfew.windows)
        if curfew.release_day is not None:
            r = curfew.release_day
            text = "; ".join(p for p in (text, f"release day {r.day:%d %b %Y} {r.start:%H:%M}–{r.end:%H:%M}") if p)
        out.append(ConditionLine("curfew", "Curfew", text or "no usable hours on the order"))
    for zone in conditions.zones:
        shape = (f"circle of {zone.shape.radius_m:.0f} m" if isinstance(zone.shape, Circle)
                 else f"area of {len(zone.shape.points)} points")
        hours = _hours(zone.active_windows) or "at all times"
        dates = ""
        if zone.active_from or zone.active_until:
            dates = (f", from {zone.active_from:%d %b %Y}" if zone.active_from else "") + (
                f", until {zone.active_until:%d %b %Y}" if zone.active_until else "")
        verb = "must not enter" if zone.kind.value == "exclusion" else "must stay inside"
        out.append(ConditionLine("zone", f"{zone.kind.value.capitalize()} zone: {zone.name}",
                                 f"{verb}, {hours}{dates} ({shape})"))
    if conditions.proximity is not None:
        out.append(ConditionLine("proximity", "Proximity", (
            f"must stay more than {conditions.proximity.radius_m:.0f} m from the protected person "
            "(their position is never shown)")))
    if conditions.alcohol is not None:
        a = conditions.alcohol
        if a.mode is AlcoholMode.LEVEL:
            level = f", over {a.threshold:g} mg/100 ml is a breach" if a.threshold is not None else ""
            text = f"level monitoring{level}"
        elif a.mode is AlcoholMode.ABSTINENCE:
            text = "abstinence: no alcohol at all"
        else:
            text = "mode not stated on the order"
        out.append(ConditionLine("alcohol", "Alcohol", text))
    if conditions.checkins is not None:
        c = conditions.checkins
        at = ", ".join(f"{t:%H:%M}" for t in c.at)
        how = "biometric" if c.biometric else "by answer"
        out.append(ConditionLine("checkins", "Check-ins", (
            f"{days_words(list(range(min(c.per_week, 7))))} at {at}, {c.window_min} min to answer ({how})")))
    if conditions.location is not None:
        keep = ", trail kept" if conditions.location.trail else ""
        out.append(ConditionLine("location", "Location", f"a fix every {conditions.location.fix_interval_s} s{keep}"))
    return out


_EVENT_WORDS = {
    EventKind.HMU_RANGE_IN: "Tag came into the home unit's range",
    EventKind.HMU_RANGE_OUT: "Tag left the home unit's range",
    EventKind.HMU_POWER_OFF: "Home unit off mains (on its battery)",
    EventKind.HMU_POWER_ON: "Home unit back on mains",
    EventKind.HMU_MOVED: "Home unit moved",
    EventKind.STRAP_TAMPER: "Strap tamper",
    EventKind.BODY_TAMPER: "Body tamper (lost skin contact)",
    EventKind.CASE_TAMPER: "Case tamper",
    EventKind.BATTERY_LOW: "Battery low",
    EventKind.BATTERY_DEAD: "Battery dead: the device shut down",
    EventKind.CHARGING: "Charging",
    EventKind.DEVICE_FAULT: "Device fault",
    EventKind.COMMS_LOST: "Communication lost",
    EventKind.COMMS_RESTORED: "Communication restored",
    EventKind.NO_FIX: "No GPS fix",
    EventKind.POSITION: "GPS fix",
}

# How an event reads on the timeline: bad (the wearer or the kit needs someone), warn, or plain.
_TONE = {
    EventKind.STRAP_TAMPER: "bad", EventKind.BODY_TAMPER: "bad", EventKind.CASE_TAMPER: "bad",
    EventKind.BATTERY_DEAD: "bad", EventKind.DEVICE_FAULT: "bad", EventKind.HMU_MOVED: "bad",
    EventKind.HMU_POWER_OFF: "warn", EventKind.BATTERY_LOW: "warn", EventKind.COMMS_LOST: "warn",
    EventKind.NO_FIX: "warn", EventKind.HMU_RANGE_OUT: "warn",
}


def event_words(kind: str, value: float | None) -> tuple[str, str]:
    """(what happened, tone) for one device event."""
    what = EventKind(kind)
    if what is EventKind.BATTERY_LEVEL:
        return f"Battery {value:.0f}%" if value is not None else "Battery level", "warn"
    if what is EventKind.ALCOHOL_READING:
        return (f"Alcohol reading {value:g} mg/100 ml" if value is not None else "Alcohol reading"), "bad"
    if what is EventKind.CHECKIN:
        if value is None:
            return "Check-in", ""
        return ("Check-in: biometric match", "") if value >= 1 else ("Check-in failed: biometric did not match", "bad")
    return _EVENT_WORDS.get(what, what.value.replace("_", " ").capitalize()), _TONE.get(what, "")


__all__ = ["ConditionLine", "conditions_words", "days_words", "event_words"]
