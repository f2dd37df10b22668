"""Which visits an order event makes: pure rules over (event, state) -> visits.

* An order accepted without errors (submitted, or active) needs its install, due by
  midnight at the end of the day after the order was received (the contract's KPI).
* A failed attempt books the next one (attempt + 1, following the failed visit), unless
  the order was cancelled or has ended; after an unsafe visit two officers go.
* A variation of the conditions makes a check; a new address makes a reinstall, due by
  the same KPI rule from the variation.
* The end (or revocation) of an order makes one removal covering every device still with
  the wearer, and cancels the visits it made pointless.
* A device fault raised by monitoring makes a repair, bringing that kind of device.

A visit's window is when the wearer can be expected at home: a booked appointment
(the hour it starts), otherwise the curfew hours that fall in calling hours, otherwise
the officer's shift.  Curfews are wall-clock times in Europe/London, so the windows are made
day by day with ``at_local`` and follow the clock changes.

Ids are derived from (order, cause, event key), so a second run over the same event, or
the same event seen on two replicas, makes the same visit and never a second one.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum

from .clock import at_local, local_date, utc
from .conditions import Conditions
from .curfew import curfew_intervals
from .devices import Device, DeviceKind, DeviceState
from .ids import derived_id, id_time_ms
from .orders import Order, OrderStatus, RequestType
from .people import Address, RiskFlag, Subject
from .visits import OutcomeCode, Visit, VisitCause, VisitKind, VisitStatus

# -- crewing: which risk flags send two officers (data, not code) ------------------------

CREW_FOR_FLAG: dict[RiskFlag, int] = {
    RiskFlag.VIOLENCE_TO_STAFF: 2,
    RiskFlag.WEAPONS: 2,
    RiskFlag.DANGEROUS_DOG: 2,
    RiskFlag.LONE_WORKING_RISK: 2,
    RiskFlag.DOMESTIC_ABUSE: 2,
    RiskFlag.CHILDREN_AT_ADDRESS: 1,
    RiskFlag.DRUG_USE: 1,
    RiskFlag.MENTAL_HEALTH: 1,
    RiskFlag.SELF_HARM: 1,
}
# Outcomes after which the next visit to the same order is double-crewed.
CREW_AFTER_OUTCOME: dict[OutcomeCode, int] = {OutcomeCode.UNSAFE: 2}

# -- timing ---------------------------------------------------------------------------------

CALLING_HOURS = (time(8, 0), time(22, 0))     # no home visit outside these (local)
DEFAULT_SHIFT = (time(8, 0), time(20, 0))     # an officer's working day (local) when none is known
# A booked appointment is the start of the hour the wearer was told to expect the officer.
APPOINTMENT_LENGTH = timedelta(hours=1)
MIN_WINDOW = timedelta(hours=1)               # shorter spans are not worth a trip
REBOOK_GAP = timedelta(hours=2)               # earliest next try after a failed one
SEARCH_DAYS = 14

# Failure outcomes that book another attempt; ORDER_CANCELLED never does.
RETRY_OUTCOMES = frozenset({OutcomeCode.NOT_AT_ADDRESS, OutcomeCode.REFUSED, OutcomeCode.WRONG_ADDRESS,
                            OutcomeCode.UNSAFE, OutcomeCode.EQUIPMENT_FAULT, OutcomeCode.LATE_ORDER})
FAILURE_OUTCOMES = RETRY_OUTCOMES | {OutcomeCode.ORDER_CANCELLED}
OPEN = (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS)
LIVE_ORDER = (OrderStatus.SUBMITTED, OrderStatus.ACTIVE)
ON_THE_WEARER = (DeviceState.INSTALLED, DeviceState.AWAITING_COLLECTION)


class EventKind(str, Enum):
    ACCEPTED = "accepted"                # accepted at intake: submitted (or active) without errors
    ATTEMPT_FAILED = "attempt_failed"
    VARIED = "varied"                    # conditions changed
    ADDRESS_CHANGED = "address_changed"
    ENDED = "ended"                      # ended or revoked
    DEVICE_FAULT = "device_fault"


@dataclass(frozen=True)
class OrderEvent:
    kind: EventKind
    at: datetime                         # when it happened (UTC)
    key: str = ""                        # what tells two events of one kind apart (a variation's time...)
    visit_id: str | None = None          # ATTEMPT_FAILED: the failed visit
    device_serial: str | None = None     # DEVICE_FAULT: the faulty device


@dataclass(frozen=True)
class OrderState:
    """What the rules know: the order as it is after the event, its wearer, visits and kit."""

    order: Order
    subject: Subject | None = None
    visits: tuple[Visit, ...] = ()
    devices: tuple[Device, ...] = ()
    shift: tuple[time, time] = DEFAULT_SHIFT


@dataclass(frozen=True)
class VisitPlan:
    make: tuple[Visit, ...] = ()
    cancel: tuple[str, ...] = ()         # ids of open visits the event made pointless
    reason: str = ""                     # why nothing was made, in words

    def __bool__(self) -> bool:
        return bool(self.make or self.cancel)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    appointment: bool = False
    basis: str = "shift"                 # appointment | curfew | shift


# -- the pieces --------------------------------------------------------------------------


def install_due_by(received_at: datetime) -> datetime:
    """Midnight (Europe/London) at the end of the day after ``received_at``: the contract KPI."""
    return at_local(local_date(utc(received_at)) + timedelta(days=2), time(0))


def crew_size(subject: Subject | None, address: Address | None = None,
              outcomes: Iterable[OutcomeCode | None] = ()) -> int:
    flags = [*(subject.risk_flags if subject else ()), *(address.risk_flags if address else ())]
    sizes = [CREW_FOR_FLAG.get(f, 1) for f in flags] + [CREW_AFTER_OUTCOME.get(o, 1) for o in outcomes if o]
    return max(sizes, default=1)


def equipment_for(order: Order) -> tuple[DeviceKind, ...]:
    """The kinds of device an install brings: the order's, or what its conditions need."""
    if order.device_kinds:
        return tuple(dict.fromkeys(order.device_kinds))
    return kinds_for_conditions(order.conditions)


