"""The append-only device-event feed (``GET /v1/telemetry``), mixed into ``Hub``.

Who receives events is the scope rule telemetry always had: the monitoring centre of the
order's region and supervisors (``all``); field officers and technicians none.  The feed
pages by the hub's event seq (``events.py``: seqs become visible in order), never by
device clocks, so a desktop that keeps its cursor misses nothing and gets nothing twice.
A case that moves into a region brings its events from then on, not its past ones.
"""
from __future__ import annotations

from .. import protocol as p
from ..scope import ALL
from .accounts import Account, HubError
from .events import FEED_COLUMNS

DEFAULT_EVENT_PAGE = 5000
MAX_EVENT_PAGE = 20000          # about 2.5 MB of JSON: a page stays well under a second to send
_REGION = "region:"
_SELECT = ", ".join(f"e.{c}" for c in FEED_COLUMNS)


class EventFeed:
    """Pages of the device-event feed (mixed into ``Hub``)."""

    def telemetry_page(self, who: Account, after: int, limit: int = DEFAULT_EVENT_PAGE) -> p.TelemetryPage:
        now = self.now_ms()
        if after < 0:
            raise HubError(400, "bad_request", f"after must be 0 or a cursor the hub gave (got {after})")
        limit = max(1, min(int(limit), MAX_EVENT_PAGE))
        principal = who.principal
        if principal == ALL:
            scope, args = "", []
        elif principal.startswith(_REGION):
            scope = (" AND e.order_id IN (SELECT o.id FROM hub_rows o WHERE o.tbl = 'orders' AND o.deleted = 0 "
                     "AND o.case_region = ?)")
            args = [principal[len(_REGION):]]
        else:       # field officers and technicians receive no telemetry
            return p.TelemetryPage(columns=list(FEED_COLUMNS), rows=[], cursor=after, hub_time_ms=now)
        with self.storage.read(principal) as tx:
            head = int(tx.scalar("SELECT max(seq) FROM hub_device_events", default=0))
            rows = tx.all(f"SELECT {_SELECT} FROM hub_device_events e WHERE e.seq > ? AND e.seq <= ?{scope} "
                          "ORDER BY e.seq LIMIT ?", [after, head, *args, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = rows[-1][0] if more else max(head, after)
        return p.TelemetryPage(columns=list(FEED_COLUMNS), rows=[list(r) for r in rows], cursor=cursor, more=more,
                               hub_time_ms=now)
