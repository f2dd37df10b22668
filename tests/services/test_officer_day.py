"""The officer's day: route order, what each card carries, and who may ask."""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, timezone

import pytest

from emdesk.domain.clock import FixedClock, at_local
from emdesk.domain.conditions import Conditions, Curfew, CurfewWindow
from emdesk.domain.devices import DeviceKind
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Address, ResponsibleAdult, RiskFlag, Subject
from emdesk.domain.users import Role, User
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.services.errors import AccessDenied
from emdesk.services.officer_day import OfficerDayService, appointment_text, route_km

DAY = date(2026, 11, 26)
LEEDS_BASE = (53.8008, -1.5491)
# Three addresses around Leeds, listed in the order the plan visits them.
PLACES = [(53.8200, -1.5800), (53.7600, -1.4700), (53.8500, -1.6500)]


def local(h: int, m: int = 0, day: date = DAY) -> datetime:
    return at_local(day, time(h, m))


def haversine_km(a, b) -> float:
    r = 6371.0088
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


@pytest.fixture
def world(store):
    officer = store.put(User(username="ann", display_name="Ann Officer", role=Role.FIELD_OFFICER,
                             region="Yorkshire and the Humber",
                             base=Address(lines=("Base",), town="Leeds", lat=LEEDS_BASE[0], lon=LEEDS_BASE[1])))
    partner = store.put(User(username="bob", display_name="Bob Partner", role=Role.FIELD_OFFICER))
    other = store.put(User(username="cy", display_name="Cy Other", role=Role.FIELD_OFFICER))
    subjects, orders = [], []
    for i, (lat, lon) in enumerate(PLACES):
        s = store.put(Subject(given_name=f"Wearer{i}", family_name="Test", date_of_birth=date(1990 + i, 1, 1),
                              phone=f"07700 90000{i}",
                              addresses=(Address(lines=(f"{i + 1} Street",), town="Leeds", postcode="LS1 1AA",
                                                 lat=lat, lon=lon),),
                              risk_flags=(RiskFlag.DANGEROUS_DOG,) if i == 1 else (),
                              risk_notes="Large dog." if i == 1 else ""))
        o = store.put(Order(reference=f"REF-{i}", subject_id=s.id, status=OrderStatus.ACTIVE,
                            device_kinds=(DeviceKind.RF_TAG, DeviceKind.HMU),
                            conditions=Conditions(curfew=Curfew(windows=tuple(
                                CurfewWindow(weekday=d, start=time(19), end=time(7)) for d in range(7))))))
        subjects.append(s)
        orders.append(o)
    return {"officer": officer, "partner": partner, "other": other, "subjects": subjects, "orders": orders}


def visit(world, i, **kw) -> Visit:
    values = dict(order_id=world["orders"][i].id, subject_id=world["subjects"][i].id, kind=VisitKind.INSTALL,
                  officer_id=world["officer"].id, window_start=local(9), window_end=local(17))
    values.update(kw)
    return Visit(**values)


def service(store, user):
    return OfficerDayService(store, user, FixedClock(local(8)))


def test_planned_visits_in_arrival_order_then_unplanned_in_slot_order(store, world):
    # Slot order would be 0, 1, 2; the plan goes 2, 0 and leaves 1 unplanned.
    v0 = store.put(visit(world, 0, window_start=local(9), planned_arrival=local(11, 5)))
    v1 = store.put(visit(world, 1, window_start=local(10)))
    v2 = store.put(visit(world, 2, window_start=local(11), planned_arrival=local(9, 40)))
    store.put(visit(world, 0, window_start=local(9, day=DAY + timedelta(days=1))))          # tomorrow
    store.put(visit(world, 0, officer_id=world["other"].id))                                # not hers
    day = service(store, world["officer"]).day(DAY)
    assert [c.visit_id for c in day.stops] == [v2.id, v0.id, v1.id]
    assert [c.number for c in day.stops] == [1, 2, 3]
    assert [c.planned for c in day.stops] == [True, True, False]
    assert day.planned and day.base == LEEDS_BASE
    # Great-circle km of base -> planned stops -> base.
    path = [LEEDS_BASE, PLACES[2], PLACES[0], LEEDS_BASE]
    expected = sum(haversine_km(a, b) for a, b in zip(path, path[1:]))
    assert day.km == pytest.approx(expected, rel=0.01)   # sphere against the WGS84 ellipsoid: within 0.5%, plus rounding


