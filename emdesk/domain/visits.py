"""Field visits to install, check, repair or remove equipment."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

from .records import Record


class VisitKind(str, Enum):
    INSTALL = "install"
    CHECK = "check"
    REPAIR = "repair"
    REMOVAL = "removal"


class VisitStatus(str, Enum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutcomeCode(str, Enum):
    """Visit outcomes; the failure codes are the NAO's install failure causes (Fig 8)."""

    INSTALLED = "installed"
    CHECKED_OK = "checked_ok"
    REPAIRED = "repaired"
    REMOVED = "removed"
    NOT_AT_ADDRESS = "not_at_address"
    REFUSED = "refused"
    WRONG_ADDRESS = "wrong_address"
    LATE_ORDER = "late_order"
    UNSAFE = "unsafe"
    EQUIPMENT_FAULT = "equipment_fault"
    EQUIPMENT_NOT_RECOVERED = "equipment_not_recovered"

    @property
    def success(self) -> bool:
        return self in (OutcomeCode.INSTALLED, OutcomeCode.CHECKED_OK, OutcomeCode.REPAIRED, OutcomeCode.REMOVED)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Visit(Record, frozen=True, kw_only=True):
    table = "visits"

    order_id: str
    subject_id: str
    kind: VisitKind
    attempt: int = 1
    window_start: datetime | None = None
    window_end: datetime | None = None
    officer_id: str | None = None
    status: VisitStatus = VisitStatus.SCHEDULED
    outcome: OutcomeCode | None = None
    outcome_at: datetime | None = None
    notes: str = ""
    device_serials: tuple[str, ...] = ()
