"""Removing monitoring equipment at the end of an order: what the officer records at the door.

``record_removal`` writes, in ONE field action (``Store.action``), the removal visit
(completed: removed, or equipment not recovered) and every device of the order still with
the wearer (installed, or awaiting collection since the order ended):
recovered kit back to the officer's hands (``recovered``, off the order and the wearer,
unpaired), kit that could not be recovered ``lost``.  The hub takes the removal whole or
not at all.  Only about 60% of devices come back when an order ends (NAO): recording
which ones did not is what lets the service chase them: each device not recovered needs
its reason (``NOT_RECOVERED_REASONS`` are the usual ones), kept on the visit
(``Visit.not_recovered``) and in the device's history; the device then stays on the
outstanding-equipment list (``emdesk.services.equipment``) until it is recovered or
written off.  The removal is refused while its checklist's required steps are not done.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from emdesk.domain.clock import Clock
from emdesk.domain.devices import Device, DeviceState, DeviceTransitionError, move_device
from emdesk.domain.field_actions import FieldAction
from emdesk.domain.users import User
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.store import Store

from .checklists import gate_message, incomplete
from .errors import ServiceError
from .field_visits import own_visit


# Kit still with the wearer: fitted, or waiting to be collected after the order ended.
ON_THE_WEARER = (DeviceState.INSTALLED, DeviceState.AWAITING_COLLECTION)
# The usual reasons kit is not recovered (free text is accepted too).
NOT_RECOVERED_REASONS = ("wearer absconded", "device destroyed", "refused to hand back", "wearer in custody",
                         "wearer in hospital", "device not found at the address")


class RemovalError(ServiceError):
    """The removal cannot be recorded as asked (the message says why)."""


@dataclass(frozen=True, slots=True)
class RemovalRecord:
    visit_id: str
    recovered: tuple[str, ...]
    not_recovered: tuple[str, ...]
    reasons: dict[str, str] = field(default_factory=dict)     # serial -> why not recovered

    @property
    def message(self) -> str:
        parts = []
        if self.recovered:
            parts.append(f"recovered {', '.join(self.recovered)}")
        if self.not_recovered:
            parts.append("not recovered: " + ", ".join(
                f"{s} ({self.reasons[s]})" if self.reasons.get(s) else s for s in self.not_recovered)
                + " (recorded as lost, on the outstanding-equipment list)")
        return "; ".join(parts)


class RemovalService:
    def __init__(self, store: Store, user: User, clock: Clock):
        self.store, self.user, self.clock = store, user, clock

    def _own_visit(self, visit_id: str) -> Visit:
        return own_visit(self.store, self.user, visit_id, VisitKind.REMOVAL, "removals", RemovalError)

    def fitted(self, visit_id: str) -> list[Device]:
        """The devices to take off: everything installed on the visit's order."""
        visit = self._own_visit(visit_id)
        return self.store.find(Device, where={"order_id": visit.order_id, "state": list(ON_THE_WEARER)},
                               order_by="serial")

    def record_removal(self, visit_id: str, recovered: Iterable[str], notes: str = "",
                       reasons: Mapping[str, str] | None = None) -> RemovalRecord:
        """Every device installed on the order is recovered (serial in ``recovered``) or lost,
        with the reason it was not recovered (``reasons``: serial -> reason)."""
        recovered = tuple(dict.fromkeys(s.strip() for s in recovered if s.strip()))
        reasons = {k.strip(): " ".join(str(v).split()) for k, v in (reasons or {}).items()}
        with self.store.action(FieldAction.REMOVAL):
            visit = self._own_visit(visit_id)
            if visit.status in (VisitStatus.COMPLETED, VisitStatus.CANCELLED):
                raise RemovalError(f"this visit is already {visit.status.value}: nothing was recorded")
            devices = self.store.find(Device, where={"order_id": visit.order_id, "state": list(ON_THE_WEARER)},
                                      order_by="serial")
            if not devices:
                raise RemovalError("no equipment is recorded as installed on this order: nothing was recorded")
            unknown = set(recovered) - {d.serial for d in devices}
            if unknown:
                raise RemovalError(f"{', '.join(sorted(unknown))} is not installed on this order: "
                                   "check the serial; nothing was recorded")
            lost = tuple(d.serial for d in devices if d.serial not in recovered)
            stray = sorted(set(reasons) - set(lost))
            if stray:
                raise RemovalError(f"a reason was given for {', '.join(stray)}, which "
                                   f"{'is' if len(stray) == 1 else 'are'} not among the devices left behind: "
                                   "nothing was recorded")
            unexplained = [s for s in lost if not reasons.get(s)]
            if unexplained:
                raise RemovalError(f"say why {', '.join(unexplained)} {'was' if len(unexplained) == 1 else 'were'} "
                                   f"not recovered (e.g. {', '.join(NOT_RECOVERED_REASONS[:3])}): nothing was recorded")
            unfinished = incomplete(self.store, visit, recovered=recovered)
            if unfinished:
                raise RemovalError(f"{gate_message(unfinished)}: nothing was recorded")
            now, by = self.clock.now(), self.user.id
            moved = []
            for device in devices:
                to = DeviceState.RECOVERED if device.serial in recovered else DeviceState.LOST
                reason = ("removed at the end of the order" if to is DeviceState.RECOVERED
                          else f"not recovered at removal: {reasons[device.serial]}")
                try:
                    moved.append(move_device(device, to, at=now, by=by, reason=reason,
                                             order_id=None, subject_id=None, paired_with=None))
                except DeviceTransitionError as e:
                    raise RemovalError(f"{e}: nothing was recorded") from None
            outcome = OutcomeCode.REMOVED if not lost else OutcomeCode.EQUIPMENT_NOT_RECOVERED
            text = f"Removed {', '.join(recovered) or 'nothing'}" + (
                "; not recovered " + ", ".join(f"{s} ({reasons[s]})" for s in lost) if lost else "")
            visit = visit.evolve(status=VisitStatus.COMPLETED, outcome=outcome, outcome_at=now,
                                 device_serials=recovered, not_recovered={s: reasons[s] for s in lost},
                                 notes="\n".join(x for x in (visit.notes, notes.strip(), text + ".") if x))
            self.store.put_many([*moved, visit], actor=by)
            self.store.audit_view(actor=by, entity="visits", entity_id=visit.id, subject_id=visit.subject_id,
                                  action="removal", detail={"recovered": list(recovered),
                                                            "not_recovered": {s: reasons[s] for s in lost}})
        return RemovalRecord(visit.id, recovered, lost, {s: reasons[s] for s in lost})


__all__ = ["NOT_RECOVERED_REASONS", "RemovalError", "RemovalRecord", "RemovalService"]
