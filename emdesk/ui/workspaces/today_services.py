"""The one place the Today screen meets its services, and what it expects of them.

Everything here is called on the store lane (never the GUI thread).  The services come
from the session's context (``AppContext``: ``officer_day``, ``outcomes``,
``checklists``, ``removals``); a build without one of them shows the button disabled,
saying why.  The Protocols mirror the real services' shapes
(``emdesk.services.checklists.ChecklistState`` holding ``emdesk.domain.checklists.StepState``
steps), so the test fakes can be checked against them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, Sequence

from emdesk.domain.checklists import Step, StepKind
from emdesk.domain.devices import DeviceKind
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind
from emdesk.services.visit_outcomes import ELSEWHERE


class ChecklistStep(Protocol):
    """One step as it stands (``emdesk.domain.checklists.StepState``)."""

    step: Step                   # what it asks: key, label, help, kind, required, choices, per_device, skip
    applies: bool                # False: not for this kit (hidden)
    done: bool
    value: Any
    skipped: str                 # "not possible": the reason
    problem: str                 # why a made tick does not satisfy it

    @property
    def key(self) -> str: ...


class ChecklistState(Protocol):
    visit_id: str
    title: str
    steps: Sequence[ChecklistStep]
    blocking: Sequence[str]      # why it cannot complete yet, in words
    complete: bool
    resume: str | None           # the first step not done
    devices: Sequence[tuple[str, DeviceKind]]    # (serial, kind) the per-device steps ask about
    editable: bool


class OutcomeResult(Protocol):
    next_visit: Visit | None
    message: str


class OutcomePort(Protocol):
    def record_outcome(self, visit_id: str, outcome: OutcomeCode, notes: str = "") -> OutcomeResult: ...


class ChecklistPort(Protocol):
    def open(self, visit_id: str) -> ChecklistState: ...
    def tick(self, visit_id: str, step: str, done: bool = True, value: Any = None,
             skipped: str = "") -> ChecklistState: ...


class FittedDevice(Protocol):
    serial: str
    kind: DeviceKind


class RemovalResult(Protocol):
    message: str


class RemovalPort(Protocol):
    def fitted(self, visit_id: str) -> Sequence[FittedDevice]: ...
    def record_removal(self, visit_id: str, recovered, notes: str = "",
                       reasons: Mapping[str, str] | None = None) -> RemovalResult: ...


MISSING = "not part of this build of emdesk yet"
NOT_RECOVERED = "not recovered"      # the removal checklist's device-condition answer for kit left behind


@dataclass(frozen=True)
class RemovalForm:
    """What the removal dialog starts from: each device on the order, and what the checklist
    already says about it (its device-condition answer, if given)."""

    visit_id: str
    devices: tuple[tuple[str, DeviceKind], ...]
    conditions: dict[str, str]
    reason: str = ""          # the checklist's one "not possible" reason, if it gave one


def door_steps_missing(state: ChecklistState) -> list[str]:
    """Required steps an officer does by hand that are still not done (the readings are
    filled by the pairing itself, so they do not count)."""
    return [s.step.label for s in state.steps
            if s.applies and s.step.required and not s.done and s.step.kind is not StepKind.READING]


class TodayServices:
    def __init__(self, ctx):
        self.ctx = ctx

    @property
    def outcomes(self) -> OutcomePort | None:
        return getattr(self.ctx, "outcomes", None)

    @property
    def checklists(self) -> ChecklistPort | None:
        return getattr(self.ctx, "checklists", None)

    @property
    def removals(self) -> RemovalPort | None:
        return getattr(self.ctx, "removals", None)

    def day_call(self, day: date):
        """The call that loads the day (made here on the GUI thread, run on the store lane)."""
        service = getattr(self.ctx, "officer_day", None)
        if service is None:
            raise RuntimeError("this session has no officer's day service")
        return lambda: service.day(day)

    def outcome_choices(self, kind: str) -> list[OutcomeCode]:
        """What may be recorded from the outcome dialog on a visit of this kind (installs and
        removals finish through the wizard and the removal form, not here)."""
        outcomes = self.outcomes
        try:
            visit_kind = VisitKind(kind)
        except ValueError:
            visit_kind = None
        if outcomes is not None and visit_kind is not None and hasattr(outcomes, "outcomes_for"):
            return list(outcomes.outcomes_for(visit_kind))
        return [c for c in OutcomeCode if not c.success and c not in ELSEWHERE]

    def record_outcome(self, visit_id: str, outcome: OutcomeCode, notes: str) -> OutcomeResult:
        if self.outcomes is None:
            raise RuntimeError(f"recording outcomes is {MISSING}")
        return self.outcomes.record_outcome(visit_id, outcome, notes)

    def open_checklist(self, visit_id: str) -> ChecklistState:
        if self.checklists is None:
            raise RuntimeError(f"checklists are {MISSING}")
        return self.checklists.open(visit_id)

    def tick(self, visit_id: str, key: str, done: bool, value: Any = None, skipped: str = "") -> ChecklistState:
        """Save one step; the service hands back the checklist as stored after it."""
        if self.checklists is None:
            raise RuntimeError(f"checklists are {MISSING}")
        return self.checklists.tick(visit_id, key, done=done, value=value, skipped=skipped)

    def pairing_blockers(self, visit_id: str) -> list[str]:
        """The door steps to finish before pairing (empty: pair now)."""
        if self.checklists is None:
            return []
        return door_steps_missing(self.checklists.open(visit_id))

    def removal_form(self, visit_id: str) -> RemovalForm:
        if self.removals is None:
            raise RuntimeError(f"recording removals is {MISSING}")
        fitted = self.removals.fitted(visit_id)
        conditions: dict[str, str] = {}
        reasons: set[str] = set()
        if self.checklists is not None:
            state = self.checklists.open(visit_id)
            for s in state.steps:
                if s.step.per_device and isinstance(s.value, dict):
                    conditions.update({k: str(v) for k, v in s.value.items() if v})
                if s.applies and s.skipped:
                    reasons.add(s.skipped)
        return RemovalForm(visit_id, tuple((d.serial, d.kind) for d in fitted), conditions,
                           reason=next(iter(reasons)) if len(reasons) == 1 else "")

    def record_removal(self, visit_id: str, recovered: Sequence[str], reasons: Mapping[str, str],
                       notes: str = "") -> RemovalResult:
        if self.removals is None:
            raise RuntimeError(f"recording removals is {MISSING}")
        return self.removals.record_removal(visit_id, list(recovered), notes=notes, reasons=dict(reasons))
