"""A day's plan: each officer's route, and the visits no route could take, with why."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Stop:
    job_id: str
    lat: float
    lon: float
    arrive: datetime
    depart: datetime
    window_start: datetime       # the window the arrival had to lie in (the shift, if none)
    window_end: datetime
    crew: tuple[str, ...]        # officer ids; the lead first
    kind: str = ""


@dataclass(frozen=True)
class Route:
    officer_id: str
    base: tuple[float, float]
    stops: tuple[Stop, ...]
    km: float                    # great-circle length base -> stops -> base
    leave: datetime | None = None
    back: datetime | None = None
    breaks: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class Unassigned:
    job_id: str
    reason: str


@dataclass(frozen=True)
class Plan:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    kpi_missed: tuple[str, ...] = ()
    seconds: float = 0.0         # time the solver took
    solver: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def km_total(self) -> float:
        return sum(r.km for r in self.routes)

    def route_of(self, officer_id: str) -> Route | None:
        return next((r for r in self.routes if r.officer_id == officer_id), None)

    def stops_of(self, job_id: str) -> list[tuple[str, Stop]]:
        return [(r.officer_id, s) for r in self.routes for s in r.stops if s.job_id == job_id]


def leave_and_back(first_arrive: datetime, drive_out: timedelta, last_depart: datetime, drive_in: timedelta,
                   breaks: tuple[tuple[datetime, datetime], ...]) -> tuple[datetime, datetime]:
    """When the officer leaves her base and gets back, given breaks taken on the first or
    last drive (a break that would overlap the drive makes her leave earlier or get back
    later by its length)."""
    leave = first_arrive - drive_out
    for start, end in sorted(breaks, key=lambda b: b[1], reverse=True):
        if leave < end <= first_arrive:
            leave -= end - start
    back = last_depart + drive_in
    for start, end in sorted(breaks):
        if last_depart <= start < back:
            back += end - start
    return leave, back

