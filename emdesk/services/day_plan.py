"""Planning a day's visits: who goes where, in what order, at what time.

``plan`` loads the day's due visits (those whose window falls on the day, plus overdue
ones not yet done, plus unscheduled ones due by the next day's end), the field officers
working (of a region, if given) with their bases, shifts, breaks and the kit they carry,
and the visits already done that day or pinned; the router (:mod:`emdesk.routing`) plans
them; and the plan is written back onto the visits in ONE store transaction: the lead
officer, the crew, the planned arrival and departure, and a window where the visit had
none.  Visits no route could take keep their data, unplanned, and the plan says why.
Planning again re-plans the same visits (no record is made, so nothing can double); visits
done or pinned stay where they are.  The writes travel through the outbox like any edit.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from emdesk.domain.appointments import appointment_text
from emdesk.domain.clock import Clock, at_local, local_date
from emdesk.domain.devices import Device, DeviceState
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, Role, User
from emdesk.domain.visits import Visit, VisitKind, VisitStatus
from emdesk.routing import Break, Job, Officer, Plan, Problem, solve
from emdesk.routing.problem import service_minutes
from emdesk.routing.travel import RoadSpeedModel, TravelModel, path_km
from emdesk.store import Store

from .errors import AccessDenied, ServiceError

OPEN = (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS)
DONE = (VisitStatus.COMPLETED, VisitStatus.FAILED)
# Kinds whose visit brings kit from the officer's stock.
BRINGS_KIT = (VisitKind.INSTALL, VisitKind.REPAIR)


class DayPlanError(ServiceError):
    """The plan cannot be made as asked (the message says why)."""


@dataclass(frozen=True)
class PlannedStop:
    visit: Visit
    order_reference: str
    lat: float
    lon: float
    arrive: datetime
    depart: datetime
    window_start: datetime
    window_end: datetime
    crew: tuple[str, ...]              # user ids, the lead first

    @property
    def appointment(self) -> str:
        """What the wearer is told (time and what to expect), ready to copy."""
        v = self.visit
        return appointment_text(v.kind, self.arrive, v.window_start, v.window_end, booked=v.appointment,
                                equipment=v.equipment)


@dataclass(frozen=True)
class OfficerRoute:
    officer: User
    base: tuple[float, float] | None
    stops: tuple[PlannedStop, ...]
    km: float                          # great-circle base -> stops -> base


@dataclass(frozen=True)
class DayPlan:
    day: date
    routes: tuple[OfficerRoute, ...]
    unassigned: tuple[tuple[Visit, str], ...]
    kpi_missed: tuple[str, ...]
    seconds: float
    usernames: dict[str, str]

    @property
    def km_total(self) -> float:
        return round(sum(r.km for r in self.routes), 3)

    def as_json(self) -> dict:
        """The ``emdesk plan --json`` contract (times ISO 8601 UTC)."""
        def iso(at: datetime) -> str:
            return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        return {
            "date": self.day.isoformat(),
            "officers": [{
                "officer": r.officer.username,
                "base": list(r.base) if r.base else None,
                "km": round(r.km, 3),
                "visits": [{
                    "visit_id": s.visit.id, "order_reference": s.order_reference, "kind": s.visit.kind.value,
                    "lat": s.lat, "lon": s.lon, "window_start": iso(s.window_start), "window_end": iso(s.window_end),
                    "arrive": iso(s.arrive), "depart": iso(s.depart),
                    "crew": [self.usernames.get(u, u) for u in s.crew],
                } for s in r.stops],
            } for r in self.routes],
            "unassigned": [{"visit_id": v.id, "reason": why} for v, why in self.unassigned],
            "km_total": self.km_total,
            "kpi_missed": list(self.kpi_missed),
        }


def _location(order: Order | None, subject: Subject | None) -> tuple[float, float] | None:
    for address in ((order.installation.address if order else None), (subject.primary_address if subject else None)):
        if address is not None and address.located:
            return address.lat, address.lon
    return None


class DayPlanService:
    def __init__(self, store: Store, user: User, clock: Clock, travel: TravelModel | None = None):
        self.store, self.user, self.clock = store, user, clock
        # Road-speed estimates over great-circle distance, unless a road network is configured.
        self.travel = travel or RoadSpeedModel()

    # -- who may --------------------------------------------------------------------------

    def _may_plan(self, region: str | None) -> str | None:
        if self.user.role is Role.SUPERVISOR:
            return region
        if self.user.role is Role.MONITORING_OPERATOR:
            if self.user.region and region not in (None, self.user.region):
                raise AccessDenied(f"a monitoring operator plans her own region ({self.user.region}), "
                                   f"not {region}")
            return region or self.user.region or None
        raise AccessDenied(f"{self.user.role.label} accounts cannot plan routes: ask a supervisor or the "
                           "monitoring centre")

    # -- planning -------------------------------------------------------------------------

    def plan(self, day: date, region: str | None = None, time_limit: float = 10.0,
             off_duty: Iterable[str] = ()) -> DayPlan:
        """Plan (or re-plan) ``day``; ``off_duty``: usernames of field officers not working it
        (off sick, on leave), whose open visits go to the others or to ``unassigned``."""
        region = self._may_plan(region)
        today = local_date(self.clock.now())
        if day < today:
            raise DayPlanError(f"{day.isoformat()} is over: plan today or a day to come")
        users = {u.id: u for u in self.store.find(User)}
        if region is not None and region not in {u.region for u in users.values()}:
            known = sorted({u.region for u in users.values() if u.region})
            raise DayPlanError(f"no region {region!r}: choose one of {', '.join(known)}")
        absent = {name.strip() for name in off_duty if name.strip()}
        field = {u.username for u in users.values() if u.role is Role.FIELD_OFFICER}
        unknown = sorted(absent - field)
        if unknown:
            raise DayPlanError(f"off duty: {', '.join(unknown)} is not a field officer's username; "
                               "give the officer's username as they sign in")
        officers = [u for u in users.values() if u.role is Role.FIELD_OFFICER and u.active
                    and u.username not in absent and (region is None or u.region == region)]
        located = [u for u in officers if u.base is not None and u.base.located]
        visits, done = self._due(day, region)
        orders = self.store.get_many(Order, {v.order_id for v in visits + done})
        subjects = self.store.get_many(Subject, {v.subject_id for v in visits + done})
        carried = self._carried({u.id for u in located})
        not_before = self.clock.now() if day == today else None
        jobs, unlocated = [], []
        on_duty = {u.id for u in located}
        for v in visits + done:
            place = _location(orders.get(v.order_id), subjects.get(v.subject_id))
            if place is None:
                if v.status in OPEN:
                    unlocated.append((v, "the address has no map position: correct or geocode it first"))
                continue
            job = self._job(v, place, orders.get(v.order_id), day, on_duty)
            if job is not None:
                jobs.append(job)
        problem = Problem(jobs=tuple(jobs), officers=tuple(self._officer(u, day, carried) for u in located),
                          travel=self.travel, not_before=not_before,
                          kpi_horizon=at_local(day + timedelta(days=1), time(0)))
        plan = solve(problem, time_limit=time_limit)
        by_id = {v.id: v for v in visits + done}
        result = self._result(day, plan, by_id, orders, users, located, unlocated)
        self._write(plan, by_id)
        return result

    def _due(self, day: date, region: str | None) -> tuple[list[Visit], list[Visit]]:
        start = at_local(day, time(0))
        end = at_local(day + timedelta(days=1), time(0))
        due, done = [], []
        for v in self.store.find(Visit, where={"status": [s.value for s in OPEN + DONE]}):
            if v.status in DONE:
                at = v.planned_arrival or v.window_start
                if v.officer_id and at is not None and start <= at < end:
                    done.append(v)
                continue
            on_day = (v.window_start is not None and start <= v.window_start < end) or (
                v.window_start is None and v.planned_arrival is not None and start <= v.planned_arrival < end)
            overdue = (v.window_end is not None and v.window_end < start) or (v.due_by is not None and v.due_by < start)
            unscheduled = v.window_start is None and v.planned_arrival is None and (
                v.due_by is None or v.due_by <= end + timedelta(days=1))
            if on_day or overdue or unscheduled:
                due.append(v)
        if region is not None:
            orders = self.store.get_many(Order, {v.order_id for v in due + done})
            due = [v for v in due if getattr(orders.get(v.order_id), "region", None) == region]
            done = [v for v in done if getattr(orders.get(v.order_id), "region", None) == region]
        return due, done

    def _carried(self, officer_ids: set[str]) -> dict[str, Counter]:
        out: dict[str, Counter] = {}
        for d in self.store.find(Device, where={"state": DeviceState.IN_STOCK.value}):
            if d.held_by in officer_ids:
                out.setdefault(d.held_by, Counter())[d.kind] += 1
        return out

    def _officer(self, u: User, day: date, carried: dict[str, Counter]) -> Officer:
        start, end = u.shift
        b_from, b_until = u.break_span
        breaks = (Break(earliest=at_local(day, b_from), latest=at_local(day, b_until), minutes=u.break_minutes),) \
            if u.break_minutes > 0 else ()
        return Officer(id=u.id, name=u.username, lat=u.base.lat, lon=u.base.lon, region=u.region,
                       shift_start=at_local(day, start), shift_end=at_local(day, end), breaks=breaks,
                       carries=tuple(sorted(carried.get(u.id, Counter()).items(), key=lambda kv: kv[0].value)))

    def _job(self, v: Visit, place: tuple[float, float], order: Order | None, day: date,
             on_duty: set[str]) -> Job | None:
        start = at_local(day, time(0))
        fresh = v.window_start is not None and v.window_end is not None and v.window_end >= start
        needs = tuple(sorted(Counter(v.equipment).items(), key=lambda kv: kv[0].value)) \
            if v.kind in BRINGS_KIT else ()
        done = v.status in DONE
        crew = v.crew or ((v.officer_id,) if v.officer_id else ())
        pinned = crew if (done or v.pinned) else ()
        if done and not all(c in on_duty for c in crew):
            return None
        arrival = (v.planned_arrival or v.window_start) if done else (v.planned_arrival if v.pinned else None)
        return Job(id=v.id, lat=place[0], lon=place[1], kind=v.kind.value,
                   service_minutes=service_minutes(v.kind),
                   window_start=v.window_start if fresh else None, window_end=v.window_end if fresh else None,
                   crew_size=max(1, min(2, v.crew_size)) if not done else max(1, min(2, len(crew))),
                   needs=needs, region=order.region if order else "", due_by=v.due_by,
                   pinned_officers=pinned[:2], pinned_arrival=arrival, done=done)

    def _result(self, day, plan: Plan, by_id, orders, users, located, unlocated) -> DayPlan:
        routes = []
        routed = {r.officer_id: r for r in plan.routes}
        for u in sorted(located, key=lambda u: u.username):
            r = routed.get(u.id)
            stops = tuple(PlannedStop(visit=by_id[s.job_id], order_reference=getattr(orders.get(by_id[s.job_id].order_id), "reference", ""),
                                      lat=s.lat, lon=s.lon, arrive=s.arrive, depart=s.depart,
                                      window_start=s.window_start, window_end=s.window_end, crew=s.crew)
                          for s in (r.stops if r else ()))
            routes.append(OfficerRoute(officer=u, base=(u.base.lat, u.base.lon), stops=stops, km=r.km if r else 0.0))
        unassigned = tuple((by_id[u.job_id], u.reason) for u in plan.unassigned) + tuple(unlocated)
        kpi = tuple(plan.kpi_missed) + tuple(v.id for v, _ in unlocated if v.due_by is not None
                                              and v.due_by <= at_local(day + timedelta(days=1), time(0)))
        return DayPlan(day=day, routes=tuple(routes), unassigned=unassigned, kpi_missed=kpi, seconds=plan.seconds,
                       usernames={u.id: u.username for u in users.values()})

    def _write(self, plan: Plan, by_id: dict[str, Visit]) -> None:
        """The plan onto the visits, all in one transaction (or nothing, if it fails).

        Only the planning fields are written, onto each visit as it stands when the
        transaction starts: an outcome recorded (or synced in) while the search ran is kept,
        and a visit done meanwhile is left alone."""
        updates: dict[str, dict] = {}
        for r in plan.routes:
            for s in r.stops:
                v = by_id[s.job_id]
                if v.status in DONE or s.job_id in updates:
                    continue
                fields = {"officer_id": s.crew[0], "crew": s.crew, "planned_arrival": s.arrive,
                          "planned_departure": s.depart}
                if not (v.window_start is not None and v.window_start <= s.arrive <= v.window_end):
                    fields.update(window_start=s.window_start, window_end=s.window_end)
                updates[v.id] = fields
        for u in plan.unassigned:
            if not by_id[u.job_id].pinned:
                updates[u.job_id] = {"crew": (), "planned_arrival": None, "planned_departure": None}
        with self.store.transaction():
            changed = []
            for visit_id, fields in updates.items():
                now = self.store.get(Visit, visit_id)
                if now is None or now.status in DONE:
                    continue
                new = now.evolve(**fields)
                if new != now:
                    changed.append(new)
            self.store.put_many(changed, actor=self.user.id)

    # -- reading a route ------------------------------------------------------------------

    def route(self, officer_id: str, day: date) -> OfficerRoute:
        """An officer's planned stops for the day in order, with her base and the km."""
        if officer_id != self.user.id and not (self.user.can(Permission.VIEW_ALL_CASES)
                                               or self.user.can(Permission.VIEW_REGION_CASES)):
            raise AccessDenied("a field officer sees her own route only")
        officer = self.store.get(User, officer_id)
        if officer is None:
            raise DayPlanError("no such officer")
        start = at_local(day, time(0))
        end = at_local(day + timedelta(days=1), time(0))
        mine = [v for v in self.store.find(Visit, where={"status": [s.value for s in OPEN + DONE]})
                if v.planned_arrival is not None and start <= v.planned_arrival < end
                and officer_id in (v.crew or (v.officer_id,))]
        mine.sort(key=lambda v: v.planned_arrival)
        orders = self.store.get_many(Order, {v.order_id for v in mine})
        subjects = self.store.get_many(Subject, {v.subject_id for v in mine})
        stops = []
        for v in mine:
            place = _location(orders.get(v.order_id), subjects.get(v.subject_id))
            if place is None:
                continue
            stops.append(PlannedStop(visit=v, order_reference=getattr(orders.get(v.order_id), "reference", ""),
                                     lat=place[0], lon=place[1], arrive=v.planned_arrival,
                                     depart=v.planned_departure or v.planned_arrival,
                                     window_start=v.window_start or v.planned_arrival,
                                     window_end=v.window_end or v.planned_arrival,
                                     crew=v.crew or (v.officer_id,)))
        base = (officer.base.lat, officer.base.lon) if officer.base is not None and officer.base.located else None
        km = 0.0
        if base and stops:
            path = [base, *((s.lat, s.lon) for s in stops), base]
            km = round(path_km(path), 3)
        return OfficerRoute(officer=officer, base=base, stops=tuple(stops), km=km)
