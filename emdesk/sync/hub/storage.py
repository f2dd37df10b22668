"""The hub's storage: one interface, two back ends (SQLite file, PostgreSQL).

The hub engine speaks plain SQL through a ``Tx`` (``?`` placeholders; the PostgreSQL
back end rewrites them).  Everything that differs between the two lives here:

* ``write(writer=...)``: one serialised write transaction.  Change-log sequence numbers
  are allocated inside it from ``hub_state.seq``.  On SQLite ``BEGIN IMMEDIATE`` makes
  writers one at a time; on PostgreSQL every write transaction first takes
  ``pg_advisory_xact_lock(WRITE_LOCK)``, held until COMMIT, so seqs are allocated *and
  become visible* in order.  (A PostgreSQL SEQUENCE would not do: two transactions can
  commit out of order, and a puller that has already moved its cursor past the later
  seq would never see the earlier one.)  Reads never take the lock.
* ``read(principal)``: one snapshot (REPEATABLE READ on PostgreSQL) scoped to a
  principal; on PostgreSQL ``emdesk.principal`` is set for row-level security.
* ``bookkeeping()``: a small write (device last-seen, cursor) that allocates no seq and so
  needs no global lock.

Schema (same on both; PostgreSQL adds roles and RLS, see ``postgres.py``):

  hub_rows      current version of every row (tbl, id) with its HLCs, tombstone flag,
                ``updated_seq``, the case links used to compute audiences (an order's region,
                officer and ``case_visitors``: officers holding an open visit on it), and per field the
                seq and device of its last write (``field_meta``: was an overwrite concurrent?),
                and the desktop's table row for it (``desk``, see ``ADDED_COLUMNS``)
  row_audience  (tbl, row_id, principal): who may hold each row, but for ``all`` (supervisors
                and admins), which holds every row and is never stored (``rows.HELD``)
  change_log    one entry per seq: upsert | delete | evict of a row, its payload, whether it
                reaches ``all`` (``to_all``) and which other principals (``reaches``, a JSON
                array, what row-level security checks), and the desktop it came from when that
                desktop holds it as it is (``origin``)
  change_feed   (principal, seq): ``reaches`` as rows, the index a desktop's pull walks (the
                payload is kept once, not once per principal)
  applied_ops   every op id ever applied and its result (re-sends return the same)
  hub_devices   registered desktops: user, name, revoked, last seen, acknowledged cursor
  purged        ids of tombstones removed by GC (an old edit can never bring them back)
  hub_state     seq (last allocated) and horizon (change log pruned up to here)
  hub_accounts, hub_refresh_tokens, hub_sessions, hub_signin_attempts, hub_meta: the
                secrets, reached only through ``credentials.py`` (PostgreSQL: owner-only tables
                behind SECURITY DEFINER functions)
"""
from __future__ import annotations

import copy
import queue
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .credentials import AUTH_SCHEMA, SQLiteCredentials, initial_auth_rows, migrate_devices

WRITE_LOCK = 0x656D64736B   # "emdsk": the advisory lock id for hub writes

SCHEMA: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS hub_state (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, "
    "horizon BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hub_devices (device_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
    "name TEXT NOT NULL, created_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL, "
    "cursor BIGINT, revoked INTEGER NOT NULL DEFAULT 0, last_device_seq BIGINT NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS hub_rows (tbl TEXT NOT NULL, id TEXT NOT NULL, rank INTEGER NOT NULL, "
    "data TEXT NOT NULL, hlc TEXT NOT NULL, field_hlcs TEXT NOT NULL, field_meta TEXT NOT NULL DEFAULT '{}', "
    "deleted INTEGER NOT NULL DEFAULT 0, "
    "updated_seq BIGINT NOT NULL, changed_ms BIGINT NOT NULL, order_id TEXT, subject_id TEXT, "
    "case_region TEXT, case_officer TEXT, desk TEXT, desk_schema INTEGER, PRIMARY KEY (tbl, id))",
    "CREATE INDEX IF NOT EXISTS hub_rows_order ON hub_rows (order_id)",
    "CREATE INDEX IF NOT EXISTS hub_rows_subject ON hub_rows (subject_id, tbl)",
    "CREATE INDEX IF NOT EXISTS hub_rows_keyset ON hub_rows (rank, id)",
    # (deleted, updated_seq, tbl): GC finds tombstones by it, and counting a snapshot for a
    # bootstrap reads only it (no table scan).
    "CREATE INDEX IF NOT EXISTS hub_rows_snapshot ON hub_rows (deleted, updated_seq, tbl)",
    "CREATE TABLE IF NOT EXISTS row_audience (tbl TEXT NOT NULL, row_id TEXT NOT NULL, principal TEXT NOT NULL, "
    "PRIMARY KEY (tbl, row_id, principal))",
    "CREATE INDEX IF NOT EXISTS row_audience_principal ON row_audience (principal, tbl, row_id)",
    "CREATE TABLE IF NOT EXISTS applied_ops (op_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, "
    "device_seq BIGINT NOT NULL, user_id TEXT NOT NULL, tbl TEXT NOT NULL, row_id TEXT NOT NULL, "
    "status TEXT NOT NULL, reason TEXT NOT NULL, hub_seq BIGINT NOT NULL, at_ms BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS applied_ops_age ON applied_ops (at_ms)",
    "CREATE TABLE IF NOT EXISTS purged (tbl TEXT NOT NULL, id TEXT NOT NULL, at_ms BIGINT NOT NULL, "
    "PRIMARY KEY (tbl, id))",
    # Each desktop's audit-log head as it synced (an anchor outside the desktop's own store),
    # and what the hub saw when a head came back shorter or different (``alarm``).
    "CREATE TABLE IF NOT EXISTS audit_anchors (device_id TEXT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL, "
    "at_ms BIGINT NOT NULL, alarm TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS audit_anchors_device ON audit_anchors (device_id, at_ms)",
)

