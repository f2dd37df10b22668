"""Versioned schema migrations, recorded in the database, each in one transaction.

Migrations are frozen once released: a later change adds a new step, it never edits
an old one, so a store made by any earlier version upgrades step by step.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlite_utils

# Every syncable table has the same bookkeeping columns, so sync needs no rewrite.
SYNC_COLUMNS = """
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    origin TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    hlc TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL
"""

# Table -> extra indexed columns at version 1 (the full record is in ``data``).
V1_TABLES = {
    "users": "username TEXT NOT NULL UNIQUE, role TEXT NOT NULL, region TEXT NOT NULL DEFAULT ''",
    "subjects": "family_name TEXT, given_name TEXT, postcode TEXT",
    "orders": """subject_id TEXT REFERENCES subjects(id) DEFERRABLE INITIALLY DEFERRED,
        reference TEXT, status TEXT NOT NULL, cohort TEXT, region TEXT, assigned_officer_id TEXT,
        problem_count INTEGER NOT NULL DEFAULT 0, start TEXT, "end" TEXT""",
    "devices": """serial TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, state TEXT NOT NULL, region TEXT,
        order_id TEXT REFERENCES orders(id) DEFERRABLE INITIALLY DEFERRED""",
    "visits": """order_id TEXT NOT NULL REFERENCES orders(id) DEFERRABLE INITIALLY DEFERRED,
        subject_id TEXT NOT NULL, officer_id TEXT, kind TEXT NOT NULL, status TEXT NOT NULL,
        window_start TEXT""",
    "telemetry": "device_serial TEXT NOT NULL, order_id TEXT, at TEXT NOT NULL, kind TEXT NOT NULL",
    "alerts": "order_id TEXT NOT NULL, subject_id TEXT, status TEXT NOT NULL, raised_at TEXT NOT NULL",
    "incidents": "order_id TEXT NOT NULL, subject_id TEXT",
    "breach_packs": "incident_id TEXT NOT NULL, order_id TEXT NOT NULL, status TEXT NOT NULL",
    "outcomes": "incident_id TEXT NOT NULL, order_id TEXT NOT NULL",
    "notes": "subject_id TEXT NOT NULL, order_id TEXT",
}


def _outbox_triggers(table: str) -> list[str]:
    # Fired inside the writing transaction, so a change and its outbox row commit
    # together or not at all.  Sync turns capture off while it applies pulled rows.
    body = (
        "INSERT INTO outbox(op_id, table_name, row_id, op, hlc, at, payload) VALUES ("
        "lower(hex(randomblob(16))), '{t}', NEW.id, "
        "CASE WHEN NEW.deleted THEN 'delete' ELSE 'upsert' END, NEW.hlc, NEW.updated_at, NEW.data);"
    ).format(t=table)
    guard = "WHEN (SELECT capture FROM sync_control) = 1"
    return [
        f"CREATE TRIGGER {table}_outbox_insert AFTER INSERT ON {table} {guard} BEGIN {body} END",
        f"CREATE TRIGGER {table}_outbox_update AFTER UPDATE ON {table} {guard} BEGIN {body} END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {guard} "
        f"BEGIN SELECT RAISE(ABORT, '{table}: rows are never deleted, set the tombstone'); END",
    ]


def _v1_initial(db: sqlite_utils.Database) -> None:
    ex = db.execute
    ex("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    ex("CREATE TABLE sync_control (id INTEGER PRIMARY KEY CHECK (id = 1), capture INTEGER NOT NULL)")
    ex("INSERT INTO sync_control VALUES (1, 1)")
    ex("""CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        op_id TEXT NOT NULL UNIQUE, table_name TEXT NOT NULL, row_id TEXT NOT NULL,
        op TEXT NOT NULL, hlc TEXT NOT NULL, at TEXT NOT NULL, payload TEXT NOT NULL)""")
    for table, extra in V1_TABLES.items():
        ex(f"CREATE TABLE {table} ({SYNC_COLUMNS}, {extra})")
        for trigger in _outbox_triggers(table):
            ex(trigger)
    ex("""CREATE TABLE credentials (
        user_id TEXT PRIMARY KEY REFERENCES users(id), password_hash TEXT NOT NULL,
        changed_at TEXT NOT NULL, failed_attempts INTEGER NOT NULL DEFAULT 0)""")
    ex("""CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        entity TEXT NOT NULL, entity_id TEXT NOT NULL, subject_id TEXT, detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""")
    ex("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
       "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    ex("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
       "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


def _v2_query_indexes_and_sync_state(db: sqlite_utils.Database) -> None:
    ex = db.execute
    for sql in (
        "CREATE INDEX orders_by_officer ON orders(assigned_officer_id, status)",
        "CREATE INDEX orders_by_region ON orders(region, status)",
        "CREATE INDEX orders_by_subject ON orders(subject_id)",
        "CREATE INDEX devices_by_state ON devices(state, region)",
        "CREATE INDEX visits_by_officer ON visits(officer_id, window_start)",
        "CREATE INDEX visits_by_order ON visits(order_id)",
        "CREATE INDEX telemetry_by_device ON telemetry(device_serial, at)",
        "CREATE INDEX alerts_by_status ON alerts(status, raised_at)",
        "CREATE INDEX audit_by_subject ON audit_log(subject_id)",
    ):
        ex(sql)
    # Where sync keeps its cursors and registration; filled by the sync work.
    ex("CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _v3_outbox_changed_fields_and_conflicts(db: sqlite_utils.Database) -> None:
    ex = db.execute
    # Which top-level fields an edit changed, so the hub can merge field by field.
    ex("ALTER TABLE outbox ADD COLUMN changed TEXT")
    # Values that lost a merge, kept for a supervisor to see (pulled from the hub).
    # Replicas hold partial scopes (a technician has devices, not orders; an officer can
    # hold a visit on a case that is not hers), so these references cannot be enforced
    # locally.  The tables are rebuilt without those foreign keys, triggers and indexes kept.
    for table, column in (("devices", "order_id"), ("visits", "order_id")):
        triggers = [r[0] for r in ex("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [table])]
        db[table].transform(drop_foreign_keys=[column])
        for sql in triggers:
            ex(sql)
    ex("""CREATE TABLE conflicts (
        id TEXT PRIMARY KEY, table_name TEXT NOT NULL, row_id TEXT NOT NULL, field TEXT NOT NULL,
        losing_value TEXT, losing_hlc TEXT NOT NULL, winning_hlc TEXT NOT NULL, at TEXT NOT NULL)""")


def _outbox_triggers_v4(table: str) -> list[str]:
    # As v1, and each outbox row carries the field action its change belongs to (if any),
    # so the hub can take an installation's rows as one unit.
    body = (
        "INSERT INTO outbox(op_id, table_name, row_id, op, hlc, at, payload, action, action_id) VALUES ("
        "lower(hex(randomblob(16))), '{t}', NEW.id, "
        "CASE WHEN NEW.deleted THEN 'delete' ELSE 'upsert' END, NEW.hlc, NEW.updated_at, NEW.data, "
        "(SELECT action FROM sync_control), (SELECT action_id FROM sync_control));"
    ).format(t=table)
    guard = "WHEN (SELECT capture FROM sync_control) = 1"
    return [
        f"CREATE TRIGGER {table}_outbox_insert AFTER INSERT ON {table} {guard} BEGIN {body} END",
        f"CREATE TRIGGER {table}_outbox_update AFTER UPDATE ON {table} {guard} BEGIN {body} END",
    ]


def _v4_field_actions(db: sqlite_utils.Database) -> None:
    ex = db.execute
    ex("ALTER TABLE outbox ADD COLUMN action TEXT")
    ex("ALTER TABLE outbox ADD COLUMN action_id TEXT")
    ex("CREATE INDEX outbox_by_action ON outbox(action_id) WHERE action_id IS NOT NULL")
    ex("ALTER TABLE sync_control ADD COLUMN action TEXT")
    ex("ALTER TABLE sync_control ADD COLUMN action_id TEXT")
    for table in V1_TABLES:
        ex(f"DROP TRIGGER {table}_outbox_insert")
        ex(f"DROP TRIGGER {table}_outbox_update")
        for trigger in _outbox_triggers_v4(table):
            ex(trigger)


V5_TABLES = {
    # Append-only: one row per tick, untick, answer or reading, never updated.
    "checklist_ticks": "visit_id TEXT NOT NULL, order_id TEXT, subject_id TEXT, step TEXT NOT NULL, at TEXT NOT NULL",
}


def _v5_checklist_ticks(db: sqlite_utils.Database) -> None:
    ex = db.execute
    for table, extra in V5_TABLES.items():
        ex(f"CREATE TABLE {table} ({SYNC_COLUMNS}, {extra})")
        for trigger in _outbox_triggers_v4(table):
            ex(trigger)
        ex(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} WHEN (SELECT capture FROM sync_control) = 1 "
           f"BEGIN SELECT RAISE(ABORT, '{table}: rows are never deleted, set the tombstone'); END")
    ex("CREATE INDEX checklist_ticks_by_visit ON checklist_ticks(visit_id, at)")


def _v6_device_events(db: sqlite_utils.Database) -> None:
    """Telemetry gets its own narrow, append-only table: it is the volume (a GPS tag sends
    1,440 fixes a day), so it skips the JSON body, the outbox and the audit that records
    carry; the hub feeds it to workstations by scope as a log of its own."""
    ex = db.execute
    # Orders and devices as small integers: the keys repeat on every row.
    ex("CREATE TABLE telemetry_keys (n INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, "
       "UNIQUE (kind, key))")
    # Event kinds by number (emdesk.domain.engine.events.KINDS; new kinds only ever append).
    ex("CREATE TABLE event_kinds (n INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
    for n, name in enumerate(_EVENT_KINDS_V6):
        ex("INSERT INTO event_kinds VALUES (?, ?)", [n, name])
    # Clustered by order and time: the engine reads an order's day as one range, and the
    # key is also what makes a resent event a no-op.
    ex("""CREATE TABLE device_events (
        order_n INTEGER NOT NULL, at INTEGER NOT NULL, kind INTEGER NOT NULL, device_n INTEGER NOT NULL,
        lat REAL, lon REAL, hdop REAL, speed REAL, value REAL,
        event_id TEXT, received INTEGER NOT NULL, late INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (order_n, at, kind, device_n)) WITHOUT ROWID""")
    # A bulk ingest lands rows here as they come (a plain heap: the cheapest write there is),
    # then folds them into device_events in key order in one statement, which SQLite does
    # several times faster than the same rows inserted one by one into the clustered table.
    ex("""CREATE TABLE device_events_inbox (
        order_n INTEGER NOT NULL, at INTEGER NOT NULL, kind INTEGER NOT NULL, device_n INTEGER NOT NULL,
        lat REAL, lon REAL, hdop REAL, speed REAL, value REAL,
        event_id TEXT, received INTEGER NOT NULL, late INTEGER NOT NULL DEFAULT 0)""")
    # Each device's newest event (late-delivery marks) and latest sign of life (silent kit).
    ex("CREATE TABLE device_high (device_n INTEGER PRIMARY KEY, newest INTEGER NOT NULL, heard INTEGER)")
    ex("""CREATE VIEW device_events_named AS SELECT o.key AS order_id, d.key AS device, e.at, k.name AS kind,
        e.lat, e.lon, e.hdop, e.speed, e.value, e.event_id, e.received, e.late FROM device_events e
        JOIN telemetry_keys o ON o.n = e.order_n JOIN telemetry_keys d ON d.n = e.device_n
        JOIN event_kinds k ON k.n = e.kind""")
    # Violation periods whose events changed since the engine last evaluated them: marked
    # in the transaction that stores the events, cleared in the one that stores the
    # incidents, so a killed ingest resumes where it stopped.
    ex("CREATE TABLE watch_dirty (order_id TEXT NOT NULL, period_start INTEGER NOT NULL, "
       "PRIMARY KEY (order_id, period_start)) WITHOUT ROWID")
    # Incidents and alerts are listed by status, period and priority (the queue reads them).
    for column in ("status TEXT", "period_start TEXT", "started_at TEXT", "ended_at TEXT", "priority INTEGER",
                   "reference TEXT", "region TEXT"):
        ex(f"ALTER TABLE incidents ADD COLUMN {column}")
    ex("CREATE INDEX incidents_by_order ON incidents(order_id, period_start)")
    ex("CREATE INDEX incidents_by_status ON incidents(status, priority)")
    ex("ALTER TABLE alerts ADD COLUMN incident_id TEXT")
    ex("ALTER TABLE alerts ADD COLUMN code TEXT")
    ex("CREATE INDEX alerts_by_incident ON alerts(incident_id)")
    # Telemetry edits still waiting to be pushed go with the record path they belonged to.
    ex("DELETE FROM outbox WHERE table_name = 'telemetry'")
    old = [r[0] for r in ex("SELECT data FROM telemetry WHERE deleted = 0 AND order_id IS NOT NULL")]
    if old:
        import json
        keys: dict[tuple[str, str], int] = {}

        def key(kind: str, value: str) -> int:
            if (kind, value) not in keys:
                ex("INSERT OR IGNORE INTO telemetry_keys (kind, key) VALUES (?, ?)", [kind, value])
                keys[(kind, value)] = ex("SELECT n FROM telemetry_keys WHERE kind = ? AND key = ?",
                                         [kind, value]).fetchone()[0]
            return keys[(kind, value)]

        kinds = {name: n for n, name in enumerate(_EVENT_KINDS_V6)}
        rows = []
        for data in old:
            e = json.loads(data)
            at = datetime.fromisoformat(e["at"].replace("Z", "+00:00"))
            at_ms = int(round(at.timestamp() * 1000))
            if e["kind"] in kinds:
                rows.append((key("order", e["order_id"]), at_ms, kinds[e["kind"]], key("device", e["device_serial"]),
                             e.get("lat"), e.get("lon"), e.get("hdop"), None, e.get("value"), e.get("id"), at_ms))
        db.conn.executemany(
            "INSERT OR IGNORE INTO device_events (order_n, at, kind, device_n, lat, lon, hdop, speed, value, "
            "event_id, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        ex("INSERT INTO device_high (device_n, newest, heard) SELECT device_n, max(at), max(CASE WHEN kind != ? "
           "THEN at END) FROM device_events GROUP BY device_n", [kinds["comms_lost"]])


# The event kinds as released with v6, in code order (frozen, as migrations are).
_EVENT_KINDS_V6 = (
    "position", "hmu_range_in", "hmu_range_out", "hmu_power_off", "hmu_power_on", "hmu_moved", "strap_tamper",
    "body_tamper", "case_tamper", "battery_level", "battery_low", "battery_dead", "charging", "device_fault",
    "comms_lost", "comms_restored", "no_fix", "alcohol_reading", "checkin",
)


# What the live queue shows of an incident, projected from the row being written (``r``).
_QUEUE_COLUMNS = ("id", "deleted", "order_id", "subject_id", "reference", "subject_name", "region", "cohort",
                  "condition", "codes", "status", "priority", "reasons", "technical", "started_at", "ended_at",
                  "seconds", "period_start", "seq")


def _queue_projection(r: str) -> str:
    return (f"{r}.id, {r}.deleted, {r}.order_id, {r}.subject_id, {r}.reference, "
            "(SELECT trim(coalesce(given_name, '') || ' ' || coalesce(family_name, '')) FROM subjects "
            f"WHERE id = {r}.subject_id), {r}.region, (SELECT cohort FROM orders WHERE id = {r}.order_id), "
            f"json_extract({r}.data, '$.condition'), json_extract({r}.data, '$.codes'), {r}.status, {r}.priority, "
            f"json_extract({r}.data, '$.reasons'), json_extract({r}.data, '$.technical'), {r}.started_at, "
            f"{r}.ended_at, json_extract({r}.data, '$.seconds'), {r}.period_start, (SELECT n FROM incident_queue_clock)")


def _v7_incident_queue(db: sqlite_utils.Database) -> None:
    """The live queue's rows: a narrow copy of what it shows of each incident (the order's
    cohort and the wearer's name joined in), kept by triggers in the writing transaction.

    100,000 incidents read from here in one plain scan instead of one JSON parse each.
    ``seq`` is a local change counter (``incident_queue_clock``, moved on by every write), so
    the queue asks "what changed since I looked?" with one range read: neither ``updated_at``
    nor ``hlc`` can serve, since rows pulled from the hub keep the stamps another desktop gave
    them, which may sort before a cursor this desktop has already handed out.  The triggers
    fire on every write however it comes (a local edit, the engine, sync, an eviction).

    They use no conflict clause (INSERT OR REPLACE): sync writes with an upsert, and the
    outer statement's conflict handling would override a trigger's."""
    ex = db.execute
    ex("CREATE TABLE incident_queue_clock (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)")
    ex("INSERT INTO incident_queue_clock VALUES (1, 0)")
    ex("""CREATE TABLE incident_queue (
        id TEXT PRIMARY KEY, deleted INTEGER NOT NULL DEFAULT 0,
        order_id TEXT, subject_id TEXT, reference TEXT, subject_name TEXT, region TEXT, cohort TEXT,
        condition TEXT, codes TEXT, status TEXT, priority INTEGER, reasons TEXT, technical INTEGER,
        started_at TEXT, ended_at TEXT, seconds REAL, period_start TEXT, seq INTEGER NOT NULL) WITHOUT ROWID""")
    ex("CREATE INDEX incident_queue_by_seq ON incident_queue(seq)")
    ex("CREATE INDEX incident_queue_by_order ON incident_queue(order_id)")
    ex("CREATE INDEX incident_queue_by_subject ON incident_queue(subject_id)")
    tick = "UPDATE incident_queue_clock SET n = n + 1;"
    put = (f"{tick} DELETE FROM incident_queue WHERE id = NEW.id; "
           f"INSERT INTO incident_queue ({', '.join(_QUEUE_COLUMNS)}) SELECT {_queue_projection('NEW')};")
    ex(f"CREATE TRIGGER incidents_queue_insert AFTER INSERT ON incidents BEGIN {put} END")
    ex(f"CREATE TRIGGER incidents_queue_update AFTER UPDATE ON incidents BEGIN {put} END")
    # Evicted by sync or cleared for a fresh bootstrap: the id stays, so the queue hears of it.
    ex(f"CREATE TRIGGER incidents_queue_delete AFTER DELETE ON incidents BEGIN {tick} "
       "UPDATE incident_queue SET deleted = 1, region = NULL, seq = (SELECT n FROM incident_queue_clock) "
       "WHERE id = OLD.id; END")
    # The queue's rows carry the order's cohort and the wearer's name: a change to either (or
    # their late arrival by sync) is a change to the order's incidents.
    cohort = (f"{tick} UPDATE incident_queue SET cohort = NEW.cohort, seq = (SELECT n FROM incident_queue_clock) "
              "WHERE order_id = NEW.id;")
    name = (f"{tick} UPDATE incident_queue SET subject_name = trim(coalesce(NEW.given_name, '') || ' ' || "
            "coalesce(NEW.family_name, '')), seq = (SELECT n FROM incident_queue_clock) WHERE subject_id = NEW.id;")
    ex(f"CREATE TRIGGER orders_queue_insert AFTER INSERT ON orders "
       f"WHEN EXISTS (SELECT 1 FROM incident_queue WHERE order_id = NEW.id) BEGIN {cohort} END")
    ex(f"CREATE TRIGGER orders_queue_update AFTER UPDATE ON orders WHEN OLD.cohort IS NOT NEW.cohort BEGIN {cohort} END")
    ex(f"CREATE TRIGGER subjects_queue_insert AFTER INSERT ON subjects "
       f"WHEN EXISTS (SELECT 1 FROM incident_queue WHERE subject_id = NEW.id) BEGIN {name} END")
    ex(f"CREATE TRIGGER subjects_queue_update AFTER UPDATE ON subjects WHEN OLD.given_name IS NOT NEW.given_name "
       f"OR OLD.family_name IS NOT NEW.family_name BEGIN {name} END")
    ex("UPDATE incident_queue_clock SET n = 1")
    ex(f"INSERT INTO incident_queue ({', '.join(_QUEUE_COLUMNS)}) SELECT {_queue_projection('i')} FROM incidents i")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[sqlite_utils.Database], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _v1_initial),
    Migration(2, "query indexes and sync state", _v2_query_indexes_and_sync_state),
    Migration(3, "outbox changed fields and merge conflicts", _v3_outbox_changed_fields_and_conflicts),
    Migration(4, "field actions in the outbox", _v4_field_actions),
    Migration(5, "checklist ticks", _v5_checklist_ticks),
    Migration(6, "device events: telemetry in its own narrow table", _v6_device_events),
    Migration(7, "the live incident queue's rows and change counter", _v7_incident_queue),
)

LATEST = MIGRATIONS[-1].version


def current_version(db: sqlite_utils.Database) -> int:
    if "schema_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def migrate(db: sqlite_utils.Database, *, up_to: int = LATEST) -> list[int]:
    """Apply pending migrations in order; returns the versions applied."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
               "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    have = current_version(db)
    if have > LATEST:
        from .errors import StoreError
        raise StoreError(f"this store has schema version {have}, newer than this emdesk ({LATEST}): upgrade emdesk")
    applied = []
    for m in MIGRATIONS:
        if m.version <= have or m.version > up_to:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            m.apply(db)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                       [m.version, m.name, datetime.now(timezone.utc).isoformat()])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        applied.append(m.version)
    return applied
