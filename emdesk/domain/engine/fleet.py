"""Orders compiled for the engine (``Watch``) and the device -> order map ingest uses.

Built from plain records, so the same code serves a desktop store and the hub (which may
not import services: hence here, in the domain).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from emdesk.domain.clock import at_local
from emdesk.domain.devices import Device, DeviceState
from emdesk.domain.engine.events import ms
from emdesk.domain.engine.watch import Settings, Watch, WatchedDevice
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.telemetry_lines import Placed

# Orders whose devices may still speak: a late delivery from an ended order, within its
# life, is stored and evaluated.
WATCHED_STATUSES = (OrderStatus.ACTIVE, OrderStatus.ENDED)
_WORN = (DeviceState.INSTALLED, DeviceState.AWAITING_COLLECTION, DeviceState.RECOVERED, DeviceState.LOST,
         DeviceState.FAULTY)


def fitted_span(device: Device) -> tuple[datetime, datetime | None] | None:
    """When the device was fitted and (if it has been) taken off; None if never fitted."""
    fitted = [h.at for h in device.history if h.to_state is DeviceState.INSTALLED]
    if not fitted:
        return None
    start = max(fitted)
    off = [h.at for h in device.history if h.from_state is DeviceState.INSTALLED and h.at >= start]
    return start, (min(off) if off else None)


def order_life_ms(order: Order) -> tuple[int | None, int | None]:
    start = ms(at_local(order.start, time(0))) if order.start else None
    end = ms(at_local(order.end + timedelta(days=1), time(0))) if order.end else None
    return start, end


def home_of(order: Order, subject: Subject | None) -> tuple[float, float] | None:
    for address in ((subject.primary_address if subject else None), order.installation.address):
        if address is not None and address.located:
            return address.lat, address.lon
    return None


@dataclass(frozen=True)
class Fleet:
    """Which order each serial speaks for, and the compiled watches."""

    places: dict[str, Placed]
    unfitted: frozenset[str]             # known serials fitted to no watched order
    watches: dict[str, Watch]


def compile_fleet(orders: Iterable[Order], subjects: dict[str, Subject], devices: Iterable[Device],
                  settings: Settings | None = None) -> Fleet:
    settings = settings or Settings()
    orders = {o.id: o for o in orders if o.status in WATCHED_STATUSES and not o.deleted}
    by_order: dict[str, list[WatchedDevice]] = {oid: [] for oid in orders}
    places: dict[str, Placed] = {}
    known: set[str] = set()
    for device in devices:
        known.add(device.serial)
        order = orders.get(device.order_id or "")
        span = fitted_span(device) if device.state in _WORN else None
        if order is None or span is None:
            continue
        fitted, off = span
        _, end_ms = order_life_ms(order)
        if off is not None:
            end_ms = min(end_ms, ms(off)) if end_ms is not None else ms(off)
        places[device.serial] = Placed(order.id, ms(fitted), end_ms)
        by_order[order.id].append(WatchedDevice(device.serial, device.kind, ms(fitted)))
    watches: dict[str, Watch] = {}
    for oid, order in orders.items():
        kit = by_order[oid]
        start_ms, end_ms = order_life_ms(order)
        proximity = order.conditions.proximity
        if proximity is not None and kit:
            # The protected person's phone: its positions feed the moving zone only.
            first = min(d.fitted_ms for d in kit)
            kit.append(WatchedDevice(proximity.device_serial, None, first, protected=True))
            places[proximity.device_serial] = Placed(oid, first, end_ms)
            known.add(proximity.device_serial)
        if not kit:
            continue
        watches[oid] = Watch(
            order_id=oid, reference=order.reference, subject_id=order.subject_id, cohort=order.cohort,
            region=order.region, conditions=order.conditions, devices=tuple(kit),
            home=home_of(order, subjects.get(order.subject_id)), risk=order.risk_level,
            start_ms=start_ms, end_ms=end_ms, settings=settings)
    return Fleet(places, frozenset(known - set(places)), watches)
