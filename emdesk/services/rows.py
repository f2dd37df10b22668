"""What the services hand to the UI: flat, display-ready rows (no records, no SQL)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One case on a caseload: an order and its wearer."""

    order_id: str
    subject_id: str
    name: str
    reference: str
    cohort: str            # Cohort label
    status: str            # OrderStatus value
    town: str
    postcode: str
    officer: str           # assigned field officer's display name, or ""
    risk_flags: tuple[str, ...]
    next_visit: datetime | None
    end: date | None
    region: str


@dataclass(frozen=True, slots=True)
class OrderRow:
    """An order in the order list, with its validation state."""

    order_id: str
    reference: str
    subject_name: str
    cohort: str
    request_type: str
    status: str
    received_at: datetime | None
    region: str
    problem_count: int
    problems: tuple[str, ...]     # "field: message [CODE]" lines


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A device in the stock list; a technician sees only the name on an allocation."""

    device_id: str
    serial: str
    kind: str               # DeviceKind label
    model: str
    firmware: str
    state: str              # DeviceState label
    region: str
    allocated_to: str       # wearer's name on the allocation, or ""
    order_reference: str


@dataclass(frozen=True, slots=True)
class VisitRow:
    visit_id: str
    order_id: str
    subject_name: str
    kind: str
    attempt: int
    window_start: datetime | None
    window_end: datetime | None
    address: str
    status: str
    outcome: str
    risk_flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Counts:
    """Simple figures for a supervisor's first screen."""

    active_orders: int
    draft_orders: int
    orders_with_problems: int
    subjects: int
    devices_in_stock: int
    devices_installed: int
    visits_scheduled: int
    visits_overdue_3_days: int     # the NAO's backlog measure
    unmonitored_active: int        # never_fitted + disconnected_14_days (NAO 2.13)
    by_cohort: dict[str, int] = field(default_factory=dict)
    by_region: dict[str, int] = field(default_factory=dict)
    never_fitted: int = 0          # active orders with no tag (or non-fitted device) installed
    disconnected_14_days: int = 0  # active orders whose fitted kit was last heard from 14+ days ago
    submitted_with_problems: int = 0   # of orders_with_problems: accepted at intake, problems since


@dataclass(frozen=True, slots=True)
class ConflictRow:
    """A value that lost a sync merge: kept so a supervisor can see what was overwritten."""

    table: str
    row_id: str
    field: str
    losing_value: str
    losing_stamp: str
    winning_stamp: str
    at: str
    describes: str          # the record it is about, in words (e.g. the visit's subject)