# Columns added since a hub's schema was first made: (table, column, type).  ``desk`` is the
# desktop's ready-made table row (a JSON array, ``emdesk.store.store.replica_row``) computed
# when the hub writes the row, for the store schema ``desk_schema``; bootstrap pages ship
# them as they are (see engine.bootstrap).
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("hub_rows", "desk", "TEXT"),
    ("hub_rows", "desk_schema", "INTEGER"),
    # For an order: the officers holding an open visit on it (a JSON array of user ids, NULL
    # for none), who receive what the door needs of the case (``scope.CaseLink.visitors``).
    ("hub_rows", "case_visitors", "TEXT"),
    # The desktop whose push wrote this change exactly as that desktop holds it: it is not
    # sent back to that desktop (its copy is already this), only to the others.
    ("change_log", "origin", "TEXT"),
)

TABLES = ("hub_state", "hub_devices", "hub_rows", "row_audience", "change_log", "change_feed", "applied_ops",
          "purged", "audit_anchors")


def log_schema(kind: str) -> tuple[str, ...]:
    """The change log's DDL for ``kind`` ('sqlite' or 'postgresql').  On SQLite the seq is the
    rowid and the feed a WITHOUT ROWID table: one b-tree each, nothing else to maintain per
    entry; PostgreSQL's INTEGER would be 32 bits."""
    seq, narrow = ("seq INTEGER PRIMARY KEY", " WITHOUT ROWID") if kind == "sqlite" else ("seq BIGINT PRIMARY KEY", "")
    return (
        f"CREATE TABLE IF NOT EXISTS change_log ({seq}, tbl TEXT NOT NULL, row_id TEXT NOT NULL, kind TEXT NOT NULL, "
        "hlc TEXT NOT NULL, payload TEXT NOT NULL, at_ms BIGINT NOT NULL, origin TEXT, "
        "to_all INTEGER NOT NULL DEFAULT 0, reaches TEXT NOT NULL DEFAULT '[]')",
        "CREATE TABLE IF NOT EXISTS change_feed (principal TEXT NOT NULL, seq BIGINT NOT NULL, "
        f"PRIMARY KEY (principal, seq)){narrow}",
    )


PER_PRINCIPAL_LOG = "change_log_per_principal"


def migrate_change_log(tx: "Tx", kind: str, columns: set[str]) -> int:
    """A hub made before the log was kept once per seq (``columns``: change_log's, with a
    ``principal``): its entries moved into ``change_log`` and ``change_feed``, and ``all``
    taken out of the stored audiences.  Returns the entries moved (0: nothing to do)."""
    if "principal" not in columns:
        return 0
    tx.execute(f"ALTER TABLE change_log RENAME TO {PER_PRINCIPAL_LOG}")
    if kind != "sqlite":
        # PostgreSQL's index names are the schema's: the new table's key takes the old name.
        tx.execute("DROP INDEX IF EXISTS change_log_seq")
        tx.execute(f"ALTER INDEX IF EXISTS change_log_pkey RENAME TO {PER_PRINCIPAL_LOG}_pkey")
    for sql in log_schema(kind):
        tx.execute(sql)
    reaches = ("json_group_array(principal) FILTER (WHERE principal <> 'all')" if kind == "sqlite" else
               "coalesce(json_agg(principal ORDER BY principal) FILTER (WHERE principal <> 'all'), '[]')::text")
    tx.execute(f"INSERT INTO change_log (seq, tbl, row_id, kind, hlc, payload, at_ms, origin, to_all, reaches) "
               f"SELECT seq, min(tbl), min(row_id), min(kind), min(hlc), min(payload), min(at_ms), max(origin), "
               f"max(CASE WHEN principal IN ('all', '*') THEN 1 ELSE 0 END), {reaches} "
               f"FROM {PER_PRINCIPAL_LOG} GROUP BY seq")
    moved = int(tx.scalar("SELECT count(*) FROM change_log", default=0))
    tx.execute(f"INSERT INTO change_feed (principal, seq) SELECT principal, seq FROM {PER_PRINCIPAL_LOG} "
               "WHERE principal <> 'all'")
    tx.execute(f"DROP TABLE {PER_PRINCIPAL_LOG}")
    tx.execute("DELETE FROM row_audience WHERE principal = 'all'")
    return moved


