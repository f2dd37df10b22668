"""Field visits to install, check, repair or remove equipment."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

from .devices import DeviceKind
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
    ORDER_CANCELLED = "order_cancelled"
    EQUIPMENT_NOT_RECOVERED = "equipment_not_recovered"

    @property
    def success(self) -> bool:
        return self in (OutcomeCode.INSTALLED, OutcomeCode.CHECKED_OK, OutcomeCode.REPAIRED, OutcomeCode.REMOVED)

    @property
    def label(self) -> str:
        if self is OutcomeCode.WRONG_ADDRESS:
            return "Wrong or incomplete address"
        return self.value.replace("_", " ").capitalize()


class VisitCause(str, Enum):
    """What made the visit: the order event it answers."""

    ORDER_ACTIVE = "order_active"          # a new order: install
    FAILED_ATTEMPT = "failed_attempt"      # the next attempt after a failed one
    VARIATION = "variation"                # conditions varied: check
    ADDRESS_CHANGE = "address_change"      # a new address: reinstall
    ORDER_ENDED = "order_ended"            # remove every device on the order
    DEVICE_FAULT = "device_fault"          # raised by monitoring: repair
    MANUAL = "manual"                      # booked by hand

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
    # Why the visit exists and what it follows (the failed attempt it rebooks).
    cause: VisitCause | None = None
    previous_visit_id: str | None = None
    # The contract's deadline (an install: midnight at the end of the day after the
    # order was received); the planner puts these first.
    due_by: datetime | None = None
    # The window is the span the wearer can be expected at the address; a booked
    # appointment narrows it (``appointment`` True), otherwise curfew hours or a shift.
    appointment: bool = False
    # Planning: officers needed (risk flags make it 2), who goes (user ids, the lead is
    # ``officer_id``), when the route arrives and leaves, and whether the plan may move it.
    crew_size: int = 1
    crew: tuple[str, ...] = ()
    planned_arrival: datetime | None = None
    planned_departure: datetime | None = None
    pinned: bool = False
    # Kinds of equipment to bring (install, repair, reinstall).
    equipment: tuple[DeviceKind, ...] = ()
    # A removal: each device not recovered (serial -> why: "wearer absconded"...), the
    # outstanding-equipment list's source.
    not_recovered: dict[str, str] = {}
