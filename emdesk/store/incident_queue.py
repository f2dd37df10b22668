"""The incident queue's reads: every incident of some regions as flat rows, in one query.

They come from ``incident_queue`` (migration 7), a narrow copy of what the queue shows of
each incident, the order's cohort and the wearer's name joined in, kept by triggers in the
transaction that writes the incident (or the order, or the person), however it is written:
a local edit, the engine or sync.  Its ``seq`` is a local change counter: the cursor (the
rows of one write share a number; a later write always takes a greater one).
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from .errors import StoreError
from .store import Store

# The order of the values in every row (``QueueRows.rows``): codes and reasons are JSON
# array text, instants the store's fixed-width UTC text, technical 0 or 1.
COLUMNS = ("id", "order_id", "subject_id", "reference", "subject_name", "region", "cohort", "condition", "codes",
           "status", "priority", "reasons", "technical", "started_at", "ended_at", "seconds", "period_start", "seq")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM incident_queue WHERE deleted = 0"
_CLOCK = "SELECT n FROM incident_queue_clock"


@dataclass
class QueueRows:
    rows: list[tuple] = field(default_factory=list)     # values in COLUMNS order
    cursor: int = 0                                     # the newest change these rows include
    removed: list[str] = field(default_factory=list)    # ids tombstoned, evicted or out of the regions


def _regions(regions: Collection[str] | None) -> tuple[str, list[str]]:
    if regions is None:
        return "", []
    regions = sorted(regions)
    return f" AND region IN ({', '.join('?' * len(regions))})", regions


def queue_rows(store: Store, regions: Collection[str] | None) -> QueueRows:
    """Every live incident in ``regions`` (None: all).  The cursor is read first, so a write
    landing during the read (from another process) is delivered again rather than lost."""
    where, args = _regions(regions)
    with store.reading() as db:
        cursor = db.execute(_CLOCK).fetchone()[0]
        rows = db.execute(_SELECT + where, args).fetchall()
    return QueueRows(rows, cursor)


def queue_changes(store: Store, regions: Collection[str] | None, after: int) -> QueueRows:
    """The incidents written since the change ``after``: live ones in ``regions`` as rows,
    the rest (tombstoned, evicted by sync, moved to another region) as removed ids."""
    where, args = _regions(regions)
    with store.reading() as db:
        cursor = db.execute(_CLOCK).fetchone()[0]
        if after > cursor:
            raise StoreError(f"cursor: {after} is ahead of this store's changes ({cursor}): another store's, "
                             "or one restored from a backup; take a new snapshot")
        span = [after, cursor]
        rows = db.execute(_SELECT + f" AND seq > ? AND seq <= ?{where}", [*span, *args]).fetchall()
        removed = [r[0] for r in db.execute(
            f"SELECT id FROM incident_queue WHERE seq > ? AND seq <= ? AND NOT (deleted = 0{where})", [*span, *args])]
    return QueueRows(rows, cursor, removed)


__all__ = ["COLUMNS", "QueueRows", "queue_changes", "queue_rows"]
