"""One case at a time: a wearer, their orders, the kit on them, and the visits so far."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from emdesk.domain.clock import local_date
from emdesk.domain.devices import Device
from emdesk.domain.gazetteer import Town
from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Cohort, Order, OrderStatus, OrderType
from emdesk.domain.people import Subject
from emdesk.domain.users import User
from emdesk.domain.visit_rules import crew_size, equipment_for, install_due_by
from emdesk.domain.visits import OutcomeCode, Visit, VisitCause, VisitKind, VisitStatus

from . import errors, kit, visits
from .conditions import conditions_for
from .gen import Gen
from .orders import Timeline, earlier_timeline, in_force_at, make_order, timeline
from .places import approx_distance_m
from .subjects import make_subject


@dataclass(frozen=True)
class CasePlan:
    cohort: Cohort
    order_type: OrderType
    town: Town
    status: OrderStatus
    erroneous: bool = False
    previous: bool = False
    youth: bool = False
    no_fixed_abode: bool = False


# Active orders still without a fitted tag after failed attempts (NAO 2.13: about a
# quarter of active orders are unmonitored, most of them never fitted): many of the
# fortnight's new orders, a few older ones where the wearer could not be found.
UNFITTED_RECENT = 0.35       # of active orders received in the last 14 days
UNFITTED_OLDER = 0.05        # of older active orders


@dataclass(frozen=True)
class Removal:
    """Kit still to collect from an ended order: a job for an officer's day."""

    order: Order
    serials: tuple[str, ...]
    attempt: int
    crew: int = 1
    previous: Visit | None = None          # the failed removal this one follows


@dataclass
class Case:
    subject: Subject
    orders: list[Order] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    booked: list[datetime] = field(default_factory=list)      # fixed install appointments
    removals: list[Removal] = field(default_factory=list)


@dataclass(frozen=True)
class Staff:
    officers: list[User]
    operators: list[User]
    # Slots already booked per officer, so two installs never share one.
    bookings: dict[str, set[datetime]] = field(default_factory=dict)

    def book(self, officer_id: str, at: datetime) -> datetime:
        self.bookings.setdefault(officer_id, set()).add(at)
        return at

    def officer_for(self, town: Town) -> User:
        """The nearest field officer based in the town's region."""
        local = [o for o in self.officers if o.region == town.region] or self.officers
        return min(local, key=lambda o: approx_distance_m(town.lat, town.lon, o.base.lat, o.base.lon))

    def operator_for(self, region: str) -> User:
        return next((o for o in self.operators if o.region == region), self.operators[0])


def _previous_type(gen: Gen, cohort: Cohort, current: OrderType) -> OrderType:
    # Many on a sentence or licence were bailed with a tag first.
    if cohort in (Cohort.COURT_SENTENCE, Cohort.POST_RELEASE):
        return gen.pick((OrderType.COURT_BAIL, current))
    if cohort is Cohort.COURT_BAIL:
        return gen.pick((OrderType.COURT_BAIL, OrderType.COMMUNITY_ORDER))
    return current


def _street(subject: Subject) -> str:
    line = subject.addresses[0].lines[-1]
    return line.split(" ", 1)[1] if " " in line else line


def build_case(gen: Gen, plan: CasePlan, staff: Staff, serials: kit.Serials) -> Case:
    current = timeline(gen, plan.order_type, plan.status)
    status, install = plan.status, "fitted"
    if not plan.erroneous and status in (OrderStatus.ACTIVE, OrderStatus.SUBMITTED):
        # An accepted order is active from its start, whether or not the tag is on yet.
        in_force = in_force_at(gen, plan.order_type, current) <= gen.now
        if status is OrderStatus.SUBMITTED or not in_force or _install_day(gen, plan.order_type, current) >= gen.today:
            install = "pending"       # no try before today: an install booked for today or tomorrow
        elif (gen.now - current.received_at).days <= 14:
            install = "outstanding" if gen.quota("unfitted recent", UNFITTED_RECENT) else "fitted"
        else:
            install = "outstanding" if gen.quota("unfitted older", UNFITTED_OLDER) else "fitted"
        status = OrderStatus.ACTIVE if in_force else OrderStatus.SUBMITTED
    earlier: tuple[OrderType, Timeline] | None = None
    if plan.previous:
        kind = _previous_type(gen, plan.cohort, plan.order_type)
        earlier = (kind, earlier_timeline(gen, kind, current.received_at))
    created = earlier[1].received_at if earlier else current.received_at
    subject = make_subject(gen, town=plan.town, cohort=plan.cohort, created_at=created, youth=plan.youth,
                           no_fixed_abode=plan.no_fixed_abode)
    case = Case(subject=subject)
    if earlier:
        _add_order(gen, case, plan.town, earlier[0], OrderStatus.ENDED, earlier[1], staff, serials)
    _add_order(gen, case, plan.town, plan.order_type, status, current, staff, serials,
               erroneous=plan.erroneous, install=install)
    return case


