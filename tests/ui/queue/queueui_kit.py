"""Queue rows for the queue's UI tests: real ``QueueItem`` values from a seeded generator,
and a queue over a list of them (snapshot and changes by cursor) where a test needs the
service's two calls before a store is involved."""
from __future__ import annotations

import random
from dataclasses import replace
from functools import lru_cache
from datetime import datetime, timedelta, timezone

from emdesk.domain.deadlines import deadlines
from emdesk.domain.clock import at_local
from emdesk.domain.engine.periods import PERIOD_START, period_day
from emdesk.services.queue_items import QueueBatch, QueueItem

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
COHORTS = ("court_bail", "post_release", "immigration", "court_sentence", "specials")
CONDITIONS = {"curfew": ("AL04", "AL08"), "exclusion": ("AL12",), "tamper": ("AL01", "AL02"),
              "battery": ("AL20",), "checkin": ("AL30",)}
STATUSES = ("open", "open", "open", "acknowledged", "escalated", "auto_closed", "closed")
REGIONS = ("West Midlands", "Wales", "London", "North West", "Yorkshire and the Humber")
GIVEN = ("Alex", "Sam", "Jo", "Chris", "Pat", "Robin", "Lee", "Kim", "Ash", "Dana")
FAMILY = ("Smith", "Jones", "Khan", "Patel", "Evans", "Brown", "Wilson", "Taylor", "Hughes", "Ali")
REASONS = ("curfew broken for over an hour", "near the victim's address", "third breach this period",
           "strap cut", "home unit off mains (likely power cut)", "no contact for 6 hours",
           "high-risk cohort", "repeated short absences")


@lru_cache(maxsize=None)
def _period(day) -> tuple[datetime, datetime, datetime]:
    start = at_local(day, PERIOD_START)
    due = deadlines(start)
    return start, due.notify_by, due.pack_by


def make_items(n: int, seed: int = 13, now: datetime = NOW, start: int = 0, prefix: str = "inc") -> list[QueueItem]:
    """``n`` incidents over the last three days before ``now``, ids ``{prefix}-{start+i}``."""
    rnd = random.Random(seed)
    out = []
    for i in range(start, start + n):
        began = now - timedelta(minutes=rnd.randint(5, 3 * 24 * 60))
        lasted = rnd.randint(60, 4 * 3600)
        ongoing = rnd.random() < 0.2
        condition = rnd.choice(list(CONDITIONS))
        status = rnd.choice(STATUSES)
        period, notify_by, pack_by = _period(period_day(began))
        out.append(QueueItem(
            id=f"{prefix}-{i:06d}", order_id=f"ord-{i % 5000:05d}", subject_id=f"sub-{i % 5000:05d}",
            reference=f"EM-{i:06d}", subject_name=f"{rnd.choice(GIVEN)} {rnd.choice(FAMILY)}",
            region=rnd.choice(REGIONS), cohort=rnd.choice(COHORTS), condition=condition,
            codes=tuple(rnd.sample(CONDITIONS[condition], rnd.randint(1, len(CONDITIONS[condition])))),
            status=status, priority=rnd.randint(0, 100), reasons=tuple(rnd.sample(REASONS, rnd.randint(1, 3))),
            technical=status == "auto_closed" or rnd.random() < 0.1, started_at=began,
            ended_at=None if ongoing else began + timedelta(seconds=lasted),
            seconds=float((now - began).total_seconds() if ongoing else lasted),
            period_start=period, notify_by=notify_by, pack_by=pack_by, updated=f"{i:012d}"))
    return out


class ListQueue:
    """``snapshot()`` / ``changes(cursor)`` over items added with ``put`` (the cursor is
    the count of writes seen), for tests of the panel before a store is involved."""

    def __init__(self, items: list[QueueItem]):
        self.writes: list[tuple[QueueItem | None, str]] = [(it, it.id) for it in items]
        self.calls: list[str] = []

    def put(self, *items: QueueItem) -> None:
        self.writes += [(it, it.id) for it in items]

    def drop(self, *ids: str) -> None:
        self.writes += [(None, i) for i in ids]

    def _batch(self, since: int) -> QueueBatch:
        latest: dict[str, QueueItem | None] = {}
        for it, i in self.writes[since:]:
            latest[i] = it
        return QueueBatch(items=[it for it in latest.values() if it is not None], cursor=str(len(self.writes)),
                          removed=tuple(i for i, it in latest.items() if it is None))

    def snapshot(self) -> QueueBatch:
        self.calls.append("snapshot")
        return self._batch(0)

    def changes(self, cursor: str) -> QueueBatch:
        self.calls.append(f"changes {cursor}")
        return self._batch(int(cursor))


def bumped(item: QueueItem, **changes) -> QueueItem:
    return replace(item, updated=item.updated + "+", **changes)
