"""A field officer's day as the Today screen shows it: her visits in route order, each
with what the visit needs to know and no more.

The route is the plan's (``Visit.planned_arrival``, written by the day planner); visits
not yet planned follow, in slot order, marked.  A day with no plan at all is shown in
slot order.  Each card carries everything the screen shows (the UI does no joins):
the wearer's name, age, phone and address; the order's conditions; access notes; risk
flags; the crew; the equipment to bring; the window and arrival; the text to send the
wearer; and, for a failed attempt, its rebooking.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta


from emdesk.domain.appointments import appointment_text as visit_text
from emdesk.domain.clock import Clock, at_local, local_date
from emdesk.routing.travel import path_km
from emdesk.domain.conditions import Conditions
from emdesk.domain.curfew import format_windows
from emdesk.domain.devices import DeviceKind
from emdesk.domain.orders import Order
from emdesk.domain.people import Address, Subject
from emdesk.domain.users import Permission, User
from emdesk.domain.visits import Visit, VisitKind, VisitStatus
from emdesk.store import Store

from .errors import AccessDenied

OPEN = (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS)


@dataclass(frozen=True)
class Attempt:
    """Another attempt of the same work: the one before, or the rebooking after."""

    visit_id: str
    attempt: int
    window_start: datetime | None
    window_end: datetime | None
    planned_arrival: datetime | None
    status: str
    outcome: str = ""
    notes: str = ""
    officer: str = ""


@dataclass(frozen=True)
class VisitCard:
    visit_id: str
    order_id: str
    order_reference: str
    kind: str                    # VisitKind value
    attempt: int
    status: str                  # VisitStatus value
    outcome: str                 # outcome label, "" while open
    subject_name: str
    age: int | None
    phone: str
    address: str
    lat: float | None
    lon: float | None
    window_start: datetime | None
    window_end: datetime | None
    planned_arrival: datetime | None
    planned_departure: datetime | None
    number: int                  # place in the day's order (the route's, then unplanned ones)
    appointment: bool            # the window is a booked appointment
    conditions: tuple[str, ...]
    access_notes: tuple[str, ...]
    risk_flags: tuple[str, ...]
    risk_notes: str
    crew_size: int
    crew: tuple[str, ...]        # the other officers' names
    equipment: tuple[str, ...]
    appointment_text: str
    notes: str = ""
    previous: Attempt | None = None
    rebooking: Attempt | None = None

    @property
    def planned(self) -> bool:
        return self.planned_arrival is not None

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def is_open(self) -> bool:
        return self.status in (VisitStatus.SCHEDULED.value, VisitStatus.IN_PROGRESS.value)


@dataclass(frozen=True)
class OfficerDay:
    day: date
    officer: str
    base: tuple[float, float] | None
    base_address: str
    stops: list[VisitCard] = field(default_factory=list)
    km: float = 0.0
    planned: bool = False        # the day has a route from the planner


def route_km(points: list[tuple[float, float]]) -> float:
    """Great-circle length of a path through (lat, lon) points, in km: the day plan's own measure
    (``emdesk plan``'s ``km``), so the laptop shows the distance the centre planned."""
    return path_km(points)


def describe_conditions(conditions: Conditions) -> tuple[str, ...]:
    out = []
    curfew = conditions.curfew
    if curfew and curfew.windows:
        out.append(f"Curfew {format_windows(curfew.windows) or f'{len(curfew.windows)} windows'}")
    if curfew and curfew.release_day:
        r = curfew.release_day
        out.append(f"Release-day curfew {r.day:%d %b} {r.start:%H:%M}-{r.end:%H:%M}")
    for zone in conditions.zones:
        out.append(f"{zone.kind.value.capitalize()} zone: {zone.name}")
    if conditions.location:
        out.append("Location monitoring (GPS)")
    if conditions.alcohol:
        mode = conditions.alcohol.mode
        out.append(f"Alcohol monitoring{f' ({mode.value})' if mode else ''}")
    if conditions.checkins:
        out.append(f"Check-ins {conditions.checkins.per_week} a week")
    return tuple(out)


def appointment_text(visit: Visit, given_name: str, address: str) -> str:
    """What the wearer is sent: the span made from the planned arrival (or the booked
    window) by ``emdesk.domain.appointments``, the same text the planner stores, with the
    greeting and the address."""
    hello = f"Hello {given_name}," if given_name else "Hello,"
    # Not planned yet: the wearer is given the whole window, as for a booked appointment.
    arrival = visit.planned_arrival or visit.window_start
    if arrival is None:
        when = "We will call you with the time of our visit."
    else:
        when = visit_text(visit.kind, arrival, visit.window_start, visit.window_end,
                          booked=visit.appointment or visit.planned_arrival is None, equipment=visit.equipment)
    lines = [hello, f"An electronic monitoring officer will visit you at {address or 'your address'}.", when]
    if visit.crew_size > 1:
        lines.append("Two officers will come.")
    lines.append("Please be in. If you cannot be, call us as soon as you can.")
    return "\n".join(lines)


def _access_notes(subject: Subject | None, order: Order | None, day: date) -> tuple[str, ...]:
    if subject is None:
        return ()
    notes = list(subject.disabilities)
    if subject.interpreter_needed:
        notes.append(f"Interpreter needed{f' ({subject.language})' if subject.language else ''}")
    age = subject.age_on(day)
    ra = subject.responsible_adult
    if ra and ra.name and (age is None or age < 18):
        notes.append(f"Under 18: {ra.name} ({ra.relationship or 'responsible adult'}) must be present"
                     f"{f', {ra.phone}' if ra.phone else ''}")
    fit_at, home = (order.installation.address if order else None), subject.primary_address
    if fit_at and home and fit_at.one_line() != home.one_line():
        notes.append(f"Fit at the installation address, not the home address ({home.one_line()})")
    return tuple(notes)


def _equipment(visit: Visit, order: Order | None) -> tuple[str, ...]:
    if visit.kind is VisitKind.REMOVAL:
        serials = visit.device_serials or (order.device_serials if order else ())
        return tuple(f"Recover {s}" for s in serials) or ("Recover every device on the order",)
    kinds: tuple[DeviceKind, ...] = visit.equipment or (
        order.device_kinds if order and visit.kind is VisitKind.INSTALL else ())
    return tuple(k.label for k in kinds)


class OfficerDayService:
    def __init__(self, store: Store, user: User, clock: Clock):
        self.store, self.user, self.clock = store, user, clock

    def day(self, day: date | None = None) -> OfficerDay:
        if not self.user.can(Permission.RECORD_VISITS):
            raise AccessDenied(f"{self.user.role.label} accounts have no visits of their own")
        day = day or local_date(self.clock.now())
        visits = self._visits_on(day)
        subjects = self.store.get_many(Subject, (v.subject_id for v in visits))
        orders = self.store.get_many(Order, (v.order_id for v in visits))
        people = self.store.get_many(User, {u for v in visits for u in (*v.crew, v.officer_id) if u})
        planned = sorted((v for v in visits if v.planned_arrival), key=lambda v: (v.planned_arrival, v.id))
        unplanned = sorted((v for v in visits if not v.planned_arrival),
                           key=lambda v: (v.window_start or datetime.max.replace(tzinfo=day_start(day).tzinfo), v.id))
        ordered = planned + unplanned
        cards = [self._card(v, subjects.get(v.subject_id), orders.get(v.order_id), people, day,
                            number=i + 1)
                 for i, v in enumerate(ordered)]
        base = self.user.base
        base_point = (base.lat, base.lon) if base is not None and base.located else None
        # The route driven: the plan's stops; an unplanned day is driven in slot order.
        driven = [c for c in cards if c.planned] if planned else cards
        path = [(c.lat, c.lon) for c in driven if c.located]
        if base_point and path:
            path = [base_point, *path, base_point]
        self.store.audit_view(actor=self.user.id, entity="visits", entity_id="*", subject_id=None,
                              action="list", detail={"screen": "today", "rows": len(cards)})
        return OfficerDay(day=day, officer=self.user.display_name, base=base_point,
                          base_address=base.one_line() if base else "", stops=cards,
                          km=round(route_km(path), 1), planned=bool(planned))

    def _visits_on(self, day: date) -> list[Visit]:
        start, end = day_start(day), day_start(day + timedelta(days=1))

        def on_day(v: Visit) -> bool:
            at = v.planned_arrival or v.window_start
            return at is not None and start <= at < end

        own = [v for v in self.store.find(Visit, where={"officer_id": self.user.id}) if on_day(v)]
        seen = {v.id for v in own}
        # Second officer on someone else's double-crewed visit.
        crewed = [v for v in self.store.find(Visit, where={"status": list(OPEN)})
                  if v.id not in seen and self.user.id in v.crew and on_day(v)]
        return own + crewed

    def _attempts(self, visit: Visit, people: dict) -> tuple[Attempt | None, Attempt | None]:
        same = [v for v in self.store.find(Visit, where={"order_id": visit.order_id})
                if v.kind is visit.kind and v.id != visit.id]
        before = next((v for v in same if v.id == visit.previous_visit_id), None) or next(
            (v for v in same if v.attempt == visit.attempt - 1), None)
        after = next((v for v in same if v.previous_visit_id == visit.id), None)
        if after is None and visit.status is VisitStatus.FAILED:
            after = next((v for v in same if v.attempt == visit.attempt + 1), None)
        officers = self.store.get_many(User, [v.officer_id for v in (before, after) if v and v.officer_id])

        def brief(v: Visit | None) -> Attempt | None:
            if v is None:
                return None
            who = officers.get(v.officer_id or "") or people.get(v.officer_id or "")
            return Attempt(visit_id=v.id, attempt=v.attempt, window_start=v.window_start, window_end=v.window_end,
                           planned_arrival=v.planned_arrival, status=v.status.value,
                           outcome=v.outcome.label if v.outcome else "", notes=v.notes,
                           officer=who.display_name if who else "")
        return brief(before), brief(after)

    def _card(self, v: Visit, s: Subject | None, o: Order | None, people: dict, day: date,
              number: int | None) -> VisitCard:
        addr: Address | None = (o.installation.address if o else None) or (s.primary_address if s else None)
        one_line = addr.one_line() if addr else ""
        crew = tuple(people[u].display_name for u in (v.officer_id, *v.crew)
                     if u and u != self.user.id and u in people)
        previous, rebooking = self._attempts(v, people) if (v.attempt > 1 or v.status is VisitStatus.FAILED
                                                             or v.previous_visit_id) else (None, None)
        return VisitCard(
            visit_id=v.id, order_id=v.order_id, order_reference=o.reference if o else "",
            kind=v.kind.value, attempt=v.attempt, status=v.status.value,
            outcome=v.outcome.label if v.outcome else "",
            subject_name=s.full_name if s else "(missing subject)", age=s.age_on(day) if s else None,
            phone=(s.phone or "") if s else "", address=one_line,
            lat=addr.lat if addr and addr.located else None, lon=addr.lon if addr and addr.located else None,
            window_start=v.window_start, window_end=v.window_end,
            planned_arrival=v.planned_arrival, planned_departure=v.planned_departure, number=number,
            appointment=v.appointment,
            conditions=describe_conditions(o.conditions) if o else (),
            access_notes=_access_notes(s, o, day),
            risk_flags=tuple(f.label for f in (s.risk_flags if s else ())),
            risk_notes=s.risk_notes if s else "",
            crew_size=max(v.crew_size, len({u for u in (v.officer_id, *v.crew) if u})), crew=crew,
            equipment=_equipment(v, o),
            appointment_text=appointment_text(v, s.given_name if s else "", one_line),
            notes=v.notes, previous=previous, rebooking=rebooking,
        )


def day_start(day: date) -> datetime:
    return at_local(day, time(0))