def _install_day(gen: Gen, order_type: OrderType, tl: Timeline):
    """The first day a fitter could call: the start day (after the gate for HDC), or later."""
    return local_date(_earliest_install(gen, order_type, tl))


def _earliest_install(gen: Gen, order_type: OrderType, tl: Timeline) -> datetime:
    return max(tl.received_at + timedelta(minutes=30), gen.at_local(tl.start, 13 if order_type is OrderType.HDC else 9))


def _add_order(gen: Gen, case: Case, town: Town, order_type: OrderType, status: OrderStatus, tl: Timeline,
               staff: Staff, serials: kit.Serials, *, erroneous: bool = False, install: str = "fitted") -> None:
    """``install``, for an active order: "fitted", "outstanding" (failed tries, not on yet) or
    "pending" (first install booked); ended orders were always fitted."""
    officer = staff.officer_for(town)
    operator = staff.operator_for(town.region)
    home = case.subject.addresses[0]
    conditions, kinds = conditions_for(gen, order_type, home=(home.lat, home.lon), street=_street(case.subject),
                                       start=tl.start)
    attempts: list[visits.Attempt] = []
    installed_at = appointment = None
    pending = status is OrderStatus.SUBMITTED or (status is OrderStatus.ACTIVE and install == "pending")
    if status is OrderStatus.ENDED or (status is OrderStatus.ACTIVE and install in ("fitted", "outstanding")):
        earliest = _earliest_install(gen, order_type, tl)
        # Tries on an active order were all before today: today's visits are the officers' day plan.
        latest = gen.at_local(gen.today, 0) if status is OrderStatus.ACTIVE else gen.at_local(tl.end, 9)
        if install == "outstanding":
            attempts = visits.failed_attempts(gen, earliest, latest, gen.weighted(((1, 15), (2, 45), (3, 40))))
            appointment = _rebook(gen, staff, officer, attempts[-1])
        else:
            attempts = visits.install_attempts(gen, earliest, latest)
            installed_at = attempts[-1].outcome_at
    elif pending:
        release = gen.at_local(tl.start, 13) if order_type is OrderType.HDC else tl.received_at
        appointment = staff.book(officer.id, visits.next_free_slot(
            gen, max(gen.now, release), not_before_day=tl.start, taken=staff.bookings.get(officer.id, set())))

    order = make_order(gen, subject=case.subject, town=town, order_type=order_type, status=status, tl=tl,
                       conditions=conditions, kinds=kinds, officer_id=officer.id, operator_id=operator.id,
                       installed_at=installed_at, appointment=appointment)
    if erroneous:
        chosen = errors.choose_kinds(gen, order, case.subject)
        subject = case.subject
        for kind in sorted(chosen, key=lambda k: k != "exclusion_zone_contains_home"):
            order, subject = errors.inject(gen, kind, order, subject)
        case.subject = subject
        case.errors = chosen
    case.orders.append(order)

    if status is OrderStatus.DRAFT:
        return
    # What the rules give every visit of this order: crewing from the wearer's and the
    # address's risk flags, the kit to bring, and the contract's install deadline.
    plan = _VisitPlan(crew=crew_size(case.subject, order.installation.address or case.subject.primary_address),
                      equipment=equipment_for(order), due_by=install_due_by(order.received_at))
    allocated_at = min(gen.now, tl.received_at + timedelta(minutes=gen.rng.randint(30, 180)))
    if attempts:
        allocated_at = min(allocated_at, attempts[0].at)
    devices = kit.kit_for_order(gen, serials, kinds=order.device_kinds, region=order.region, order_id=order.id,
                                subject_id=case.subject.id, allocated_at=allocated_at, installed_at=installed_at,
                                officer_id=officer.id)
    fitted = tuple(d.serial for d in devices)
    if pending:
        _pending_install(gen, case, order, staff, officer, tl, fitted, plan)
    else:
        v, n = visits.attempt_visits(gen, attempts, order_id=order.id, subject_id=case.subject.id,
                                     officer_id=officer.id, serials=fitted, booked_at=tl.received_at,
                                     due_by=plan.due_by, crew=plan.crew, equipment=plan.equipment)
        case.visits += v
        case.notes += n
    if install == "outstanding" and status is OrderStatus.ACTIVE:
        _outstanding(gen, case, order, officer, attempts, fitted, plan)
    if status is OrderStatus.ACTIVE and installed_at is not None:
        _checks(gen, case, order, officer, installed_at, fitted, plan, devices)
    if status is OrderStatus.ENDED:
        # The kit fitted for the order, as an installation records it: what is due back.
        case.orders[-1] = order = order.evolve(device_serials=fitted)
        devices = _end(gen, case, order, officer, tl, devices, fitted, plan)
    case.devices += devices


