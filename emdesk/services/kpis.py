"""The supervisor's install KPIs (``emdesk.domain.install_kpis``) over the store, with drill-down.

``figures()`` gives every figure; ``visits_behind(key)`` the rows a figure was made from,
ready for a table (visits, or for device recovery the devices with their removal visit).
Figures are for supervisors (``VIEW_MANAGEMENT_FIGURES``); opening the rows behind one is
audited, as they name wearers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from emdesk.domain.clock import Clock
from emdesk.domain.devices import Device
from emdesk.domain.install_kpis import Figure, all_figures
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, User
from emdesk.domain.visits import Visit
from emdesk.store import Store

from .errors import AccessDenied, ServiceError


@dataclass(frozen=True, slots=True)
class BehindRow:
    """One visit (or device) behind a figure, as a supervisor's list shows it."""

    visit_id: str | None
    order_id: str
    order_reference: str
    subject_name: str
    kind: str                    # visit kind, or the device kind for a device row
    attempt: int | None
    status: str
    outcome: str                 # the outcome's label (or the device's state)
    when: datetime | None        # outcome time, else window start
    due_by: datetime | None
    officer: str
    notes: str = ""
    device_serial: str | None = None
    part: str = ""               # which subset of the figure it is in ("within", "lost"...)


class KpiService:
    def __init__(self, store: Store, user: User, clock: Clock):
        if not user.can(Permission.VIEW_MANAGEMENT_FIGURES):
            raise AccessDenied(f"{user.role.label} accounts do not see management figures")
        self.store, self.user, self.clock = store, user, clock
        self._cache: list[Figure] | None = None

    def figures(self, *, refresh: bool = True) -> list[Figure]:
        if refresh or self._cache is None:
            self._cache = all_figures(self.store.find(Order), self.store.find(Visit), self.store.find(Device),
                                      self.clock.now())
        return self._cache

    def figure(self, key: str) -> Figure:
        found = next((f for f in self.figures(refresh=self._cache is None) if f.key == key), None)
        if found is None:
            keys = ", ".join(f.key for f in self.figures(refresh=False))
            raise ServiceError(f"key: no figure {key!r}; the figures are {keys}")
        return found

    def visits_behind(self, key: str) -> list[BehindRow]:
        figure = self.figure(key)
        part_of = {i: name for name, ids in figure.parts.items() for i in ids}
        visits = self.store.get_many(Visit, figure.visit_ids)
        devices = self.store.get_many(Device, figure.device_ids)
        orders = self.store.get_many(Order, [*(v.order_id for v in visits.values()),
                                            *(d.order_id for d in devices.values() if d.order_id)])
        names = {s.id: s.full_name for s in self.store.get_many(
            Subject, [*(v.subject_id for v in visits.values()), *(o.subject_id for o in orders.values())]).values()}
        officers = {u.id: u.display_name for u in self.store.find(User)}
        rows = [self._visit_row(visits[i], orders.get(visits[i].order_id), names, officers, part_of.get(i, ""))
                for i in figure.visit_ids if i in visits]
        if figure.device_ids:
            removal_of = {s: v for v in visits.values() for s in v.device_serials}
            rows = [self._device_row(devices[i], removal_of.get(devices[i].serial), orders, names, officers,
                                     part_of.get(i, "")) for i in figure.device_ids if i in devices]
        self.store.audit_view(actor=self.user.id, entity="kpis", entity_id=key, subject_id=None,
                              action="kpi_drilldown", detail={"rows": len(rows)})
        return rows

    @staticmethod
    def _visit_row(v: Visit, order: Order | None, names: dict, officers: dict, part: str) -> BehindRow:
        return BehindRow(
            visit_id=v.id, order_id=v.order_id, order_reference=order.reference if order else "",
            subject_name=names.get(v.subject_id, ""), kind=v.kind.value, attempt=v.attempt, status=v.status.value,
            outcome=v.outcome.label if v.outcome else "", when=v.outcome_at or v.window_start, due_by=v.due_by,
            officer=officers.get(v.officer_id, ""), notes=v.notes, part=part)

    def _device_row(self, d: Device, removal: Visit | None, orders: dict, names: dict, officers: dict,
                    part: str) -> BehindRow:
        order = orders.get(removal.order_id) if removal else orders.get(d.order_id)
        if order is None and removal is None:
            order = next((o for o in self.store.find(Order) if d.serial in o.device_serials), None)
        return BehindRow(
            visit_id=removal.id if removal else None, order_id=order.id if order else "",
            order_reference=order.reference if order else "", subject_name=names.get(order.subject_id, "")
            if order else "", kind=d.kind.value, attempt=removal.attempt if removal else None,
            status=removal.status.value if removal else "", outcome=d.state.label,
            when=(removal.outcome_at or removal.window_start) if removal else None, due_by=None,
            officer=officers.get(removal.officer_id, "") if removal else "", device_serial=d.serial, part=part)


__all__ = ["BehindRow", "KpiService"]
