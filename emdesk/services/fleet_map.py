"""The regional overview: where every wearer last was, and whether all is well.

A wearer's status is the worst that applies, in this order:

- ``violation``: a genuine incident still open (open, acknowledged or escalated) that is
  still going or belongs to the current violation period;
- ``silent``: none of the order's fitted devices heard from for ``SILENT_AFTER``;
- ``technical``: a technical incident open, a device marked faulty or reporting a fault
  lately, or a battery low;
- ``ok``: none of these.

Scoped by role as the watch lists are (an operator her region, a supervisor all).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from emdesk.domain.clock import Clock
from emdesk.domain.devices import Device, DeviceState
from emdesk.domain.engine.events import instant, ms
from emdesk.domain.engine.periods import period_of_ms
from emdesk.domain.engine.tracks import accuracy_m
from emdesk.domain.monitoring import Incident, IncidentStatus
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, User
from emdesk.store import Store
from emdesk.store.trail_queries import last_positions, newest_of_kinds

from .watch_lists import WatchLists

STATUSES = ("ok", "violation", "technical", "silent")
SILENT_AFTER = timedelta(minutes=60)
# Device health is read from this much of each order's events, every refresh: a fault
# older than this has been dealt with or reported again, a battery low this long ago
# and never charged since has gone flat (and the wearer silent).
HEALTH_LOOKBACK = timedelta(hours=6)
LOW_BATTERY_PERCENT = 20.0
_LIVE = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.ESCALATED)
_BATTERY = ("battery_low", "battery_dead", "battery_level", "charging")


@dataclass(frozen=True)
class WearerPosition:
    order_id: str
    reference: str
    name: str                    # blank for accounts that may not see personal details
    region: str
    lat: float
    lon: float
    at: datetime                 # the last fix
    status: str                  # one of STATUSES
    last_contact: datetime | None = None
    accuracy_m: float = 0.0
    reasons: tuple[str, ...] = field(default=())   # why the status, in words


class FleetMapService:
    def __init__(self, store: Store, user: User | None, clock: Clock):
        self.store, self.user, self.clock = store, user, clock
        self.regions = WatchLists(store, user).regions      # refuses roles without the lists

    def positions(self) -> list[WearerPosition]:
        """Every active order in scope that has a fix, by reference."""
        now = self.clock.now()
        now_ms = ms(now)
        fixes = {r[0]: r for r in last_positions(self.store, now_ms)}
        if not fixes:
            return []
        orders = [o for o in self.store.get_many(Order, fixes).values()
                  if o.status == OrderStatus.ACTIVE and (self.regions is None or o.region in self.regions)]
        if not orders:
            return []
        ids = [o.id for o in orders]
        names = self._names(orders)
        devices: dict[str, list[Device]] = {}
        for d in self.store.find(Device, where={"order_id": ids}):
            devices.setdefault(d.order_id, []).append(d)
        fitted = {i: [d for d in ds if d.state in (DeviceState.INSTALLED, DeviceState.FAULTY)]
                  for i, ds in devices.items()}
        heard = self.store.telemetry.last_heard(sorted({d.serial for ds in fitted.values() for d in ds}))
        period_start = period_of_ms(now_ms)[0]
        incidents: dict[str, list[Incident]] = {}
        for i in self.store.find(Incident, where={"order_id": ids, "status": [s.value for s in _LIVE]}):
            incidents.setdefault(i.order_id, []).append(i)
        health = self._health(now)
        out = []
        for o in orders:
            _, at, lat, lon, hdop = fixes[o.id]
            contacts = [heard[d.serial] for d in fitted.get(o.id, []) if d.serial in heard]
            last = instant(max(contacts)) if contacts else None
            reasons: dict[str, list[str]] = {s: [] for s in STATUSES}
            for i in incidents.get(o.id, []):
                if i.technical:
                    reasons["technical"].append(f"technical incident: {i.condition}")
                elif i.ended_at is None or ms(i.period_start) >= period_start:
                    reasons["violation"].append(f"{i.condition} ({i.status.value})")
            if last is None or now - last > SILENT_AFTER:
                reasons["silent"].append("never heard from" if last is None
                                         else f"no contact for {_span(now - last)}")
            if any(d.state == DeviceState.FAULTY for d in fitted.get(o.id, [])):
                reasons["technical"].append("a device marked faulty")
            reasons["technical"].extend(health.get(o.id, ()))
            status = next((s for s in ("violation", "silent", "technical") if reasons[s]), "ok")
            out.append(WearerPosition(
                order_id=o.id, reference=o.reference, name=names.get(o.subject_id, ""), region=o.region,
                lat=lat, lon=lon, at=instant(at), status=status, last_contact=last,
                accuracy_m=accuracy_of(hdop), reasons=tuple(reasons[status])))
        return sorted(out, key=lambda p: (p.reference, p.order_id))

    def _names(self, orders: list[Order]) -> dict[str, str]:
        if self.user is not None and not self.user.can(Permission.VIEW_PERSONAL_DETAILS):
            return {}
        return {s.id: s.full_name for s in self.store.get_many(Subject, {o.subject_id for o in orders}).values()}

    def _health(self, now: datetime) -> dict[str, list[str]]:
        """Each order's device trouble from its recent events (one pass over the last
        ``HEALTH_LOOKBACK``): a fault reported, a battery low and not charged since."""
        out: dict[str, list[str]] = {}
        newest: dict[str, tuple[int, str, float | None]] = {}
        for order, kind, at, value in newest_of_kinds(self.store, ("device_fault", *_BATTERY),
                                                      ms(now - HEALTH_LOOKBACK), ms(now)):
            if kind == "device_fault":
                out.setdefault(order, []).append("a device reported a fault")
            elif order not in newest or at > newest[order][0]:
                newest[order] = (at, kind, value)
        for order, (_at, kind, value) in newest.items():
            if kind in ("battery_low", "battery_dead") or (
                    kind == "battery_level" and value is not None and value < LOW_BATTERY_PERCENT):
                out.setdefault(order, []).append("battery dead" if kind == "battery_dead" else "battery low")
        return out


def accuracy_of(hdop: float | None) -> float:
    """A fix's accuracy radius in metres (the engine's rule; no HDOP: the worst believed)."""
    return float(accuracy_m(np.array([np.nan if hdop is None else hdop], dtype=float))[0])


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


__all__ = ["FleetMapService", "STATUSES", "SILENT_AFTER", "WearerPosition"]