def kinds_for_conditions(c: Conditions) -> tuple[DeviceKind, ...]:
    out: list[DeviceKind] = []
    if c.location or c.zones:
        out.append(DeviceKind.GPS_TAG)
    elif c.curfew:
        out.append(DeviceKind.RF_TAG)
    if c.curfew:
        out.append(DeviceKind.HMU)
    if c.alcohol:
        out.append(DeviceKind.ALCOHOL_TAG)
    if c.checkins and not out:
        out.append(DeviceKind.NON_FITTED)
    return tuple(out)


def visit_address(order: Order, subject: Subject | None) -> Address | None:
    return order.installation.address or (subject.primary_address if subject else None)


def _clip(spans: Iterable[tuple[datetime, datetime]], lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
    return [(max(s, lo), min(e, hi)) for s, e in spans if min(e, hi) - max(s, lo) >= MIN_WINDOW]


def curfew_window(conditions: Conditions, earliest: datetime, *, before: datetime | None = None) -> Window | None:
    """The first stretch of curfew within calling hours, starting no sooner than ``earliest``
    (and, with ``before``, starting before it)."""
    curfew = conditions.curfew
    if curfew is None or not (curfew.windows or curfew.release_day):
        return None
    day = local_date(earliest)
    for k in range(SEARCH_DAYS):
        d = day + timedelta(days=k)
        calling = (at_local(d, CALLING_HOURS[0]), at_local(d, CALLING_HOURS[1]))
        lo = max(calling[0], earliest)
        for s, e in _clip(curfew_intervals(curfew, d - timedelta(days=1), d), lo, calling[1]):
            if before is not None and s >= before:
                return None
            return Window(s, e, basis="curfew")
    return None


def shift_window(earliest: datetime, shift: tuple[time, time] = DEFAULT_SHIFT) -> Window:
    """The rest of today's shift if an hour of it is left, else the next day's."""
    day = local_date(earliest)
    for k in range(SEARCH_DAYS):
        d = day + timedelta(days=k)
        s, e = max(at_local(d, shift[0]), earliest), at_local(d, shift[1])
        if e - s >= MIN_WINDOW:
            return Window(s, e, basis="shift")
    raise ValueError(f"shift {shift[0]:%H:%M}-{shift[1]:%H:%M}: no hour of it is free in {SEARCH_DAYS} days; "
                     "give a shift of at least an hour")


def visit_window(order: Order, earliest: datetime, *, due_by: datetime | None = None,
                 shift: tuple[time, time] = DEFAULT_SHIFT, use_appointment: bool = True,
                 use_curfew: bool = True) -> Window:
    """When to call: the booked appointment, else curfew hours (before ``due_by`` if there is
    a deadline), else the officer's shift."""
    appt = order.installation.appointment
    if use_appointment and appt is not None and appt + APPOINTMENT_LENGTH > earliest:
        return Window(utc(appt), utc(appt) + APPOINTMENT_LENGTH, appointment=True, basis="appointment")
    if use_curfew:
        found = curfew_window(order.conditions, earliest, before=due_by)
        if found is not None:
            return found
    return shift_window(earliest, shift)


def earliest_call(order: Order, at: datetime) -> datetime:
    """Not before the event, nor before the day the order starts."""
    at = utc(at)
    if isinstance(order.start, date):
        return max(at, at_local(order.start, time(0)))
    return at


def visit_id(order_id: str, cause: VisitCause, key: str, at: datetime | int) -> str:
    ms = at if isinstance(at, int) else int(utc(at).timestamp() * 1000)
    return derived_id("visit", order_id, cause.value, key, ms=ms)


def rebooking_id(failed: Visit) -> str:
    """The id of the attempt after ``failed``: the same on every desktop that books it."""
    return visit_id(failed.order_id, VisitCause.FAILED_ATTEMPT, f"{failed.id}/{failed.attempt + 1}",
                    id_time_ms(failed.id))


def _new(order: Order, state: OrderState, *, kind: VisitKind, cause: VisitCause, key: str, at: datetime,
         window: Window, due_by: datetime | None = None, attempt: int = 1, previous: Visit | None = None,
         equipment: Sequence[DeviceKind] = (), serials: Sequence[str] = (), officer_id: str | None = None,
         extra_outcomes: Iterable[OutcomeCode | None] = (), id_: str | None = None) -> Visit:
    history = [v.outcome for v in state.visits if v.order_id == order.id]
    return Visit(
        id=id_ or visit_id(order.id, cause, key, at), order_id=order.id, subject_id=order.subject_id, kind=kind,
        attempt=attempt, window_start=window.start, window_end=window.end,
        officer_id=officer_id if officer_id is not None else order.assigned_officer_id,
        device_serials=tuple(serials), cause=cause, previous_visit_id=previous.id if previous else None,
        due_by=due_by, appointment=window.appointment,
        crew_size=crew_size(state.subject, visit_address(order, state.subject), [*history, *extra_outcomes]),
        equipment=tuple(equipment))


def _exists(state: OrderState, visit_id_: str) -> bool:
    return any(v.id == visit_id_ for v in state.visits)


# -- the rules, one per event --------------------------------------------------------------


def _accepted(event: OrderEvent, state: OrderState) -> VisitPlan:
    order = state.order
    if order.status not in LIVE_ORDER:
        return VisitPlan(reason=f"the order is {order.status.value}: no install until it is accepted")
    if order.request_type not in (RequestType.NEW, RequestType.REINSTALL):
        return VisitPlan(reason=f"a {order.request_type.value} changes another order; it has no install of its own")
    if any(p.blocking for p in order.problems):
        return VisitPlan(reason="the order has errors to correct first")
    if any(v.kind is VisitKind.INSTALL and v.status is not VisitStatus.CANCELLED
           and v.cause in (None, VisitCause.ORDER_ACTIVE, VisitCause.FAILED_ATTEMPT, VisitCause.MANUAL)
           for v in state.visits if v.order_id == order.id):
        return VisitPlan(reason="the order already has its install visit")
    received = utc(order.received_at or event.at)
    due = install_due_by(received)
    window = visit_window(order, earliest_call(order, event.at), due_by=due, shift=state.shift)
    return VisitPlan(make=(_new(order, state, kind=VisitKind.INSTALL, cause=VisitCause.ORDER_ACTIVE, key="install",
                                at=received, window=window, due_by=due, equipment=equipment_for(order)),))


def _attempt_failed(event: OrderEvent, state: OrderState) -> VisitPlan:
    order = state.order
    failed = next((v for v in state.visits if v.id == event.visit_id), None)
    if failed is None:
        return VisitPlan(reason="the failed visit is not known")
    if failed.outcome is None or failed.outcome not in FAILURE_OUTCOMES:
        return VisitPlan(reason="the visit did not fail")
    if failed.outcome not in RETRY_OUTCOMES:
        return VisitPlan(reason=f"{failed.outcome.label.lower()}: no further attempt")
    removal = failed.kind is VisitKind.REMOVAL
    if order.status not in ((OrderStatus.ENDED, OrderStatus.REVOKED) if removal else LIVE_ORDER):
        return VisitPlan(reason=f"the order is {order.status.value}: no further attempt")
    new_id_ = rebooking_id(failed)
    if _exists(state, new_id_) or any(v.previous_visit_id == failed.id for v in state.visits):
        return VisitPlan(reason="the next attempt is already booked")
    # A booked appointment was for the attempt that failed: the next goes by curfew or shift
    # (a removal by shift alone: the curfew ended with the order).
    earliest = earliest_call(order, failed.outcome_at or event.at) + REBOOK_GAP
    due = failed.due_by
    window = visit_window(order, earliest, due_by=due if due and due > earliest else None, shift=state.shift,
                          use_appointment=False, use_curfew=not removal)
    return VisitPlan(make=(_new(order, state, kind=failed.kind, cause=VisitCause.FAILED_ATTEMPT, key="", at=event.at,
                                window=window, due_by=due, attempt=failed.attempt + 1, previous=failed,
                                equipment=failed.equipment, serials=failed.device_serials,
                                officer_id=failed.officer_id, extra_outcomes=(failed.outcome,), id_=new_id_),))


def _varied(event: OrderEvent, state: OrderState) -> VisitPlan:
    order = state.order
    if order.status is not OrderStatus.ACTIVE:
        return VisitPlan(reason="only an active order's variation is checked at the door")
    key = event.key or str(len(order.variations))
    window = visit_window(order, earliest_call(order, event.at), shift=state.shift, use_appointment=False)
    return VisitPlan(make=(_new(order, state, kind=VisitKind.CHECK, cause=VisitCause.VARIATION, key=key,
                                at=event.at, window=window),))


def _address_changed(event: OrderEvent, state: OrderState) -> VisitPlan:
    order = state.order
    if order.status is not OrderStatus.ACTIVE:
        return VisitPlan(reason="only an active order is reinstalled at a new address")
    key = event.key or str(len(order.variations))
    due = install_due_by(event.at)
    window = visit_window(order, earliest_call(order, event.at), due_by=due, shift=state.shift,
                          use_appointment=False)
    return VisitPlan(make=(_new(order, state, kind=VisitKind.INSTALL, cause=VisitCause.ADDRESS_CHANGE, key=key,
                                at=event.at, window=window, due_by=due, equipment=equipment_for(order)),))


def _ended(event: OrderEvent, state: OrderState) -> VisitPlan:
    order = state.order
    if order.status not in (OrderStatus.ENDED, OrderStatus.REVOKED):
        return VisitPlan(reason=f"the order is {order.status.value}, not ended")
    cancel = tuple(v.id for v in state.visits if v.order_id == order.id and v.status in OPEN
                   and v.kind is not VisitKind.REMOVAL)
    serials = tuple(sorted(d.serial for d in state.devices if d.order_id == order.id and d.state in ON_THE_WEARER))
    if not serials:
        return VisitPlan(cancel=cancel, reason="no equipment is with the wearer: nothing to collect")
    if any(v.kind is VisitKind.REMOVAL and v.order_id == order.id and v.status is not VisitStatus.CANCELLED
           and v.cause is VisitCause.ORDER_ENDED for v in state.visits):
        return VisitPlan(cancel=cancel, reason="the removal is already booked")
    # The curfew ends with the order: collect in the officer's hours.
    window = visit_window(order, utc(event.at), shift=state.shift, use_appointment=False, use_curfew=False)
    return VisitPlan(make=(_new(order, state, kind=VisitKind.REMOVAL, cause=VisitCause.ORDER_ENDED,
                                key=event.key or order.status.value, at=event.at, window=window,
                                serials=serials),), cancel=cancel)


def _device_fault(event: OrderEvent, state: OrderState) -> VisitPlan:
    order = state.order
    if order.status is not OrderStatus.ACTIVE:
        return VisitPlan(reason=f"the order is {order.status.value}: nothing to repair")
    device = next((d for d in state.devices if d.serial == event.device_serial), None)
    if device is None:
        return VisitPlan(reason=f"{event.device_serial} is not known")
    if any(v.kind is VisitKind.REPAIR and v.status in OPEN and device.serial in v.device_serials
           for v in state.visits if v.order_id == order.id):
        return VisitPlan(reason=f"a repair of {device.serial} is already booked")
    window = visit_window(order, utc(event.at), shift=state.shift, use_appointment=False)
    return VisitPlan(make=(_new(order, state, kind=VisitKind.REPAIR, cause=VisitCause.DEVICE_FAULT,
                                key=f"{device.serial}/{event.key}", at=event.at, window=window,
                                equipment=(device.kind,), serials=(device.serial,)),))


RULES = {
    EventKind.ACCEPTED: _accepted,
    EventKind.ATTEMPT_FAILED: _attempt_failed,
    EventKind.VARIED: _varied,
    EventKind.ADDRESS_CHANGED: _address_changed,
    EventKind.ENDED: _ended,
    EventKind.DEVICE_FAULT: _device_fault,
}


def visits_for(event: OrderEvent, state: OrderState) -> VisitPlan:
    """The visits ``event`` makes (and the open ones it cancels), given ``state``."""
    return RULES[event.kind](event, state)


__all__ = ["CALLING_HOURS", "CREW_AFTER_OUTCOME", "CREW_FOR_FLAG", "DEFAULT_SHIFT", "EventKind", "FAILURE_OUTCOMES",
           "OrderEvent", "OrderState", "RETRY_OUTCOMES", "VisitPlan", "Window", "crew_size", "curfew_window",
           "equipment_for", "install_due_by", "rebooking_id", "shift_window", "visit_id", "visit_window",
           "visits_for"]