class StorageUnavailable(Exception):
    """The database could not be reached or refused the connection."""


class Tx:
    """One transaction: ``?`` placeholders, rows as tuples."""

    def __init__(self, conn: Any, *, paramstyle: str = "qmark"):
        self.conn = conn
        self._pg = paramstyle == "format"
        self._seq: int | None = None      # last seq allocated in this transaction
        self._seq_dirty = False
        self.memo: dict[str, Any] = {}    # the engine's per-transaction cache
        self._deferred: dict[str, list[tuple]] = {}
        self._savepoints = 0
        # Writes queued by ``queue`` (see there): [sql, rows, keys touched, rows each must change]
        self._queued: list[list] = []

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._pg else sql

    def execute(self, sql: str, args: tuple | list = ()) -> Any:
        if self._queued:
            self.flush_writes()
        self.settle()
        cur = self.conn.cursor()
        cur.execute(self._sql(sql), tuple(args))
        return cur

    def executemany(self, sql: str, rows: list[tuple]) -> Any:
        if self._queued:
            self.flush_writes()
        self.settle()
        if rows:
            cur = self.conn.cursor()
            cur.executemany(self._sql(sql), rows)
            return cur
        return None

    # -- queued writes ------------------------------------------------------------

    def queue(self, sql: str, row: tuple | list, key: tuple, *, must_change: bool = False) -> None:
        """A write to run later, batched with the other writes of the same statement (one
        ``executemany``, which psycopg pipelines: no round trip per row on PostgreSQL).

        Queued writes run, in an order equivalent to the order they were queued in, before
        the next statement of any kind (``execute``, ``all``, ``savepoint``...) and before
        COMMIT, so every read sees them.  ``key`` names what the write touches (a hub row,
        ``(tbl, id)``): a write joins an earlier batch of its statement only if no write in
        between touches the same key (writes to different rows commute, row-level security
        included: its policies read only the row's own audience).  ``must_change``: the
        statement must change exactly one row (an UPDATE that row-level security could
        silently turn into nothing)."""
        row = tuple(row)
        for group in reversed(self._queued):
            if group[0] == sql:
                group[1].append(row)
                group[2].add(key)
                group[3] += must_change
                return
            if key in group[2]:
                break
        self._queued.append([sql, [row], {key}, int(must_change)])

    def _many(self, sql: str, rows: list[tuple]) -> int:
        """Run a statement for many rows; returns the rows changed (PostgreSQL: see _PgTx)."""
        cur = self.conn.cursor()
        cur.executemany(self._sql(sql), rows)
        return cur.rowcount

    def flush_writes(self) -> None:
        queued, self._queued = self._queued, []
        for sql, rows, _keys, must in queued:
            changed = self._many(sql, rows)
            if must and changed != len(rows):
                raise RuntimeError(f"the database refused {len(rows) - changed} of {len(rows)} updates "
                                   "(row-level security)")

    # memo entries that may hold what a rolled-back savepoint wrote (the engine's row caches)
    WRITE_CACHES = ("rows", "order_links", "visit_holders")

    def bulk_insert(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        """Insert many rows into an empty-or-not table at once (``Hub.load``): one
        ``executemany`` here; PostgreSQL's storage overrides it with COPY."""
        if rows:
            self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                             rows)

    IN_CHUNK = 500      # SQLite binds at most a few thousand parameters a statement

    def all_in(self, sql: str, keys: list, first: list | tuple = ()) -> list[tuple]:
        """``sql`` with ``IN ({})`` run for these keys (after the ``first`` arguments): SQLite
        takes them as parameters, a chunk at a time; PostgreSQL overrides it with one array."""
        out: list[tuple] = []
        for start in range(0, len(keys), self.IN_CHUNK):
            chunk = keys[start:start + self.IN_CHUNK]
            out += self.all(sql.format(", ".join("?" * len(chunk))), [*first, *chunk])
        return out

    def one(self, sql: str, args: tuple | list = ()) -> tuple | None:
        return self.execute(sql, args).fetchone()

    def all(self, sql: str, args: tuple | list = ()) -> list[tuple]:
        return self.execute(sql, args).fetchall()

    def scalar(self, sql: str, args: tuple | list = (), default: Any = None) -> Any:
        row = self.one(sql, args)
        return default if row is None or row[0] is None else row[0]

    # -- the two counters -----------------------------------------------------

    def allocate_seq(self) -> int:
        """The next change-log seq (only inside ``write``, which serialises writers)."""
        if self._seq is None:
            self._seq = self.current_seq()
        self._seq += 1
        self._seq_dirty = True
        return self._seq

    def defer(self, sql: str, rows: list[tuple]) -> None:
        """Rows to insert just before COMMIT, one ``executemany`` per statement: for tables
        nothing reads back inside the transaction (the change log, applied op ids)."""
        self._deferred.setdefault(sql, []).extend(rows)

    def flush_deferred(self) -> None:
        self.flush_writes()
        deferred, self._deferred = self._deferred, {}
        for sql, rows in deferred.items():
            if rows:
                self._many(sql, rows)

    def send_writes(self) -> None:
        """Where the database can write while the engine goes on deciding (PostgreSQL's
        pipeline), send it the writes decided so far; here they wait for the next read or
        COMMIT, as running them now would gain nothing."""

    def settle(self) -> None:
        """Wait for writes sent without waiting (PostgreSQL's pipeline; nothing here)."""

    def abandon(self) -> None:
        """Give up writes sent without waiting, on the way to a ROLLBACK (nothing here)."""

    def flush_seq(self) -> None:
        """Called by ``write`` just before COMMIT (with the deferred inserts)."""
        self.flush_deferred()
        if self._seq_dirty:
            self.execute("UPDATE hub_state SET seq = ? WHERE id = 1", [self._seq])
            self._seq_dirty = False

    @contextmanager
    def savepoint(self) -> Iterator["Savepoint"]:
        """A part of the transaction that can be undone alone: by ``point.undo()`` (a field
        action applied as one unit) or by an exception.  Queued and deferred writes are run
        before it is taken; undone, the writes made inside it go with it, and so do the seqs it
        allocated and the engine's caches (the row caches dropped, the rest as they were)."""
        self.flush_deferred()
        self._savepoints += 1
        name = f"emdesk_sp{self._savepoints}"
        kept = ({k: copy.deepcopy(v) for k, v in self.memo.items() if k not in self.WRITE_CACHES},
                self._seq, self._seq_dirty)

        def undo() -> None:
            self._queued, self._deferred = [], {}
            self.execute(f"ROLLBACK TO SAVEPOINT {name}")
            memo, self._seq, self._seq_dirty = kept
            self.memo = memo

        self.execute(f"SAVEPOINT {name}")
        point = Savepoint()
        try:
            try:
                yield point
            except BaseException:
                undo()
                raise
            if point.undone:
                undo()
            else:
                self.flush_deferred()
            self.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._savepoints -= 1

    def current_seq(self) -> int:
        if self._seq is not None:
            return self._seq
        return int(self.scalar("SELECT seq FROM hub_state WHERE id = 1", default=0))

    def horizon(self) -> int:
        return int(self.scalar("SELECT horizon FROM hub_state WHERE id = 1", default=0))


