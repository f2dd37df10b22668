"""The live incident queue: every incident the user may work, as flat rows, and what changed.

``snapshot()`` once, then ``changes(cursor)`` on a timer: only the rows written since (by
the operator, the engine or sync) come back, with the ids that left the user's scope.
Operators see their region, supervisors all; names are blank for a user who may not see
personal details.  Each row carries its Figure 3 deadlines.
"""
from __future__ import annotations

from datetime import datetime

import msgspec

from emdesk.domain.clock import Clock
from emdesk.domain.deadlines import Deadlines, deadlines
from emdesk.domain.users import Permission, User
from emdesk.store import Store
from emdesk.store.incident_queue import QueueRows, queue_changes, queue_rows

from .errors import AccessDenied, ServiceError
from .queue_items import QueueBatch, QueueItem

_texts = msgspec.json.Decoder(tuple[str, ...])


class IncidentQueue:
    def __init__(self, store: Store, user: User, clock: Clock):
        if not user.can(Permission.WORK_ALERTS):
            raise AccessDenied(f"{user.role.label} accounts do not work the incident queue")
        self.store, self.user, self.clock = store, user, clock
        self.regions: set[str] | None = None if user.can(Permission.VIEW_ALL_CASES) else {user.region}
        self.names = user.can(Permission.VIEW_PERSONAL_DETAILS)

    def snapshot(self) -> QueueBatch:
        """Every live incident in the user's scope."""
        return self._batch(queue_rows(self.store, self.regions))

    def changes(self, cursor: str) -> QueueBatch:
        """What was written since ``cursor`` (from the last batch; "" means from the start)."""
        return self._batch(queue_changes(self.store, self.regions, _position(cursor)))

    def _batch(self, found: QueueRows) -> QueueBatch:
        items = _Items(self.names)
        return QueueBatch(items=[items.item(r) for r in found.rows], cursor=str(found.cursor),
                          removed=tuple(found.removed))


def _position(cursor: str) -> int:
    text = (cursor or "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise ServiceError(f"cursor: {cursor!r} is not one this queue gave out; take a new snapshot()")
    return int(text)


class _Items:
    """Rows to QueueItems; the values that repeat across rows (period starts and their
    deadlines, lists of codes and reasons) are decoded once per batch."""

    def __init__(self, names: bool):
        self.names = names
        self.periods: dict[str, tuple[datetime, Deadlines]] = {}
        self.lists: dict[str, tuple[str, ...]] = {}

    def texts(self, raw: str | None) -> tuple[str, ...]:
        if not raw:
            return ()
        got = self.lists.get(raw)
        if got is None:
            got = self.lists[raw] = _texts.decode(raw)
        return got

    def period(self, raw: str) -> tuple[datetime, Deadlines]:
        got = self.periods.get(raw)
        if got is None:
            start = datetime.fromisoformat(raw)
            got = self.periods[raw] = (start, deadlines(start))
        return got

    def item(self, r: tuple) -> QueueItem:
        (iid, order_id, subject_id, reference, name, region, cohort, condition, codes, status, priority,
         reasons, technical, started, ended, seconds, period, seq) = r
        start, due = self.period(period)
        # Positional, in QueueItem's field order: 100,000 of these are made per snapshot.
        return QueueItem(
            iid, order_id, subject_id or "", reference or "", (name or "") if self.names else "", region or "",
            cohort or "", condition or "", self.texts(codes), status, priority or 0, self.texts(reasons),
            bool(technical), datetime.fromisoformat(started), datetime.fromisoformat(ended) if ended else None,
            float(seconds or 0.0), start, due.notify_by, due.pack_by, f"{seq:012d}")


__all__ = ["IncidentQueue"]
