"""Conditions an order imposes, and the equipment each needs.

Valid orders stay inside the statute: curfews of 2 to 20 hours a day and at most 112 a
week (HDC at least 9 a night); exclusion zones sit 2-5 km from the home so the wearer
can live at home; GPS for zones and trails, an alcohol tag for alcohol, RF tag and home
unit for a curfew (a GPS tag is also an RF tag), non-fitted devices only for immigration
bail, and nothing the conditions do not need (kit not needed is kit not recovered).
"""
from __future__ import annotations

import random

from datetime import date, time

from emdesk.domain.conditions import (
    AlcoholMode, AlcoholMonitoring, CheckIns, Circle, Conditions, Curfew, CurfewWindow,
    LocationMonitoring, Polygon, ReleaseDayWindow, Zone, ZoneKind,
)
from emdesk.domain.devices import DeviceKind
from emdesk.domain.geography import in_england_and_wales
from emdesk.domain.orders import OrderType

from . import places
from .gen import Gen

# (start hour, end hour): 8 to 13 hours overnight.
_NIGHTLY = ((19, 7), (20, 6), (21, 6), (20, 7), (19, 6), (22, 6), (21, 7), (18, 7))
_HDC = ((19, 7), (20, 7), (21, 7), (20, 6), (19, 6))   # never under 9 hours

# Which conditions each order type usually carries: (curfew, gps, zones, alcohol, checkins), weight.
_PACKAGES: dict[OrderType, tuple[tuple[tuple[bool, bool, bool, bool, bool], float], ...]] = {
    OrderType.HDC: (((True, False, False, False, False), 1),),
    OrderType.LICENCE: (((True, False, False, False, False), 40), ((False, True, True, False, False), 25),
                        ((True, True, True, False, False), 15), ((False, True, False, False, False), 8),
                        ((False, False, False, True, False), 12)),
    OrderType.COURT_BAIL: (((True, False, False, False, False), 80), ((True, True, True, False, False), 12),
                           ((False, True, True, False, False), 8)),
    OrderType.IMMIGRATION_BAIL: (((False, True, False, False, False), 55), ((True, True, False, False, False), 12),
                                 ((False, False, False, False, True), 23), ((True, False, False, False, False), 10)),
    OrderType.COMMUNITY_ORDER: (((True, False, False, False, False), 65), ((False, False, False, True, False), 25),
                                ((False, True, True, False, False), 10)),
    OrderType.SUSPENDED_SENTENCE: (((True, False, False, False, False), 65), ((False, False, False, True, False), 25),
                                   ((True, True, True, False, False), 10)),
    OrderType.MAPPA: (((True, True, True, False, False), 1),),
    OrderType.TPIM: (((True, True, True, False, False), 1),),
}

_ZONE_NAMES = ("Victim's home address", "Victim's workplace", "Victim's children's school",
               "Complainant's home address", "Former partner's address", "Co-defendant's address")


def nightly_curfew(gen: Gen, hours: tuple[tuple[int, int], ...] = _NIGHTLY) -> Curfew:
    start, end = gen.pick(hours)
    if gen.chance(0.1) and hours is _NIGHTLY:
        # Weekend-only curfews for those who work nights in the week.
        days = (4, 5, 6)
    else:
        days = tuple(range(7))
    return Curfew(windows=tuple(CurfewWindow(weekday=d, start=time(start), end=time(end)) for d in days))


def curfew_window(start: int, end: int, days=tuple(range(7))) -> tuple[CurfewWindow, ...]:
    return tuple(CurfewWindow(weekday=d, start=time(start), end=time(end)) for d in days)


def _on_land(points) -> bool:
    return all(in_england_and_wales(lat, lon) for lat, lon in points)


