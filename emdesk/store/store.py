"""The Store: one local database file, opened once, used from any thread.

Every use takes one lock, so there is a single writer (SQLite's own rule) and reads
never see a half-applied change.  Records go in and out as domain objects; the JSON
of the whole record sits in ``data`` and a few columns are pulled out for queries.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import sqlite_utils

from emdesk.domain import hlc
from emdesk.domain.clock import Clock, SystemClock
from emdesk.domain.ids import new_id
from emdesk.domain.records import Record

from . import audit, migrations
from .connection import connect, database_errors, not_a_store
from .errors import StoreError, StoreLocked
from .keyring import Keyring
from .tables import BY_TABLE, columns_for, stamp, subject_of

R = TypeVar("R", bound=Record)

_encoder = msgspec.json.Encoder()
_decoders: dict[type, msgspec.json.Decoder] = {}


def encode(record: Record) -> str:
    return _encoder.encode(record).decode()


def decode(cls: type[R], data: str | bytes) -> R:
    dec = _decoders.get(cls)
    if dec is None:
        dec = _decoders[cls] = msgspec.json.Decoder(cls)
    return dec.decode(data)


def _changed_fields(before: str, after: str) -> str:
    old, new = msgspec.json.decode(before), msgspec.json.decode(after)
    return msgspec.json.encode(sorted(k for k in new if old.get(k) != new[k] and k not in _STAMPS)).decode()


_STAMPS = {"updated_at", "origin", "hlc"}
_OUTBOX_COLUMNS = "seq, op_id, table_name, row_id, op, hlc, payload, changed, action, action_id"


def _row(record: Record, data: str | None = None) -> dict[str, Any]:
    """The table row for a record: bookkeeping, the whole record as JSON (``data``, when the
    caller has it encoded already), indexed columns."""
    created = stamp(record.created_at)
    updated = created if record.updated_at == record.created_at else stamp(record.updated_at)
    return {"id": record.id, "created_at": created, "updated_at": updated,
            "origin": record.origin, "deleted": int(record.deleted), "hlc": record.hlc,
            "data": encode(record) if data is None else data, **columns_for(record)}


def replica_row(record: Record, data: str | None = None) -> tuple[tuple[str, ...], list[Any]]:
    """The column names and values of a record's table row, as a replica holds it (for a
    hub that ships bootstrap pages as ready rows, ``Store.apply_remote_rows``); ``data``: the
    record's JSON (``encode(record)``) if the caller has it."""
    row = _row(record, data)
    return tuple(row), list(row.values())