@dataclass(frozen=True)
class _VisitPlan:
    crew: int
    equipment: tuple
    due_by: datetime


def _pending_install(gen: Gen, case: Case, order: Order, staff: Staff, officer: User, tl: Timeline,
                     serials: tuple[str, ...], plan: _VisitPlan) -> None:
    attempt, previous = 1, None
    taken = staff.bookings.get(officer.id, set())
    first_try = visits.slot_from(gen, max(tl.received_at + timedelta(hours=1), gen.at_local(tl.start, 9)), taken)
    if (order.order_type is not OrderType.HDC and tl.start <= gen.today
            and first_try + visits.WINDOW < gen.now and gen.chance(0.4)):
        code = gen.weighted(((OutcomeCode.NOT_AT_ADDRESS, 60), (OutcomeCode.LATE_ORDER, 25),
                             (OutcomeCode.REFUSED, 15)))
        at = staff.book(officer.id, first_try)
        case.booked.append(at)
        done = at + timedelta(minutes=gen.rng.randint(10, 40))
        previous = visits.visit(gen, order_id=order.id, subject_id=case.subject.id, kind=VisitKind.INSTALL,
                                at=at, officer_id=officer.id, status=VisitStatus.FAILED, outcome=code,
                                outcome_at=done, booked_at=tl.received_at, cause=VisitCause.ORDER_ACTIVE,
                                due_by=plan.due_by, crew=plan.crew, equipment=plan.equipment)
        case.visits.append(previous)
        case.notes.append(visits.note(gen, case.subject.id, order.id, officer.id, done, visits.failure_note(code)))
        attempt = 2
    at = order.installation.appointment
    case.visits.append(visits.visit(gen, order_id=order.id, subject_id=case.subject.id, kind=VisitKind.INSTALL,
                                    at=at, officer_id=officer.id, attempt=attempt, serials=serials,
                                    booked_at=min(gen.now, tl.received_at + timedelta(minutes=20)),
                                    cause=VisitCause.FAILED_ATTEMPT if previous else VisitCause.ORDER_ACTIVE,
                                    previous=previous, due_by=plan.due_by, crew=plan.crew,
                                    equipment=plan.equipment))
    case.booked.append(at)


def _rebook(gen: Gen, staff: Staff, officer: User, last: visits.Attempt) -> datetime | None:
    """After failed tries: a fresh try booked ahead if the last was recent, else maybe one
    booked days ago and never made (backlog), else none (handed back to the responsible officer)."""
    taken = staff.bookings.get(officer.id, set())
    if gen.now - last.outcome_at < timedelta(days=5):
        return staff.book(officer.id, visits.next_free_slot(gen, gen.now, not_before_day=gen.today, taken=taken))
    day = local_date(last.at) + timedelta(days=gen.rng.randint(1, 3))
    if gen.chance(0.3) and day <= gen.today - timedelta(days=4):
        return visits.slot_times(gen, day)[gen.rng.randrange(len(visits.SLOTS))]
    return None


def _outstanding(gen: Gen, case: Case, order: Order, officer: User, attempts: list[visits.Attempt],
                 serials: tuple[str, ...], plan: _VisitPlan) -> None:
    """What follows failed install tries on an order in force: the next try, or a hand-back."""
    sid, at = case.subject.id, order.installation.appointment
    if at is None:
        done = attempts[-1].outcome_at + timedelta(hours=gen.rng.randint(1, 20))
        case.notes.append(visits.note(
            gen, sid, order.id, officer.id, min(done, gen.now),
            f"Tag not fitted after {len(attempts)} attempt{'s' if len(attempts) > 1 else ''}: returned to the "
            f"responsible officer ({order.responsible_officer.organisation}) to find the wearer. "
            f"Order in force and unmonitored."))
        return
    if at > gen.now:
        case.booked.append(at)
    previous = next(v for v in reversed(case.visits) if v.order_id == order.id and v.kind is VisitKind.INSTALL)
    unsafe = any(v.outcome is OutcomeCode.UNSAFE for v in case.visits if v.order_id == order.id)
    case.visits.append(visits.visit(gen, order_id=order.id, subject_id=sid, kind=VisitKind.INSTALL, at=at,
                                    officer_id=officer.id, attempt=len(attempts) + 1, serials=serials,
                                    booked_at=min(gen.now, attempts[-1].outcome_at + timedelta(hours=1)),
                                    cause=VisitCause.FAILED_ATTEMPT, previous=previous, due_by=plan.due_by,
                                    crew=2 if unsafe else plan.crew, equipment=plan.equipment))


