"""One wearer's trail over a window, ready to draw: fixes, what to keep of them, stops,
zones, the curfew address and the incidents in the window with their stretches.

Scoped as the monitoring lists are: an operator sees her region's orders, a supervisor
all; other roles are refused.  Positions from a protected person's phone (a moving
exclusion zone) are never part of a trail: the wearer's map must not show the victim.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from emdesk.domain import trails
from emdesk.domain.clock import Clock
from emdesk.domain.conditions import Zone
from emdesk.domain.engine.events import POSITION, ms
from emdesk.domain.engine.fleet import home_of
from emdesk.domain.engine.tracks import NEVER_AFTER, accuracy_m
from emdesk.domain.monitoring import Incident
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.trails import Crossing, Fix, Stop
from emdesk.domain.users import User
from emdesk.store import Store

from .errors import AccessDenied, ServiceError
from .watch_lists import regions_of

# columns_for's columns
_AT, _KIND, _DEVICE, _LAT, _LON, _HDOP = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True)
class TrailIncident:
    id: str
    condition: str
    codes: tuple[str, ...]
    start_ms: int
    end_ms: int | None          # None: still going
    status: str
    detail: str = ""


@dataclass(frozen=True, eq=False)
class Trail:
    """Every fix in the window as columns (time order), and what to draw of them."""

    order_id: str
    reference: str
    start_ms: int
    end_ms: int
    at: np.ndarray              # int64 ms
    lat: np.ndarray
    lon: np.ndarray
    accuracy_m: np.ndarray
    doubtful: np.ndarray        # bool
    kept: np.ndarray            # indices of the fixes to draw (sorted)
    stops: tuple[Stop, ...] = ()
    crossings: tuple[Crossing, ...] = ()
    zones: tuple[Zone, ...] = ()
    home: tuple[float, float] | None = None
    incidents: tuple[TrailIncident, ...] = field(default=())

    def __len__(self) -> int:
        return int(self.at.shape[0])

    @property
    def last_ms(self) -> int | None:
        return int(self.at[-1]) if len(self) else None

    def fixes(self, index: np.ndarray | None = None) -> list[Fix]:
        rows = np.arange(len(self)) if index is None else index
        return [Fix(int(self.at[i]), float(self.lat[i]), float(self.lon[i]), float(self.accuracy_m[i]),
                    bool(self.doubtful[i])) for i in rows.tolist()]


class TrailService:
    def __init__(self, store: Store, user: User, clock: Clock):
        self.store, self.user, self.clock = store, user, clock
        self.regions = regions_of(user)           # AccessDenied for roles without monitoring

    def _order(self, order_id: str) -> Order:
        order = self.store.get(Order, order_id)
        if order is None:
            raise ServiceError(f"order {order_id!r} not found: pick the order again from the list")
        if self.regions is not None and order.region not in self.regions:
            raise AccessDenied(f"order {order.reference} is in {order.region}; "
                               f"your account sees {', '.join(sorted(self.regions))} only")
        return order

    def _positions(self, order: Order, start_ms: int, end_ms: int) -> np.ndarray:
        table, serials = self.store.telemetry.columns_for(order.id, start_ms, end_ms)
        rows = (table[:, _KIND] == POSITION) & np.isfinite(table[:, _LAT]) & np.isfinite(table[:, _LON])
        protected = order.conditions.proximity.device_serial if order.conditions.proximity else None
        if protected in serials:
            rows &= table[:, _DEVICE] != serials.index(protected)
        return table[rows]

    def trail(self, order_id: str, start: datetime, end: datetime) -> Trail:
        """The order's trail from ``start`` to ``end`` (aware datetimes)."""
        order = self._order(order_id)
        start_ms, end_ms = ms(start), ms(end)
        if end_ms <= start_ms:
            raise ServiceError(f"trail window: the end ({end:%d %b %H:%M}) must be after the start "
                               f"({start:%d %b %H:%M})")
        pos = self._positions(order, start_ms, end_ms)
        at = pos[:, _AT].astype(np.int64)
        lat, lon, hdop = pos[:, _LAT], pos[:, _LON], pos[:, _HDOP]
        found = self._incidents(order, start_ms, end_ms)
        planned = trails.plan(at, lat, lon, hdop, zones=order.conditions.zones,
                              stretches=[(i.start_ms, i.end_ms) for i in found])
        subject = self.store.get(Subject, order.subject_id) if order.subject_id else None
        return Trail(order_id=order.id, reference=order.reference, start_ms=start_ms, end_ms=end_ms,
                     at=at, lat=lat, lon=lon, accuracy_m=accuracy_m(hdop), doubtful=trails.doubtful(hdop),
                     kept=planned.kept, stops=planned.stops, crossings=planned.crossings,
                     zones=tuple(order.conditions.zones), home=home_of(order, subject), incidents=tuple(found))

    def since(self, order_id: str, after_ms: int) -> list[Fix]:
        """Fixes newer than ``after_ms``, oldest first (the live feed of an open map)."""
        order = self._order(order_id)
        pos = self._positions(order, after_ms + 1, NEVER_AFTER)
        hdop = pos[:, _HDOP]
        return [Fix(int(r[_AT]), float(r[_LAT]), float(r[_LON]), float(a), bool(d))
                for r, a, d in zip(pos.tolist(), accuracy_m(hdop).tolist(), trails.doubtful(hdop).tolist())]

    def _incidents(self, order: Order, start_ms: int, end_ms: int) -> list[TrailIncident]:
        out = []
        for i in self.store.find(Incident, where={"order_id": order.id}):
            s = ms(i.started_at)
            e = ms(i.ended_at) if i.ended_at else None
            if s < end_ms and (e is None or e >= start_ms):
                out.append(TrailIncident(i.id, i.condition, tuple(i.codes), s, e, i.status.value, i.detail))
        out.sort(key=lambda i: (i.start_ms, i.id))
        return out


__all__ = ["Trail", "TrailIncident", "TrailService"]
