"""Visits made from order events, from tables of cases: deadlines across the clock changes,
windows from appointments, curfews and shifts, rebooking, crewing, removals and repairs."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from emdesk.domain.conditions import Conditions, Curfew, ReleaseDayWindow
from emdesk.domain.curfew import parse_windows
from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.orders import Installation, Order, OrderStatus, RequestType
from emdesk.domain.people import Address, RiskFlag, Subject
from emdesk.domain.validation import Problem
from emdesk.domain.visit_rules import (
    EventKind,
    OrderEvent,
    OrderState,
    crew_size,
    install_due_by,
    rebooking_id,
    visit_window,
    visits_for,
)
from emdesk.domain.visits import OutcomeCode, Visit, VisitCause, VisitKind, VisitStatus


def U(*a) -> datetime:
    return datetime(*a, tzinfo=UTC)


def curfew(text: str) -> Conditions:
    return Conditions(curfew=Curfew(windows=parse_windows(text)))


HOME = Address(lines=("1 High Street",), town="Leeds", postcode="LS1 1AA", lat=53.8, lon=-1.55)


def order(*, status=OrderStatus.SUBMITTED, received=U(2026, 3, 10, 12), conditions=None, appointment=None,
          kinds=(DeviceKind.RF_TAG, DeviceKind.HMU), start=None, request=RequestType.NEW, problems=(),
          address=None) -> Order:
    return Order(id="0190a000-0000-7000-8000-000000000001", reference="ORD-1", subject_id="subj-1",
                 status=status, received_at=received, start=start, request_type=request,
                 conditions=conditions if conditions is not None else curfew("Daily 19:00-07:00"),
                 installation=Installation(address=address, appointment=appointment), device_kinds=kinds,
                 assigned_officer_id="officer-1", problems=problems, region="Yorkshire")


def subject(*flags, address=HOME) -> Subject:
    return Subject(id="subj-1", given_name="Sam", family_name="Kay", addresses=(address,), risk_flags=flags)


def state(o: Order, *, visits=(), devices=(), who=None) -> OrderState:
    return OrderState(order=o, subject=who or subject(), visits=tuple(visits), devices=tuple(devices))


# -- the contract's deadline: midnight at the end of the day after receipt ----------------------

@pytest.mark.parametrize(("received", "due"), [
    (U(2026, 3, 10, 12, 0), U(2026, 3, 12, 0, 0)),           # winter: local = UTC
    (U(2026, 3, 10, 0, 0), U(2026, 3, 12, 0, 0)),            # received at midnight: still two midnights on
    (U(2026, 3, 28, 23, 59), U(2026, 3, 29, 23, 0)),         # 23:59 GMT Sat; due 00:00 BST Mon = 23:00 UTC Sun
    (U(2026, 3, 29, 0, 30), U(2026, 3, 30, 23, 0)),          # the spring-forward Sunday, before the change
    (U(2026, 3, 29, 12, 0), U(2026, 3, 30, 23, 0)),          # the same Sunday, after it (13:00 BST)
    (U(2026, 6, 30, 22, 59), U(2026, 7, 1, 23, 0)),          # 23:59 BST 30 June: the day is still the 30th
    (U(2026, 6, 30, 23, 0), U(2026, 7, 2, 23, 0)),           # 00:00 BST 1 July: a day later
    (U(2026, 10, 24, 22, 59), U(2026, 10, 26, 0, 0)),        # 23:59 BST Sat before fall-back: 25 hours to go
    (U(2026, 10, 25, 0, 59), U(2026, 10, 27, 0, 0)),         # 01:59 BST on the fall-back Sunday (first 01:xx)
    (U(2026, 10, 25, 1, 30), U(2026, 10, 27, 0, 0)),         # 01:30 GMT, the repeated hour
    (U(2026, 12, 31, 23, 59), U(2027, 1, 2, 0, 0)),          # over the year end
])
def test_install_due_by_midnight_after_the_next_day(received, due):
    assert install_due_by(received) == due


# -- windows: appointment, curfew within calling hours, shift ------------------------------------

@pytest.mark.parametrize(("conditions", "appointment", "start", "at", "window", "basis"), [
    # A 19:00 curfew on the Saturday before the spring change: 19:00-22:00 GMT...
    (curfew("Daily 19:00-07:00"), None, None, U(2026, 3, 28, 10), (U(2026, 3, 28, 19), U(2026, 3, 28, 22)), "curfew"),
    # ...on the Sunday of the change it is 19:00-22:00 BST, an hour earlier in UTC.
    (curfew("Daily 19:00-07:00"), None, None, U(2026, 3, 29, 10), (U(2026, 3, 29, 18), U(2026, 3, 29, 21)), "curfew"),
    # Autumn both ways: Saturday still BST, Sunday GMT.
    (curfew("Daily 19:00-07:00"), None, None, U(2026, 10, 24, 10), (U(2026, 10, 24, 18), U(2026, 10, 24, 21)),
     "curfew"),
    (curfew("Daily 19:00-07:00"), None, None, U(2026, 10, 25, 10), (U(2026, 10, 25, 19), U(2026, 10, 25, 22)),
     "curfew"),
    # Accepted during the curfew: from now, while an hour of calling time is left...
    (curfew("Daily 19:00-07:00"), None, None, U(2026, 3, 28, 20, 30), (U(2026, 3, 28, 20, 30), U(2026, 3, 28, 22)),
     "curfew"),
    # ...else the next evening (which is after the change).
    (curfew("Daily 19:00-07:00"), None, None, U(2026, 3, 28, 21, 30), (U(2026, 3, 29, 18), U(2026, 3, 29, 21)),
     "curfew"),
    # A curfew wholly outside calling hours: the officer's shift.
    (curfew("Daily 23:00-06:00"), None, None, U(2026, 3, 10, 9), (U(2026, 3, 10, 9), U(2026, 3, 10, 20)), "shift"),
    # A weekend-only curfew that starts after the deadline: the shift, so the KPI can be met.
    (curfew("Sat-Sun 20:00-06:00"), None, None, U(2026, 3, 9, 10), (U(2026, 3, 9, 10), U(2026, 3, 9, 20)), "shift"),
    # No curfew, accepted late in the day: the next day's shift (BST by then).
    (Conditions(), None, None, U(2026, 3, 28, 19, 30), (U(2026, 3, 29, 7), U(2026, 3, 29, 19)), "shift"),
    # A booked appointment: the hour it starts.
    (curfew("Daily 19:00-07:00"), U(2026, 3, 29, 11), None, U(2026, 3, 28, 10), (U(2026, 3, 29, 11),
                                                                                  U(2026, 3, 29, 12)), "appointment"),
    # Not before the order starts: the release-day curfew (15:00 BST) on the start day.
    (Conditions(curfew=Curfew(windows=parse_windows("Daily 19:00-07:00"),
                              release_day=ReleaseDayWindow(day=date(2026, 3, 30), start=time(15), end=time(7)))),
     None, date(2026, 3, 30), U(2026, 3, 29, 12), (U(2026, 3, 30, 14), U(2026, 3, 30, 21)), "curfew"),
])
def test_install_window(conditions, appointment, start, at, window, basis):
    o = order(conditions=conditions, appointment=appointment, start=start, received=at)
    plan = visits_for(OrderEvent(EventKind.ACCEPTED, at), state(o))
    (v,) = plan.make
    assert (v.window_start, v.window_end) == window
    assert v.appointment is (basis == "appointment")
    assert visit_window(o, at if start is None else v.window_start, due_by=v.due_by).basis == basis


def test_the_install_visit_made_on_acceptance():
    o = order()
    (v,) = visits_for(OrderEvent(EventKind.ACCEPTED, U(2026, 3, 10, 12, 5)), state(o)).make
    assert (v.kind, v.cause, v.attempt, v.status) == (VisitKind.INSTALL, VisitCause.ORDER_ACTIVE, 1,
                                                      VisitStatus.SCHEDULED)
    assert v.due_by == U(2026, 3, 12) and v.window_start == U(2026, 3, 10, 19)
    assert v.equipment == (DeviceKind.RF_TAG, DeviceKind.HMU) and v.officer_id == "officer-1"
    assert v.order_id == o.id and v.subject_id == o.subject_id and v.crew_size == 1


@pytest.mark.parametrize(("o", "made", "why"), [
    (order(status=OrderStatus.DRAFT), 0, "accepted"),
    (order(status=OrderStatus.REVOKED), 0, "accepted"),
    (order(status=OrderStatus.ACTIVE), 1, ""),
    (order(request=RequestType.VARIATION), 0, "another order"),
    (order(problems=(Problem(code="X", field="f", message="m"),)), 0, "errors"),
    # No kinds on the order: what its conditions need.
    (order(kinds=(), conditions=Conditions(alcohol=None, checkins=None, curfew=None)), 1, ""),
])
def test_which_orders_get_an_install(o, made, why):
    plan = visits_for(OrderEvent(EventKind.ACCEPTED, U(2026, 3, 10, 13)), state(o))
    assert len(plan.make) == made and why in plan.reason


def test_equipment_inferred_from_conditions_when_the_order_names_none():
    from emdesk.domain.conditions import AlcoholMonitoring, LocationMonitoring
    o = order(kinds=(), conditions=Conditions(curfew=curfew("Daily 19:00-07:00").curfew,
                                              location=LocationMonitoring(), alcohol=AlcoholMonitoring()))
    (v,) = visits_for(OrderEvent(EventKind.ACCEPTED, U(2026, 3, 10, 13)), state(o)).make
    assert v.equipment == (DeviceKind.GPS_TAG, DeviceKind.HMU, DeviceKind.ALCOHOL_TAG)


def test_making_the_install_again_makes_the_same_visit_and_then_none():
    o = order()
    event = OrderEvent(EventKind.ACCEPTED, U(2026, 3, 10, 12, 5))
    first, again = visits_for(event, state(o)).make, visits_for(event, state(o)).make
    assert first == again                                    # another replica: the same id, the same visit
    assert not visits_for(event, state(o, visits=first)).make


# -- crewing: risk flags on the wearer or the address ---------------------------------------

@pytest.mark.parametrize(("flags", "address_flags", "outcomes", "crew"), [
    ((), (), (), 1),
    ((RiskFlag.CHILDREN_AT_ADDRESS, RiskFlag.MENTAL_HEALTH), (), (), 1),
    ((RiskFlag.VIOLENCE_TO_STAFF,), (), (), 2),
    ((RiskFlag.WEAPONS,), (), (), 2),
    ((RiskFlag.LONE_WORKING_RISK,), (), (), 2),
    ((RiskFlag.DOMESTIC_ABUSE,), (), (), 2),
    ((), (RiskFlag.DANGEROUS_DOG,), (), 2),                    # the address's own hazard
    ((RiskFlag.DRUG_USE,), (), (OutcomeCode.NOT_AT_ADDRESS,), 1),
    ((), (), (OutcomeCode.UNSAFE,), 2),                        # after an unsafe visit
])
def test_crew_size(flags, address_flags, outcomes, crew):
    home = Address(lines=("2 Low Road",), town="Leeds", risk_flags=address_flags)
    assert crew_size(subject(*flags, address=home), home, outcomes) == crew
    (v,) = visits_for(OrderEvent(EventKind.ACCEPTED, U(2026, 3, 10, 13)),
                      state(order(address=home), who=subject(*flags, address=home),
                            visits=[Visit(order_id=order().id, subject_id="subj-1", kind=VisitKind.CHECK, outcome=o)
                                    for o in outcomes])).make
    assert v.crew_size == crew


# -- failed attempts book the next ------------------------------------------------------------

def failed(outcome, *, kind=VisitKind.INSTALL, at=U(2026, 3, 10, 19, 20), attempt=1, due=U(2026, 3, 12)):
    return Visit(id="0190a000-0000-7000-8000-0000000000f1", order_id=order().id, subject_id="subj-1", kind=kind,
                 attempt=attempt, window_start=U(2026, 3, 10, 19), window_end=U(2026, 3, 10, 22),
                 officer_id="officer-2", status=VisitStatus.FAILED, outcome=outcome, outcome_at=at, due_by=due,
                 cause=VisitCause.ORDER_ACTIVE, equipment=(DeviceKind.RF_TAG, DeviceKind.HMU),
                 device_serials=("RF-1",) if kind is VisitKind.REMOVAL else ())


@pytest.mark.parametrize(("outcome", "status", "kind", "next_window", "crew"), [
    # Not in at 19:20: two hours on is 21:20, too little of the evening left: tomorrow at 19:00.
    (OutcomeCode.NOT_AT_ADDRESS, OrderStatus.SUBMITTED, VisitKind.INSTALL, (U(2026, 3, 11, 19), U(2026, 3, 11, 22)),
     1),
    (OutcomeCode.REFUSED, OrderStatus.ACTIVE, VisitKind.INSTALL, (U(2026, 3, 11, 19), U(2026, 3, 11, 22)), 1),
    (OutcomeCode.WRONG_ADDRESS, OrderStatus.ACTIVE, VisitKind.INSTALL, (U(2026, 3, 11, 19), U(2026, 3, 11, 22)), 1),
    (OutcomeCode.LATE_ORDER, OrderStatus.ACTIVE, VisitKind.INSTALL, (U(2026, 3, 11, 19), U(2026, 3, 11, 22)), 1),
    (OutcomeCode.EQUIPMENT_FAULT, OrderStatus.ACTIVE, VisitKind.INSTALL, (U(2026, 3, 11, 19), U(2026, 3, 11, 22)),
     1),
    (OutcomeCode.UNSAFE, OrderStatus.ACTIVE, VisitKind.INSTALL, (U(2026, 3, 11, 19), U(2026, 3, 11, 22)), 2),
    (OutcomeCode.NOT_AT_ADDRESS, OrderStatus.ACTIVE, VisitKind.CHECK, (U(2026, 3, 11, 19), U(2026, 3, 11, 22)), 1),
    # A removal goes in the officer's shift (the curfew ended with the order): 08:00 next day.
    (OutcomeCode.NOT_AT_ADDRESS, OrderStatus.ENDED, VisitKind.REMOVAL, (U(2026, 3, 11, 8), U(2026, 3, 11, 20)), 1),
])
def test_a_failed_attempt_books_the_next(outcome, status, kind, next_window, crew):
    o = order(status=status)
    gone = failed(outcome, kind=kind)
    (v,) = visits_for(OrderEvent(EventKind.ATTEMPT_FAILED, gone.outcome_at, visit_id=gone.id),
                      state(o, visits=[gone])).make
    assert (v.kind, v.attempt, v.previous_visit_id, v.cause) == (kind, 2, gone.id, VisitCause.FAILED_ATTEMPT)
    assert (v.window_start, v.window_end) == next_window and v.crew_size == crew
    assert v.due_by == gone.due_by                       # the KPI deadline does not move with the rebooking
    assert v.officer_id == "officer-2" and v.equipment == gone.equipment and v.id == rebooking_id(gone)
    assert v.device_serials == gone.device_serials


def test_a_failure_at_noon_is_tried_again_that_evening_across_the_spring_change():
    o = order(status=OrderStatus.ACTIVE)
    gone = failed(OutcomeCode.NOT_AT_ADDRESS, at=U(2026, 3, 29, 11))
    (v,) = visits_for(OrderEvent(EventKind.ATTEMPT_FAILED, gone.outcome_at, visit_id=gone.id),
                      state(o, visits=[gone])).make
    assert (v.window_start, v.window_end) == (U(2026, 3, 29, 18), U(2026, 3, 29, 21))   # 19:00-22:00 BST


@pytest.mark.parametrize(("outcome", "status", "already", "why"), [
    (OutcomeCode.ORDER_CANCELLED, OrderStatus.ACTIVE, False, "order cancelled"),
    (OutcomeCode.NOT_AT_ADDRESS, OrderStatus.REVOKED, False, "revoked"),
    (OutcomeCode.NOT_AT_ADDRESS, OrderStatus.ENDED, False, "ended"),
    (OutcomeCode.CHECKED_OK, OrderStatus.ACTIVE, False, "did not fail"),
    (OutcomeCode.NOT_AT_ADDRESS, OrderStatus.ACTIVE, True, "already booked"),
])
def test_no_next_attempt(outcome, status, already, why):
    gone = failed(outcome)
    visits = [gone]
    if already:
        visits += visits_for(OrderEvent(EventKind.ATTEMPT_FAILED, gone.outcome_at, visit_id=gone.id),
                             state(order(status=status), visits=visits)).make
    plan = visits_for(OrderEvent(EventKind.ATTEMPT_FAILED, gone.outcome_at, visit_id=gone.id),
                      state(order(status=status), visits=visits))
    assert not plan.make and why in plan.reason.lower()


def test_the_rebooking_is_the_same_wherever_it_is_made():
    gone = failed(OutcomeCode.REFUSED)
    a = visits_for(OrderEvent(EventKind.ATTEMPT_FAILED, gone.outcome_at, visit_id=gone.id),
                   state(order(), visits=[gone])).make
    # Another desktop records the same failure a few minutes later by its clock.
    late = gone.evolve(outcome_at=gone.outcome_at + timedelta(minutes=3))
    b = visits_for(OrderEvent(EventKind.ATTEMPT_FAILED, late.outcome_at, visit_id=late.id),
                   state(order(), visits=[late])).make
    assert a[0].id == b[0].id


# -- variations, new addresses, ends and faults -----------------------------------------------

def test_a_variation_makes_a_check_and_a_new_address_a_reinstall():
    o = order(status=OrderStatus.ACTIVE)
    at = U(2026, 10, 24, 22, 59)                         # 23:59 BST on the Saturday before the change
    (check,) = visits_for(OrderEvent(EventKind.VARIED, at, key="v1"), state(o)).make
    assert (check.kind, check.cause, check.due_by) == (VisitKind.CHECK, VisitCause.VARIATION, None)
    assert check.window_start == U(2026, 10, 25, 19)      # Sunday's curfew, now GMT
    (again,) = visits_for(OrderEvent(EventKind.ADDRESS_CHANGED, at, key="v1"), state(o)).make
    assert (again.kind, again.cause) == (VisitKind.INSTALL, VisitCause.ADDRESS_CHANGE)
    assert again.due_by == U(2026, 10, 26)                 # midnight GMT ending the Sunday (25 hours)
    assert again.equipment == (DeviceKind.RF_TAG, DeviceKind.HMU)
    assert check.id != again.id
    other = visits_for(OrderEvent(EventKind.VARIED, at, key="v2"), state(o)).make[0]
    assert other.id != check.id                          # a second variation, a second check
    assert not visits_for(OrderEvent(EventKind.VARIED, at), state(order(status=OrderStatus.SUBMITTED))).make


def kit(o, *pairs):
    return [Device(serial=s, kind=k, state=st, order_id=o.id if st is not DeviceState.IN_STOCK else None)
            for s, k, st in pairs]


@pytest.mark.parametrize(("status", "devices", "serials"), [
    (OrderStatus.ENDED, (("RF-1", DeviceKind.RF_TAG, DeviceState.INSTALLED),
                         ("HMU-1", DeviceKind.HMU, DeviceState.AWAITING_COLLECTION)), ("HMU-1", "RF-1")),
    (OrderStatus.REVOKED, (("GPS-1", DeviceKind.GPS_TAG, DeviceState.INSTALLED),
                           ("RF-2", DeviceKind.RF_TAG, DeviceState.RECOVERED)), ("GPS-1",)),
    (OrderStatus.ENDED, (("RF-1", DeviceKind.RF_TAG, DeviceState.ALLOCATED),), ()),
])
def test_the_end_of_an_order_collects_every_device_on_it(status, devices, serials):
    o = order(status=status)
    open_install = Visit(order_id=o.id, subject_id="subj-1", kind=VisitKind.INSTALL)
    done = Visit(order_id=o.id, subject_id="subj-1", kind=VisitKind.CHECK, status=VisitStatus.COMPLETED)
    plan = visits_for(OrderEvent(EventKind.ENDED, U(2026, 3, 10, 21)),
                      state(o, visits=[open_install, done], devices=kit(o, *devices)))
    assert plan.cancel == (open_install.id,)
    if not serials:
        assert not plan.make and "nothing to collect" in plan.reason
        return
    (v,) = plan.make
    assert (v.kind, v.cause, v.device_serials) == (VisitKind.REMOVAL, VisitCause.ORDER_ENDED, serials)
    assert (v.window_start, v.window_end) == (U(2026, 3, 11, 8), U(2026, 3, 11, 20))    # next shift
    assert not visits_for(OrderEvent(EventKind.ENDED, U(2026, 3, 10, 21)),
                          state(o, visits=[v], devices=kit(o, *devices))).make


def test_a_device_fault_makes_a_repair_bringing_that_kind():
    o = order(status=OrderStatus.ACTIVE)
    devices = kit(o, ("RF-1", DeviceKind.RF_TAG, DeviceState.INSTALLED), ("HMU-1", DeviceKind.HMU,
                                                                           DeviceState.INSTALLED))
    event = OrderEvent(EventKind.DEVICE_FAULT, U(2026, 3, 10, 9), key="alert-1", device_serial="HMU-1")
    (v,) = visits_for(event, state(o, devices=devices)).make
    assert (v.kind, v.cause, v.equipment, v.device_serials) == (VisitKind.REPAIR, VisitCause.DEVICE_FAULT,
                                                                (DeviceKind.HMU,), ("HMU-1",))
    assert v.window_start == U(2026, 3, 10, 19)            # when the wearer is home
    assert not visits_for(event, state(o, visits=[v], devices=devices)).make
    assert "not known" in visits_for(OrderEvent(EventKind.DEVICE_FAULT, U(2026, 3, 10, 9), device_serial="X"),
                                     state(o, devices=devices)).reason
