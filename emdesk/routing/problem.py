"""What a day's plan is made from: the visits (jobs), the officers, and the rules between them.

Plain frozen dataclasses, built by the day-plan service from the store (or by a test or a
benchmark by hand).  Every instant is an aware UTC datetime.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from emdesk.domain.devices import DeviceKind
from emdesk.domain.visits import VisitKind

from .travel import RoadSpeedModel, TravelModel

# Time at the door by visit kind: an install fits a tag and a home unit and tests them.
SERVICE_MINUTES: dict[VisitKind, int] = {
    VisitKind.INSTALL: 60,
    VisitKind.CHECK: 20,
    VisitKind.REPAIR: 40,
    VisitKind.REMOVAL: 30,
}


def service_minutes(kind: VisitKind | str) -> int:
    return SERVICE_MINUTES[VisitKind(kind)]


@dataclass(frozen=True)
class Job:
    """One visit to one address.

    ``window_start``/``window_end`` bound the arrival (None: any time in the officer's
    shift).  ``needs`` is the equipment to bring, as (kind, count).  A ``done`` visit, or
    one ``pinned`` to ``pinned_officers`` (and ``pinned_arrival``), stays where it is.
    """

    id: str
    lat: float
    lon: float
    service_minutes: int
    kind: str = ""
    window_start: datetime | None = None
    window_end: datetime | None = None
    crew_size: int = 1
    needs: tuple[tuple[DeviceKind, int], ...] = ()
    region: str = ""
    due_by: datetime | None = None
    pinned_officers: tuple[str, ...] = ()
    pinned_arrival: datetime | None = None
    done: bool = False

    def __post_init__(self):
        if self.crew_size not in (1, 2):
            raise ValueError(f"job {self.id}: crew_size must be 1 or 2, not {self.crew_size}")
        if self.service_minutes < 0:
            raise ValueError(f"job {self.id}: service_minutes must not be negative")
        if (self.window_start is None) != (self.window_end is None):
            raise ValueError(f"job {self.id}: give both window_start and window_end, or neither")
        if self.window_start is not None and self.window_end < self.window_start:
            raise ValueError(f"job {self.id}: the window ends before it starts")
        for at in (self.window_start, self.window_end, self.due_by, self.pinned_arrival):
            if at is not None and at.tzinfo is None:
                raise ValueError(f"job {self.id}: times must be aware (UTC) datetimes")

    @property
    def fixed(self) -> bool:
        """Stays with its officer(s) (and its arrival, if it has one)."""
        return self.done or bool(self.pinned_officers)

    def need(self, kind: DeviceKind) -> int:
        return sum(n for k, n in self.needs if k is kind)


@dataclass(frozen=True)
class Break:
    """A break of ``minutes`` starting between ``earliest`` and ``latest``."""

    earliest: datetime
    latest: datetime
    minutes: int = 30


@dataclass(frozen=True)
class Officer:
    id: str
    lat: float
    lon: float
    shift_start: datetime
    shift_end: datetime
    name: str = ""
    region: str = ""
    breaks: tuple[Break, ...] = ()
    carries: tuple[tuple[DeviceKind, int], ...] = ()

    def __post_init__(self):
        if self.shift_end <= self.shift_start:
            raise ValueError(f"officer {self.name or self.id}: the shift ends before it starts")

    def carried(self, kind: DeviceKind) -> int:
        return sum(n for k, n in self.carries if k is kind)


@dataclass(frozen=True)
class Problem:
    jobs: tuple[Job, ...]
    officers: tuple[Officer, ...]
    travel: TravelModel = field(default_factory=RoadSpeedModel)
    # Nothing not yet done is planned before this (re-planning during the day).
    not_before: datetime | None = None
    # Deadlines up to this instant count as today's KPI visits (default: the midnight
    # that ends the last shift's day).
    kpi_horizon: datetime | None = None

    def __post_init__(self):
        ids = [j.id for j in self.jobs]
        if len(set(ids)) != len(ids):
            raise ValueError("jobs: every job id must be different")
        names = [o.id for o in self.officers]
        if len(set(names)) != len(names):
            raise ValueError("officers: every officer id must be different")
