"""The append-only device-event feed (``GET /v1/telemetry``), mixed into ``Hub``.

Who receives events is the scope rule telemetry always had: the monitoring centre of the
order's region and supervisors (``all``); field officers and technicians none.  The feed
pages by the hub's event seq (``events.py``: seqs become visible in order), never by
device clocks, so a desktop that keeps its cursor misses nothing and gets nothing twice.
A case that moves into a region brings its events from then on, not its past ones.
"""
from __future__ import annotations

from .. import protocol as p
from ..columns import pack
from ..scope import ALL
from .accounts import Account, HubError
from .events import FEED_COLUMNS

DEFAULT_EVENT_PAGE = 5000
MAX_EVENT_PAGE = 20000          # about 2.5 MB of JSON: a page stays well under a second to send
_REGION = "region:"
_SELECT = ", ".join(f"e.{c}" for c in FEED_COLUMNS)


class EventFeed:
    """Pages of the device-event feed (mixed into ``Hub``)."""

    @staticmethod
    def _event_scope(principal: str) -> tuple[str, list] | None:
        """The feed's condition for a principal's events and its arguments; None: no events."""
        if principal == ALL:
            return "", []
        if principal.startswith(_REGION):
            return (" AND e.order_id IN (SELECT o.id FROM hub_rows o WHERE o.tbl = 'orders' AND o.deleted = 0 "
                    "AND o.case_region = ?)", [principal[len(_REGION):]])
        return None     # field officers and technicians receive no telemetry

    def telemetry_page(self, who: Account, after: int, limit: int = DEFAULT_EVENT_PAGE) -> p.TelemetryPage:
        now = self.now_ms()
        if after < 0:
            raise HubError(400, "bad_request", f"after must be 0 or a cursor the hub gave (got {after})")
        limit = max(1, min(int(limit), MAX_EVENT_PAGE))
        principal = who.principal
        found = self._event_scope(principal)
        if found is None:
            return p.TelemetryPage(columns=list(FEED_COLUMNS), rows=[], cursor=after, hub_time_ms=now)
        scope, args = found
        with self.storage.read(principal) as tx:
            head = int(tx.scalar("SELECT max(seq) FROM hub_device_events", default=0))
            rows = tx.all(f"SELECT {_SELECT} FROM hub_device_events e WHERE e.seq > ? AND e.seq <= ?{scope} "
                          "ORDER BY e.seq LIMIT ?", [after, head, *args, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = rows[-1][0] if more else max(head, after)
        return p.TelemetryPage(columns=list(FEED_COLUMNS), rows=[list(r) for r in rows], cursor=cursor, more=more,
                               hub_time_ms=now)

    def telemetry_snapshot(self, who: Account, head: int, position: tuple[str, int, int],
                           limit: int = DEFAULT_EVENT_PAGE, *,
                           columns: bool = False) -> p.TelemetrySnapshotPage | p.EventColumns:
        """A first sync's events: every event of the caller's scope up to ``head`` (0: the
        newest now), in the log's own order (by order id, time, seq), so the desktop appends
        them at the end of its clustered log instead of splicing each page in; ``position``:
        the last (order id, time, seq) of the previous page ("", 0, 0 at the start).  Once
        the last page is in, the desktop follows the feed from ``head``.  ``columns``: the
        page as columns (``emdesk.sync.columns``), which a desktop reads far faster."""
        now = self.now_ms()
        order, at, seq = position
        limit = max(1, min(int(limit), MAX_EVENT_PAGE))
        principal = who.principal
        found = self._event_scope(principal)
        with self.storage.read(principal) as tx:
            top = int(tx.scalar("SELECT max(seq) FROM hub_device_events", default=0))
            if head > top:
                raise HubError(400, "bad_request", f"head {head} is past the hub's newest event ({top}): "
                               "start the snapshot again from 0")
            head = head or top
            if found is None:
                if columns:
                    return pack([], head=head, hub_time_ms=now)
                return p.TelemetrySnapshotPage(columns=list(FEED_COLUMNS), rows=[], head=head, hub_time_ms=now)
            scope, args = found
            # (order_id, at) is the index's prefix (a range both engines walk in order); seq
            # breaks ties within one (order, time).
            rows = tx.all(f"SELECT {_SELECT} FROM hub_device_events e WHERE (e.order_id, e.at) >= (?, ?) "
                          "AND NOT (e.order_id = ? AND e.at = ? AND e.seq <= ?) AND e.seq <= ?"
                          f"{scope} ORDER BY e.order_id, e.at, e.seq LIMIT ?",
                          [order, at, order, at, seq, head, *args, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        last = (rows[-1][1], rows[-1][3], rows[-1][0]) if rows else position
        if columns:
            return pack(rows, head=head, after_order=last[0], after_at=last[1], after_seq=last[2], more=more,
                        hub_time_ms=now)
        return p.TelemetrySnapshotPage(columns=list(FEED_COLUMNS), rows=[list(r) for r in rows], head=head,
                                       after_order=last[0], after_at=last[1], after_seq=last[2], more=more,
                                       hub_time_ms=now)
