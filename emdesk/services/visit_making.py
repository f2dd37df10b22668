"""Visits made from order events: the rules (``emdesk.domain.visit_rules``) applied to the store.

``VisitMaker`` is what the places that change orders call, inside their own transaction
(intake's accept and variation, ending an order, a device fault): it reads the order's
state, asks the rules, and saves the visits made (and cancels the open ones an end made
pointless).  Ids come from the event, so calling it twice, or on two desktops, makes one
visit.  ``VisitMakingService`` is the use-case face with permissions: end or revoke an
order, raise a device fault, and make the installs an older store never made (``backfill``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from emdesk.domain.clock import Clock
from emdesk.domain.devices import Device
from emdesk.domain.orders import Order, OrderStatus, RequestType, TransitionError, transition
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, User
from emdesk.domain.visit_rules import EventKind, OrderEvent, OrderState, VisitPlan, visits_for
from emdesk.domain.visits import OutcomeCode, Visit, VisitStatus
from emdesk.store import Store

from .errors import AccessDenied, ServiceError


class VisitMaker:
    """Applies the visit rules to one store, as ``actor`` (inside the caller's transaction)."""

    def __init__(self, store: Store, clock: Clock, actor: str):
        self.store, self.clock, self.actor = store, clock, actor

    def state(self, order: Order) -> OrderState:
        return OrderState(
            order=order, subject=self.store.get(Subject, order.subject_id) if order.subject_id else None,
            visits=tuple(self.store.find(Visit, where={"order_id": order.id}, order_by="id")),
            devices=tuple(self.store.find(Device, where={"order_id": order.id}, order_by="serial")))

    def apply(self, event: OrderEvent, order: Order) -> VisitPlan:
        plan = visits_for(event, self.state(order))
        if not plan:
            return plan
        now = self.clock.now()
        with self.store.transaction():
            fresh = [v for v in plan.make if self.store.get(Visit, v.id, include_deleted=True) is None]
            cancelled = []
            for vid in plan.cancel:
                v = self.store.get(Visit, vid)
                if v is not None and v.status in (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS):
                    cancelled.append(v.evolve(status=VisitStatus.CANCELLED, outcome=OutcomeCode.ORDER_CANCELLED,
                                              outcome_at=now, notes="\n".join(
                                                  x for x in (v.notes, f"Cancelled: the order was {order.status.value}.")
                                                  if x)))
            saved = self.store.put_many([*fresh, *cancelled], actor=self.actor)
        return VisitPlan(make=tuple(saved[:len(fresh)]), cancel=tuple(v.id for v in cancelled), reason=plan.reason)

    # What the places that change orders call.

    def accepted(self, order: Order) -> VisitPlan:
        return self.apply(OrderEvent(EventKind.ACCEPTED, self.clock.now()), order)

    def varied(self, order: Order, *, address_changed: bool, key: str) -> VisitPlan:
        kind = EventKind.ADDRESS_CHANGED if address_changed else EventKind.VARIED
        return self.apply(OrderEvent(kind, self.clock.now(), key=key), order)

    def ended(self, order: Order) -> VisitPlan:
        last = order.history[-1].at if order.history else self.clock.now()
        return self.apply(OrderEvent(EventKind.ENDED, self.clock.now(), key=f"{order.status.value}@{last.isoformat()}"),
                          order)


@dataclass(frozen=True)
class OrderEndResult:
    order: Order
    removal: Visit | None
    cancelled: tuple[str, ...]
    message: str


class VisitMakingService:
    def __init__(self, store: Store, user: User, clock: Clock):
        self.store, self.user, self.clock = store, user, clock
        self.maker = VisitMaker(store, clock, user.id)

    def _order(self, order_id: str) -> Order:
        order = self.store.get(Order, order_id)
        if order is None:
            raise ServiceError(f"order_id: no order {order_id} on this desktop; sync, then try again")
        return order

    def end_order(self, order_id: str, *, revoke: bool = False, reason: str = "") -> OrderEndResult:
        """End (or revoke) an order and book the removal of its kit, in one transaction."""
        if not self.user.can(Permission.ENTER_ORDERS):
            raise AccessDenied(f"{self.user.role.label} accounts cannot end orders")
        to = OrderStatus.REVOKED if revoke else OrderStatus.ENDED
        with self.store.transaction():
            order = self._order(order_id)
            if order.status is not to:
                try:
                    order = transition(order, to, at=self.clock.now(), by=self.user.id, reason=reason.strip())
                except TransitionError as e:
                    raise ServiceError(str(e)) from None
                order = self.store.put(order, actor=self.user.id)
            plan = self.maker.ended(order)
        removal = plan.make[0] if plan.make else next(
            (v for v in self.store.find(Visit, where={"order_id": order.id, "kind": "removal"}, order_by="id")
             if v.status is VisitStatus.SCHEDULED), None)
        text = (f"order {order.reference or order.id} {to.value}; "
                + (f"removal booked for {', '.join(removal.device_serials)}" if removal else plan.reason or "")
                + (f"; {len(plan.cancel)} open visit(s) cancelled" if plan.cancel else ""))
        return OrderEndResult(order, removal, plan.cancel, text)

    def device_fault(self, serial: str, *, key: str = "", at: datetime | None = None) -> Visit | None:
        """Monitoring saw a device fail: book its repair (once per fault ``key``)."""
        if not (self.user.can(Permission.WORK_ALERTS) or self.user.can(Permission.MANAGE_DEVICES)):
            raise AccessDenied(f"{self.user.role.label} accounts cannot raise device faults")
        found = self.store.find(Device, where={"serial": serial.strip()})
        if not found or not found[0].order_id:
            raise ServiceError(f"serial: {serial} is not fitted on any order on this desktop")
        order = self._order(found[0].order_id)
        when = at or self.clock.now()
        plan = self.maker.apply(OrderEvent(EventKind.DEVICE_FAULT, when, key=key or when.isoformat(),
                                           device_serial=found[0].serial), order)
        if plan.make:
            return plan.make[0]
        return None

    def backfill(self) -> list[Visit]:
        """Install visits for accepted orders that have none (stores made before visits were made
        from orders); running it again makes nothing."""
        if not (self.user.can(Permission.ENTER_ORDERS)):
            raise AccessDenied(f"{self.user.role.label} accounts cannot book installs")
        made: list[Visit] = []
        with self.store.transaction():
            for order in self.store.find(Order, where={"status": [OrderStatus.SUBMITTED]}, order_by="id"):
                if order.request_type in (RequestType.NEW, RequestType.REINSTALL):
                    made += self.maker.accepted(order).make
        return made


__all__ = ["OrderEndResult", "VisitMaker", "VisitMakingService"]
