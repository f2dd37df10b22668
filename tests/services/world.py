"""A tiny hand-made world for service tests (the demo world is tested on its own)."""
from __future__ import annotations

from datetime import date, timedelta

from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.monitoring import EventKind, TelemetryEvent
from emdesk.services.demo import append_events
from emdesk.domain.orders import Cohort, Order, OrderStatus
from emdesk.domain.people import Address, RiskFlag, Subject
from emdesk.domain.users import Role, User
from emdesk.domain.visits import Visit, VisitKind
from emdesk.domain.validation import Problem


def small_world(store, now):
    officer_a = User(username="officer.a", display_name="Officer A", role=Role.FIELD_OFFICER, region="Wales")
    officer_b = User(username="officer.b", display_name="Officer B", role=Role.FIELD_OFFICER, region="Wales")
    monitor = User(username="monitor.wales", display_name="Monitor W", role=Role.MONITORING_OPERATOR, region="Wales")
    monitor_ldn = User(username="monitor.london", display_name="Monitor L", role=Role.MONITORING_OPERATOR, region="London")
    tech = User(username="tech", display_name="Tech", role=Role.TECHNICIAN, region="Wales")
    boss = User(username="boss", display_name="Boss", role=Role.SUPERVISOR)
    users = [officer_a, officer_b, monitor, monitor_ldn, tech, boss]
    home = Address(lines=("12 City Road",), town="Cardiff", postcode="CF24 3BJ", lat=51.49, lon=-3.17)
    ann = Subject(given_name="Ann", family_name="Evans", addresses=(home,), risk_flags=(RiskFlag.DANGEROUS_DOG,),
                  date_of_birth=date(1990, 1, 1))
    bob = Subject(given_name="Bob", family_name="Hughes", addresses=(home,))
    cy = Subject(given_name="Cy", family_name="Patel", addresses=(home,))
    o1 = Order(reference="A-1", subject_id=ann.id, cohort=Cohort.COURT_BAIL, status=OrderStatus.ACTIVE,
               region="Wales", assigned_officer_id=officer_a.id)
    o2 = Order(reference="B-1", subject_id=bob.id, cohort=Cohort.POST_RELEASE, status=OrderStatus.ACTIVE,
               region="Wales", assigned_officer_id=officer_b.id)
    o3 = Order(reference="C-1", subject_id=cy.id, cohort=Cohort.IMMIGRATION, status=OrderStatus.DRAFT,
               region="London", problems=(Problem(code="SUBJ-DOB-MISSING", field="subject.date_of_birth", message="missing"),))
    tag = Device(kind=DeviceKind.RF_TAG, serial="RF-000001", state=DeviceState.INSTALLED, order_id=o1.id,
                 subject_id=ann.id, region="Wales")
    spare = Device(kind=DeviceKind.HMU, serial="HMU-000002", region="Wales")
    today = now.replace(hour=10)
    visits = [
        Visit(order_id=o1.id, subject_id=ann.id, kind=VisitKind.CHECK, officer_id=officer_a.id,
              window_start=today, window_end=today + timedelta(hours=2)),
        Visit(order_id=o2.id, subject_id=bob.id, kind=VisitKind.INSTALL, officer_id=officer_b.id,
              window_start=now - timedelta(days=5), window_end=now - timedelta(days=5, hours=-2)),
    ]
    store.put_many(users)
    store.put_many([ann, bob, cy])
    store.put_many([o1, o2, o3])
    store.put_many([tag, spare])
    store.put_many(visits)
    return {u.username: u for u in users}


def heard_from(store, serial, at, kind=EventKind.POSITION):
    """A telemetry event from a device: the wearer's kit was in touch at ``at``."""
    order = next(d.order_id for d in store.find(Device, where={"serial": serial}))
    return append_events(store, [TelemetryEvent(device_serial=serial, order_id=order, at=at, kind=kind,
                                                created_at=at, lat=51.49, lon=-3.17)])
