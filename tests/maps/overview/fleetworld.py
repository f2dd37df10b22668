"""A small fleet in a real store for the overview map and trail matching.

Each order is there for one case: its last fix, its devices' contact and health, its
incidents; and, for trail matching, fixes placed at measured distances from ``PLACE``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from pyproj import Geod

from emdesk.domain.clock import FixedClock
from emdesk.domain.devices import Device, DeviceKind, DeviceState, DeviceStateChange
from emdesk.domain.engine.events import ms
from emdesk.domain.monitoring import Incident, IncidentStatus
from emdesk.domain.orders import Cohort, Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.users import Role, User
from emdesk.store import Store

NOW = datetime(2026, 12, 2, 12, tzinfo=timezone.utc)       # period began 07:00 today (UK = UTC in winter)
TODAY = datetime(2026, 12, 2, 7, tzinfo=timezone.utc)
FITTED = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
WM = "West Midlands"
PLACE = (52.4800, -1.8900)              # the trail-matching question's centre
RADIUS = 200.0
WINDOW = (datetime(2026, 12, 1, 20, tzinfo=timezone.utc), datetime(2026, 12, 1, 22, tzinfo=timezone.utc))
_GEOD = Geod(ellps="WGS84")


def offset(metres: float, bearing: float = 45.0, origin=PLACE) -> tuple[float, float]:
    lon, lat, _ = _GEOD.fwd(origin[1], origin[0], bearing, metres)
    return lat, lon


@dataclass(frozen=True)
class Case:
    reference: str
    status: str                         # what the overview should say
    last_fix: timedelta                 # how long before NOW
    where: tuple[float, float]
    region: str = WM
    incident: str = ""                  # "open", "technical", "old"
    events: tuple[tuple[str, timedelta, float | None], ...] = ()   # (kind, before NOW, value)
    order_status: OrderStatus = OrderStatus.ACTIVE


CASES = (
    Case("F-OK", "ok", timedelta(minutes=5), (52.49, -1.90)),
    Case("F-VIOLATION", "violation", timedelta(minutes=3), (52.47, -1.88), incident="open"),
    Case("F-OLD-INCIDENT", "ok", timedelta(minutes=4), (52.46, -1.87), incident="old"),
    Case("F-TECHNICAL", "technical", timedelta(minutes=2), (52.50, -1.91), incident="technical"),
    Case("F-BATTERY", "technical", timedelta(minutes=6), (52.51, -1.92),
         events=(("battery_level", timedelta(hours=3), 80.0), ("battery_low", timedelta(hours=1), 12.0))),
    Case("F-CHARGED", "ok", timedelta(minutes=6), (52.52, -1.93),
         events=(("battery_low", timedelta(hours=3), 12.0), ("battery_level", timedelta(hours=1), 90.0))),
    Case("F-FAULT", "technical", timedelta(minutes=7), (52.53, -1.94),
         events=(("device_fault", timedelta(hours=2), None),)),
    Case("F-SILENT", "silent", timedelta(hours=3), (52.45, -1.86)),
    Case("F-NORTH", "ok", timedelta(minutes=5), (54.97, -1.61), region="North East"),
    Case("F-ENDED", "", timedelta(minutes=5), (52.44, -1.85), order_status=OrderStatus.ENDED),
)


@dataclass(frozen=True)
class Visit:
    """A wearer's fixes for trail matching: ``metres`` from PLACE at ``at`` with ``hdop``."""

    reference: str
    expect: str                         # "certain", "possible" or "" (not a match)
    fixes: tuple[tuple[float, datetime, float], ...]


_IN = WINDOW[0] + timedelta(minutes=30)
VISITS = (
    Visit("T-WALKED-PAST", "certain", ((400, _IN, 1.0), (150, _IN + timedelta(minutes=1), 1.0),
                                       (60, _IN + timedelta(minutes=2), 1.0), (140, _IN + timedelta(minutes=3), 1.0),
                                       (450, _IN + timedelta(minutes=4), 1.0))),
    Visit("T-FUZZY-EDGE", "possible", ((RADIUS + 30, _IN, 10.0),)),                  # 50 m accuracy reaches in
    Visit("T-JUST-OUTSIDE", "", ((RADIUS + 20, _IN, 1.0),)),                         # 5 m accuracy does not
    Visit("T-WRONG-TIME", "", ((10, WINDOW[1] + timedelta(minutes=1), 1.0), (10, WINDOW[0] - timedelta(seconds=1), 1.0))),
    Visit("T-FAR", "", ((3_000, _IN, 1.0),)),
)

