"""Intake rules about what is monitored: curfew, zones, devices (see rules.py)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from ..clock import LONDON
from ..conditions import AlcoholMode, Circle, Polygon, Zone, ZoneKind
from ..curfew import day_hours, describe_day, hours_in_any_7_days, is_usable, overlapping_windows
from ..devices import DeviceKind
from ..geography import zone_area_m2, zone_contains, zone_defect
from ..orders import Cohort, OrderType
from .draft import Draft, text_of, tuple_of
from .table import (
    CIRCLE_RADIUS_M,
    CURFEW_DAY_MAX_H,
    CURFEW_DAY_MIN_H,
    CURFEW_MAX_YEARS,
    CURFEW_WEEK_MAX_H,
    HDC_DAY_MIN_H,
    POLYGON_AREA_M2,
    Finding,
    rule,
)

# Curfew -------------------------------------------------------------------------


def _first_window_of(d: Draft, weekday: int) -> str:
    for i, w in enumerate(d.windows):
        if is_usable(w) and w.weekday == weekday:
            return f"order.conditions.curfew.windows[{i}]"
    return "order.conditions.curfew.windows"


@rule("CURFEW-EMPTY", "order.conditions.curfew", "A curfew has at least one window.")
def _curfew_empty(d: Draft) -> Iterator[Finding]:
    if d.curfew is not None and not d.windows and d.curfew.release_day is None:
        yield ("Curfew has no hours: enter its windows, e.g. 'Mon-Sun 19:00-07:00', or remove the curfew.")


@rule("CURFEW-WINDOW-DAY", "order.conditions.curfew.windows[i]", "Each curfew window starts on a day of the week.")
def _window_day(d: Draft) -> Iterator[Finding]:
    for i, w in enumerate(d.windows):
        if not is_usable(w):
            yield (f"order.conditions.curfew.windows[{i}]",
                   f"Curfew window {i + 1} has no proper day and times (weekday "
                   f"{getattr(w, 'weekday', None)!r}): give a day Mon..Sun and times like 19:00-07:00.")


@rule("CURFEW-WINDOW-OVERLAP", "order.conditions.curfew.windows[i]", "Curfew windows do not overlap.")
def _window_overlap(d: Draft) -> Iterator[Finding]:
    for i, j in overlapping_windows(d.curfew):
        yield (f"order.conditions.curfew.windows[{j}]",
               f"Curfew window {j + 1} overlaps window {i + 1}: each hour may be in one window only; "
               f"merge them or correct the times.")


@rule("CURFEW-DAY-TOO-SHORT", "order.conditions.curfew.windows[i]",
       f"Each curfew day has at least {CURFEW_DAY_MIN_H} hours of curfew.")
def _day_short(d: Draft) -> Iterator[Finding]:
    for day, hours in day_hours(d.curfew).items():
        if 0 < hours < CURFEW_DAY_MIN_H:
            yield (_first_window_of(d, day),
                   f"{describe_day(day)} has {hours:g} h of curfew: the law allows {CURFEW_DAY_MIN_H} to "
                   f"{CURFEW_DAY_MAX_H} hours on a curfew day; check the times.")


@rule("CURFEW-DAY-TOO-LONG", "order.conditions.curfew.windows[i]",
       f"No curfew day has more than {CURFEW_DAY_MAX_H} hours of curfew.")
def _day_long(d: Draft) -> Iterator[Finding]:
    for day, hours in day_hours(d.curfew).items():
        if hours > CURFEW_DAY_MAX_H:
            yield (_first_window_of(d, day),
                   f"{describe_day(day)} has {hours:g} h of curfew: the law allows at most "
                   f"{CURFEW_DAY_MAX_H} hours on a curfew day; check the times.")


@rule("CURFEW-WEEK-HOURS", "order.conditions.curfew.windows",
       f"At most {CURFEW_WEEK_MAX_H} hours of curfew in any 7 days.")
def _week_hours(d: Draft) -> Iterator[Finding]:
    hours = hours_in_any_7_days(d.curfew)
    if hours > CURFEW_WEEK_MAX_H:
        yield (f"The curfew adds up to {hours:g} h in 7 days: the law allows at most {CURFEW_WEEK_MAX_H}; "
               f"check the windows against the order.")


@rule("CURFEW-HDC-HOURS", "order.conditions.curfew.windows[i]",
       f"A home detention curfew has at least {HDC_DAY_MIN_H} hours every day.")
def _hdc_hours(d: Draft) -> Iterator[Finding]:
    if d.order_type is not OrderType.HDC or not d.windows:
        return      # no curfew, or an empty one (CURFEW-EMPTY says so)
    for day, hours in day_hours(d.curfew).items():
        if hours < HDC_DAY_MIN_H:
            yield (_first_window_of(d, day),
                   f"{describe_day(day)} has {hours:g} h of curfew: home detention curfew needs at least "
                   f"{HDC_DAY_MIN_H} hours every day; check the licence.")


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:        # 29 February
        return day.replace(year=day.year + years, day=28)


@rule("CURFEW-ORDER-LENGTH", "order.end", f"A curfew order lasts at most {CURFEW_MAX_YEARS} years.")
def _curfew_length(d: Draft) -> Iterator[Finding]:
    if d.curfew is None or not (d.start and d.end) or d.end <= d.start:
        return
    limit = _add_years(d.start, CURFEW_MAX_YEARS)
    if d.end > limit:
        yield (f"A curfew may last at most {CURFEW_MAX_YEARS} years, so it must end by {limit.isoformat()}, "
               f"not {d.end.isoformat()}: check the end date.")


# Zones --------------------------------------------------------------------------


def _shape_path(path: str, zone: Zone) -> str:
    return f"{path}.circle.radius_m" if isinstance(zone.shape, Circle) else f"{path}.polygon"


def _sound(zone: Zone) -> bool:
    return zone_defect(zone.shape) is None


@rule("ZONE-NAME-MISSING", "order.conditions.zones[i].name", "Every zone has a name (it appears in breach packs).")
def _zone_name(d: Draft) -> Iterator[Finding]:
    for path, zone in d.zones:
        if not text_of(zone.name):
            yield (f"{path}.name", "Zone has no name: name it as the order does (e.g. 'Victim's home, "
                                   "Roundhay'); breach packs quote it.")


@rule("ZONE-SHAPE-INVALID", "order.conditions.zones[i]", "Every zone is a drawable circle or simple polygon.")
def _zone_shape(d: Draft) -> Iterator[Finding]:
    for path, zone in d.zones:
        defect = zone_defect(zone.shape)
        if defect:
            yield (path, f"Zone '{text_of(zone.name)}' cannot be drawn: {defect}; redraw it on the map.")


@rule("ZONE-DATES-ORDER", "order.conditions.zones[i].active_until",
       "A zone that applies between dates ends after it starts.")
def _zone_dates(d: Draft) -> Iterator[Finding]:
    for path, zone in d.zones:
        start, until = zone.active_from, zone.active_until
        if not (isinstance(start, datetime) and isinstance(until, datetime)):
            continue
        if _aware(until) <= _aware(start):
            yield (f"{path}.active_until",
                   f"Zone '{text_of(zone.name)}' ends ({_shown_at(until)}) before it starts ({_shown_at(start)}): "
                   f"check both dates against the order.")


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=LONDON) if at.tzinfo is None else at


def _shown_at(at: datetime) -> str:
    return f"{_aware(at).astimezone(LONDON):%d %b %Y %H:%M}"


@rule("ZONE-CIRCLE-SIZE", "order.conditions.zones[i].circle.radius_m",
       f"A circular zone's radius is {CIRCLE_RADIUS_M[0]:g} m to {CIRCLE_RADIUS_M[1] / 1000:g} km.")
def _circle_size(d: Draft) -> Iterator[Finding]:
    low, high = CIRCLE_RADIUS_M
    for path, zone in d.zones:
        if isinstance(zone.shape, Circle) and _sound(zone) and not (low <= zone.shape.radius_m <= high):
            yield (_shape_path(path, zone),
                   f"Zone '{text_of(zone.name)}' has a radius of {zone.shape.radius_m:g} m: GPS cannot police "
                   f"a zone outside {low:g} m to {high / 1000:g} km; check the units (metres).")


@rule("ZONE-POLYGON-SIZE", "order.conditions.zones[i].polygon",
       f"A polygon zone covers {POLYGON_AREA_M2[0]:,.0f} m² to {POLYGON_AREA_M2[1] / 1e6:g} km².")
def _polygon_size(d: Draft) -> Iterator[Finding]:
    low, high = POLYGON_AREA_M2
    for path, zone in d.zones:
        if isinstance(zone.shape, Polygon) and _sound(zone):
            area = zone_area_m2(zone.shape)
            if not (low <= area <= high):
                yield (_shape_path(path, zone),
                       f"Zone '{text_of(zone.name)}' covers {area:,.0f} m²: a zone must cover {low:,.0f} m² to "
                       f"{high / 1e6:g} km² to be policed by GPS; check the corners.")


@rule("ZONE-EXCLUDES-HOME", "order.conditions.zones[i]", "No exclusion zone contains the wearer's home.")
def _zone_excludes_home(d: Draft) -> Iterator[Finding]:
    home = d.home_where
    if home is None:
        return
    for path, zone in d.zones:
        if zone.kind is ZoneKind.EXCLUSION and _sound(zone) and zone_contains(zone.shape, home.lat, home.lon):
            yield (path, f"Exclusion zone '{text_of(zone.name)}' contains the wearer's home "
                         f"({_home_label(d)}): they could not go home without a breach; check the zone "
                         f"and the address with the responsible officer.")


@rule("ZONE-INCLUSION-HOME", "order.conditions.zones[i]", "Every inclusion zone contains the wearer's home.")
def _zone_includes_home(d: Draft) -> Iterator[Finding]:
    home = d.home_where
    if home is None:
        return
    for path, zone in d.zones:
        if zone.kind is ZoneKind.INCLUSION and _sound(zone) and not zone_contains(zone.shape, home.lat, home.lon):
            yield (path, f"Inclusion zone '{text_of(zone.name)}' does not contain the wearer's home "
                         f"({_home_label(d)}): they would breach by being at home; check the zone and the "
                         f"address with the responsible officer.")


def _home_label(d: Draft) -> str:
    path, address = d.home
    where = d.home_where
    parts = [text_of(x) for x in (*tuple_of(address.lines), address.town, address.postcode)]
    place = ", ".join(p for p in parts if p) or path
    return place if where is None or where.how == "given" else f"{place}, placed by {where.how}"


@rule("COND-ALCOHOL-MODE-MISSING", "order.conditions.alcohol.mode",
       "Alcohol monitoring says which kind: abstinence or a level.")
def _alcohol_mode(d: Draft) -> Iterator[Finding]:
    if d.alcohol and not isinstance(getattr(d.conditions.alcohol, "mode", None), AlcoholMode):
        yield ("Alcohol monitoring does not say which kind: choose abstinence (no alcohol at all) or level "
               "(a limit), as the order requires; it is never assumed.")


# Devices ------------------------------------------------------------------------


def _kinds(*kinds: DeviceKind) -> str:
    return " and ".join(k.label for k in kinds)


@rule("DEV-GPS-MISSING", "order.device_kinds", "Zones or location monitoring need a GPS tag.")
def _gps_missing(d: Draft) -> Iterator[Finding]:
    if d.restates_conditions and (d.zones or d.location) and DeviceKind.GPS_TAG not in d.devices:
        yield "The order has zones or location monitoring, which need a GPS tag: add a GPS tag."


@rule("DEV-ALCOHOL-MISSING", "order.device_kinds", "Alcohol monitoring needs an alcohol tag.")
def _alcohol_missing(d: Draft) -> Iterator[Finding]:
    if d.restates_conditions and d.alcohol and DeviceKind.ALCOHOL_TAG not in d.devices:
        yield "The order has alcohol monitoring, which needs an alcohol tag: add an alcohol tag."


@rule("DEV-CURFEW-MISSING", "order.device_kinds",
       "A curfew needs a home monitoring unit and an RF or GPS tag.")
def _curfew_devices(d: Draft) -> Iterator[Finding]:
    if not d.restates_conditions or d.curfew is None:
        return
    missing = []
    if not d.devices & {DeviceKind.RF_TAG, DeviceKind.GPS_TAG}:
        missing.append("an RF tag (or a GPS tag)")
    if DeviceKind.HMU not in d.devices:
        missing.append("a home monitoring unit")
    if missing:
        yield f"A curfew is checked by a tag and a home monitoring unit at the address: add {' and '.join(missing)}."


@rule("DEV-CHECKINS-MISSING", "order.device_kinds", "Check-ins need a non-fitted device.")
def _checkins_missing(d: Draft) -> Iterator[Finding]:
    if d.restates_conditions and d.checkins and DeviceKind.NON_FITTED not in d.devices:
        yield "The order has biometric check-ins, which need a non-fitted device: add one."


@rule("DEV-NONFITTED-COHORT", "order.device_kinds", "Non-fitted devices are for immigration bail only.")
def _nonfitted_cohort(d: Draft) -> Iterator[Finding]:
    if DeviceKind.NON_FITTED in d.devices and d.cohort is not None and d.cohort is not Cohort.IMMIGRATION:
        yield (f"A non-fitted device is only used for immigration bail, not {d.cohort.label.lower()}: "
               f"use a fitted tag, or correct the cohort.")


@rule("DEV-NOT-NEEDED", "order.device_kinds", "Every device kind is needed by one of the conditions.")
def _not_needed(d: Draft) -> Iterator[Finding]:
    if not d.restates_conditions:
        return
    needed = {
        DeviceKind.RF_TAG: d.curfew is not None,
        DeviceKind.HMU: d.curfew is not None,
        DeviceKind.GPS_TAG: bool(d.zones or d.location or d.curfew is not None),
        DeviceKind.ALCOHOL_TAG: d.alcohol,
        DeviceKind.NON_FITTED: d.checkins,
    }
    extra = [k for k in DeviceKind if k in d.devices and not needed[k]]
    if extra:
        yield (f"No condition needs the {_kinds(*extra)}: remove it, or add the condition it is for; "
               f"equipment not needed is equipment not recovered.")
