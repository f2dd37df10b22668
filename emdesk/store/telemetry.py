"""Device events: the narrow, append-only telemetry table and its dirty-period marks.

Callers hand rows as tuples in ``COLUMNS`` order (order id, device serial, at in integer
ms UTC, kind name, numbers, the device's event id, received ms, late 0/1).  Inside, orders
and devices are small integers (``telemetry_keys``) and kinds their code
(``event_kinds``), and rows are clustered by order and time: an order's day reads as one
range, and a resent event is a no-op on the key.  No JSON body, no outbox, no per-row
audit: telemetry is the volume.
"""
from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from emdesk.domain.engine.events import BY_VALUE, KINDS

if TYPE_CHECKING:
    from .store import Store

COLUMNS = ("order_id", "device", "at", "kind", "lat", "lon", "hdop", "speed", "value", "event_id", "received", "late")
_INSERT = ("INSERT OR IGNORE INTO device_events (order_n, device_n, at, kind, lat, lon, hdop, speed, value, "
           "event_id, received, late) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_KEY = itemgetter(0, 2, 3, 1)      # an encoded row's place in device_events: (order_n, at, kind, device_n)
_HIGH = ("INSERT INTO device_high (device_n, newest, heard) VALUES (?, ?, ?) ON CONFLICT(device_n) DO UPDATE SET "
         "newest = max(newest, excluded.newest), heard = max(coalesce(heard, 0), coalesce(excluded.heard, 0))")
_COMMS_LOST = BY_VALUE["comms_lost"]
_NONE = "9e999"         # SQLite's stand-in for "no number", so a whole day reads into one float array
_INSERT_NO_ID = ("INSERT OR IGNORE INTO device_events (order_n, device_n, at, kind, lat, lon, hdop, speed, value, "
                 "received, late) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_ROW_NO_ID = np.dtype([("o", "i8"), ("d", "i8"), ("at", "i8"), ("k", "i8"), ("lat", "f8"), ("lon", "f8"),
                       ("hdop", "f8"), ("speed", "f8"), ("value", "f8"), ("rec", "i8"), ("late", "i8")])
_ROW = np.dtype([("o", "i8"), ("d", "i8"), ("at", "i8"), ("k", "i8"), ("lat", "f8"), ("lon", "f8"), ("hdop", "f8"),
                 ("speed", "f8"), ("value", "f8"), ("id", "O"), ("rec", "i8"), ("late", "i8")])
RETENTION_KEY = "telemetry_retention_days"
DEFAULT_RETENTION_DAYS = 400     # a year and a month: the longest order review looks back a year
CACHE_KIB = 262_144              # page cache while ingesting: a national minute touches 15,000 orders' pages


class Columns(NamedTuple):
    """Events as arrays, one per field (what ``append_columns`` reads): order and device keys
    (or indexes, for ``apply_indexed``), times, kind codes, numbers with NaN for none."""

    order: np.ndarray
    device: np.ndarray
    at: np.ndarray
    kind: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    hdop: np.ndarray
    speed: np.ndarray
    value: np.ndarray


