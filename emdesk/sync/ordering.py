"""The one table order every feed, page and replica follows.

Replicas enforce ``orders.subject_id -> subjects.id`` (deferred, checked when each page
commits), so the hub hands out upserts parent before child and evictions child before
parent; bootstrap pages walk the same rank.  ``conflicts`` (merge losers, for
supervisors) comes last.
"""
from __future__ import annotations

TABLE_ORDER: tuple[str, ...] = (
    "users", "subjects", "orders", "devices", "visits", "notes", "telemetry",
    "alerts", "incidents", "breach_packs", "outcomes", "conflicts",
)

RANK: dict[str, int] = {name: i for i, name in enumerate(TABLE_ORDER)}

CONFLICTS = "conflicts"


def rank(table: str) -> int:
    return RANK[table]
