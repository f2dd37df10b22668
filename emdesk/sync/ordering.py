"""The one table order every feed, page and replica follows.

Replicas enforce ``orders.subject_id -> subjects.id`` (deferred, checked when each page
commits), so the hub hands out upserts parent before child and evictions child before
parent; bootstrap pages walk the same rank.  ``conflicts`` (merge losers, for
supervisors) comes after the tables of version 1; tables added since come after it.
"""
from __future__ import annotations

_POSITIONS: tuple[str | None, ...] = (
    "users", "subjects", "orders", "devices", "visits", "notes",
    None,       # was telemetry, now an append-only feed of its own (hub/events.py): the slot stays
    "alerts", "incidents", "breach_packs", "outcomes", "conflicts",
    # Added later: appended, so ranks the hub has stored do not move.  Ticks point at
    # orders and people (after them, as every child is), never the other way.
    "checklist_ticks",
)

TABLE_ORDER: tuple[str, ...] = tuple(name for name in _POSITIONS if name)

RANK: dict[str, int] = {name: i for i, name in enumerate(_POSITIONS) if name}

CONFLICTS = "conflicts"


def rank(table: str) -> int:
    return RANK[table]