class Store:
    def __init__(self, db: sqlite_utils.Database, path: Path, *, encrypted: bool, clock: Clock | None = None):
        self.db = db
        self.path = path
        self.encrypted = encrypted
        self.clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._depth = 0
        migrations.migrate(db)
        self.desktop_id = self._meta_default("desktop_id", lambda: new_id())
        last = self.meta("hlc_last")
        self._hlc = hlc.Stamp.parse(last) if last else None
        # The newest stamp the hub has sent this desktop or answered for (see restamp_outbox).
        self._synced = self.meta("hlc_synced") or ""
        self._json_inserts: dict[tuple, str] = {}     # (table, columns) -> INSERT ... FROM json_each
        self._telemetry = None
        self._key: bytes | None = None

    # -- opening ---------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, *, plain: bool = False, clock: Clock | None = None) -> tuple["Store", bytes | None]:
        """A new store; encrypted unless ``plain`` is asked for.  Returns the data key,
        which the caller wraps for the first account (``add_key_slot``)."""
        path = Path(path)
        if path.exists() or Path(str(path) + ".keys").exists():
            raise StoreError(f"{path}: a store is already there; open it, or choose another path")
        path.parent.mkdir(parents=True, exist_ok=True)
        ring, key = Keyring.new(path, plain=plain)
        ring.save()
        store = cls(connect(path, key), path, encrypted=not plain, clock=clock)
        store._key = key
        return store, key

    @classmethod
    def open(cls, path: str | Path, *, key: bytes | None = None, clock: Clock | None = None) -> "Store":
        path = Path(path)
        if not path.exists():
            raise StoreError(f"{path}: no store there; create one with `emdesk init --db {path}` or run `emdesk demo`")
        what = not_a_store(path)
        if what:
            raise StoreError(what)
        ring = Keyring.load(path)
        if ring is None:
            raise StoreError(f"{path}: no key file beside it ({path}.keys), so it is not an emdesk store or its "
                             "key file was lost: restore both from backup")
        if not ring.plain and key is None:
            raise StoreLocked(f"{path} is encrypted: sign in to unlock it")
        db = connect(path, None if ring.plain else key)
        try:
            store = cls(db, path, encrypted=not ring.plain, clock=clock)
            store._key = None if ring.plain else key
            return store
        except database_errors() as exc:
            db.conn.close()
            raise StoreError(f"{path} is damaged ({exc}): restore it from backup") from exc

    @classmethod
    def unlock(cls, path: str | Path, username: str, password: str, *, clock: Clock | None = None) -> "Store":
        """Open a store with an account's password (plain stores need none)."""
        what = not_a_store(path) if Path(path).exists() else None
        if what:
            raise StoreError(what)
        ring = Keyring.load(path)
        if ring is None:
            raise StoreError(f"{path}: no key file beside it ({path}.keys), so it is not an emdesk store or its "
                             "key file was lost: restore both from backup")
        key = None if ring.plain else ring.unlock(username, password)
        return cls.open(path, key=key, clock=clock)

    def add_key_slot(self, username: str, password: str, key: bytes | None) -> None:
        """Let an account unlock this store with its own password."""
        ring = Keyring.load(self.path)
        if ring is None or ring.plain:
            return
        if key is None:
            raise StoreError("the data key is needed to add an account to an encrypted store")
        ring.add(username, password, key)
        ring.save()

    def opening(self) -> tuple[Path, bytes | None]:
        """What opens this store again (another process working beside this one)."""
        return self.path, self._key

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    @property
    def telemetry(self) -> "TelemetryLog":
        """The device-event log (telemetry), kept apart from the records."""
        from .telemetry import TelemetryLog
        if self._telemetry is None:
            self._telemetry = TelemetryLog(self)
        return self._telemetry

    # -- transactions ----------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction (nested calls join the outer one)."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self.db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self.db
            except BaseException:
                self._depth -= 1
                if outer:
                    self.db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                try:
                    self.db.execute("COMMIT")
                except BaseException:
                    # A deferred foreign key fails at COMMIT and leaves it open.
                    self.db.execute("ROLLBACK")
                    raise

    @contextmanager
    def durable(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction that is on disk when it returns, power cut or not: the write-ahead
        log is synced at its commit (``synchronous = FULL``; the store's usual NORMAL survives a
        crashed process but may lose the last commits to a power cut).  For what an officer must
        never do twice (a checklist tick); a few milliseconds more per commit."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self.db.execute("PRAGMA synchronous = FULL")
            try:
                with self.transaction() as db:
                    yield db
            finally:
                if outer:
                    self.db.execute("PRAGMA synchronous = NORMAL")

    @contextmanager
    def action(self, kind: str) -> Iterator[sqlite_utils.Database]:
        """One write transaction whose changes form a field action (an installation, a
        removal...): they travel to the hub together, and it takes all of them or none."""
        with self.transaction() as db:
            if db.execute("SELECT action_id FROM sync_control").fetchone()[0] is not None:
                raise StoreError("a field action cannot contain another one")
            db.execute("UPDATE sync_control SET action = ?, action_id = ?", [getattr(kind, "value", kind), new_id()])
            try:
                yield db
            finally:
                db.execute("UPDATE sync_control SET action = NULL, action_id = NULL")

    @contextmanager
    def bulk_loading(self) -> Iterator[None]:
        """Many transactions of many rows in a row (a first sync): the write-ahead log is
        folded into the database once at the end instead of every thousand pages, which
        measured 15-20% faster.  Each transaction still commits (and survives a kill) as usual;
        the setting is the connection's own and ends with it."""
        with self._lock:
            self.db.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            yield
        finally:
            with self._lock:
                self.db.execute("PRAGMA wal_autocheckpoint = 1000")
                self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    @contextmanager
    def reading(self) -> Iterator[sqlite_utils.Database]:
        with self._lock:
            yield self.db

    # -- meta ------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        with self.reading() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
            return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    def _meta_default(self, key: str, make) -> str:
        value = self.meta(key)
        if value is None:
            value = make()
            self.set_meta(key, value)
        return value

    @property
    def schema_version(self) -> int:
        with self.reading() as db:
            return migrations.current_version(db)

    # -- records ---------------------------------------------------------------

    def _next_stamp(self) -> str:
        now_ms = int(self.clock.now().timestamp() * 1000)
        self._hlc = hlc.tick(self._hlc, now_ms, self.desktop_id[-12:])
        return str(self._hlc)

    def put(self, record: R, *, actor: str = "system", audit_action: str | None = None) -> R:
        return self.put_many([record], actor=actor, audit_action=audit_action)[0]

    def put_many(self, records: Iterable[R], *, actor: str = "system", audit_action: str | None = None) -> list[R]:
        """Insert or update records, stamping them; changes to a person's record are audited."""
        out: list[R] = []
        with self.transaction() as db:
            now = self.clock.now()
            for record in records:
                table = type(record).table
                existing = db.execute(f"SELECT created_at, data FROM {table} WHERE id = ?", [record.id]).fetchone()
                record = record.evolve(
                    created_at=record.created_at or now,
                    updated_at=now,
                    origin=self.desktop_id,
                    hlc=self._next_stamp(),
                )
                row = _row(record)
                if existing:
                    sets = ", ".join(f'"{k}" = ?' for k in row if k != "id")
                    db.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*(v for k, v in row.items() if k != "id"), record.id])
                else:
                    cols = ", ".join(f'"{k}"' for k in row)
                    db.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
                if existing:
                    db.execute("UPDATE outbox SET changed = ? WHERE seq = (SELECT max(seq) FROM outbox) AND row_id = ?",
                               [_changed_fields(existing[1], row["data"]), record.id])
                subject_id = subject_of(record)
                if subject_id or table == "users":
                    action = audit_action or ("delete" if record.deleted else "update" if existing else "create")
                    audit.append(db, at=now, actor=actor, action=action, entity=table,
                                 entity_id=record.id, subject_id=subject_id)
                out.append(record)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_last', ?)", [str(self._hlc)])
        return out

    def tombstone(self, cls: type[R], record_id: str, *, actor: str = "system") -> R:
        record = self.get(cls, record_id)
        if record is None:
            raise StoreError(f"{cls.table}: no record {record_id}")
        return self.put(record.evolve(deleted=True), actor=actor)

    def get(self, cls: type[R], record_id: str, *, include_deleted: bool = False) -> R | None:
        with self.reading() as db:
            row = db.execute(f"SELECT data, deleted FROM {cls.table} WHERE id = ?", [record_id]).fetchone()
        if row is None or (row[1] and not include_deleted):
            return None
        return decode(cls, row[0])

    def get_many(self, cls: type[R], ids: Iterable[str]) -> dict[str, R]:
        ids = list(dict.fromkeys(i for i in ids if i))
        out: dict[str, R] = {}
        for start in range(0, len(ids), 500):
            for record in self.find(cls, where={"id": ids[start:start + 500]}):
                out[record.id] = record
        return out

    def find(self, cls: type[R], *, where: dict[str, Any] | None = None, order_by: str | None = None,
             limit: int | None = None, include_deleted: bool = False) -> list[R]:
        """Records whose indexed columns equal the given values (a list means any of)."""
        sql, args = self._where(cls, where, include_deleted)
        if order_by:
            sql += f" ORDER BY {order_by}"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.reading() as db:
            rows = db.execute(f"SELECT data FROM {cls.table}{sql}", args).fetchall()
        return [decode(cls, r[0]) for r in rows]

    def find_by_field(self, cls: type[R], path: str, value: Any, *, limit: int = 10) -> list[R]:
        """Live records whose JSON field at ``path`` ("identifiers.pnc") equals ``value``: for
        the rare look-ups on fields that have no column (matching a person on import)."""
        if not all(part.replace("_", "").isalnum() for part in path.split(".")):
            raise ValueError(f"bad field path {path!r}")
        with self.reading() as db:
            rows = db.execute(f"SELECT data FROM {cls.table} WHERE deleted = 0 AND json_extract(data, ?) = ? "
                              f"ORDER BY id LIMIT {int(limit)}", [f"$.{path}", value]).fetchall()
        return [decode(cls, r[0]) for r in rows]

    def latest_by(self, cls: type[R], group_column: str, time_column: str, *,
                  where: dict[str, Any] | None = None) -> dict[Any, Any]:
        """The greatest ``time_column`` per value of ``group_column`` among matching records,
        as stored (instants are fixed-width UTC text), e.g. each device's last event time."""
        for column in (group_column, time_column):
            if not column.replace("_", "").isalnum():
                raise ValueError(f"bad column name {column!r}")
        sql, args = self._where(cls, where, False)
        with self.reading() as db:
            rows = db.execute(f'SELECT "{group_column}", max("{time_column}") FROM {cls.table}{sql} '
                              f'GROUP BY "{group_column}"', args).fetchall()
        return {group: latest for group, latest in rows}

    def count(self, cls: type[R], *, where: dict[str, Any] | None = None) -> int:
        sql, args = self._where(cls, where, False)
        with self.reading() as db:
            return db.execute(f"SELECT count(*) FROM {cls.table}{sql}", args).fetchone()[0]

    @staticmethod
    def _where(cls: type[Record], where: dict[str, Any] | None, include_deleted: bool) -> tuple[str, list]:
        clauses, args = [], []
        if not include_deleted:
            clauses.append("deleted = 0")
        for key, value in (where or {}).items():
            if not key.replace("_", "").isalnum():
                raise ValueError(f"bad column name {key!r}")
            if isinstance(value, (list, tuple, set, frozenset)):
                values = [getattr(v, "value", v) for v in value]
                clauses.append(f'"{key}" IN ({", ".join("?" * len(values))})')
                args.extend(values)
            elif value is None:
                clauses.append(f'"{key}" IS NULL')
            else:
                clauses.append(f'"{key}" = ?')
                args.append(getattr(value, "value", value))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    # -- audit -----------------------------------------------------------------

    def audit_view(self, *, actor: str, entity: str, entity_id: str, subject_id: str | None,
                   action: str = "view", detail: dict | None = None) -> None:
        """Record that someone looked at a person's record."""
        with self.transaction() as db:
            audit.append(db, at=self.clock.now(), actor=actor, action=action, entity=entity,
                         entity_id=entity_id, subject_id=subject_id, detail=detail)

    def audit_entries(self, *, subject_id: str | None = None, limit: int | None = None) -> list[audit.AuditEntry]:
        with self.reading() as db:
            return audit.entries(db, subject_id=subject_id, limit=limit)

    def audit_head(self) -> tuple[int, str]:
        with self.reading() as db:
            return audit.head(db)

    def audit_hash_at(self, seq: int) -> str:
        with self.reading() as db:
            return audit.hash_at(db, seq)

    def verify_audit(self) -> audit.AuditVerdict:
        with self.reading() as db:
            return audit.verify(db)

    # -- credentials -----------------------------------------------------------

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO credentials (user_id, password_hash, changed_at, failed_attempts) "
                       "VALUES (?, ?, ?, 0)", [user_id, password_hash, stamp(self.clock.now())])

    def password_hash(self, user_id: str) -> str | None:
        with self.reading() as db:
            row = db.execute("SELECT password_hash FROM credentials WHERE user_id = ?", [user_id]).fetchone()
        return row[0] if row else None

    # -- outbox ----------------------------------------------------------------

    def outbox(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT seq, op_id, table_name, row_id, op, hlc, at, payload FROM outbox ORDER BY seq"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.reading() as db:
            cur = db.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def outbox_count(self) -> int:
        with self.reading() as db:
            return db.execute("SELECT count(*) FROM outbox").fetchone()[0]

    @staticmethod
    def record_class(table: str) -> type[Record]:
        return BY_TABLE[table]

    # -- sync ------------------------------------------------------------------
    # Used only by emdesk.sync: rows that arrive from the hub are applied with
    # change capture off (they are not local edits), together with the cursor.

    def sync_value(self, key: str) -> str | None:
        with self.reading() as db:
            row = db.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
            return row[0] if row else None

    def set_sync_value(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)", [key, value])

    @contextmanager
    def applying_remote(self) -> Iterator[sqlite_utils.Database]:
        """One transaction in which writes are not captured into the outbox."""
        with self.transaction() as db:
            db.execute("UPDATE sync_control SET capture = 0")
            try:
                yield db
            finally:
                db.execute("UPDATE sync_control SET capture = 1")
            if self._hlc is not None:
                # The clock has seen the applied stamps: keep that with them, so an edit made
                # after a restart still sorts after every version this desktop holds.
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_last', ?)", [str(self._hlc)])
            if self._synced:
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_synced', ?)", [self._synced])

    def apply_remote(self, table: str, payload: str | bytes) -> None:
        """Write the hub's version of a row (inside ``applying_remote``)."""
        self.apply_remote_many(table, [payload])

    def apply_remote_many(self, table: str, payloads: Iterable[str | bytes]) -> int:
        """Write the hub's versions of rows of one table, in order, with one ``executemany``
        (inside ``applying_remote``).  Returns how many."""
        cls = BY_TABLE[table]
        dec = _decoders.get(cls) or _decoders.setdefault(cls, msgspec.json.Decoder(cls))
        rows, top = [], ""
        for payload in payloads:
            record = dec.decode(payload)
            row = _row(record)
            rows.append(tuple(row.values()))
            top = max(top, record.hlc)
        if not rows:
            return 0
        cols = ", ".join(f'"{k}"' for k in row)
        updates = ", ".join(f'"{k}" = excluded."{k}"' for k in row if k != "id")
        self.db.conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))}) "
                                 f"ON CONFLICT(id) DO UPDATE SET {updates}", rows)
        self._saw(top)
        return len(rows)

    def apply_remote_rows(self, table: str, columns: Iterable[str], rows_json: str, top_hlc: str) -> int:
        """Write ready-made table rows from the hub (inside ``applying_remote``): ``rows_json`` is
        a JSON array of arrays, one per row, values in ``columns`` order (``replica_row``).  One
        ``INSERT ... SELECT ... FROM json_each(?)``: SQLite reads the page itself, no Python per
        row.  ``top_hlc``: the newest stamp among them (moves the clock).  Returns how many."""
        BY_TABLE[table]   # only known tables
        columns = tuple(columns)
        sql = self._json_insert_sql(table, columns)
        n = self.db.conn.execute(sql, [rows_json]).rowcount
        self._saw(top_hlc)
        return n

    def _json_insert_sql(self, table: str, columns: tuple[str, ...]) -> str:
        cache = self._json_inserts
        sql = cache.get((table, columns))
        if sql is None:
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})").fetchall()}
            unknown = [c for c in columns if c not in have]
            if unknown or "id" not in columns or len(set(columns)) != len(columns):
                raise StoreError(f"{table}: the hub sent rows with columns {', '.join(unknown) or list(columns)} "
                                 "that this store does not have; install the emdesk version the hub runs")
            cols = ", ".join(f'"{c}"' for c in columns)
            values = ", ".join(f"value ->> {i}" for i in range(len(columns)))
            updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != "id")
            sql = cache[(table, columns)] = (f"INSERT INTO {table} ({cols}) SELECT {values} FROM json_each(?) "
                                             f"WHERE true ON CONFLICT(id) DO UPDATE SET {updates}")
        return sql

    def _saw(self, top: str) -> None:
        if top:
            # Seeing the newest stamp moves the clock past all of them.
            now_ms = int(self.clock.now().timestamp() * 1000)
            self._hlc = hlc.receive(self._hlc, hlc.Stamp.parse(top), now_ms, self.desktop_id[-12:])
            self._synced = max(self._synced, top)

    def evict(self, table: str, row_id: str) -> None:
        """Drop a row that left this user's scope (inside ``applying_remote``)."""
        BY_TABLE[table]   # only known tables
        self.db.execute(f"DELETE FROM {table} WHERE id = ?", [row_id])

    def drop_orders_without_person(self) -> int:
        """Drop orders naming a person this desktop does not hold (inside ``applying_remote``,
        at the end of a pulled page), so the page can commit (``orders.subject_id``).

        They are never the hub's current state for this user: an older version replayed from
        the feed after a bootstrap that no longer had the person (their later version or their
        eviction follows in the feed), or an order made here whose person the hub refused (the
        order is refused too, and the refusal kept)."""
        return self.db.execute("DELETE FROM orders WHERE subject_id IS NOT NULL "
                               "AND subject_id NOT IN (SELECT id FROM subjects)").rowcount

    def pending_rows(self, table: str) -> set[str]:
        with self.reading() as db:
            return {r[0] for r in db.execute("SELECT DISTINCT row_id FROM outbox WHERE table_name = ?", [table])}

    def ack_outbox(self, op_ids: Iterable[str]) -> None:
        """The hub confirmed these ops: only now are they dropped."""
        ids = list(op_ids)
        with self.transaction() as db:
            synced = self._synced
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                top = db.execute(f"SELECT max(hlc) FROM outbox WHERE op_id IN ({marks})", chunk).fetchone()[0]
                synced = max(synced, top or "")
                db.execute(f"DELETE FROM outbox WHERE op_id IN ({marks})", chunk)
            if synced != self._synced:
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_synced', ?)", [synced])
                self._synced = synced

    def outbox_batch(self, limit: int, table_order: Iterable[str]) -> list[dict[str, Any]]:
        """Pending ops for a push: parents' tables first (``table_order``), then in outbox order,
        so a subject always reaches the hub no later than the orders that refer to it."""
        order = list(table_order)
        rank = " ".join(f"WHEN ? THEN {i}" for i in range(len(order)))
        sql = (f"SELECT {_OUTBOX_COLUMNS} FROM outbox "
               f"ORDER BY CASE table_name {rank} ELSE {len(order)} END, seq LIMIT {int(limit)}")
        with self.reading() as db:
            cur = db.execute(sql, order)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def outbox_actions(self, action_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Every pending op of these field actions, in outbox order (an action travels whole)."""
        ids = list(dict.fromkeys(action_ids))
        out: list[dict[str, Any]] = []
        with self.reading() as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                cur = db.execute(f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE action_id IN "
                                 f"({', '.join('?' * len(chunk))}) ORDER BY seq", chunk)
                names = [d[0] for d in cur.description]
                out += [dict(zip(names, row)) for row in cur.fetchall()]
        return out

    def outbox_orders_naming(self, subject_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Every pending op of the orders that name one of these people, in outbox order."""
        ids = list(subject_ids)
        out: list[dict[str, Any]] = []
        with self.reading() as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                cur = db.execute(f"SELECT {_OUTBOX_COLUMNS} FROM outbox "
                                 "WHERE table_name = 'orders' AND row_id IN (SELECT row_id FROM outbox "
                                 "WHERE table_name = 'orders' AND json_extract(payload, '$.subject_id') IN "
                                 f"({', '.join('?' * len(chunk))})) ORDER BY seq", chunk)
                names = [d[0] for d in cur.description]
                out += [dict(zip(names, row)) for row in cur.fetchall()]
        return sorted({r["seq"]: r for r in out}.values(), key=lambda r: r["seq"])

    def outbox_stamped_after(self, ms: int) -> list[str]:
        """Op ids of pending ops whose stamps are later than ``ms``, in outbox order."""
        with self.reading() as db:
            return [r[0] for r in db.execute("SELECT op_id FROM outbox WHERE hlc >= ? ORDER BY seq",
                                             [f"{ms + 1:013d}"]).fetchall()]

    def restamp_outbox(self, op_ids: Iterable[str], now_ms: int, ceiling_ms: int) -> dict[str, str]:
        """New stamps and op ids for pending ops whose stamps the hub refused as too far ahead.

        The rows they wrote take the new stamps too, and the local clock comes back below
        ``ceiling_ms`` (the hub's time plus a margin).  Returns old op id -> new op id."""
        ids = list(op_ids)
        out: dict[str, str] = {}
        with self.applying_remote() as db:
            if self._hlc is not None and self._hlc.ms > ceiling_ms:
                # Back to the newest version this replica holds, has received or has had accepted,
                # leaving out only its own unsent stamps past the ceiling (the ones being
                # re-stamped), so the new stamps still sort after every version seen -- including
                # versions other desktops stamped a few minutes ahead, which the hub accepts.
                bound = f"{ceiling_ms:013d}"
                seen = [db.execute(f"SELECT max(hlc) FROM {t} WHERE hlc < ? OR hlc NOT IN "
                                   "(SELECT hlc FROM outbox WHERE hlc >= ?)", [bound, bound]).fetchone()[0]
                        for t in BY_TABLE]
                # Versions the hub sent or took from here, and unsent ones staying as they are,
                # even those since overwritten here.
                seen.append(self._synced)
                seen.append(db.execute("SELECT max(hlc) FROM outbox WHERE hlc < ?", [bound]).fetchone()[0])
                seen = [s for s in seen if s]
                self._hlc = hlc.Stamp.parse(max(seen)) if seen else None
            rows = []
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows += db.execute(f"SELECT seq, op_id, table_name, row_id, hlc, payload FROM outbox "
                                   f"WHERE op_id IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
            for seq, op_id, table, row_id, old_stamp, payload in sorted(rows):
                BY_TABLE[table]   # only known tables
                self._hlc = hlc.tick(self._hlc, now_ms, self.desktop_id[-12:])
                stamp_text = str(self._hlc)
                data = msgspec.json.decode(payload)
                data["hlc"] = stamp_text
                new_op = new_id().replace("-", "")
                db.execute("UPDATE outbox SET op_id = ?, hlc = ?, payload = ? WHERE seq = ?",
                           [new_op, stamp_text, msgspec.json.encode(data).decode(), seq])
                live = db.execute(f"SELECT hlc, data FROM {table} WHERE id = ?", [row_id]).fetchone()
                if live and live[0] == old_stamp:
                    record = msgspec.json.decode(live[1])
                    record["hlc"] = stamp_text
                    db.execute(f"UPDATE {table} SET hlc = ?, data = ? WHERE id = ?",
                               [stamp_text, msgspec.json.encode(record).decode(), row_id])
                out[op_id] = new_op
            if self._hlc is not None:
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_last', ?)", [str(self._hlc)])
        return out

    def apply_conflict(self, payload: str | bytes) -> None:
        """Keep a value that lost a merge on the hub (inside ``applying_remote``)."""
        c = msgspec.json.decode(payload)
        self.db.execute("INSERT OR REPLACE INTO conflicts (id, table_name, row_id, field, losing_value, losing_hlc, "
                        "winning_hlc, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [c["id"], c["table_name"], c["row_id"], c["field"], c.get("losing_value"),
                         c["losing_hlc"], c["winning_hlc"], c["at"]])

    def conflicts(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Merge losers pulled from the hub (supervisors), newest first."""
        sql = "SELECT id, table_name, row_id, field, losing_value, losing_hlc, winning_hlc, at FROM conflicts ORDER BY at DESC, id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.reading() as db:
            cur = db.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def clear_replica(self, tables: Iterable[str]) -> None:
        """Drop every row of these tables and the pulled conflicts, before a fresh bootstrap
        (inside ``applying_remote``).  Users stay: local credentials refer to them."""
        for table in tables:
            BY_TABLE[table]   # only known tables
            if table != "users":
                self.db.execute(f"DELETE FROM {table}")
        self.db.execute("DELETE FROM conflicts")