class TelemetryLog:
    def __init__(self, store: "Store"):
        self.store = store
        self._keys: dict[tuple[str, str], int] = {}
        self._names: dict[int, str] = {}

    # -- keys ------------------------------------------------------------------

    def _ensure(self, db, kind: str, values: Iterable[str]) -> None:
        # Sorted: a first sync's snapshot comes in order id order, and keys made in that order
        # keep its rows in the log's own order (appended at the end of the tree, not spliced in).
        missing = sorted(v for v in set(values) if (kind, v) not in self._keys)
        if not missing:
            return
        conn = db.conn
        conn.executemany("INSERT OR IGNORE INTO telemetry_keys (kind, key) VALUES (?, ?)", [(kind, v) for v in missing])
        for i in range(0, len(missing), 500):
            chunk = missing[i:i + 500]
            for n, key in conn.execute(f"SELECT n, key FROM telemetry_keys WHERE kind = ? AND key IN "
                                       f"({', '.join('?' * len(chunk))})", [kind, *chunk]):
                self._keys[(kind, key)] = n
                self._names[n] = key

    def _lookup(self, kind: str, values: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        with self.store.reading() as db:
            for i in range(0, len(values), 500):
                chunk = list(values[i:i + 500])
                out.update((k, n) for n, k in db.execute(
                    f"SELECT n, key FROM telemetry_keys WHERE kind = ? AND key IN ({', '.join('?' * len(chunk))})",
                    [kind, *chunk]))
        return out

    def _name(self, n: int) -> str:
        if n not in self._names:
            with self.store.reading() as db:
                self._names[n] = db.execute("SELECT key FROM telemetry_keys WHERE n = ?", [n]).fetchone()[0]
        return self._names[n]

    def register(self, orders: Iterable[str], devices: Iterable[str]) -> tuple[dict[str, int], dict[str, int]]:
        """The integer keys of these orders and devices, made where new (one transaction)."""
        orders, devices = list(orders), list(devices)
        try:
            with self.store.transaction() as db:
                self._ensure(db, "order", orders)
                self._ensure(db, "device", devices)
        except BaseException:
            self._keys.clear()
            self._names.clear()
            raise
        return ({o: self._keys[("order", o)] for o in orders}, {d: self._keys[("device", d)] for d in devices})

    def high_by_key(self) -> dict[int, int]:
        """Each device key's newest event time."""
        with self.store.reading() as db:
            return dict(db.execute("SELECT device_n, newest FROM device_high").fetchall())

    def append_columns(self, cols, event_ids: list | None, received_ms: int | np.ndarray, late: np.ndarray,
                       dirty: Iterable[tuple[str, int]], *, landing: bool = False) -> int:
        """Store a parsed chunk (``order``, ``device``: keys from ``register``; ``at``, ``kind``
        codes; ``lat``..``value`` with NaN for none) and mark its periods, in one transaction.
        Returns how many rows were new.  ``landing``: into the inbox instead, for a bulk
        ingest that calls ``fold`` (which then counts what was new) every so often and before
        anything reads the events."""
        n = cols.at.shape[0]
        # Without event ids (most feeds) the rows are all numbers, which numpy turns into
        # tuples far faster than rows holding Python objects.
        table = np.empty(n, dtype=_ROW if event_ids is not None else _ROW_NO_ID)
        table["o"], table["d"], table["at"], table["k"] = cols.order, cols.device, cols.at, cols.kind
        table["lat"], table["lon"], table["hdop"], table["speed"], table["value"] = (
            cols.lat, cols.lon, cols.hdop, cols.speed, cols.value)
        if event_ids is not None:
            table["id"] = event_ids
        table["rec"] = received_ms
        table["late"] = late
        collecting = gc.isenabled()
        gc.disable()                 # a chunk's tuples have no cycles: no need to walk them
        try:
            rows = table.tolist()    # NaN binds as NULL: SQLite has no NaN
        finally:
            if collecting:
                gc.enable()
        insert = _INSERT if event_ids is not None else _INSERT_NO_ID
        if landing:
            insert = insert.replace("INSERT OR IGNORE INTO device_events ", "INSERT INTO device_events_inbox ")
        heard_at = np.where(cols.kind != _COMMS_LOST, cols.at, -1)
        order = np.argsort(cols.device, kind="stable")
        keys, starts = np.unique(cols.device[order], return_index=True)
        newest = np.maximum.reduceat(cols.at[order], starts)
        heard = np.maximum.reduceat(heard_at[order], starts)
        high = [(int(k), int(a), None if h < 0 else int(h)) for k, a, h in zip(keys, newest, heard)]
        with self.store.transaction() as db:
            conn = db.conn
            before = conn.total_changes
            conn.executemany(insert, rows)
            added = conn.total_changes - before
            conn.executemany(_HIGH, high)
            conn.executemany("INSERT OR IGNORE INTO watch_dirty (order_id, period_start) VALUES (?, ?)", dirty)
        return added

    # -- writing ---------------------------------------------------------------

    def append(self, rows: Sequence[Sequence], dirty: Iterable[tuple[str, int]]) -> int:
        """Store events (duplicates ignored) and mark their periods for the engine, in one
        transaction.  Returns how many rows were new."""
        try:
            return self._append(rows, dirty)
        except BaseException:
            self._keys.clear()        # keys made in a rolled-back transaction are gone
            self._names.clear()
            raise

    def _append(self, rows: Sequence[Sequence], dirty: Iterable[tuple[str, int]], *, skip: int = 0,
                in_key_order: bool = False) -> int:
        """``skip``: leading columns before ``COLUMNS`` (the feed's seq)."""
        o, d, at, kind = skip, skip + 1, skip + 2, skip + 3
        tail = itemgetter(*range(skip + 4, skip + len(COLUMNS)))
        with self.store.transaction() as db:
            conn = db.conn
            self._ensure(db, "order", (r[o] for r in rows))
            self._ensure(db, "device", (r[d] for r in rows))
            keys = self._keys
            encoded = [(keys[("order", r[o])], keys[("device", r[d])], r[at], BY_VALUE[r[kind]], *tail(r))
                       for r in rows]
            if in_key_order:
                encoded.sort(key=_KEY)
            before = conn.total_changes
            conn.executemany(_INSERT, encoded)
            added = conn.total_changes - before
            high: dict[int, list] = {}
            for e in encoded:
                h = high.get(e[1])
                heard = e[2] if e[3] != _COMMS_LOST else None
                if h is None:
                    high[e[1]] = [e[2], heard]
                else:
                    if e[2] > h[0]:
                        h[0] = e[2]
                    if heard is not None and (h[1] is None or heard > h[1]):
                        h[1] = heard
            conn.executemany(_HIGH, [(n, a, b) for n, (a, b) in high.items()])
            conn.executemany("INSERT OR IGNORE INTO watch_dirty (order_id, period_start) VALUES (?, ?)", dirty)
        return added

    def apply_feed(self, rows: Sequence[Sequence]) -> int:
        """Events pulled from the hub's feed, as it sends them (its ``seq`` first, then
        ``COLUMNS``), duplicates ignored; returns how many were new.  No dirty marks: the hub
        evaluated them where they were ingested, and its incidents arrive as records.  A page
        is written in the log's key order, which SQLite's clustered table takes far faster than
        the hub's seq order."""
        try:
            return self._append(rows, [], skip=1, in_key_order=True)
        except BaseException:
            self._keys.clear()
            self._names.clear()
            raise

    def apply_indexed(self, orders: Sequence[str], devices: Sequence[str], cols: Columns, received: np.ndarray,
                      late: np.ndarray, event_ids: list | None) -> int:
        """Events pulled as columns (a hub's snapshot page: ``emdesk.sync.columns``): ``cols.order``
        and ``cols.device`` index ``orders`` and ``devices``; ``received`` and ``late`` hold one
        value per event.  Keys are made in sorted order and the rows written in the log's key
        order; duplicates ignored; returns how many were new."""
        try:
            with self.store.transaction() as db:
                self._ensure(db, "order", orders)
                self._ensure(db, "device", devices)
                order = np.array([self._keys[("order", o)] for o in orders] or [0], dtype=np.int64)[cols.order]
                device = np.array([self._keys[("device", d)] for d in devices] or [0], dtype=np.int64)[cols.device]
                place = np.lexsort((device, cols.kind, cols.at, order))
                keyed = Columns(*(a[place] for a in cols._replace(order=order, device=device)))
                ids = [event_ids[i] for i in place.tolist()] if event_ids is not None else None
                return self.append_columns(keyed, ids, received[place], late[place], [])
        except BaseException:
            self._keys.clear()
            self._names.clear()
            raise

    def forget_orders(self, order_ids: Iterable[str]) -> int:
        """Drop the events of orders this desktop no longer holds (evicted by sync)."""
        keys = self._lookup("order", list(order_ids))
        with self.store.transaction() as db:
            before = db.conn.total_changes
            db.conn.executemany("DELETE FROM device_events WHERE order_n = ?", [(n,) for n in keys.values()])
            return db.conn.total_changes - before

    def forget_orders_not_held(self) -> int:
        """Drop the events of every order this store does not hold (after a reload from the hub,
        which leaves out the orders no longer in scope rather than evicting them)."""
        with self.store.transaction() as db:
            return db.execute("DELETE FROM device_events WHERE order_n IN (SELECT n FROM telemetry_keys WHERE "
                              "kind = 'order' AND key NOT IN (SELECT id FROM orders))").rowcount

    def fold(self) -> tuple[int, int]:
        """Move landed rows into ``device_events`` in key order, one statement; returns (new,
        landed): a row already stored (a resend) is dropped."""
        with self.store.transaction() as db:
            landed = db.execute("SELECT count(*) FROM device_events_inbox").fetchone()[0]
            if not landed:
                return 0, 0
            before = db.conn.total_changes
            db.execute("INSERT OR IGNORE INTO device_events (order_n, at, kind, device_n, lat, lon, hdop, speed, value, "
                       "event_id, received, late) SELECT order_n, at, kind, device_n, lat, lon, hdop, speed, value, "
                       "event_id, received, late FROM device_events_inbox ORDER BY order_n, at, kind, device_n")
            new = db.conn.total_changes - before
            db.execute("DELETE FROM device_events_inbox")
        return new, landed

    def ingesting(self):
        """A bigger page cache for a long ingest (the connection's own setting)."""
        with self.store.reading() as db:
            db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")

    # -- reading ---------------------------------------------------------------

    def known(self, rows: Sequence[Sequence]) -> set[tuple[str, int, str]]:
        """Which of these rows (``COLUMNS`` order) are stored already, as (device, at, kind)."""
        orders = self._lookup("order", sorted({r[0] for r in rows}))
        devices = self._lookup("device", sorted({r[1] for r in rows}))
        out: set[tuple[str, int, str]] = set()
        with self.store.reading() as db:
            for r in rows:
                o, d = orders.get(r[0]), devices.get(r[1])
                if o is None or d is None:
                    continue
                if db.execute("SELECT 1 FROM device_events WHERE order_n = ? AND at = ? AND kind = ? AND device_n = ?",
                              [o, r[2], BY_VALUE[r[3]], d]).fetchone():
                    out.add((r[1], r[2], r[3]))
        return out

    def for_order(self, order_id: str, start_ms: int, end_ms: int) -> list[tuple]:
        """(device, at, kind, lat, lon, hdop, speed, value, late) in time order."""
        n = self._lookup("order", [order_id]).get(order_id)
        if n is None:
            return []
        with self.store.reading() as db:
            rows = db.execute(
                "SELECT device_n, at, kind, lat, lon, hdop, speed, value, late FROM device_events "
                "WHERE order_n = ? AND at >= ? AND at < ? ORDER BY at, kind", [n, start_ms, end_ms]).fetchall()
        return [(self._name(d), at, KINDS[k].value, *rest) for d, at, k, *rest in rows]

    def columns_for(self, order_id: str, start_ms: int, end_ms: int) -> tuple[np.ndarray, list[str]]:
        """An order's events as one float array (columns: at, kind code, device index, lat, lon,
        hdop, speed, value, late; NaN for no number) and the serials the device index names.
        The engine's fast path: no Python object per event."""
        n = self._lookup("order", [order_id]).get(order_id)
        if n is None:
            return np.zeros((0, 9)), []
        with self.store.reading() as db:
            rows = db.execute(
                f"SELECT at, kind, device_n, coalesce(lat, {_NONE}), coalesce(lon, {_NONE}), coalesce(hdop, {_NONE}), "
                f"coalesce(speed, {_NONE}), coalesce(value, {_NONE}), late FROM device_events "
                "WHERE order_n = ? AND at >= ? AND at < ? ORDER BY at, kind", [n, start_ms, end_ms]).fetchall()
        if not rows:
            return np.zeros((0, 9)), []
        table = np.array(rows, dtype=np.float64)
        table[np.isinf(table)] = np.nan
        device_ns, index = np.unique(table[:, 2], return_inverse=True)
        table[:, 2] = index
        return table, [self._name(int(d)) for d in device_ns]

    def newest_at(self, order_id: str) -> int | None:
        n = self._lookup("order", [order_id]).get(order_id)
        if n is None:
            return None
        with self.store.reading() as db:
            return db.execute("SELECT max(at) FROM device_events WHERE order_n = ?", [n]).fetchone()[0]

    def last_contact_by_device(self) -> dict[str, int]:
        """Each device's newest event time."""
        with self.store.reading() as db:
            rows = db.execute("SELECT k.key, h.newest FROM device_high h JOIN telemetry_keys k ON k.n = h.device_n"
                              ).fetchall()
        return dict(rows)

    def last_heard(self, serials: Sequence[str]) -> dict[str, int]:
        """Each device's latest sign of life (a ``comms_lost`` is the network speaking, not it)."""
        out: dict[str, int] = {}
        with self.store.reading() as db:
            for i in range(0, len(serials), 500):
                chunk = list(serials[i:i + 500])
                out.update(db.execute(
                    "SELECT k.key, h.heard FROM device_high h JOIN telemetry_keys k ON k.n = h.device_n "
                    f"WHERE k.kind = 'device' AND k.key IN ({', '.join('?' * len(chunk))}) AND h.heard IS NOT NULL",
                    chunk).fetchall())
        return out

    def count(self, order_id: str | None = None) -> int:
        with self.store.reading() as db:
            if order_id is None:
                return db.execute("SELECT count(*) FROM device_events").fetchone()[0]
        n = self._lookup("order", [order_id]).get(order_id)
        if n is None:
            return 0
        with self.store.reading() as db:
            return db.execute("SELECT count(*) FROM device_events WHERE order_n = ?", [n]).fetchone()[0]

    # -- the engine's marks ------------------------------------------------------

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
            return db.execute("DELETE FROM device_events WHERE at < ?", [before_ms]).rowcount
