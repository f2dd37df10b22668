"""Reads over the stored trails for the fleet map and trail matching.

``device_events`` is clustered by (order_n, at, kind, device_n): every query here walks
the order keys and reads each order's own slice of time (``CROSS JOIN`` keeps SQLite's
loop in that order), never the whole table.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from emdesk.domain.engine.events import BY_VALUE, KINDS

if TYPE_CHECKING:
    from .store import Store

_POSITION = BY_VALUE["position"]

# The newest position of every order at or before :now: one backwards step down each
# order's index from :now (positions are the commonest kind, so the walk is short).
_LAST = """
SELECT k.key, e.at, e.lat, e.lon, e.hdop
FROM (SELECT n, key, (SELECT at FROM device_events WHERE order_n = n AND at <= :now AND kind = :pos
                       AND lat IS NOT NULL AND lon IS NOT NULL ORDER BY at DESC LIMIT 1) AS last
      FROM telemetry_keys WHERE kind = 'order') AS k
CROSS JOIN device_events e
WHERE k.last IS NOT NULL AND e.order_n = k.n AND e.at = k.last AND e.kind = :pos AND e.lat IS NOT NULL
GROUP BY k.n
"""

_BOX = """
SELECT k.key, d.key, e.at, e.lat, e.lon, e.hdop
FROM telemetry_keys k
CROSS JOIN device_events e
JOIN telemetry_keys d ON d.n = e.device_n
WHERE k.kind = 'order' AND e.order_n = k.n AND e.at >= :start AND e.at < :end AND e.kind = :pos
  AND e.lat BETWEEN :south AND :north AND e.lon BETWEEN :west AND :east
ORDER BY k.key, e.at
"""


def last_positions(store: "Store", now_ms: int) -> list[tuple[str, int, float, float, float | None]]:
    """(order id, at ms, lat, lon, hdop) of each order's newest fix at or before ``now_ms``."""
    with store.reading() as db:
        return [tuple(r) for r in db.execute(_LAST, {"now": now_ms, "pos": _POSITION}).fetchall()]


def fixes_in_box(store: "Store", start_ms: int, end_ms: int, south: float, west: float, north: float,
                 east: float) -> list[tuple[str, str, int, float, float, float | None]]:
    """(order id, device, at ms, lat, lon, hdop) of every fix in the box in [start, end),
    by order then time."""
    with store.reading() as db:
        return [tuple(r) for r in db.execute(_BOX, {"start": start_ms, "end": end_ms, "pos": _POSITION,
                                                    "south": south, "north": north, "west": west,
                                                    "east": east}).fetchall()]


def newest_of_kinds(store: "Store", kinds: Iterable[str], since_ms: int, now_ms: int
                    ) -> list[tuple[str, str, int, float | None]]:
    """(order id, kind, at ms, value) of each order's newest event of each of ``kinds`` in
    [since, now]: the device health the map colours by (battery, faults)."""
    codes = sorted({BY_VALUE[k] for k in kinds})
    if not codes:
        return []
    marks = ", ".join("?" * len(codes))
    sql = (f"SELECT k.key, e.kind, max(e.at), e.value FROM telemetry_keys k CROSS JOIN device_events e "
           f"WHERE k.kind = 'order' AND e.order_n = k.n AND e.at >= ? AND e.at <= ? AND e.kind IN ({marks}) "
           f"GROUP BY k.n, e.kind")
    with store.reading() as db:
        rows = db.execute(sql, [since_ms, now_ms, *codes]).fetchall()
    return [(order, KINDS[kind].value, at, value) for order, kind, at, value in rows]