def _checks(gen: Gen, case: Case, order: Order, officer: User, installed_at: datetime,
            serials: tuple[str, ...], plan: _VisitPlan, devices: list[Device]) -> None:
    kinds = {d.serial: d.kind for d in devices}
    tag = next((s for s in serials if kinds.get(s) and kinds[s].worn), serials[0] if serials else None)
    hmu = next((s for s in serials if kinds.get(s) and not kinds[s].worn), tag)
    sid = case.subject.id
    check_at = installed_at + timedelta(days=gen.rng.uniform(3, 60))
    if gen.chance(0.3) and local_date(check_at) < gen.today:
        at = visits.slot_times(gen, local_date(check_at))[gen.rng.randrange(len(visits.SLOTS))]
        if installed_at < at:
            ok = gen.chance(0.85)
            case.visits.append(visits.visit(
                gen, order_id=order.id, subject_id=sid, kind=VisitKind.CHECK if ok else VisitKind.REPAIR, at=at,
                officer_id=officer.id, status=VisitStatus.COMPLETED,
                outcome=OutcomeCode.CHECKED_OK if ok else OutcomeCode.REPAIRED,
                outcome_at=at + timedelta(minutes=gen.rng.randint(15, 45)), serials=serials,
                notes="" if ok else "Strap refitted after a strap tamper alert; tag tested with the home unit.",
                cause=VisitCause.MANUAL if ok else VisitCause.DEVICE_FAULT, crew=plan.crew,
                equipment=() if ok or tag is None else (kinds[tag],)))
    if installed_at < gen.now - timedelta(days=14) and gen.quota("backlog", 0.05):
        # Backlog: a check booked days ago that nobody has done yet.
        day = gen.today - timedelta(days=gen.rng.randint(4, 12))
        at = visits.slot_times(gen, day)[gen.rng.randrange(len(visits.SLOTS))]
        case.visits.append(visits.visit(gen, order_id=order.id, subject_id=sid, kind=VisitKind.REPAIR, at=at,
                                        officer_id=officer.id, serials=(hmu,) if hmu else serials,
                                        notes="Home unit reports no mains power: check and replace if faulty.",
                                        cause=VisitCause.DEVICE_FAULT, crew=plan.crew,
                                        equipment=(kinds[hmu],) if hmu in kinds else ()))


def _end(gen: Gen, case: Case, order: Order, officer: User, tl: Timeline, devices: list[Device],
         serials: tuple[str, ...], plan: _VisitPlan) -> list[Device]:
    sid = case.subject.id
    ended_at = gen.at_local(tl.end, 23, 59)
    day = tl.end + timedelta(days=gen.rng.randint(1, 3))
    at = visits.slot_times(gen, day)[gen.rng.randrange(len(visits.SLOTS))]
    removed_at = None
    if day >= gen.today:      # not yet due: a job for the officer's day plan
        case.removals.append(Removal(order=order, serials=serials, attempt=1, crew=plan.crew))
    elif gen.quota("kit collected", 0.6):
        removed_at = at + timedelta(minutes=gen.rng.randint(10, 40))
        case.visits.append(visits.visit(gen, order_id=order.id, subject_id=sid, kind=VisitKind.REMOVAL, at=at,
                                        officer_id=officer.id, status=VisitStatus.COMPLETED,
                                        outcome=OutcomeCode.REMOVED, outcome_at=removed_at, serials=serials,
                                        cause=VisitCause.ORDER_ENDED, crew=plan.crew))
    else:
        code = gen.pick((OutcomeCode.NOT_AT_ADDRESS, OutcomeCode.EQUIPMENT_NOT_RECOVERED))
        done = at + timedelta(minutes=gen.rng.randint(10, 30))
        failed = visits.visit(gen, order_id=order.id, subject_id=sid, kind=VisitKind.REMOVAL, at=at,
                              officer_id=officer.id, status=VisitStatus.FAILED, outcome=code,
                              outcome_at=done, serials=serials, cause=VisitCause.ORDER_ENDED, crew=plan.crew)
        case.visits.append(failed)
        case.notes.append(visits.note(gen, sid, order.id, officer.id, done, visits.failure_note(code)))
        if (gen.now - ended_at).days <= 30:
            overdue_day = gen.today - timedelta(days=gen.rng.randint(4, 10))
            if gen.chance(0.5) and overdue_day > day:
                again = visits.slot_times(gen, overdue_day)[gen.rng.randrange(len(visits.SLOTS))]
                case.visits.append(visits.visit(gen, order_id=order.id, subject_id=sid, kind=VisitKind.REMOVAL,
                                                at=again, officer_id=officer.id, attempt=2, serials=serials,
                                                cause=VisitCause.FAILED_ATTEMPT, previous=failed, crew=plan.crew))
            else:
                case.removals.append(Removal(order=order, serials=serials, attempt=2, crew=plan.crew,
                                             previous=failed))
    return kit.end_of_order(gen, devices, ended_at=ended_at, removed_at=removed_at, officer_id=officer.id)
