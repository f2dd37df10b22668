"""The hub's device events: a narrow append-only table and the engine's dirty-period marks.

The same columns as the desktop's ``device_events`` (``emdesk.store.telemetry.COLUMNS``)
plus ``seq``, the hub's own sequence, which the telemetry feed pages by.  Appends take a
lock of their own (``EVENTS_LOCK`` on PostgreSQL, held to COMMIT; SQLite has one writer
anyway), so seqs are allocated and become visible in order, as the record feed's are, and
a desktop whose cursor passed a seq never misses an earlier one.  They do not take the
record writes' lock: a national ingest does not hold up desktops' pushes.

  hub_device_events  (seq, order_id, device, at, kind, ...) unique (device, at, kind)
  hub_watch_dirty    (order_id, period_start) -> gen: periods whose events changed since the
                     engine last evaluated them; ``gen`` grows when a period is marked again,
                     so an evaluation clears only the marks it has seen.
  hub_device_contact device -> its newest event time, kept with every append: ingest asks for
                     every device's at the start, which a GROUP BY over a year of a nation's
                     events could not answer in time.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from emdesk.store.telemetry import COLUMNS

if TYPE_CHECKING:
    from .storage import Tx

EVENTS_LOCK = 0x656D64736B + 1     # the advisory lock id for event appends (one past the write lock)
TABLES = ("hub_device_events", "hub_watch_dirty", "hub_device_contact")
NAMES = ", ".join(COLUMNS)
FEED_COLUMNS = ("seq", *COLUMNS)

_TYPES = {"order_id": "TEXT NOT NULL", "device": "TEXT NOT NULL", "at": "BIGINT NOT NULL", "kind": "TEXT NOT NULL",
          "lat": "{real}", "lon": "{real}", "hdop": "{real}", "speed": "{real}", "value": "{real}",
          "event_id": "TEXT", "received": "BIGINT NOT NULL", "late": "INTEGER NOT NULL DEFAULT 0"}


def schema(kind: str) -> tuple[str, ...]:
    """The DDL for ``kind`` ('sqlite' or 'postgresql'): the sequence column and REAL differ
    (PostgreSQL's REAL is single precision: a position would lose metres)."""
    if kind == "sqlite":
        # AUTOINCREMENT: a seq is never reused once pruned events are gone.
        seq, real = "seq INTEGER PRIMARY KEY AUTOINCREMENT", "REAL"
    else:
        seq, real = "seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "DOUBLE PRECISION"
    columns = ", ".join(f"{name} {_TYPES[name].format(real=real)}" for name in COLUMNS)
    return (
        f"CREATE TABLE IF NOT EXISTS hub_device_events ({seq}, {columns})",
        "CREATE UNIQUE INDEX IF NOT EXISTS hub_device_events_once ON hub_device_events (device, at, kind)",
        "CREATE INDEX IF NOT EXISTS hub_device_events_by_order ON hub_device_events (order_id, at)",
        "CREATE TABLE IF NOT EXISTS hub_watch_dirty (order_id TEXT NOT NULL, period_start BIGINT NOT NULL, "
        "gen BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (order_id, period_start))",
        "CREATE TABLE IF NOT EXISTS hub_device_contact (device TEXT PRIMARY KEY, at BIGINT NOT NULL)",
    )


# PostgreSQL, the second line of defence (see postgres.py): events are read by the hub as
# 'all' (the engine) or as a region (the feed); a region sees its own orders' events only.
POLICIES = {
    "hub_device_events": (
        "CREATE POLICY scope_read ON hub_device_events FOR SELECT TO {role} USING (emdesk_principal() = 'all' OR "
        "(emdesk_principal() LIKE 'region:%' AND EXISTS (SELECT 1 FROM hub_rows o WHERE o.tbl = 'orders' "
        "AND o.id = hub_device_events.order_id AND o.case_region = substr(emdesk_principal(), 8))))",
        "CREATE POLICY hub_insert ON hub_device_events FOR INSERT TO {role} WITH CHECK (emdesk_principal() = 'all')",
        "CREATE POLICY hub_delete ON hub_device_events FOR DELETE TO {role} USING (emdesk_principal() = 'all')",
    ),
    **{table: (f"CREATE POLICY engine_only ON {table} TO {{role}} USING (emdesk_principal() = 'all') "
               "WITH CHECK (emdesk_principal() = 'all')",) for table in ("hub_watch_dirty", "hub_device_contact")},
}
GRANTS = {"hub_device_events": "SELECT, INSERT, DELETE", "hub_watch_dirty": "SELECT, INSERT, UPDATE, DELETE",
          "hub_device_contact": "SELECT, INSERT, UPDATE"}

_INSERT = (f"INSERT INTO hub_device_events ({NAMES}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
           "ON CONFLICT DO NOTHING")
_CONTACT = ("INSERT INTO hub_device_contact (device, at) {rows} ON CONFLICT (device) DO UPDATE "
            "SET at = CASE WHEN excluded.at > hub_device_contact.at THEN excluded.at ELSE hub_device_contact.at END")
_MARK = ("INSERT INTO hub_watch_dirty (order_id, period_start, gen) VALUES (?, ?, 0) "
         "ON CONFLICT (order_id, period_start) DO UPDATE SET gen = hub_watch_dirty.gen + 1")


def insert_events(tx: "Tx", rows: Sequence[Sequence]) -> int:
    """Store events, duplicates (device, at, kind) ignored; returns how many were new.
    PostgreSQL: COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING (COPY
    itself neither skips duplicates nor runs under row-level security)."""
    if not rows:
        return 0
    tx.flush_writes()
    if getattr(tx, "_pg", False):
        return _copy_events(tx, rows)
    cur = tx.conn.cursor()
    before = tx.conn.total_changes
    cur.executemany(_INSERT, [tuple(r) for r in rows])
    added = tx.conn.total_changes - before
    _contacts(tx, rows)
    return added


def _contacts(tx: "Tx", rows: Sequence[Sequence]) -> None:
    newest: dict[str, int] = {}
    for r in rows:
        if r[2] > newest.get(r[1], r[2] - 1):
            newest[r[1]] = r[2]
    tx.executemany(_CONTACT.format(rows="VALUES (?, ?)"), sorted(newest.items()))


def _copy_events(tx: "Tx", rows: Sequence[Sequence]) -> int:
    with tx.conn.cursor() as cur:
        if not tx.memo.get("bulk_events"):
            # One per connection, emptied at every COMMIT; typed as the hub table's columns.
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS bulk_device_events AS "
                        f"SELECT {NAMES} FROM hub_device_events WITH NO DATA")
            tx.memo["bulk_events"] = True
        cur.execute("TRUNCATE bulk_device_events")
        with cur.copy(f"COPY bulk_device_events ({NAMES}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(f"INSERT INTO hub_device_events ({NAMES}) SELECT {NAMES} FROM bulk_device_events "
                    "ORDER BY at ON CONFLICT DO NOTHING")
        added = cur.rowcount
        cur.execute(_CONTACT.format(rows="SELECT device, max(at) FROM bulk_device_events GROUP BY device"))
        cur.execute("TRUNCATE bulk_device_events")
        return added


