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
from emdesk.store import Store, StoreError
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


def _items(rows: list[tuple], names: bool) -> list[QueueItem]:
    """Rows (``incident_queue.COLUMNS``) to QueueItems.  The values that repeat across rows
    (period starts and their deadlines, lists of codes and reasons) are decoded once."""
    periods: dict[str, tuple[datetime, Deadlines]] = {}
    lists: dict[str, tuple[str, ...]] = {"[]": ()}
    iso = datetime.fromisoformat
    out: list[QueueItem] = []
    add = out.append
    for (iid, order_id, subject_id, reference, name, region, cohort, condition, codes, status, priority, reasons,
         technical, started, ended, seconds, period, seq) in rows:
        start_due = periods.get(period)
        if start_due is None:
            start = iso(period)
            start_due = periods[period] = (start, deadlines(start))
        start, due = start_due
        code_list = lists.get(codes)
        if code_list is None:
            code_list = lists[codes] = _texts.decode(codes) if codes else ()
        reason_list = lists.get(reasons)
        if reason_list is None:
            reason_list = lists[reasons] = _texts.decode(reasons) if reasons else ()
        # Positional, in QueueItem's field order: a snapshot makes 100,000 of these.
        add(QueueItem(iid, order_id, subject_id or "", reference or "", (name or "") if names else "", region or "",
                      cohort or "", condition or "", code_list, status, priority or 0, reason_list, technical == 1,
                      iso(started), iso(ended) if ended else None, float(seconds or 0.0), start, due.notify_by,
                      due.pack_by, f"{seq:012d}"))
    return out


__all__ = ["IncidentQueue"]