def exclusion_zone(gen: Gen, home_lat: float, home_lon: float, name: str) -> Zone:
    """A zone 2-5 km from the home: a circle or a rotated quadrilateral, on land."""
    for _ in range(40):
        lat, lon = places.offset(home_lat, home_lon, gen.rng.uniform(2000, 5000), gen.rng.uniform(0, 360))
        if gen.chance(0.7):
            radius = float(gen.rng.randrange(200, 1250, 50))
            rim = [places.offset(lat, lon, radius, b) for b in (0, 90, 180, 270)]
            if _on_land([(lat, lon), *rim]):
                return Zone(name=name, kind=ZoneKind.EXCLUSION, shape=Circle(lat=lat, lon=lon, radius_m=radius))
        else:
            half = gen.rng.uniform(250, 900)
            turn = gen.rng.uniform(0, 90)
            corners = tuple(places.offset(lat, lon, half * gen.rng.uniform(0.8, 1.2), turn + b)
                            for b in (0, 90, 180, 270))
            if _on_land(corners):
                return Zone(name=name, kind=ZoneKind.EXCLUSION, shape=Polygon(points=corners))
    raise RuntimeError(f"no exclusion zone on land near {home_lat}, {home_lon}")


def zones_near(gen: Gen, home_lat: float, home_lon: float, street: str) -> tuple[Zone, ...]:
    names = gen.rng.sample(_ZONE_NAMES + (f"{street} area",), gen.pick((1, 1, 2)))
    return tuple(exclusion_zone(gen, home_lat, home_lon, n) for n in names)


def conditions_for(gen: Gen, order_type: OrderType, *, home: tuple[float, float], street: str,
                   start: date) -> tuple[Conditions, tuple[DeviceKind, ...]]:
    curfew_on, gps, zones_on, alcohol_on, checkins_on = gen.weighted(_PACKAGES[order_type])
    curfew = None
    if curfew_on:
        curfew = nightly_curfew(gen, _HDC if order_type is OrderType.HDC else _NIGHTLY)
        if order_type is OrderType.HDC and gen.chance(0.6):
            # Release day: the curfew starts when they are due home from the gate.
            curfew = Curfew(windows=curfew.windows, release_day=ReleaseDayWindow(
                day=start, start=time(gen.rng.randint(14, 18)), end=time(7)))
    zones = zones_near(gen, *home, street) if zones_on else ()
    if zones_on:
        # Some also must stay within their town by day: an inclusion zone in its hours.  Drawn
        # from the order's own stream so the rest of the world is as it always was.
        own = random.Random(f"inclusion:{street}:{home[0]:.5f}:{home[1]:.5f}")
        if own.random() < 0.3:
            zones += (Zone(name=f"{street} area (within 4 km, 08:00-20:00)", kind=ZoneKind.INCLUSION,
                           shape=Circle(lat=home[0], lon=home[1], radius_m=4000.0),
                           active_windows=curfew_window(8, 20)),)
    conditions = Conditions(
        curfew=curfew,
        zones=zones,
        location=LocationMonitoring(fix_interval_s=gen.pick((60, 60, 120)), trail=True) if gps else None,
        alcohol=(AlcoholMonitoring(mode=AlcoholMode.ABSTINENCE) if gen.chance(0.9)
                 else AlcoholMonitoring(mode=AlcoholMode.LEVEL, threshold=20.0)) if alcohol_on else None,
        checkins=CheckIns(per_week=gen.pick((7, 7, 3, 14)), biometric=True) if checkins_on else None,
    )
    return conditions, devices_for(conditions)


def devices_for(conditions: Conditions) -> tuple[DeviceKind, ...]:
    kinds: list[DeviceKind] = []
    if conditions.location or conditions.zones:
        kinds.append(DeviceKind.GPS_TAG)       # combined RF + GPS: also does the curfew
    elif conditions.curfew:
        kinds.append(DeviceKind.RF_TAG)
    if conditions.alcohol:
        kinds.append(DeviceKind.ALCOHOL_TAG)
    if conditions.curfew:
        kinds.append(DeviceKind.HMU)           # the home unit tells "at home" from "out"
    if conditions.checkins:
        kinds.append(DeviceKind.NON_FITTED)
    return tuple(kinds)