def test_a_day_without_a_plan_is_in_slot_order_and_driven_that_way(store, world):
    ids = [store.put(visit(world, i, window_start=local(9 + 2 * (2 - i)))).id for i in range(3)]
    day = service(store, world["officer"]).day(DAY)
    assert [c.visit_id for c in day.stops] == ids[::-1]
    assert not day.planned
    path = [LEEDS_BASE, PLACES[2], PLACES[1], PLACES[0], LEEDS_BASE]
    assert day.km == pytest.approx(sum(haversine_km(a, b) for a, b in zip(path, path[1:])), rel=0.01)   # sphere against the WGS84 ellipsoid: within 0.5%, plus rounding


def test_a_card_carries_what_the_door_needs(store, world):
    v = store.put(visit(world, 1, crew_size=2, crew=(world["partner"].id,), planned_arrival=local(10, 40),
                        window_start=local(10), window_end=local(12), equipment=(DeviceKind.GPS_TAG,)))
    card = service(store, world["officer"]).day(DAY).stops[0]
    assert card.visit_id == v.id
    assert card.subject_name == "Wearer1 Test" and card.age == 35 and card.phone == "07700 900001"
    assert card.address == "2 Street, Leeds, LS1 1AA" and (card.lat, card.lon) == PLACES[1]
    assert card.risk_flags == ("Dangerous dog",) and card.risk_notes == "Large dog."
    assert card.crew_size == 2 and card.crew == ("Bob Partner",)
    assert card.equipment == ("GPS tag",)
    assert card.conditions == ("Curfew Mon-Sun 19:00-07:00",)
    # Told as an hour from the planned arrival's quarter hour, in UK time (the planner's text).
    assert "between 10:30 and 11:30 on Thursday 26 November" in card.appointment_text
    assert "Two officers will come." in card.appointment_text


def test_the_second_officer_sees_the_visit_on_her_day(store, world):
    v = store.put(visit(world, 0, crew_size=2, crew=(world["partner"].id,), planned_arrival=local(10)))
    card = service(store, world["partner"]).day(DAY).stops[0]
    assert card.visit_id == v.id and card.crew == ("Ann Officer",)


def test_a_failed_attempt_shows_its_rebooking_and_the_next_its_history(store, world):
    failed = store.put(visit(world, 0, window_start=local(9), status=VisitStatus.FAILED,
                             outcome=OutcomeCode.NOT_AT_ADDRESS, notes="No answer"))
    nxt = store.put(visit(world, 0, attempt=2, previous_visit_id=failed.id, window_start=local(18),
                          window_end=local(20)))
    cards = {c.visit_id: c for c in service(store, world["officer"]).day(DAY).stops}
    assert cards[failed.id].rebooking.visit_id == nxt.id
    assert cards[failed.id].rebooking.window_start == local(18)
    assert cards[nxt.id].previous.outcome == "Not at address"
    assert cards[nxt.id].previous.notes == "No answer"


def test_a_youth_needs_the_responsible_adult(store, world):
    s = world["subjects"][0]
    store.put(s.evolve(date_of_birth=date(2009, 6, 1),
                       responsible_adult=ResponsibleAdult(name="Mo Parent", relationship="Mother", phone="0113 1")))
    store.put(visit(world, 0))
    card = service(store, world["officer"]).day(DAY).stops[0]
    assert card.age == 17
    assert any("Mo Parent (Mother) must be present" in n for n in card.access_notes)


@pytest.mark.parametrize("appointment, arrival, expected", [
    (True, local(10, 20), "between 10:00 and 12:00"),      # a booked appointment is kept as booked
    (False, local(10, 20), "between 10:15 and 11:15"),     # an hour from the arrival's quarter hour
    (False, None, "between 10:00 and 12:00"),             # no plan yet: the window
])
def test_the_appointment_time_told_to_the_wearer(appointment, arrival, expected):
    v = Visit(order_id="o", subject_id="s", kind=VisitKind.REMOVAL, window_start=local(10), window_end=local(12),
              appointment=appointment, planned_arrival=arrival)
    text = appointment_text(v, "Sam", "1 Street")
    assert expected in text and "remove" in text and text.startswith("Hello Sam,")


def test_only_officers_have_a_day(store, world):
    supervisor = store.put(User(username="sup", display_name="Sue", role=Role.SUPERVISOR))
    with pytest.raises(AccessDenied):
        service(store, supervisor).day(DAY)


def test_route_km_of_one_point_is_nothing():
    assert route_km([LEEDS_BASE]) == 0.0
    assert route_km([]) == 0.0
    assert route_km([(51.5, 0.0), (51.5, 1.0)]) == pytest.approx(69.4, abs=0.2)