class Savepoint:
    undone = False

    def undo(self) -> None:
        self.undone = True


class _Pool:
    """A few reusable connections (the hub is called from a thread pool)."""

    def __init__(self, factory, size: int):
        self._factory = factory
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._sem = threading.BoundedSemaphore(size)
        self._all: list = []
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[Any]:
        self._sem.acquire()
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._factory()
                with self._lock:
                    self._all.append(conn)
            try:
                yield conn
            except BaseException:
                self._discard_if_broken(conn)
                raise
            else:
                self._idle.put(conn)
        finally:
            self._sem.release()

    def _discard_if_broken(self, conn) -> None:
        closed = getattr(conn, "closed", False)
        if closed:
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)
        else:
            self._idle.put(conn)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except Exception:
                    pass
            self._all.clear()


class HubStorage:
    """What the engine needs from a database; see the module docstring."""

    kind = "abstract"
    label = ""

    @contextmanager
    def write(self, *, writer: str = "") -> Iterator[Tx]:   # pragma: no cover - interface
        raise NotImplementedError
        yield

    @contextmanager
    def read(self, principal: str) -> Iterator[Tx]:   # pragma: no cover - interface
        raise NotImplementedError
        yield

    @contextmanager
    def bookkeeping(self) -> Iterator[Tx]:   # pragma: no cover - interface
        raise NotImplementedError
        yield

    @contextmanager
    def events_write(self) -> Iterator[Tx]:   # pragma: no cover - interface
        """A write of device events (``events.py``): serialised with other event writes only."""
        raise NotImplementedError
        yield

    def close(self) -> None:   # pragma: no cover - interface
        raise NotImplementedError

    # Passwords, tokens, sign-in limits: see credentials.py.
    credentials: Any = None

    def rls_warning(self) -> str | None:
        """Why row-level security would not apply to this connection (PostgreSQL), if it would not."""
        return None


