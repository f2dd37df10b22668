"""The live incident queue: every incident the user may work, as flat rows, and what changed.

``snapshot()`` once, then ``changes(cursor)`` on a timer: only the rows written since (by
the operator, the engine or sync) come back, with the ids that left the user's scope.
Operators see their region, supervisors all; names are blank for a user who may not see
personal details.  Each row carries its Figure 3 deadlines.
"""
from __future__ import annotations

from datetime import datetime

from emdesk.domain.clock import Clock
from emdesk.domain.deadlines import Deadlines, deadlines
from emdesk.domain.orders import Cohort
from emdesk.domain.users import Permission, User
from emdesk.store import Store, StoreError
from emdesk.store.incident_queue import QueueRows, Row, queue_changes, queue_rows

from .errors import AccessDenied, ServiceError
from .watch_lists import regions_of
from .queue_items import QueueBatch, QueueItem


class IncidentQueue:
    def __init__(self, store: Store, user: User, clock: Clock):
        if not user.can(Permission.WORK_ALERTS):
            raise AccessDenied(f"{user.role.label} accounts do not work the incident queue")
        self.store, self.user, self.clock = store, user, clock
        self.regions = regions_of(user)
        self.names = user.can(Permission.VIEW_PERSONAL_DETAILS)

    def snapshot(self) -> QueueBatch:
        """Every live incident in the user's scope."""
        return self._batch(queue_rows(self.store, self.regions))

    def changes(self, cursor: str) -> QueueBatch:
        """What was written since ``cursor`` (from the last batch; "" means from the start)."""
        try:
            return self._batch(queue_changes(self.store, self.regions, _position(cursor)))
        except StoreError as exc:
            raise ServiceError(str(exc)) from None

    def _batch(self, found: QueueRows) -> QueueBatch:
        return QueueBatch(items=_items(found.rows, self.names), cursor=str(found.cursor),
                          removed=tuple(found.removed))


def _position(cursor: str) -> int:
    text = (cursor or "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise ServiceError(f"cursor: {cursor!r} is not one this queue gave out; take a new snapshot()")
    return int(text)


SPECIALS = Cohort.SPECIALS.value


def _instant(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _items(rows: list[Row], names: bool) -> list[QueueItem]:
    """Typed rows (``incident_queue.COLUMNS``) to QueueItems; a period's deadlines are
    worked out once for all its incidents."""
    periods: dict[str, tuple[datetime, Deadlines]] = {}
    out: list[QueueItem] = []
    add = out.append
    for (iid, order_id, subject_id, reference, name, region, cohort, condition, codes, status, priority, reasons,
         technical, started, ended, seconds, period, seq) in rows:
        start_due = periods.get(period)
        if start_due is None:
            start = datetime.fromisoformat(period)
            start_due = periods[period] = (start, deadlines(start))
        start, due = start_due
        if cohort == SPECIALS:          # the specials' clock runs from the breach itself (rare: < 0.5%)
            due = deadlines(start, special=True, breach_at=_instant(started))
        # Positional, in QueueItem's field order: a snapshot makes 100,000 of these.
        add(QueueItem(iid, order_id, subject_id, reference, name if names else "", region, cohort, condition, codes,
                      status, priority, reasons, technical, started, ended, seconds, start, due.notify_by,
                      due.pack_by, f"{seq:012d}"))
    return out


__all__ = ["IncidentQueue"]
