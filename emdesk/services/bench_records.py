"""The technician's bench in the records: returned kit checked in, unpairs, resets.

The bench workspace talks to a device on the cradle (``emdesk.devices.bench``) and then
writes down what it did here.  Everything is for accounts that manage devices:

* ``check_in_returned(serials, outcome, reason)``: a batch of returned devices moved to
  recovered, faulty or returned-to-supplier, all of them or none: if any serial is
  unknown, repeated or cannot take that outcome, nothing is written and every serial
  gets its own answer (``CheckIn.applied`` says which happened);
* ``record_unpaired`` / ``record_factory_reset``: a device the technician unpaired or
  reset on the bench (the partner's record is unpaired too);
* ``record_bench_pairing``: a tag and home unit paired on the bench (before issue);
* ``bench_queue()``: returned and faulty kit waiting in the technician's region;
* ``stock(state, region)`` and ``regions()``: as ``CaseService.stock``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from emdesk.domain.clock import Clock
from emdesk.domain.devices import (
    DEVICE_TRANSITIONS,
    Device,
    DeviceState,
    DeviceTransitionError,
    move_device,
)
from emdesk.domain.users import Permission, User
from emdesk.store import Store

from .cases import CaseService
from .errors import AccessDenied, ServiceError
from .installs import COUNTERFEIT_REASON, RefusedDevice, record_refused_device
from .rows import DeviceRow

QUEUE_STATES = (DeviceState.RECOVERED, DeviceState.FAULTY, DeviceState.AWAITING_COLLECTION)
_SPLIT = re.compile(r"[\s,;]+")


class CheckInOutcome(str, Enum):
    RECOVERED = "recovered"                        # back on the shelf after cleaning and testing
    FAULTY = "faulty"                              # set aside for repair or the supplier
    RETURNED_TO_SUPPLIER = "returned_to_supplier"  # gone back to the supplier

    @property
    def state(self) -> DeviceState:
        return DeviceState(self.value)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class CheckInLine:
    serial: str
    ok: bool
    message: str                     # what happened (or would have), or why not
    from_state: DeviceState | None = None
    to_state: DeviceState | None = None


@dataclass(frozen=True, slots=True)
class CheckIn:
    outcome: CheckInOutcome
    applied: bool                    # True: every line was written; False: none was
    lines: tuple[CheckInLine, ...] = field(default_factory=tuple)

    @property
    def refused(self) -> tuple[CheckInLine, ...]:
        return tuple(line for line in self.lines if not line.ok)

    @property
    def summary(self) -> str:
        n = len(self.lines)
        if self.applied:
            return f"{n} device{'s' if n != 1 else ''} checked in as {self.outcome.label.lower()}"
        bad = len(self.refused)
        return (f"nothing was checked in: {bad} of {n} serial{'s' if n != 1 else ''} "
                f"need{'s' if bad == 1 else ''} attention (see each line)")


def parse_serials(text: str) -> list[str]:
    """Serials pasted or scanned: one per line, or separated by commas, semicolons, spaces."""
    return [s.upper() for s in _SPLIT.split(text.strip()) if s]


def _path(state: DeviceState, to: DeviceState) -> list[DeviceState] | None:
    """The states a returned device goes through to reach ``to``: directly, or via recovered."""
    if to in DEVICE_TRANSITIONS[state]:
        return [to]
    if DeviceState.RECOVERED in DEVICE_TRANSITIONS[state] and to in DEVICE_TRANSITIONS[DeviceState.RECOVERED]:
        return [DeviceState.RECOVERED, to]
    return None


class BenchService:
    def __init__(self, store: Store, user: User, clock: Clock):
        self.store, self.user, self.clock = store, user, clock
        self._cases = CaseService(store, user, clock)

    def _require(self) -> None:
        if not self.user.can(Permission.MANAGE_DEVICES):
            raise AccessDenied(f"{self.user.role.label} accounts cannot work on the technician's bench")

    # -- lists ---------------------------------------------------------------------

    def stock(self, state: str | None = None, region: str | None = None) -> list[DeviceRow]:
        return self._cases.stock(state, region)

    def regions(self) -> list[str]:
        return self._cases.regions()

    def bench_queue(self) -> list[DeviceRow]:
        """Kit to deal with in the technician's region: recovered, faulty, awaiting collection."""
        self._require()
        rows = []
        for state in QUEUE_STATES:
            rows.extend(self._cases.stock(state.value, self.user.region or None))
        return sorted(rows, key=lambda r: (r.state, r.serial))

    def device(self, serial: str) -> Device | None:
        self._require()
        found = self.store.find(Device, where={"serial": serial})
        return found[0] if found else None

    # -- check-in ---------------------------------------------------------------------

    def check_in_returned(self, serials: list[str] | str, outcome: CheckInOutcome | str, reason: str) -> CheckIn:
        """Returned kit moved to ``outcome``, every serial or none (see the module docstring)."""
        self._require()
        outcome = CheckInOutcome(outcome)
        if isinstance(serials, str):
            serials = parse_serials(serials)
        serials = [s.strip().upper() for s in serials if s and s.strip()]
        reason = reason.strip()
        if not serials:
            raise ServiceError("no serials given: scan or paste the serials of the returned devices")
        if not reason:
            raise ServiceError("give a reason (e.g. 'returned after order ended', 'strap sensor fault')")
        to = outcome.state
        now = self.clock.now()
        lines: list[CheckInLine] = []
        moved: list[Device] = []
        partners: dict[str, str] = {}
        seen: set[str] = set()
        with self.store.transaction():
            found = {d.serial: d for d in self.store.find(Device, where={"serial": sorted(set(serials))})}
            for serial in serials:
                if serial in seen:
                    lines.append(CheckInLine(serial, False, "listed twice: remove the repeat"))
                    continue
                seen.add(serial)
                device = found.get(serial)
                if device is None:
                    lines.append(CheckInLine(serial, False, "no device with this serial in emdesk: check it "
                                             "(a mistyped or unreadable label?)"))
                    continue
                path = _path(device.state, to)
                if device.state is to:
                    lines.append(CheckInLine(serial, False, f"already {to.label.lower()}", device.state, to))
                    continue
                if path is None:
                    lines.append(CheckInLine(serial, False, f"is {device.state.label.lower()}: it cannot be checked "
                                             f"in as {outcome.label.lower()}", device.state, to))
                    continue
                start = device.state
                try:
                    for step in path:
                        device = move_device(device, step, at=now, by=self.user.id, reason=reason,
                                             order_id=None, subject_id=None, paired_with=None)
                except DeviceTransitionError as e:        # pragma: no cover - _path checked it
                    lines.append(CheckInLine(serial, False, str(e), start, to))
                    continue
                if found[serial].paired_with:
                    partners[found[serial].paired_with] = serial
                moved.append(device)
                via = " (via recovered)" if len(path) > 1 else ""
                lines.append(CheckInLine(serial, True, f"{start.label.lower()} → {to.label.lower()}{via}", start, to))
            if any(not line.ok for line in lines):
                return CheckIn(outcome, False, tuple(lines))
            batch = {d.serial for d in moved}
            unpaired = [p.evolve(paired_with=None) for p in self._partners(partners) if p.serial not in batch]
            self.store.put_many([*moved, *unpaired], actor=self.user.id)
            self.store.audit_view(actor=self.user.id, entity="devices", entity_id="*", subject_id=None,
                                  action="check_in", detail={"serials": [d.serial for d in moved],
                                                             "outcome": outcome.value, "reason": reason})
        return CheckIn(outcome, True, tuple(lines))

    def _partners(self, partners: dict[str, str]) -> list[Device]:
        """Partner devices whose record still points at one of the given serials."""
        if not partners:
            return []
        return [d for d in self.store.find(Device, where={"serial": sorted(partners)})
                if d.paired_with == partners[d.serial]]

    # -- what was done on the bench ------------------------------------------------------

    def record_unpaired(self, serial: str, *, action: str = "unpaired") -> Device | None:
        """The device forgot its partner: its record (and the partner's) say so.  None if unknown."""
        self._require()
        with self.store.transaction():
            found = self.store.find(Device, where={"serial": serial})
            detail = {"serial": serial, "known": bool(found)}
            if not found:
                self.store.audit_view(actor=self.user.id, entity="devices", entity_id=serial, subject_id=None,
                                      action=action, detail=detail)
                return None
            device = found[0]
            changed = [device.evolve(paired_with=None)] if device.paired_with else []
            if device.paired_with:
                changed += [p.evolve(paired_with=None) for p in self._partners({device.paired_with: serial})]
                detail["partner"] = device.paired_with
            if changed:
                self.store.put_many(changed, actor=self.user.id)
            self.store.audit_view(actor=self.user.id, entity="devices", entity_id=device.id, subject_id=None,
                                  action=action, detail=detail)
            return changed[0] if changed else device

    def record_factory_reset(self, serial: str) -> Device | None:
        return self.record_unpaired(serial, action="factory_reset")

    def record_bench_pairing(self, tag_serial: str, hmu_serial: str | None, pairing_id: str) -> list[Device]:
        """A tag paired to its home unit on the bench: the records point at each other."""
        self._require()
        serials = [tag_serial] + ([hmu_serial] if hmu_serial else [])
        with self.store.transaction():
            found = {d.serial: d for d in self.store.find(Device, where={"serial": serials})}
            missing = [s for s in serials if s not in found]
            if missing:
                raise ServiceError(f"{', '.join(missing)}: not in emdesk's stock records; nothing was recorded")
            changed = []
            for serial in serials:
                partner = next((s for s in serials if s != serial), None)
                if found[serial].paired_with != partner:
                    changed.append(found[serial].evolve(paired_with=partner))
            if changed:
                self.store.put_many(changed, actor=self.user.id)
            self.store.audit_view(actor=self.user.id, entity="devices", entity_id="*", subject_id=None,
                                  action="bench_pairing", detail={"serials": serials, "pairing_id": pairing_id})
        return [found[s] for s in serials]

    def record_refused_device(self, serial: str, *, reason: str = COUNTERFEIT_REASON) -> RefusedDevice:
        self._require()
        return record_refused_device(self.store, self.user, self.clock, serial, reason=reason)

    def check_allocation(self, serial: str, kind=None, partner_serial: str | None = None) -> str | None:
        """For pairing on the bench (no order): the device must be known, fit to issue and not
        paired with anything else."""
        self._require()
        device = self.device(serial)
        if device is None:
            return "is not in emdesk's stock records: check the serial, or add it to stock first"
        if kind is not None and device.kind.value != getattr(kind, "value", kind):
            return f"is recorded as a {device.kind.label.lower()}"
        if device.paired_with and device.paired_with != partner_serial:
            return f"is recorded as paired with {device.paired_with}: unpair it first"
        if device.state not in (DeviceState.IN_STOCK, DeviceState.ALLOCATED, DeviceState.RECOVERED):
            return f"is recorded as {device.state.label.lower()}: it cannot be paired for issue"
        return None


__all__ = ["BenchService", "CheckIn", "CheckInLine", "CheckInOutcome", "parse_serials"]
