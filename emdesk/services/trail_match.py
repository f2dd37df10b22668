"""Trail matching: "which wearers were within R metres of this place between these times?"

Everyone's trails are read, so it is a supervisor's call (``Permission.MATCH_TRAILS``)
with a reason, and both the question and any refusal go into the audit log.  The store
gives the fixes in a box around the circle (radius plus the worst accuracy allowed);
here each fix's true distance is measured on the ellipsoid and its accuracy weighed:

- ``certain``: at least one reported position lies within R;
- possible (``certain`` False): only a fix's accuracy circle reaches within R.

A fix whose accuracy is worse than ``MAX_ACCURACY_M`` counts only by its position.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from pyproj import Geod

from emdesk.domain.clock import Clock
from emdesk.domain.engine.events import instant, ms
from emdesk.domain.engine.tracks import accuracy_m
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, User
from emdesk.store import Store
from emdesk.store.trail_queries import fixes_in_box

from .errors import AccessDenied, ServiceError
from .watch_lists import regions_of

MAX_RADIUS_M = 5_000.0
MAX_WINDOW = timedelta(days=31)
MAX_ACCURACY_M = 100.0
_M_PER_DEGREE = 111_320.0
_GEOD = Geod(ellps="WGS84")


class TrailMatchError(ServiceError):
    """The question cannot be asked as put; the message names the field and the fix."""


@dataclass(frozen=True)
class TrailMatch:
    order_id: str
    reference: str
    name: str
    region: str
    closest_m: float            # the nearest reported position, from the centre
    first_at: datetime          # first and last fix that counts (within R, or possibly)
    last_at: datetime
    fixes: int                  # how many fixes count
    certain: bool               # a reported position within R (else only an accuracy circle reaches)


@dataclass(frozen=True)
class _Question:
    lat: float
    lon: float
    radius_m: float
    start: datetime
    end: datetime
    reason: str


class TrailMatchService:
    def __init__(self, store: Store, user: User, clock: Clock):
        self.store, self.user, self.clock = store, user, clock

    def match(self, lat: float, lon: float, radius_m: float, start: datetime, end: datetime,
              reason: str) -> list[TrailMatch]:
        """The wearers whose stored fixes put them within ``radius_m`` of (lat, lon) in
        [start, end), certain ones first, then by distance."""
        if not self.user.can(Permission.MATCH_TRAILS):
            self._audit("trail_match_refused", {"lat": lat, "lon": lon, "radius_m": radius_m,
                                                "start": _iso(start), "end": _iso(end), "reason": reason or ""})
            raise AccessDenied(f"{self.user.role.label} accounts cannot match trails: ask a supervisor")
        q = _checked(lat, lon, radius_m, start, end, reason)
        found = self._find(q)
        self._audit("trail_match", {"lat": q.lat, "lon": q.lon, "radius_m": q.radius_m, "start": _iso(q.start),
                                    "end": _iso(q.end), "reason": q.reason, "matches": len(found),
                                    "orders": [m.order_id for m in found]})
        return found

    def _find(self, q: _Question) -> list[TrailMatch]:
        reach = q.radius_m + MAX_ACCURACY_M
        dlat = reach / _M_PER_DEGREE
        dlon = reach / (_M_PER_DEGREE * max(np.cos(np.radians(q.lat)), 1e-6))
        rows = fixes_in_box(self.store, ms(q.start), ms(q.end), q.lat - dlat, q.lon - dlon, q.lat + dlat, q.lon + dlon)
        if not rows:
            return []
        orders = np.array([r[0] for r in rows], dtype=object)
        at = np.array([r[2] for r in rows], dtype=np.int64)
        lats = np.array([r[3] for r in rows], dtype=float)
        lons = np.array([r[4] for r in rows], dtype=float)
        hdop = np.array([np.nan if r[5] is None else r[5] for r in rows], dtype=float)
        _, _, dist = _GEOD.inv(np.full_like(lons, q.lon), np.full_like(lats, q.lat), lons, lats)
        dist = np.asarray(dist, dtype=float)
        margin = np.minimum(accuracy_m(hdop), MAX_ACCURACY_M)
        inside = dist <= q.radius_m
        counts = inside | (dist - margin <= q.radius_m)
        records = self.store.get_many(Order, {str(o) for o in orders[counts]})
        regions = regions_of(self.user)
        names = {}
        if self.user.can(Permission.VIEW_PERSONAL_DETAILS):
            names = {s.id: s.full_name for s in self.store.get_many(
                Subject, {o.subject_id for o in records.values() if o.subject_id}).values()}
        out = []
        for order_id in sorted(set(orders[counts].tolist())):
            order = records.get(order_id)
            if order is None or (regions is not None and order.region not in regions):
                continue
            rows_of = (orders == order_id) & counts
            out.append(TrailMatch(
                order_id=order_id, reference=order.reference, name=names.get(order.subject_id, ""),
                region=order.region, closest_m=round(float(dist[orders == order_id].min()), 1),
                first_at=instant(int(at[rows_of].min())), last_at=instant(int(at[rows_of].max())),
                fixes=int(rows_of.sum()), certain=bool((inside & rows_of).any())))
        return sorted(out, key=lambda m: (not m.certain, m.closest_m, m.reference))

    def _audit(self, action: str, detail: dict) -> None:
        self.store.audit_view(actor=self.user.id, entity="device_events", entity_id="trail_match",
                              subject_id=None, action=action, detail=detail)


def _checked(lat, lon, radius_m, start, end, reason) -> _Question:
    """The question, or a ``TrailMatchError`` naming the field that is wrong and how."""
    reason = (reason or "").strip()
    if not reason:
        raise TrailMatchError("reason: say why you need to know (it is recorded in the audit log)")
    try:
        lat, lon, radius_m = float(lat), float(lon), float(radius_m)
    except (TypeError, ValueError) as exc:
        raise TrailMatchError(f"place and radius must be numbers: {exc}") from None
    if not -90 <= lat <= 90:
        raise TrailMatchError(f"latitude: {lat} is not between -90 and 90")
    if not -180 <= lon <= 180:
        raise TrailMatchError(f"longitude: {lon} is not between -180 and 180")
    if not 0 < radius_m <= MAX_RADIUS_M:
        raise TrailMatchError(f"radius: {radius_m:g} m is not between 1 and {MAX_RADIUS_M:g} m")
    for name, value in (("from", start), ("to", end)):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TrailMatchError(f"{name}: give a date and time with its time zone")
    if end <= start:
        raise TrailMatchError("to: must be after from")
    if end - start > MAX_WINDOW:
        raise TrailMatchError(f"to: the window is {_days(end - start)}; ask about at most {MAX_WINDOW.days} days")
    return _Question(lat, lon, radius_m, start, end, reason)


def _days(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 86400:.1f} days"


def _iso(value) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


__all__ = ["MAX_RADIUS_M", "MAX_WINDOW", "TrailMatch", "TrailMatchError", "TrailMatchService"]
