"""A small watched world for ingest tests: three orders with fitted kit, in a real store.

- W-CURFEW: GPS tag + home unit, curfew 19:00-07:00 every day, home in Birmingham
- W-ZONE:   GPS tag, an exclusion circle of 200 m, 1 km north-east of home
- W-ENDED:  an ended order (its tag fitted until the order ended)
- W-CHECKIN: a non-fitted device (a phone) that must check in daily at 10:00 (an hour to answer)
Plus SPARE-1, a known tag fitted to nothing.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from emdesk.domain.clock import FixedClock
from emdesk.domain.conditions import CheckIns, Circle, Conditions, Curfew, Zone, ZoneKind
from emdesk.domain.curfew import parse_windows
from emdesk.domain.devices import Device, DeviceKind, DeviceState, DeviceStateChange
from emdesk.domain.orders import Cohort, Order, OrderStatus
from emdesk.domain.people import Address, Subject
from emdesk.store import Store

HOME = (52.4800, -1.8900)
FITTED = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 2, 12, tzinfo=timezone.utc)
DAY = date(2026, 12, 1)            # the violation period 07:00 1 Dec - 06:59 2 Dec (UTC = UK in winter)


def _fit(serial, kind, order, subject, *, off=None):
    history = [DeviceStateChange(at=FITTED, from_state=DeviceState.ALLOCATED, to_state=DeviceState.INSTALLED)]
    state = DeviceState.INSTALLED
    if off:
        history.append(DeviceStateChange(at=off, from_state=DeviceState.INSTALLED, to_state=DeviceState.RECOVERED))
        state = DeviceState.RECOVERED
    return Device(kind=kind, serial=serial, state=state, order_id=order.id, subject_id=subject.id,
                  history=tuple(history), region="West Midlands")


def build(path, now=NOW) -> Store:
    store, _ = Store.create(path, plain=True, clock=FixedClock(now))
    people, orders, kit = [], [], []
    for ref, conditions, status, end in (
        ("W-CURFEW", Conditions(curfew=Curfew(windows=parse_windows("Mon-Sun 19:00-07:00"))), OrderStatus.ACTIVE,
         date(2027, 3, 1)),
        ("W-ZONE", Conditions(zones=(Zone(name="victim's street", kind=ZoneKind.EXCLUSION,
                                          shape=Circle(lat=HOME[0] + 0.0064, lon=HOME[1] + 0.0104, radius_m=200)),)),
         OrderStatus.ACTIVE, date(2027, 3, 1)),
        ("W-ENDED", Conditions(curfew=Curfew(windows=parse_windows("Mon-Sun 21:00-06:00"))), OrderStatus.ENDED,
         date(2026, 11, 30)),
        ("W-CHECKIN", Conditions(checkins=CheckIns(per_week=7)), OrderStatus.ACTIVE, date(2027, 3, 1)),
    ):
        s = Subject(given_name="Test", family_name=ref, addresses=(Address(lat=HOME[0], lon=HOME[1], postcode="B1 1AA"),))
        o = Order(reference=ref, subject_id=s.id, cohort=Cohort.COURT_SENTENCE, status=status,
                  start=date(2026, 11, 20), end=end, region="West Midlands", conditions=conditions)
        people.append(s)
        orders.append(o)
    kit += [_fit("GPS-CURFEW", DeviceKind.GPS_TAG, orders[0], people[0]),
            _fit("HMU-CURFEW", DeviceKind.HMU, orders[0], people[0]),
            _fit("GPS-ZONE", DeviceKind.GPS_TAG, orders[1], people[1]),
            _fit("GPS-ENDED", DeviceKind.GPS_TAG, orders[2], people[2],
                 off=datetime(2026, 12, 1, 9, tzinfo=timezone.utc)),
            _fit("NFD-CHECKIN", DeviceKind.NON_FITTED, orders[3], people[3]),
            Device(kind=DeviceKind.GPS_TAG, serial="SPARE-1", state=DeviceState.IN_STOCK, region="West Midlands")]
    with store.transaction():
        store.put_many(people)
        store.put_many(orders)
        store.put_many(kit)
    return store


def line(device, at: datetime, kind="position", **fields) -> str:
    body = {"device": device, "at": at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "kind": kind, **fields}
    return json.dumps(body)


def fix(device, at, lat=HOME[0], lon=HOME[1], hdop=1.0, speed=0.3) -> str:
    return line(device, at, lat=lat, lon=lon, hdop=hdop, speed=speed)


def evening(minutes_late: int = 0) -> list[str]:
    """W-CURFEW's evening: out about town, home ``minutes_late`` after 19:00 (0: on time),
    then a fix a minute at home to midnight."""
    lines = []
    start = datetime(2026, 12, 1, 17, tzinfo=timezone.utc)
    back = datetime(2026, 12, 1, 19, tzinfo=timezone.utc) + timedelta(minutes=minutes_late) - timedelta(minutes=5)
    t = start
    while t < datetime(2026, 12, 2, 0, tzinfo=timezone.utc):
        away = t < back
        lines.append(fix("GPS-CURFEW", t, lat=HOME[0] + (0.01 if away else 0), lon=HOME[1]))
        if t == back:
            lines.append(line("HMU-CURFEW", t + timedelta(minutes=4), "hmu_range_in"))
        t += timedelta(minutes=1)
    lines.insert(0, line("HMU-CURFEW", start - timedelta(minutes=30), "hmu_range_out"))
    return lines
