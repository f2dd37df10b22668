"""How each record type maps to its table: the indexed columns pulled out of it."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from enum import Enum
from typing import Any

from emdesk.domain.checklists import ChecklistTick
from emdesk.domain.devices import Device
from emdesk.domain.monitoring import Alert, BreachOutcome, BreachPack, Incident, Note
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.records import Record
from emdesk.domain.users import User
from emdesk.domain.visits import Visit


def stamp(value: datetime | None) -> str | None:
    """Instants as fixed-width UTC text, so text order is time order."""
    if value is None:
        return None
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return value.isoformat(timespec="milliseconds")


def _plain(value: Any) -> Any:
    if value is None or type(value) is str:      # most columns: nothing to convert
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


Columns = Callable[[Any], dict[str, Any]]

COLUMNS: dict[type[Record], Columns] = {
    User: lambda r: {"username": r.username, "role": r.role, "region": r.region},
    Subject: lambda r: {
        "family_name": r.family_name, "given_name": r.given_name,
        "postcode": r.primary_address.postcode if r.primary_address else None,
    },
    Order: lambda r: {
        "subject_id": r.subject_id or None, "reference": r.reference, "status": r.status,
        "cohort": r.cohort, "region": r.region, "assigned_officer_id": r.assigned_officer_id,
        # Errors only: a warning (an address to confirm on the map) does not hold an order back.
        "problem_count": sum(1 for p in r.problems if p.blocking), "start": r.start, "end": r.end,
    },
    Device: lambda r: {"serial": r.serial, "kind": r.kind, "state": r.state, "region": r.region, "order_id": r.order_id},
    Visit: lambda r: {
        "order_id": r.order_id, "subject_id": r.subject_id, "officer_id": r.officer_id,
        "kind": r.kind, "status": r.status, "window_start": r.window_start,
    },
    # TelemetryEvent is not stored as a record: device events have their own log (telemetry.py).
    Alert: lambda r: {"order_id": r.order_id, "subject_id": r.subject_id, "status": r.status, "raised_at": r.raised_at,
                      "incident_id": r.incident_id, "code": r.code},
    Incident: lambda r: {"order_id": r.order_id, "subject_id": r.subject_id, "status": r.status,
                         "period_start": r.period_start, "started_at": r.started_at, "ended_at": r.ended_at,
                         "priority": r.priority, "reference": r.reference, "region": r.region},
    BreachPack: lambda r: {"incident_id": r.incident_id, "order_id": r.order_id, "status": r.status},
    BreachOutcome: lambda r: {"incident_id": r.incident_id, "order_id": r.order_id},
    Note: lambda r: {"subject_id": r.subject_id, "order_id": r.order_id},
    ChecklistTick: lambda r: {"visit_id": r.visit_id, "order_id": r.order_id, "subject_id": r.subject_id,
                              "step": r.step, "at": r.at},
}

BY_TABLE: dict[str, type[Record]] = {cls.table: cls for cls in COLUMNS}


def columns_for(record: Record) -> dict[str, Any]:
    try:
        extract = COLUMNS[type(record)]
    except KeyError:
        raise TypeError(f"{type(record).__name__} is not stored by emdesk") from None
    return {k: _plain(v) for k, v in extract(record).items()}


def subject_of(record: Record) -> str | None:
    """Whose personal record a change touches, for the audit log."""
    if isinstance(record, Subject):
        return record.id
    return getattr(record, "subject_id", None) or None
