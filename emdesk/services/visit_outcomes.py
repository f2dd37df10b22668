"""Recording what happened at a visit that did not install or remove kit: a failed attempt
(with its reason and notes) and its automatic rebooking, a check, a repair.

A failure and the next attempt it books are written in ONE local transaction as a field
action (``FieldAction.ATTEMPT_FAILED``): they reach the hub together, and the hub takes
both or neither, so no replica holds a failed install with nobody going back.  The next
attempt's id comes from the failed visit, so recording the same failure again (or on
two desktops) books it once.  Installs and removals go through the pairing wizard
(``InstallService``) and ``RemovalService``, which write their devices with them.
"""
from __future__ import annotations

from dataclasses import dataclass

from emdesk.domain.clock import Clock
from emdesk.domain.field_actions import FieldAction
from emdesk.domain.users import User
from emdesk.domain.visit_rules import FAILURE_OUTCOMES, EventKind, OrderEvent
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.domain.orders import Order
from emdesk.store import Store

from .errors import ServiceError
from .field_visits import own_visit
from .visit_making import VisitMaker

# Successes recorded here, by the kind of visit they finish.
SUCCESS_FOR = {VisitKind.CHECK: OutcomeCode.CHECKED_OK, VisitKind.REPAIR: OutcomeCode.REPAIRED}
ELSEWHERE = {
    OutcomeCode.INSTALLED: "an installation is recorded through the pairing wizard, with the devices fitted",
    OutcomeCode.REMOVED: "a removal is recorded through the removal form, with each device's fate",
    OutcomeCode.EQUIPMENT_NOT_RECOVERED: "a removal is recorded through the removal form, with each device's fate",
}


class VisitOutcomeError(ServiceError):
    """The outcome cannot be recorded as asked (the message says why)."""


@dataclass(frozen=True)
class OutcomeResult:
    visit: Visit
    next_visit: Visit | None
    message: str
    already_recorded: bool = False


def _when(v: Visit) -> str:
    from emdesk.domain.clock import local
    if v.window_start is None:
        return "unscheduled"
    start = local(v.window_start)
    end = local(v.window_end) if v.window_end else None
    return f"{start:%a %d %b %H:%M}" + (f"-{end:%H:%M}" if end else "")


class VisitOutcomeService:
    def __init__(self, store: Store, user: User, clock: Clock):
        self.store, self.user, self.clock = store, user, clock

    def _own(self, visit_id: str) -> Visit:
        found = self.store.get(Visit, visit_id)
        kind = found.kind if found is not None else VisitKind.CHECK
        return own_visit(self.store, self.user, visit_id, kind, "visit outcomes", VisitOutcomeError)

    @staticmethod
    def outcome_code(value: OutcomeCode | str) -> OutcomeCode:
        try:
            return OutcomeCode(value)
        except ValueError:
            known = ", ".join(c.value for c in OutcomeCode)
            raise VisitOutcomeError(f"outcome: {value!r} is not an outcome; use one of {known}") from None

    @staticmethod
    def outcomes_for(kind: VisitKind) -> list[OutcomeCode]:
        """What an officer may record here on a visit of this kind (the UI's choices)."""
        ok = [SUCCESS_FOR[kind]] if kind in SUCCESS_FOR else []
        return ok + sorted(FAILURE_OUTCOMES, key=lambda c: list(OutcomeCode).index(c))

    def next_attempt(self, visit_id: str) -> Visit | None:
        return next((v for v in self.store.find(Visit, where={"order_id": self._own(visit_id).order_id},
                                                order_by="id") if v.previous_visit_id == visit_id), None)

    def record_outcome(self, visit_id: str, outcome: OutcomeCode | str, notes: str = "") -> OutcomeResult:
        code = self.outcome_code(outcome)
        if code in ELSEWHERE:
            raise VisitOutcomeError(f"outcome: {ELSEWHERE[code]}; nothing was recorded")
        notes = notes.strip()
        visit = self._own(visit_id)
        if code.success and SUCCESS_FOR.get(visit.kind) is not code:
            raise VisitOutcomeError(f"outcome: {code.label.lower()} does not finish a {visit.kind.value} visit; "
                                    "nothing was recorded")
        if visit.outcome is code and visit.status in (VisitStatus.FAILED, VisitStatus.COMPLETED):
            follow = self.next_attempt(visit.id) if not code.success else None
            return OutcomeResult(visit, follow, f"{code.label} was already recorded on this visit"
                                 + (f"; the next attempt is booked for {_when(follow)}" if follow else ""),
                                 already_recorded=True)
        if visit.status not in (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS):
            raise VisitOutcomeError(f"this visit is already {visit.status.value}"
                                    + (f" ({visit.outcome.label.lower()})" if visit.outcome else "")
                                    + ": nothing was recorded")
        now, by = self.clock.now(), self.user.id
        text = f"{code.label}" + (f": {notes}" if notes else ".")
        done = visit.evolve(status=VisitStatus.COMPLETED if code.success else VisitStatus.FAILED, outcome=code,
                            outcome_at=now, notes="\n".join(x for x in (visit.notes, text) if x))
        if code.success:
            with self.store.transaction():
                done = self.store.put(done, actor=by)
                self._audit(done, code, None)
            return OutcomeResult(done, None, f"{code.label} recorded")
        follow = None
        with self.store.action(FieldAction.ATTEMPT_FAILED):
            visit = self._own(visit_id)           # as it is inside the transaction
            if visit.status not in (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS):
                raise VisitOutcomeError(f"this visit is already {visit.status.value}: nothing was recorded")
            done = self.store.put(done, actor=by)
            order = self.store.get(Order, done.order_id)
            reason = "the order is not on this desktop: sync, and book the next attempt then"
            if order is not None:
                plan = VisitMaker(self.store, self.clock, by).apply(
                    OrderEvent(EventKind.ATTEMPT_FAILED, now, visit_id=done.id), order)
                follow = plan.make[0] if plan.make else None
                reason = plan.reason
            self._audit(done, code, follow)
        message = f"{code.label} recorded; " + (
            f"attempt {follow.attempt} booked for {_when(follow)}"
            + (" (two officers)" if follow.crew_size > 1 else "") if follow else reason)
        return OutcomeResult(done, follow, message)

    def _audit(self, visit: Visit, code: OutcomeCode, follow: Visit | None) -> None:
        self.store.audit_view(actor=self.user.id, entity="visits", entity_id=visit.id, subject_id=visit.subject_id,
                              action="visit_outcome", detail={"outcome": code.value,
                                                              "next_visit_id": follow.id if follow else None})


__all__ = ["OutcomeResult", "VisitOutcomeError", "VisitOutcomeService"]