USERS = {
    "supervisor": User(username="sup", display_name="Sam Supervisor", role=Role.SUPERVISOR, region=WM),
    "operator": User(username="op", display_name="Olu Operator", role=Role.MONITORING_OPERATOR, region=WM),
    "officer": User(username="fo", display_name="Fran Officer", role=Role.FIELD_OFFICER, region=WM),
}


def _fitted(serial: str, order: Order, subject: Subject, region: str) -> Device:
    return Device(kind=DeviceKind.GPS_TAG, serial=serial, state=DeviceState.INSTALLED, order_id=order.id,
                  subject_id=subject.id, region=region,
                  history=(DeviceStateChange(at=FITTED, from_state=DeviceState.ALLOCATED,
                                             to_state=DeviceState.INSTALLED),))


def _row(order: Order, serial: str, at: datetime, kind: str = "position", lat=None, lon=None, hdop=None,
         value=None) -> tuple:
    return (order.id, serial, ms(at), kind, lat, lon, hdop, None, value, None, ms(at), 0)


def _incident(order: Order, subject: Subject, kind: str) -> Incident:
    technical = kind == "technical"
    period = TODAY if kind != "old" else TODAY - timedelta(days=2)
    started = period + timedelta(hours=2)
    return Incident(order_id=order.id, subject_id=subject.id, reference=order.reference, region=order.region,
                    condition="device health" if technical else "curfew", period_start=period, started_at=started,
                    ended_at=None if kind == "open" else started + timedelta(minutes=40),
                    status=IncidentStatus.ACKNOWLEDGED if kind == "old" else IncidentStatus.OPEN,
                    technical=technical, priority=50)


def build(path) -> tuple[Store, dict[str, Order]]:
    store, _ = Store.create(path, plain=True, clock=FixedClock(NOW))
    people, orders, kit, rows, incidents = [], {}, [], [], []
    for case in CASES:
        s = Subject(given_name="Wearer", family_name=case.reference)
        o = Order(reference=case.reference, subject_id=s.id, cohort=Cohort.COURT_SENTENCE, status=case.order_status,
                  start=date(2026, 11, 20), end=date(2027, 3, 1), region=case.region)
        serial = f"GPS-{case.reference}"
        people.append(s)
        orders[case.reference] = o
        kit.append(_fitted(serial, o, s, case.region))
        # A fix a minute for the half hour before the last one, the last one where the case says.
        last = NOW - case.last_fix
        for minutes in range(30, 0, -1):
            rows.append(_row(o, serial, last - timedelta(minutes=minutes), lat=case.where[0] - 0.001 * minutes,
                             lon=case.where[1], hdop=1.2))
        rows.append(_row(o, serial, last, lat=case.where[0], lon=case.where[1], hdop=1.2))
        for kind, before, value in case.events:
            rows.append(_row(o, serial, NOW - before, kind, value=value))
        if case.incident:
            incidents.append(_incident(o, s, case.incident))
    for visit in VISITS:
        s = Subject(given_name="Walker", family_name=visit.reference)
        o = Order(reference=visit.reference, subject_id=s.id, cohort=Cohort.COURT_SENTENCE, status=OrderStatus.ACTIVE,
                  start=date(2026, 11, 20), end=date(2027, 3, 1), region=WM)
        serial = f"GPS-{visit.reference}"
        people.append(s)
        orders[visit.reference] = o
        kit.append(_fitted(serial, o, s, WM))
        for metres, at, hdop in visit.fixes:
            lat, lon = offset(metres)
            rows.append(_row(o, serial, at, lat=lat, lon=lon, hdop=hdop))
    with store.transaction():
        store.put_many(people)
        store.put_many(orders.values())
        store.put_many(kit)
        store.put_many(incidents)
        store.put_many(USERS.values())
    store.telemetry.append(rows, [])
    return store, orders
