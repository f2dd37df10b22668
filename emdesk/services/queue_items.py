"""What the incident queue shows, one flat row per incident (no Qt, no SQL).

The queue holds up to 100,000 of these at once, so a row is plain values the store
reads in one query (the order's cohort and the wearer's name joined in), not an
``Incident`` decoded from JSON.  ``QueueBatch`` carries a cursor: asking for the
changes since it returns only the rows written after, so a live queue polls cheaply.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class QueueItem:
    id: str                        # the incident's id
    order_id: str
    subject_id: str
    reference: str                 # the order's reference
    subject_name: str              # "" when the user may not see names
    region: str
    cohort: str                    # Cohort value ("court_bail"...), "" if unknown
    condition: str                 # "curfew", "exclusion", "tamper"...
    codes: tuple[str, ...]         # ("AL04",...)
    status: str                    # IncidentStatus value
    priority: int                  # 0-100
    reasons: tuple[str, ...]       # the priority's reasons, in words
    technical: bool
    started_at: datetime
    ended_at: datetime | None
    seconds: float
    period_start: datetime
    notify_by: datetime            # Figure 3: 10:00 (London) on the morning the period ends
    pack_by: datetime              # 12:00 (London) the day after that
    updated: str                   # the store's stamp of the last write (orders changes)


@dataclass(frozen=True)
class QueueBatch:
    items: list[QueueItem] = field(default_factory=list)
    cursor: str = ""               # pass back to ``changes(cursor)``
    removed: tuple[str, ...] = ()  # ids no longer in the user's scope (tombstoned)
