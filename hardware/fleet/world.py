"""What the fleet simulator reads from the store: the day's period and its wearers."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from emdesk.domain.clock import at_local
from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.engine.events import ms
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.store import Store

PERIOD_START = time(7, 0)      # the violation period runs 07:00 to 06:59 next day, UK time


@dataclass(frozen=True)
class Period:
    """One violation period as UTC instants; ``end`` is the next period's start (exclusive)."""

    day: date
    start: datetime
    end: datetime

    @property
    def start_ms(self) -> int:
        return ms(self.start)

    @property
    def end_ms(self) -> int:
        return ms(self.end)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def rel(self, at: datetime) -> float:
        """Seconds from the period's start."""
        return (at - self.start).total_seconds()

    def local(self, day_offset: int, clock: time) -> float:
        """Seconds from the start to a UK wall-clock time on the day (0) or the next (1)."""
        return self.rel(at_local(self.day + timedelta(days=day_offset), clock))


def violation_period(day: date) -> Period:
    return Period(day, at_local(day, PERIOD_START), at_local(day + timedelta(days=1), PERIOD_START))


@dataclass(frozen=True)
class Wearer:
    """An active order with kit on, and where its wearer lives."""

    order: Order
    subject: Subject | None
    devices: dict[DeviceKind, Device]
    fitted_ms: dict[str, int]          # serial -> when it was fitted
    home: tuple[float, float]

    @property
    def reference(self) -> str:
        return self.order.reference or self.order.id

    def device(self, kind: DeviceKind) -> Device | None:
        return self.devices.get(kind)


def fitted_at(device: Device) -> datetime | None:
    """When the device went on: its latest move into INSTALLED."""
    ats = [h.at for h in device.history if h.to_state is DeviceState.INSTALLED]
    return max(ats) if ats else None


def _home(order: Order, subject: Subject | None) -> tuple[float, float] | None:
    primary = subject.primary_address if subject else None
    for address in (primary, order.installation.address):
        if address is not None and address.located:
            return address.lat, address.lon
    return None


def _rank(order: Order) -> str:
    # A stable, well-mixed order for --wearers: not by creation time, not by the seed.
    return hashlib.sha256(order.id.encode()).hexdigest()


def load_wearers(store_path: str | Path, period: Period, *, limit: int | None = None) -> list[Wearer]:
    """Wearers of active orders with fitted kit on before the period ends, in a fixed order;
    ``limit`` keeps the first so many of that order (the same ones whatever the seed)."""
    store = Store.open(store_path)
    try:
        orders = store.find(Order, where={"status": OrderStatus.ACTIVE.value})
        devices = store.find(Device, where={"state": DeviceState.INSTALLED.value})
        subjects = store.get_many(Subject, [o.subject_id for o in orders])
    finally:
        store.close()
    kit: dict[str, list[Device]] = {}
    for d in devices:
        if d.order_id:
            kit.setdefault(d.order_id, []).append(d)
    out: list[Wearer] = []
    for order in sorted(orders, key=_rank):
        fitted = {}
        by_kind: dict[DeviceKind, Device] = {}
        for d in sorted(kit.get(order.id, ()), key=lambda d: d.serial):
            at = fitted_at(d)
            if at is None or at >= period.end or d.kind in by_kind:
                continue
            by_kind[d.kind] = d
            fitted[d.serial] = ms(at)
        subject = subjects.get(order.subject_id)
        home = _home(order, subject)
        if not by_kind or home is None:
            continue
        out.append(Wearer(order, subject, by_kind, fitted, home))
        if limit is not None and len(out) >= limit:
            break
    return out
