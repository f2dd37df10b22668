"""What monitoring staff and scripts read: the watched orders and the incidents.

Both lists are limited by role: a monitoring operator sees her region, a supervisor all;
other roles are refused.  The JSON shapes are contracts (``emdesk orders list --json``,
``emdesk incidents --json``) documented in ``docs/telemetry.md``.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from emdesk.domain.conditions import Circle, Zone
from emdesk.domain.curfew import DAY_NAMES, is_usable
from emdesk.domain.devices import Device
from emdesk.domain.monitoring import Incident
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, User
from emdesk.store import Store

from .errors import AccessDenied
from .watches import fitted_span, home_of


def iso(at: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds and ``Z``."""
    if at is None:
        return None
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def regions_of(user: User) -> set[str] | None:
    """None: every region."""
    if user.can(Permission.VIEW_ALL_CASES):
        return None
    if user.can(Permission.VIEW_REGION_CASES):
        return {user.region}
    raise AccessDenied(f"{user.role.label} accounts do not see the monitoring lists")


def _clock(t) -> str:
    return f"{t:%H:%M}"


def curfew_json(order: Order) -> list[dict[str, Any]]:
    """Windows with the same hours grouped, days in week order (UK wall clock)."""
    curfew = order.conditions.curfew
    groups: dict[tuple[str, str], set[int]] = {}
    for w in (curfew.windows if curfew else ()):
        if is_usable(w):
            groups.setdefault((_clock(w.start), _clock(w.end)), set()).add(w.weekday)
    return [{"days": [DAY_NAMES[d] for d in sorted(days)], "start": s, "end": e}
            for (s, e), days in sorted(groups.items(), key=lambda g: (min(g[1]), g[0]))]


def zone_feature(zone: Zone) -> dict[str, Any]:
    shape = zone.shape
    if isinstance(shape, Circle):
        geometry = {"type": "Point", "coordinates": [shape.lon, shape.lat]}
        extra = {"radius_m": shape.radius_m}
    else:
        ring = [[lon, lat] for lat, lon in shape.points]
        if ring and ring[0] != ring[-1]:
            ring.append(ring[0])
        geometry = {"type": "Polygon", "coordinates": [ring]}
        extra = {}
    hours = [{"days": [DAY_NAMES[w.weekday]], "start": _clock(w.start), "end": _clock(w.end)}
             for w in zone.active_windows if is_usable(w)]
    return {"type": "Feature", "geometry": geometry,
            "properties": {"name": zone.name, "kind": zone.kind.value, "from": iso(zone.active_from),
                           "until": iso(zone.active_until), "hours": hours, **extra}}


class WatchLists:
    def __init__(self, store: Store, user: User | None):
        """``user`` None: a plain store with no accounts at all (a bench or scratch store),
        read as a whole."""
        if user is None and (store.encrypted or store.count(User)):
            raise AccessDenied("sign in: this store has accounts")
        self.store, self.user = store, user
        self.regions = None if user is None else regions_of(user)

    def _mine(self, region: str) -> bool:
        return self.regions is None or region in self.regions

    def orders(self, *, status: str | None = None, region: str | None = None) -> list[dict[str, Any]]:
        where: dict[str, Any] = {}
        if status:
            where["status"] = status
        if region:
            where["region"] = region
        orders = [o for o in self.store.find(Order, where=where or None, order_by="reference")
                  if self._mine(o.region)]
        subjects = self.store.get_many(Subject, {o.subject_id for o in orders if o.subject_id})
        kit: dict[str, list[Device]] = {}
        if orders:
            for d in self.store.find(Device, where={"order_id": [o.id for o in orders]}):
                kit.setdefault(d.order_id, []).append(d)
        out = []
        for o in orders:
            subject = subjects.get(o.subject_id)
            home = home_of(o, subject)
            devices = []
            for d in sorted(kit.get(o.id, []), key=lambda d: d.serial):
                span = fitted_span(d)
                if span is not None and span[1] is None:
                    devices.append({"serial": d.serial, "kind": d.kind.value, "fitted_at": iso(span[0])})
            out.append({
                "order_id": o.id, "reference": o.reference, "subject_id": o.subject_id,
                "subject_name": subject.full_name if subject else "",
                "cohort": o.cohort.value if o.cohort else None, "status": o.status.value, "region": o.region,
                "start": o.start.isoformat() if o.start else None, "end": o.end.isoformat() if o.end else None,
                "home": {"lat": home[0], "lon": home[1]} if home else None,
                "curfew": curfew_json(o),
                "zones": {"type": "FeatureCollection", "features": [zone_feature(z) for z in o.conditions.zones]},
                "devices": devices,
            })
        return out

    def incidents(self, *, since: datetime | None = None) -> list[Incident]:
        found = [i for i in self.store.find(Incident) if self._mine(i.region)]
        if since is not None:
            found = [i for i in found if i.ended_at is None or i.ended_at >= since]
        return sorted(found, key=lambda i: (-i.priority, i.started_at, i.id))


def incident_json(i: Incident) -> dict[str, Any]:
    return {"id": i.id, "order_reference": i.reference, "codes": list(i.codes), "condition": i.condition,
            "start": iso(i.started_at), "end": iso(i.ended_at), "seconds": i.seconds, "status": i.status.value,
            "priority": i.priority, "reasons": list(i.reasons), "technical": i.technical,
            "confidence": i.confidence}


__all__ = ["WatchLists", "regions_of", "curfew_json", "incident_json", "iso", "zone_feature"]
