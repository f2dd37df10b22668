"""Installing monitoring equipment at a visit: what the pairing wizard asks and records.

The wizard (``emdesk.ui.pairing``) talks to the devices; this service answers its
questions from the store and writes down what happened:

* ``job(visit_id)``: the install visit as the wizard needs it (order, conditions, the
  devices allocated to it);
* ``check_allocation(...)``: may this serial be fitted on this order?  ``None`` or a
  reason worded for the officer at the door;
* ``record_installation(...)``: after the devices confirmed the pairing, ONE store
  transaction puts the serials on the visit and the order, moves the devices to
  installed and pairs them to each other in the records.  Calling it again for the
  same installation changes nothing;
* ``record_refused_device(...)``: a device that failed the authenticity check is set
  aside as faulty (or, if emdesk has never heard of it, the serial is audited).

Each of these writes is a field action (``Store.action``): it reaches the hub as one unit,
which the hub accepts or refuses whole (``emdesk.domain.field_actions``).

Only a field officer records installations, and only on her own visits.  The service
never talks to devices (``emdesk.services`` must not import ``emdesk.devices``): the
pairing id and serials come from the wizard, which only calls ``record_installation``
once ``PairingResult.paired`` is true.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from emdesk.domain.clock import Clock
from emdesk.domain.conditions import Conditions
from emdesk.domain.devices import (
    DEVICE_TRANSITIONS,
    Device,
    DeviceKind,
    DeviceState,
    DeviceTransitionError,
    move_device,
)
from emdesk.domain.field_actions import FieldAction
from emdesk.domain.orders import Order, OrderStatus, transition
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, User
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.store import Store

from .checklists import FINISHED, ChecklistError, ChecklistService, gate_message, incomplete
from .errors import AccessDenied, ServiceError
from .field_visits import own_visit

INSTALLABLE_ORDER = (OrderStatus.SUBMITTED, OrderStatus.ACTIVE)
COUNTERFEIT_REASON = "failed authenticity check"


class InstallError(ServiceError):
    """The installation cannot be recorded as asked (the message says why)."""


@dataclass(frozen=True, slots=True)
class InstallJob:
    """An install visit, as the pairing wizard needs it."""

    visit_id: str
    order_id: str
    reference: str
    subject_name: str
    address: str
    region: str
    conditions: Conditions
    device_kinds: tuple[DeviceKind, ...]     # what the order asks for (may be empty)
    allocated: tuple[tuple[str, DeviceKind], ...]   # (serial, kind) allocated to the order
    visit_status: VisitStatus
    installed: tuple[str, ...] = ()          # serials already recorded on the visit

    @property
    def needs_home_unit(self) -> bool:
        kinds = set(self.device_kinds) | {k for _, k in self.allocated}
        return DeviceKind.HMU in kinds or (not kinds and bool(self.conditions.curfew))


@dataclass(frozen=True, slots=True)
class InstallRecord:
    """What ``record_installation`` wrote (or found already written)."""

    visit_id: str
    order_id: str
    serials: tuple[str, ...]
    pairing_id: str
    order_status: OrderStatus
    already_recorded: bool = False

    @property
    def message(self) -> str:
        what = " and ".join(self.serials)
        return (f"{what} already recorded as installed on this visit" if self.already_recorded
                else f"recorded {what} as installed; the order is {self.order_status.value}")


@dataclass(frozen=True, slots=True)
class RefusedDevice:
    serial: str
    known: bool                 # in emdesk's stock records
    marked_faulty: bool
    message: str


def _label(state: DeviceState) -> str:
    return state.label.lower()


def kind_text(kind: DeviceKind, article: bool = False) -> str:
    """"RF tag", "home monitoring unit"; with ``article``: "an RF tag", "a home monitoring unit"."""
    label = kind.label if kind.label[:2].isupper() else kind.label.lower()
    if not article:
        return label
    return ("an " if label[0] in "aeioAEIO" or label.startswith("RF") else "a ") + label


class InstallService:
    def __init__(self, store: Store, user: User, clock: Clock):
        self.store, self.user, self.clock = store, user, clock

    # -- permissions --------------------------------------------------------------

    def _own_visit(self, visit_id: str) -> Visit:
        return own_visit(self.store, self.user, visit_id, VisitKind.INSTALL, "installations", InstallError)

    def _order_for(self, visit: Visit, order_id: str | None = None) -> Order:
        if order_id is not None and order_id != visit.order_id:
            raise InstallError("that visit belongs to another order")
        order = self.store.get(Order, visit.order_id)
        if order is None:
            raise InstallError("the visit's order is missing from this desktop: sync, then try again")
        return order

    # -- the wizard's questions ---------------------------------------------------------

    def job(self, visit_id: str) -> InstallJob:
        visit = self._own_visit(visit_id)
        order = self._order_for(visit)
        subject = self.store.get(Subject, order.subject_id)
        address = order.installation.address or (subject.primary_address if subject else None)
        allocated = self.store.find(Device, where={"order_id": order.id}, order_by="serial")
        self.store.audit_view(actor=self.user.id, entity="visits", entity_id=visit.id,
                              subject_id=visit.subject_id, detail={"screen": "pairing"})
        return InstallJob(
            visit_id=visit.id, order_id=order.id, reference=order.reference,
            subject_name=subject.full_name if subject else "(missing subject)",
            address=address.one_line() if address else "", region=order.region,
            conditions=order.conditions, device_kinds=tuple(order.device_kinds),
            allocated=tuple((d.serial, d.kind) for d in allocated
                            if d.state in (DeviceState.ALLOCATED, DeviceState.INSTALLED)),
            visit_status=visit.status, installed=tuple(visit.device_serials))

    def check_allocation(self, order_id: str, visit_id: str, serial: str, kind: DeviceKind | str | None = None,
                         partner_serial: str | None = None) -> str | None:
        """None if ``serial`` may be fitted for this order, else the reason it may not.

        It may if the store knows it, as the kind the device says it is, and it is
        allocated to this order, or in stock in the order's region (the install then
        allocates it), and it is not recorded as paired with anything but
        ``partner_serial`` (the other device of this pairing) -- or, while the partner is
        not known yet (the wizard asks about the tag first), with kit of this order.
        """
        visit = self._own_visit(visit_id)
        order = self._order_for(visit, order_id)
        kind = DeviceKind(kind) if kind is not None else None
        found = self.store.find(Device, where={"serial": serial})
        if not found:
            return "is not in emdesk's stock records: check the serial on the device, or use another one"
        device = found[0]
        if kind is not None and device.kind is not kind:
            return (f"is recorded as {kind_text(device.kind, True)} but the device says it is "
                    f"{kind_text(kind, True)}: set it aside and report it")
        if order.device_kinds and device.kind not in order.device_kinds:
            wanted = " and ".join(kind_text(k, True) for k in order.device_kinds)
            return f"is {kind_text(device.kind, True)}, but this order needs {wanted}"
        if device.paired_with and device.paired_with != partner_serial and not (
                partner_serial is None and self._partner_of_order(device.paired_with, order)):
            return f"is recorded as paired with {device.paired_with}: unpair it on the bench first"
        if device.state is DeviceState.ALLOCATED:
            if device.order_id == order.id:
                return None
            return "is allocated to another order: use the device allocated to this one"
        if device.state is DeviceState.INSTALLED:
            if device.order_id == order.id:
                return None      # already installed for this order (recording again changes nothing)
            return "is recorded as installed on another order"
        if device.state is DeviceState.IN_STOCK:
            if order.region and device.region and device.region != order.region:
                return f"is stock of {device.region}, not {order.region}: use a device from your region"
            return None
        return f"is recorded as {_label(device.state)}: it cannot be fitted"

    def _partner_of_order(self, serial: str, order: Order) -> bool:
        """The recorded partner is kit of this same order (the partner's serial not known yet)."""
        found = self.store.find(Device, where={"serial": serial})
        return bool(found) and found[0].order_id == order.id

    # -- recording ---------------------------------------------------------------------

    def record_installation(self, order_id: str, visit_id: str, tag_serial: str, hmu_serial: str | None,
                            pairing_id: str, readings: dict | None = None, notes: str = "") -> InstallRecord:
        """Write down a confirmed pairing in ONE transaction (see the module docstring).

        The pairing (its id, the serials, and any self-test ``readings`` the wizard passes:
        ``emdesk.domain.checklists.READINGS``) goes onto the visit's checklist first, in its
        own transaction: they are facts from the devices, kept even if the installation is
        refused.  The installation is refused while a required checklist step is not done."""
        serials = (tag_serial,) + ((hmu_serial,) if hmu_serial else ())
        if len(set(serials)) != len(serials):
            raise InstallError("the tag and the home unit have the same serial")
        self._take_readings(order_id, visit_id, {**(readings or {}), "pairing_id": pairing_id,
                                                 "tag_serial": tag_serial, "hmu_serial": hmu_serial})
        with self.store.action(FieldAction.INSTALLATION):
            visit = self._own_visit(visit_id)
            order = self._order_for(visit, order_id)
            devices = {}
            for serial in serials:
                found = self.store.find(Device, where={"serial": serial})
                if not found:
                    raise InstallError(f"{serial} is not in emdesk's stock records: nothing was recorded")
                devices[serial] = found[0]
            if self._already(visit, order, devices, serials):
                return InstallRecord(visit.id, order.id, serials, pairing_id, order.status, already_recorded=True)
            if visit.status in (VisitStatus.COMPLETED, VisitStatus.CANCELLED):
                raise InstallError(f"this visit is already {visit.status.value}"
                                   + (f" with {', '.join(visit.device_serials)}" if visit.device_serials else "")
                                   + ": nothing was recorded")
            if order.status not in INSTALLABLE_ORDER:
                raise InstallError(f"order {order.reference or order.id} is {order.status.value}: "
                                   "nothing can be installed on it")
            unfinished = incomplete(self.store, visit)
            if unfinished:
                raise InstallError(f"{gate_message(unfinished)}: nothing was recorded")
            now = self.clock.now()
            by = self.user.id
            note = f"pairing {pairing_id}" + (f" with {hmu_serial}" if hmu_serial else "")
            moved = []
            for serial in serials:
                partner = next((s for s in serials if s != serial), None)
                problem = self.check_allocation(order.id, visit.id, serial, None, partner)
                if problem:
                    raise InstallError(f"{serial} {problem}: nothing was recorded")
                moved.append(self._install(devices[serial], order, partner, now, by, note))
            if order.status is OrderStatus.SUBMITTED:
                order = transition(order, OrderStatus.ACTIVE, at=now, by=by,
                                   reason=f"equipment installed: {', '.join(serials)}")
            kinds = tuple(dict.fromkeys((*order.device_kinds, *(d.kind for d in moved))))
            fitted = tuple(dict.fromkeys((*order.device_serials, *serials)))
            order = order.evolve(device_kinds=kinds, device_serials=fitted)
            notes = "\n".join(x for x in (visit.notes, notes.strip(),
                                           f"Installed {' and '.join(serials)} (pairing {pairing_id}).") if x)
            visit = visit.evolve(status=VisitStatus.COMPLETED, outcome=OutcomeCode.INSTALLED, outcome_at=now,
                                 device_serials=serials, notes=notes)
            self.store.put_many([*moved, order, visit], actor=by)
            self.store.audit_view(actor=by, entity="visits", entity_id=visit.id, subject_id=visit.subject_id,
                                  action="install", detail={"serials": list(serials), "pairing_id": pairing_id,
                                                            "order_id": order.id})
        return InstallRecord(visit.id, order.id, serials, pairing_id, order.status)

    def _take_readings(self, order_id: str, visit_id: str, readings: dict) -> None:
        visit = self._own_visit(visit_id)
        self._order_for(visit, order_id)
        if visit.status not in FINISHED:
            try:
                ChecklistService(self.store, self.user, self.clock).record_readings(visit_id, readings)
            except ChecklistError as e:
                raise InstallError(f"{e}: nothing was recorded") from None

    def _already(self, visit: Visit, order: Order, devices: dict[str, Device], serials: tuple[str, ...]) -> bool:
        """The same installation was recorded before (a retried call): nothing to do."""
        if visit.status is not VisitStatus.COMPLETED or visit.outcome is not OutcomeCode.INSTALLED:
            return False
        if tuple(visit.device_serials) != serials:
            return False
        for serial, device in devices.items():
            partner = next((s for s in serials if s != serial), None)
            if device.state is not DeviceState.INSTALLED or device.order_id != order.id or device.paired_with != partner:
                return False
        return True

    @staticmethod
    def _install(device: Device, order: Order, partner: str | None, now: datetime, by: str, note: str) -> Device:
        try:
            if device.state is DeviceState.IN_STOCK:
                device = move_device(device, DeviceState.ALLOCATED, at=now, by=by, reason="allocated at install",
                                     order_id=order.id, subject_id=order.subject_id)
            return move_device(device, DeviceState.INSTALLED, at=now, by=by, reason=f"installed ({note})",
                               order_id=order.id, subject_id=order.subject_id, paired_with=partner)
        except DeviceTransitionError as e:
            raise InstallError(f"{e}: nothing was recorded") from None

    def record_refused_device(self, serial: str, *, visit_id: str | None = None,
                              reason: str = COUNTERFEIT_REASON) -> RefusedDevice:
        """A device refused by the authenticity check: faulty if emdesk knows it, always audited."""
        return record_refused_device(self.store, self.user, self.clock, serial, visit_id=visit_id, reason=reason)


def record_refused_device(store: Store, user: User, clock: Clock, serial: str, *, visit_id: str | None = None,
                          reason: str = COUNTERFEIT_REASON) -> RefusedDevice:
    """Shared by the field officer's wizard and the technician's bench."""
    if not (user.can(Permission.RECORD_VISITS) or user.can(Permission.MANAGE_DEVICES)):
        raise AccessDenied(f"{user.role.label} accounts cannot record refused devices")
    serial = serial.strip()
    if not serial:
        raise ServiceError("no serial given")
    now = clock.now()
    with store.action(FieldAction.DEVICE_REFUSED):
        found = store.find(Device, where={"serial": serial})
        detail = {"serial": serial, "reason": reason, "visit_id": visit_id, "known": bool(found)}
        if not found:
            store.audit_view(actor=user.id, entity="devices", entity_id=serial, subject_id=None,
                             action="device_refused", detail=detail)
            return RefusedDevice(serial, False, False,
                                 f"{serial} is not in emdesk's stock records; the refusal is in the audit trail")
        device = found[0]
        marked = False
        if device.state is not DeviceState.FAULTY and DeviceState.FAULTY in DEVICE_TRANSITIONS[device.state]:
            changes = {"order_id": None, "subject_id": None} if device.state is DeviceState.ALLOCATED else {}
            device = move_device(device, DeviceState.FAULTY, at=now, by=user.id, reason=reason, **changes)
            store.put(device, actor=user.id)
            marked = True
        store.audit_view(actor=user.id, entity="devices", entity_id=device.id, subject_id=None,
                         action="device_refused", detail={**detail, "state": device.state.value})
        text = (f"{serial} marked faulty ({reason}): set it aside for the supplier" if marked
                else f"{serial} is {_label(device.state)}; the refusal ({reason}) is in the audit trail")
        return RefusedDevice(serial, True, marked, text)


__all__ = ["COUNTERFEIT_REASON", "InstallError", "InstallJob", "InstallRecord", "InstallService", "RefusedDevice",
           "record_refused_device"]
