"""Device events: the narrow, append-only telemetry table and its dirty-period marks.

Rows are plain tuples in ``COLUMNS`` order; times are integer ms since the epoch (UTC).
No JSON body, no outbox, no per-row audit: telemetry is the volume.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store

COLUMNS = ("order_id", "device", "at", "kind", "lat", "lon", "hdop", "speed", "value", "event_id", "received", "late")
_INSERT = (f"INSERT OR IGNORE INTO device_events ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in COLUMNS)})")
RETENTION_KEY = "telemetry_retention_days"
DEFAULT_RETENTION_DAYS = 400     # a year and a month: the longest order review looks back a year


class TelemetryLog:
    def __init__(self, store: "Store"):
        self.store = store

    def append(self, rows: Sequence[Sequence], dirty: Iterable[tuple[str, int]]) -> int:
        """Store events (duplicates ignored) and mark their periods for the engine, in one
        transaction.  Returns how many rows were new."""
        with self.store.transaction() as db:
            conn = db.conn
            before = conn.total_changes
            conn.executemany(_INSERT, rows)
            added = conn.total_changes - before
            conn.executemany("INSERT OR IGNORE INTO watch_dirty (order_id, period_start) VALUES (?, ?)", dirty)
        return added

    def apply_feed(self, rows: Sequence[Sequence]) -> int:
        """Events pulled from the hub's feed (rows in ``COLUMNS`` order), duplicates ignored;
        returns how many were new.  No dirty marks: the hub evaluated them where they were
        ingested, and its incidents arrive as records."""
        with self.store.transaction() as db:
            conn = db.conn
            before = conn.total_changes
            conn.executemany(_INSERT, rows)
            return conn.total_changes - before

    def forget_orders(self, order_ids: Iterable[str]) -> int:
        """Drop the events of orders this desktop no longer holds (evicted by sync)."""
        ids = [(i,) for i in order_ids]
        with self.store.transaction() as db:
            before = db.conn.total_changes
            db.conn.executemany("DELETE FROM device_events WHERE order_id = ?", ids)
            return db.conn.total_changes - before

    def forget_orders_not_held(self) -> int:
        """Drop the events of every order this store does not hold (after a reload from the hub,
        which leaves out the orders no longer in scope rather than evicting them)."""
        with self.store.transaction() as db:
            return db.execute("DELETE FROM device_events WHERE order_id NOT IN (SELECT id FROM orders)").rowcount

    def known(self, keys: Sequence[tuple[str, int, str]]) -> set[tuple[str, int, str]]:
        """Which (device, at, kind) are already stored (to tell a duplicate from a new row)."""
        out: set[tuple[str, int, str]] = set()
        with self.store.reading() as db:
            for i in range(0, len(keys), 300):
                chunk = keys[i:i + 300]
                where = " OR ".join("(device = ? AND at = ? AND kind = ?)" for _ in chunk)
                args = [v for k in chunk for v in k]
                out.update(db.execute(f"SELECT device, at, kind FROM device_events WHERE {where}", args).fetchall())
        return out

    def for_order(self, order_id: str, start_ms: int, end_ms: int) -> list[tuple]:
        """(device, at, kind, lat, lon, hdop, speed, value, late) in time order."""
        with self.store.reading() as db:
            return db.execute(
                "SELECT device, at, kind, lat, lon, hdop, speed, value, late FROM device_events "
                "WHERE order_id = ? AND at >= ? AND at < ? ORDER BY at, kind", [order_id, start_ms, end_ms]).fetchall()

    def newest_at(self, order_id: str) -> int | None:
        with self.store.reading() as db:
            row = db.execute("SELECT max(at) FROM device_events WHERE order_id = ?", [order_id]).fetchone()
            return row[0]

    def last_contact(self) -> dict[str, int]:
        """Each order's latest event time (for silent-device checks)."""
        with self.store.reading() as db:
            return dict(db.execute("SELECT order_id, max(at) FROM device_events GROUP BY order_id").fetchall())

    def last_contact_by_device(self) -> dict[str, int]:
        with self.store.reading() as db:
            return dict(db.execute("SELECT device, max(at) FROM device_events GROUP BY device").fetchall())

    def count(self, order_id: str | None = None) -> int:
        with self.store.reading() as db:
            if order_id is None:
                return db.execute("SELECT count(*) FROM device_events").fetchone()[0]
            return db.execute("SELECT count(*) FROM device_events WHERE order_id = ?", [order_id]).fetchone()[0]

    def dirty(self, limit: int | None = None) -> list[tuple[str, int]]:
        with self.store.reading() as db:
            sql = "SELECT order_id, period_start FROM watch_dirty ORDER BY period_start, order_id"
            return db.execute(sql + (f" LIMIT {int(limit)}" if limit else "")).fetchall()

    def mark_dirty(self, marks: Iterable[tuple[str, int]]) -> None:
        with self.store.transaction() as db:
            db.conn.executemany("INSERT OR IGNORE INTO watch_dirty (order_id, period_start) VALUES (?, ?)", marks)

    def clear_dirty(self, db, marks: Iterable[tuple[str, int]]) -> None:
        """Inside the caller's transaction (the one that stores the evaluation)."""
        db.conn.executemany("DELETE FROM watch_dirty WHERE order_id = ? AND period_start = ?", marks)

    # -- retention -------------------------------------------------------------

    def retention_days(self) -> int:
        value = self.store.meta(RETENTION_KEY)
        return int(value) if value else DEFAULT_RETENTION_DAYS

    def set_retention_days(self, days: int) -> None:
        if days < 1:
            raise ValueError("telemetry retention: give at least 1 day")
        self.store.set_meta(RETENTION_KEY, str(days))

    def prune(self, before_ms: int) -> int:
        """Drop events older than ``before_ms`` (the retention period is over); returns how many."""
        with self.store.transaction() as db:
            cur = db.execute("DELETE FROM device_events WHERE at < ?", [before_ms])
            return cur.rowcount