def initial_rows(tx: Tx) -> None:
    """The state row and the credentials' key, if missing (run by whoever owns the schema)."""
    if tx.one("SELECT 1 FROM hub_state WHERE id = 1") is None:
        tx.execute("INSERT INTO hub_state (id, seq, horizon) VALUES (1, 0, 0)")
    initial_auth_rows(tx)


class SQLiteHubStorage(HubStorage):
    """The embedded default: one SQLite file (WAL), schema made on first open."""

    kind = "sqlite"

    def __init__(self, path: str | Path, *, pool_size: int = 8, create: bool = True):
        self.path = Path(path)
        self.label = str(self.path)
        if not create and not self.path.is_file():
            # A typo must not become a new, empty hub that desktops then sync against.
            raise StorageUnavailable(f"there is no hub at {self.path}: create one with "
                                     f"`emdesk hub init --store {self.path}` (or check the path)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._pool = _Pool(self._connect, pool_size)
        self.credentials = SQLiteCredentials(self)
        with self._pool.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                tx = Tx(conn)
                for sql in (*SCHEMA, *AUTH_SCHEMA):
                    tx.execute(sql)
                migrate_devices(tx, {r[1] for r in tx.all("PRAGMA table_info(hub_devices)")})
                for sql in log_schema("sqlite"):
                    tx.execute(sql)
                for table, column, kind in ADDED_COLUMNS:
                    if column not in {r[1] for r in tx.all(f"PRAGMA table_info({table})")}:
                        tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                migrate_change_log(tx, "sqlite", {r[1] for r in tx.all("PRAGMA table_info(change_log)")})
                from . import events
                for sql in events.schema("sqlite"):
                    tx.execute(sql)
                events.migrate_record_telemetry(tx)
                initial_rows(tx)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        except sqlite3.Error as exc:
            raise StorageUnavailable(f"{self.path}: {exc}") from exc
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    @contextmanager
    def _tx(self, begin: str) -> Iterator[Tx]:
        with self._pool.connection() as conn:
            conn.execute(begin)
            try:
                yield Tx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def write(self, *, writer: str = "") -> Iterator[Tx]:
        # BEGIN IMMEDIATE: one writer at a time, across processes too.
        with self._tx("BEGIN IMMEDIATE") as tx:
            yield tx
            tx.flush_seq()

    @contextmanager
    def read(self, principal: str) -> Iterator[Tx]:
        # A deferred transaction reads one WAL snapshot from its first SELECT to COMMIT.
        with self._tx("BEGIN") as tx:
            yield tx

    @contextmanager
    def bookkeeping(self) -> Iterator[Tx]:
        with self._tx("BEGIN IMMEDIATE") as tx:
            yield tx

    @contextmanager
    def events_write(self) -> Iterator[Tx]:
        with self._tx("BEGIN IMMEDIATE") as tx:
            yield tx

    def close(self) -> None:
        self._pool.close()


def is_postgres(url: str | Path) -> bool:
    """A PostgreSQL URL (``postgresql://``, ``postgres://``) or key=value conninfo string."""
    text = str(url).strip()
    return text.startswith(("postgresql://", "postgres://")) or re.match(r"^[a-z_]+\s*=", text) is not None


def open_storage(url: str | Path, *, create: bool = True, **kwargs) -> HubStorage:
    """PostgreSQL for a PostgreSQL URL or conninfo; anything else is a SQLite path (made if
    missing only with ``create``; a PostgreSQL schema is only ever made by ``init_postgres``)."""
    if is_postgres(url):
        from .postgres import PostgresHubStorage
        return PostgresHubStorage(str(url), **kwargs)
    return SQLiteHubStorage(str(url).removeprefix("sqlite:///"), create=create, **kwargs)
