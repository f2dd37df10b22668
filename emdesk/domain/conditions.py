"""The conditions an order imposes: curfew, zones, location, alcohol, check-ins."""
from __future__ import annotations

from datetime import date, datetime, time
from enum import Enum

import msgspec


class CurfewWindow(msgspec.Struct, frozen=True, kw_only=True):
    """A weekly curfew period in Europe/London wall-clock time.

    ``weekday`` is the day the window starts (0 = Monday).  An ``end`` at or before
    ``start`` means the window runs overnight into the next day (19:00 -> 07:00).
    """

    weekday: int
    start: time
    end: time

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    @property
    def wall_minutes(self) -> int:
        s = self.start.hour * 60 + self.start.minute
        e = self.end.hour * 60 + self.end.minute
        return e - s if e > s else e + 24 * 60 - s


class ReleaseDayWindow(msgspec.Struct, frozen=True, kw_only=True):
    """The first curfew on the day of release, which may start at an odd hour."""

    day: date
    start: time
    end: time


class Curfew(msgspec.Struct, frozen=True, kw_only=True):
    windows: tuple[CurfewWindow, ...] = ()
    release_day: ReleaseDayWindow | None = None


class ZoneKind(str, Enum):
    EXCLUSION = "exclusion"   # must not enter
    INCLUSION = "inclusion"   # must stay inside


class Circle(msgspec.Struct, frozen=True, kw_only=True, tag="circle"):
    lat: float
    lon: float
    radius_m: float


class Polygon(msgspec.Struct, frozen=True, kw_only=True, tag="polygon"):
    points: tuple[tuple[float, float], ...]  # (lat, lon), ring not closed


Shape = Circle | Polygon


class Zone(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind: ZoneKind
    shape: Shape
    # Optional time bounds: a zone may apply only in some weekly windows or dates.
    active_windows: tuple[CurfewWindow, ...] = ()
    active_from: datetime | None = None
    active_until: datetime | None = None


class LocationMonitoring(msgspec.Struct, frozen=True, kw_only=True):
    fix_interval_s: int = 60
    trail: bool = True


class AlcoholMode(str, Enum):
    ABSTINENCE = "abstinence"
    LEVEL = "level"


class AlcoholMonitoring(msgspec.Struct, frozen=True, kw_only=True):
    # None only on a draft whose order did not say (intake reports it, never assumes one);
    # the default serves code that builds a condition it has already chosen.
    mode: AlcoholMode | None = AlcoholMode.ABSTINENCE
    # mg of alcohol per 100 ml of blood equivalent; only for LEVEL monitoring.
    threshold: float | None = None


class CheckIns(msgspec.Struct, frozen=True, kw_only=True):
    """Non-fitted device check-ins (immigration): a biometric prompt at set times.

    The prompts fall on the first ``per_week`` days of each week (Monday first; 7 is
    every day) at each time in ``at`` (UK wall clock); the wearer has ``window_min``
    minutes to answer one before it counts as missed.
    """

    per_week: int = 7
    biometric: bool = True
    at: tuple[time, ...] = (time(10, 0),)
    window_min: int = 60


class Proximity(msgspec.Struct, frozen=True, kw_only=True):
    """A moving exclusion zone for victim protection (piloted by the service).

    The protected person carries an opt-in phone (``device_serial``, sending positions
    through the gateway); the wearer must stay more than ``radius_m`` from its latest
    position.  Neither party's position is ever shown to the other.
    """

    device_serial: str
    radius_m: float = 500.0


class Conditions(msgspec.Struct, frozen=True, kw_only=True):
    curfew: Curfew | None = None
    zones: tuple[Zone, ...] = ()
    location: LocationMonitoring | None = None
    alcohol: AlcoholMonitoring | None = None
    checkins: CheckIns | None = None
    proximity: Proximity | None = None

    def kinds(self) -> list[str]:
        out = []
        if self.curfew and (self.curfew.windows or self.curfew.release_day):
            out.append("curfew")
        if self.zones:
            out.append("zones")
        if self.location:
            out.append("location")
        if self.alcohol:
            out.append("alcohol")
        if self.checkins:
            out.append("checkins")
        if self.proximity:
            out.append("proximity")
        return out
