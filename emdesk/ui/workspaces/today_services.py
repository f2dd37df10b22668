"""The one place the Today screen meets its services, and what it expects of them.

Everything here is called on the store lane (never the GUI thread).  The services come
from the session's context (``AppContext``: ``officer_day``, ``outcomes``,
``checklists``); a build without one of them shows the button disabled, saying why.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Protocol, Sequence

from emdesk.domain.visits import OutcomeCode, Visit


class ChecklistStep(Protocol):
    key: str
    label: str
    help: str
    required: bool
    kind: str            # "tick" | "reading" | "choice" | "text"
    done: bool
    value: Any


class ChecklistState(Protocol):
    steps: Sequence[ChecklistStep]
    blocking: Sequence[str]      # labels of required steps not done
    complete: bool


class OutcomeResult(Protocol):
    next_visit: Visit | None
    message: str


class OutcomePort(Protocol):
    def record_outcome(self, visit_id: str, outcome: OutcomeCode, notes: str) -> OutcomeResult: ...


class ChecklistPort(Protocol):
    def open(self, visit_id: str) -> ChecklistState: ...
    def tick(self, visit_id: str, key: str, done: bool = True, value: Any = None) -> Any: ...


MISSING = "not part of this build of emdesk yet"


class TodayServices:
    def __init__(self, ctx):
        self.ctx = ctx

    @property
    def outcomes(self) -> OutcomePort | None:
        return getattr(self.ctx, "outcomes", None)

    @property
    def checklists(self) -> ChecklistPort | None:
        return getattr(self.ctx, "checklists", None)

    def day_call(self, day: date):
        """The call that loads the day (made here on the GUI thread, run on the store lane)."""
        service = getattr(self.ctx, "officer_day", None)
        if service is None:
            raise RuntimeError("this session has no officer's day service")
        return lambda: service.day(day)

    def record_outcome(self, visit_id: str, outcome: OutcomeCode, notes: str) -> OutcomeResult:
        if self.outcomes is None:
            raise RuntimeError(f"recording outcomes is {MISSING}")
        return self.outcomes.record_outcome(visit_id, outcome, notes)

    def open_checklist(self, visit_id: str) -> ChecklistState:
        if self.checklists is None:
            raise RuntimeError(f"checklists are {MISSING}")
        return self.checklists.open(visit_id)

    def tick(self, visit_id: str, key: str, done: bool, value: Any = None) -> ChecklistState:
        """Save one step, then read the checklist back (so the screen shows what is stored)."""
        if self.checklists is None:
            raise RuntimeError(f"checklists are {MISSING}")
        state = self.checklists.tick(visit_id, key, done=done, value=value)
        return state if hasattr(state, "steps") else self.checklists.open(visit_id)
