"""What fitted kit has said lately: a short tail of events per installed device.

GPS tags: a few position fixes, at home in curfew hours and about town otherwise;
RF tags (and the RF side of a GPS tag): in/out of home-unit range around the curfew;
alcohol tags: a reading every half hour; non-fitted devices: biometric check-ins; now
and then a low battery, a charge, a home unit off mains, a short loss of signal.
Most kit was heard from within the day. About one order in ten with kit on has gone
silent 14 to 40 days ago: its tail ends, then a ``COMMS_LOST`` and nothing since. That
is the NAO's second kind of unmonitored case, "disconnected for 14 days or more" (2.13).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from emdesk.domain.clock import LONDON, local_date
from emdesk.domain.conditions import ZoneKind
from emdesk.domain.curfew import curfew_intervals, in_curfew
from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.geography import in_england_and_wales, zone_contains
from emdesk.domain.monitoring import EventKind, TelemetryEvent
from emdesk.domain.orders import Order

from . import places
from .gen import Gen

DISCONNECTED_SHARE = 0.10        # of orders with kit on for over 15 days
SILENT_DAYS = (14.2, 40.0)       # how long ago a disconnected order was last heard from
_TAIL = timedelta(days=2)        # how far back the tail of a healthy device goes


def _installed_at(devices: list[Device]) -> datetime:
    return min(h.at for d in devices for h in d.history if h.to_state is DeviceState.INSTALLED)


class _Tail:
    """Events for one order, none before the install, none after ``cutoff``."""

    def __init__(self, gen: Gen, order: Order, home: tuple[float, float], installed_at: datetime, cutoff: datetime):
        self.gen, self.order, self.home = gen, order, home
        self.installed_at, self.cutoff = installed_at, cutoff
        self.events: list[TelemetryEvent] = []

    def add(self, serial: str, at: datetime, kind: EventKind, *, lat: float | None = None, lon: float | None = None,
            hdop: float | None = None, value: float | None = None, detail: str = "", force: bool = False) -> None:
        at = at.replace(microsecond=0)
        if not force and not (self.installed_at < at <= self.cutoff):
            return
        self.events.append(TelemetryEvent(
            id=self.gen.id_at(at), created_at=at, updated_at=at, device_serial=serial, order_id=self.order.id,
            at=at, kind=kind, lat=lat, lon=lon, hdop=hdop, value=value, detail=detail))

    def place(self, at: datetime) -> tuple[float, float]:
        """Where the wearer is: at home in curfew hours, mostly at night, often by day; else about town."""
        rng = self.gen.rng
        near, far = (3, 35), (300, 2500)
        night = not 7 <= at.astimezone(LONDON).hour < 23
        home = in_curfew(self.order.conditions.curfew, at) or rng.random() < (0.9 if night else 0.4)
        reach = near if home else far
        zones = [z for z in self.order.conditions.zones if z.kind is ZoneKind.EXCLUSION]
        for _ in range(10):
            lat, lon = places.offset(*self.home, rng.uniform(*reach), rng.uniform(0, 360))
            if in_england_and_wales(lat, lon) and not any(zone_contains(z.shape, lat, lon) for z in zones):
                return lat, lon
        return self.home

    def contact(self) -> datetime | None:
        heard = [e.at for e in self.events if e.kind is not EventKind.COMMS_LOST]
        return max(heard) if heard else None


def _range(tail: _Tail, tag: Device, hmu: Device, nights: int) -> None:
    """In range of the home unit before each curfew starts, out of it after each ends."""
    rng, cutoff = tail.gen.rng, tail.cutoff
    spans = curfew_intervals(tail.order.conditions.curfew, local_date(cutoff) - timedelta(days=8), local_date(cutoff))
    moves = []
    for begin, end in spans:
        moves.append((begin - timedelta(minutes=rng.randint(5, 95)), EventKind.HMU_RANGE_IN))
        moves.append((end + timedelta(minutes=rng.randint(5, 120)), EventKind.HMU_RANGE_OUT))
    moves = [m for m in moves if tail.installed_at < m[0] <= cutoff][-2 * nights:]
    for at, kind in moves:
        tail.add(tag.serial, at, kind, detail=f"home unit {hmu.serial}")


def _gps(tail: _Tail, tag: Device) -> None:
    rng = tail.gen.rng
    at = tail.cutoff - timedelta(minutes=rng.randint(1, 90))
    for _ in range(rng.randint(4, 6)):
        lat, lon = tail.place(at)
        tail.add(tag.serial, at, EventKind.POSITION, lat=lat, lon=lon, hdop=round(rng.uniform(0.7, 2.4), 1))
        at -= timedelta(minutes=rng.randint(60, 420))
    start = max(tail.installed_at, tail.cutoff - _TAIL)
    if rng.random() < 0.4:
        # Tags are charged daily; some are left to run low first.
        low = start + (tail.cutoff - start) * rng.uniform(0.1, 0.8)
        tail.add(tag.serial, low, EventKind.BATTERY_LOW, value=float(rng.choice((10, 15, 20))),
                 detail="battery low: wearer prompted to charge")
        tail.add(tag.serial, low + timedelta(minutes=rng.randint(15, 90)), EventKind.CHARGING,
                 value=float(rng.randint(12, 24)), detail="charging")
    if rng.random() < 0.08:
        gone = start + (tail.cutoff - start) * rng.uniform(0.1, 0.7)
        tail.add(tag.serial, gone, EventKind.COMMS_LOST, detail="no mobile signal")
        tail.add(tag.serial, gone + timedelta(minutes=rng.randint(20, 180)), EventKind.COMMS_RESTORED,
                 detail="signal back; stored fixes uploaded")


def _alcohol(tail: _Tail, tag: Device) -> None:
    rng = tail.gen.rng
    alcohol = tail.order.conditions.alcohol
    level = alcohol is not None and alcohol.threshold is not None
    at = tail.cutoff - timedelta(minutes=rng.randint(0, 29))
    for _ in range(rng.randint(3, 5)):
        value = round(rng.uniform(0, 12), 1) if level and rng.random() < 0.3 else 0.0
        tail.add(tag.serial, at, EventKind.ALCOHOL_READING, value=value, detail="transdermal, mg/100ml")
        at -= timedelta(minutes=30)


def _checkins(tail: _Tail, device: Device) -> None:
    rng = tail.gen.rng
    checkins = tail.order.conditions.checkins
    every = timedelta(days=7 / (checkins.per_week if checkins and checkins.per_week else 7))
    day = local_date(tail.cutoff)
    at = tail.gen.at_local(day, rng.randint(8, 19), rng.randint(0, 59))
    if at > tail.cutoff:
        at -= max(every, timedelta(days=1))
    for _ in range(rng.randint(2, 3)):
        when = at + timedelta(minutes=rng.randint(-60, 60))     # answered when prompted, give or take
        lat, lon = tail.place(when)
        tail.add(device.serial, when, EventKind.CHECKIN, lat=lat, lon=lon, hdop=round(rng.uniform(0.8, 3.0), 1),
                 detail="biometric check-in: face matched")
        at -= every


def _hmu(tail: _Tail, hmu: Device) -> None:
    rng = tail.gen.rng
    if rng.random() < 0.12:
        start = max(tail.installed_at, tail.cutoff - _TAIL)
        off = start + (tail.cutoff - start) * rng.uniform(0.1, 0.7)
        tail.add(hmu.serial, off, EventKind.BATTERY_LOW, value=float(rng.randint(60, 95)),
                 detail="mains power lost: on backup battery")
        tail.add(hmu.serial, off + timedelta(minutes=rng.randint(20, 300)), EventKind.CHARGING,
                 value=float(rng.randint(40, 90)), detail="mains power restored")


def _fill(gen: Gen, tail: _Tail, devices: list[Device]) -> None:
    by_kind = {d.kind: d for d in devices}
    hmu = by_kind.get(DeviceKind.HMU)
    tag = by_kind.get(DeviceKind.GPS_TAG) or by_kind.get(DeviceKind.RF_TAG)
    if tag is not None and hmu is not None:
        _range(tail, tag, hmu, nights=1 if tag.kind is DeviceKind.GPS_TAG else 2)
    if DeviceKind.GPS_TAG in by_kind:
        _gps(tail, by_kind[DeviceKind.GPS_TAG])
    if DeviceKind.RF_TAG in by_kind and gen.chance(0.03):
        tail.add(by_kind[DeviceKind.RF_TAG].serial, tail.cutoff - timedelta(hours=gen.rng.uniform(1, 30)),
                 EventKind.BATTERY_LOW, value=10.0, detail="tag battery low: replace at the next visit")
    if DeviceKind.ALCOHOL_TAG in by_kind:
        _alcohol(tail, by_kind[DeviceKind.ALCOHOL_TAG])
    if DeviceKind.NON_FITTED in by_kind:
        _checkins(tail, by_kind[DeviceKind.NON_FITTED])
    if hmu is not None:
        _hmu(tail, hmu)
    main = tag or by_kind.get(DeviceKind.ALCOHOL_TAG) or by_kind.get(DeviceKind.NON_FITTED)
    if tail.contact() is None and main is not None:
        # Nothing in the tail window yet: the officer's test at the install is the last word.
        kind = {DeviceKind.ALCOHOL_TAG: EventKind.ALCOHOL_READING, DeviceKind.NON_FITTED: EventKind.CHECKIN}.get(
            main.kind, EventKind.HMU_RANGE_IN if hmu else EventKind.POSITION)
        where = {"lat": tail.home[0], "lon": tail.home[1]} if kind in (EventKind.POSITION, EventKind.CHECKIN) else {}
        tail.add(main.serial, tail.installed_at + timedelta(minutes=gen.rng.randint(2, 10)), kind,
                 value=0.0 if kind is EventKind.ALCOHOL_READING else None,
                 hdop=1.0 if kind is EventKind.POSITION else None,
                 detail="install test" + (f" with home unit {hmu.serial}" if hmu else ""), force=True, **where)


def order_telemetry(gen: Gen, order: Order, devices: list[Device], home: tuple[float, float]) -> list[TelemetryEvent]:
    """The recent tail of events from one active order's installed kit."""
    installed_at = _installed_at(devices)
    silent = installed_at < gen.now - timedelta(days=15) and gen.quota("disconnected", DISCONNECTED_SHARE)
    low, high = SILENT_DAYS
    high = min(high, (gen.now - installed_at) / timedelta(days=1) - 0.5)
    for _ in range(5):
        cutoff = gen.now - timedelta(minutes=gen.rng.randint(int(low * 1440), int(high * 1440))) if silent else gen.now
        tail = _Tail(gen, order, home, installed_at, cutoff)
        _fill(gen, tail, devices)
        last = tail.contact()
        # A silent order was last heard from 14 to 40 days ago (an RF tag speaks only at curfew times).
        if not silent or (last is not None and low <= (gen.now - last) / timedelta(days=1) <= SILENT_DAYS[1]):
            break
    else:
        tail = _Tail(gen, order, home, installed_at, gen.now)     # could not place the silence: heard today
        _fill(gen, tail, devices)
        silent = False
    if silent:
        last = tail.contact() or tail.cutoff
        for d in devices:
            lost = last + timedelta(minutes=gen.rng.randint(90, 480))
            tail.add(d.serial, lost, EventKind.COMMS_LOST, detail="no contact from the device", force=True)
    return sorted(tail.events, key=lambda e: (e.at, e.device_serial, e.kind.value))


def world_telemetry(gen: Gen, orders: list[Order], devices: list[Device],
                    homes: dict[str, tuple[float, float]]) -> list[TelemetryEvent]:
    """Telemetry for every active order's installed kit, order by order."""
    on: dict[str, list[Device]] = {}
    for d in devices:
        if d.order_id and d.state is DeviceState.INSTALLED:
            on.setdefault(d.order_id, []).append(d)
    out: list[TelemetryEvent] = []
    for order in orders:
        kit = on.get(order.id)
        if kit and order.id in homes:
            out += order_telemetry(gen, order, kit, homes[order.id])
    return out
