"""The outstanding-equipment list: kit not recovered at a removal, until it is closed.

About 60% of devices come back when an order ends (NAO); the rest are what this list is
for.  A removal that leaves a device behind records it as lost with the reason
(``Visit.not_recovered``); it stays on this list until a technician or supervisor closes
it: recovered later (back to ``recovered``, for the bench to check in) or written off.

Least privilege: supervisors and technicians see the list; each row names the wearer and
the order reference and nothing more of the person (no address, no date of birth).  On a
technician's desktop the order and person may not be held at all (his replica keeps
kit, not cases): the row then shows what the device itself records.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from emdesk.domain.clock import Clock
from emdesk.domain.devices import Device, DeviceState, DeviceTransitionError, move_device
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, Role, User
from emdesk.domain.visits import Visit, VisitKind, VisitStatus
from emdesk.store import Store

from .errors import AccessDenied, ServiceError

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
LOST_PREFIX = "not recovered at removal: "
CLOSE_HOW = {"recovered": DeviceState.RECOVERED, "written_off": DeviceState.WRITTEN_OFF}
# Who sees the list (the session wires the service, and the desktop its tab, for these).
ROLES = frozenset({Role.SUPERVISOR, Role.TECHNICIAN})


def may_see(user: User) -> bool:
    return user.role in ROLES


def close_refusal(user: User, how: str) -> str:
    """Why ``user`` may not close outstanding kit as ``how``, in words; "" when they may.
    The screen disables what this refuses, with the reason, and ``close`` enforces it."""
    if not may_see(user):
        return f"{user.role.label} accounts do not see the outstanding-equipment list"
    if not (user.can(Permission.MANAGE_DEVICES) or user.role is Role.SUPERVISOR):
        return f"{user.role.label} accounts cannot close outstanding equipment"
    return ""


class EquipmentError(ServiceError):
    """An outstanding device cannot be closed as asked (the message says why)."""


@dataclass(frozen=True, slots=True)
class OutstandingRow:
    device_id: str
    serial: str
    kind: str                       # DeviceKind label
    order_reference: str            # "" when this desktop does not hold the order
    wearer: str                     # the wearer's name only; "" when not held here
    since: datetime | None          # when it was recorded as not recovered
    reason: str
    visit_id: str | None            # the removal that left it behind
    last_visit: str                 # "removal on 2026-12-02: equipment not recovered"
    last_visit_at: datetime | None
    region: str = ""                # the order's region, else where the device is stocked
    officer: str = ""               # who made the removal, else the officer holding the case
    days: int | None = None         # whole days on the list, as of the service's clock


def _since(device: Device) -> datetime | None:
    return next((h.at for h in reversed(device.history) if h.to_state is DeviceState.LOST), None)


def _history_reason(device: Device) -> str:
    said = next((h.reason for h in reversed(device.history) if h.to_state is DeviceState.LOST), "")
    return said.removeprefix(LOST_PREFIX)


def _visit_when(v: Visit) -> datetime | None:
    return v.outcome_at or v.window_start


class OutstandingEquipmentService:
    def __init__(self, store: Store, user: User, clock: Clock):
        self.store, self.user, self.clock = store, user, clock

    def _require(self) -> None:
        if not may_see(self.user):
            raise AccessDenied(close_refusal(self.user, ""))

    def rows(self) -> list[OutstandingRow]:
        """Every device not recovered and not yet closed, oldest first."""
        self._require()
        lost = self.store.find(Device, where={"state": DeviceState.LOST.value}, order_by="serial")
        if not lost:
            return []
        removals = self.store.find(Visit, where={"kind": VisitKind.REMOVAL.value,
                                                 "status": VisitStatus.COMPLETED.value})
        left_by: dict[str, Visit] = {}
        for v in sorted(removals, key=lambda v: (_visit_when(v) is not None, _visit_when(v) or EPOCH, v.id)):
            for serial in v.not_recovered:
                left_by[serial] = v           # the latest removal that left it behind
        # Kit lost without a removal recording it (chased after the order ended) still
        # names the order it was allocated to, when this desktop holds it.
        order_of = {d.serial: left_by[d.serial].order_id if d.serial in left_by else d.order_id for d in lost}
        orders = self.store.get_many(Order, {o for o in order_of.values() if o})
        people = self.store.get_many(Subject, {o.subject_id for o in orders.values() if o.subject_id})
        officer_of = {d.serial: (left_by[d.serial].officer_id if d.serial in left_by else None)
                      or (orders[order_of[d.serial]].assigned_officer_id if order_of[d.serial] in orders else None)
                      for d in lost}
        officers = self.store.get_many(User, {u for u in officer_of.values() if u})
        now = self.clock.now()
        out = []
        for d in lost:
            visit = left_by.get(d.serial)
            order = orders.get(order_of[d.serial] or "")
            person = people.get(order.subject_id) if order else None
            last = self._last_visit(order.id) if order else None
            officer = officers.get(officer_of[d.serial] or "")
            since = _since(d)
            out.append(OutstandingRow(
                device_id=d.id, serial=d.serial, kind=d.kind.label,
                order_reference=order.reference if order else "",
                wearer=person.full_name if person else "",
                since=since,
                reason=(visit.not_recovered.get(d.serial) if visit else "") or _history_reason(d),
                visit_id=visit.id if visit else None,
                last_visit=self._describe(last) if last else "",
                last_visit_at=_visit_when(last) if last else None,
                region=(order.region if order else "") or d.region,
                officer=officer.display_name if officer else "",
                days=max((now - since).days, 0) if since else None))
        if any(r.wearer for r in out):
            self.store.audit_view(actor=self.user.id, entity="devices", entity_id="outstanding", subject_id=None,
                                  detail={"screen": "outstanding equipment", "rows": len(out)})
        return sorted(out, key=lambda r: (r.since is None, r.since or datetime.max, r.serial))

    def _last_visit(self, order_id: str) -> Visit | None:
        visits = self.store.find(Visit, where={"order_id": order_id})
        dated = [v for v in visits if _visit_when(v) is not None]
        return max(dated, key=lambda v: (_visit_when(v), v.id)) if dated else None

    @staticmethod
    def _describe(v: Visit) -> str:
        when = _visit_when(v)
        what = v.outcome.label.lower() if v.outcome else v.status.value.replace("_", " ")
        return f"{v.kind.value} on {when:%Y-%m-%d}: {what}"

    def close(self, serial: str, how: str, notes: str = "") -> Device:
        """Take a device off the list: ``recovered`` (found later: back for the bench to check
        in) or ``written_off`` (gone for good; say why in ``notes``)."""
        self._require()
        refused = close_refusal(self.user, how)
        if refused:
            raise AccessDenied(refused)
        to = CLOSE_HOW.get(how)
        if to is None:
            raise EquipmentError(f"how: {how!r} is not a way to close it; use one of: {', '.join(CLOSE_HOW)}")
        notes = " ".join(notes.split())
        if to is DeviceState.WRITTEN_OFF and not notes:
            raise EquipmentError("notes: say why the device is written off (e.g. police report, wearer abroad)")
        serial = serial.strip()
        with self.store.transaction():
            found = self.store.find(Device, where={"serial": serial})
            if not found:
                raise EquipmentError(f"{serial} is not in emdesk's stock records: check the serial")
            device = found[0]
            if device.state is not DeviceState.LOST:
                raise EquipmentError(f"{serial} is not on the outstanding-equipment list (it is "
                                     f"{device.state.label.lower()})")
            reason = ("recovered after the removal" if to is DeviceState.RECOVERED else "written off") + (
                f": {notes}" if notes else "")
            try:
                device = move_device(device, to, at=self.clock.now(), by=self.user.id, reason=reason)
            except DeviceTransitionError as e:
                raise EquipmentError(str(e)) from None
            return self.store.put(device, actor=self.user.id)


__all__ = ["CLOSE_HOW", "ROLES", "EquipmentError", "OutstandingEquipmentService", "OutstandingRow", "close_refusal",
           "may_see"]