def mark_dirty(tx: "Tx", marks: Iterable[tuple[str, int]]) -> None:
    marks = sorted(set((str(o), int(p)) for o, p in marks))
    if marks:
        tx.executemany(_MARK, marks)


def clear_dirty(tx: "Tx", marks: Iterable[tuple[str, int]], seen: dict[tuple[str, int], int]) -> None:
    """Clear marks the engine has evaluated: those it read (``seen``: their gen then) only if
    not marked again since; others as they are."""
    known = [(o, p, seen[(o, p)]) for o, p in marks if (o, p) in seen]
    other = [(o, p) for o, p in marks if (o, p) not in seen]
    if known:
        tx.executemany("DELETE FROM hub_watch_dirty WHERE order_id = ? AND period_start = ? AND gen = ?", known)
    if other:
        tx.executemany("DELETE FROM hub_watch_dirty WHERE order_id = ? AND period_start = ?", other)


# -- hubs that kept telemetry as records ---------------------------------------------------


class _OldEvent(msgspec.Struct, forbid_unknown_fields=False):
    id: str = ""
    device_serial: str = ""
    order_id: str | None = None
    at: str = ""
    kind: str = ""
    lat: float | None = None
    lon: float | None = None
    hdop: float | None = None
    value: float | None = None
    deleted: bool = False


def migrate_record_telemetry(tx: "Tx") -> int:
    """Telemetry a hub kept as records (``hub_rows`` tbl 'telemetry', before it had its own
    table) moved into ``hub_device_events``, and the records, their audiences and feed entries
    dropped; returns how many events moved.  Run where the schema is made (the owner's
    connection on PostgreSQL); nothing to do on a hub that never had them."""
    texts = tx.all("SELECT data FROM hub_rows WHERE tbl = 'telemetry'")
    rows = []
    for (text,) in texts:
        e = msgspec.json.decode(text, type=_OldEvent)
        if e.deleted or not e.order_id or not e.at:
            continue
        at = round(datetime.fromisoformat(e.at.replace("Z", "+00:00")).timestamp() * 1000)
        rows.append((e.order_id, e.device_serial, at, e.kind, e.lat, e.lon, e.hdop, None, e.value, e.id or None,
                     at, 0))
    if rows:
        tx.executemany(_INSERT, rows)
        _contacts(tx, rows)
    if texts:
        for table, column in (("change_log", "tbl"), ("row_audience", "tbl"), ("hub_rows", "tbl"),
                              ("purged", "tbl")):
            tx.execute(f"DELETE FROM {table} WHERE {column} = 'telemetry'")
    return len(rows)


# -- loading ------------------------------------------------------------------------------


def lock_events(tx: "Tx") -> None:
    """Inside a record write (``Hub.load``): take the event appends' lock too, so the events'
    seqs still become visible in order (taken after the write lock, never before it)."""
    if getattr(tx, "_pg", False):
        tx.execute("SELECT pg_advisory_xact_lock(?)", [EVENTS_LOCK])


def rows_of(events: Iterable) -> tuple[list[tuple], int]:
    """``TelemetryEvent``s as device-event rows (received when they happened, as the desktop's
    migration does), and how many were left out for naming no order."""
    rows, orphans = [], 0
    for e in events:
        if not e.order_id or e.deleted:
            orphans += 1
            continue
        at = round(e.at.timestamp() * 1000)
        rows.append((e.order_id, e.device_serial, at, getattr(e.kind, "value", e.kind), e.lat, e.lon, e.hdop, None,
                     e.value, e.id, at, 0))
    return rows, orphans
