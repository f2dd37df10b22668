"""PostgreSQL storage for the hub, and the owner's schema setup with row-level security.

Two database roles:

* the **owner** (``emdesk hub init --store postgresql://owner@host/db --hub-role emdesk_hub``)
  creates the tables, the policies and the hub role, and grants the hub role only row
  access (no DDL, no ownership, so row-level security applies to it);
* the **hub role** is what ``emdesk hub serve --store postgresql://emdesk_hub@host/db``
  connects as.

Row-level security, the second line of defence behind the engine's own checks: every
transaction sets ``emdesk.principal`` (``SET LOCAL`` semantics, via ``set_config(...,
true)``).  A pull or bootstrap runs as the user's principal, and then ``change_log``,
``hub_rows`` and ``row_audience`` only show rows addressed to that principal or to
``'*'`` (everything for ``'all'``; nothing with no principal set).  A push runs in the
hub's write mode (``'all'``: the engine must see the current row, its case and its
whole audience to decide and fan out); inserts and deletes are only allowed in that
mode, and a RESTRICTIVE policy makes an UPDATE of a row whose audience does not include
``emdesk.writer`` (the pushing user's principal) match nothing, so a bug in the engine's
checks cannot edit another officer's rows.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql as pgsql

from .storage import (
    ADDED_COLUMNS,
    SCHEMA,
    TABLES,
    WRITE_LOCK,
    HubStorage,
    StorageUnavailable,
    Tx,
    _Pool,
    initial_rows,
)

RLS_TABLES = ("hub_rows", "row_audience", "change_log")

FUNCTIONS = (
    "CREATE OR REPLACE FUNCTION emdesk_principal() RETURNS text LANGUAGE sql STABLE AS "
    "$$ SELECT coalesce(current_setting('emdesk.principal', true), '') $$",
    "CREATE OR REPLACE FUNCTION emdesk_writer() RETURNS text LANGUAGE sql STABLE AS "
    "$$ SELECT coalesce(current_setting('emdesk.writer', true), '') $$",
)

_SEES = ("EXISTS (SELECT 1 FROM row_audience a WHERE a.tbl = hub_rows.tbl AND a.row_id = hub_rows.id "
         "AND a.principal IN ({who}, '*'))")

POLICIES = {
    "change_log": (
        "CREATE POLICY scope_read ON change_log FOR SELECT TO {role} USING "
        "(emdesk_principal() <> '' AND (principal IN (emdesk_principal(), '*') OR emdesk_principal() = 'all'))",
        "CREATE POLICY hub_insert ON change_log FOR INSERT TO {role} WITH CHECK (emdesk_principal() = 'all')",
        "CREATE POLICY hub_delete ON change_log FOR DELETE TO {role} USING (emdesk_principal() = 'all')",
    ),
    "row_audience": (
        "CREATE POLICY scope_read ON row_audience FOR SELECT TO {role} USING "
        "(emdesk_principal() <> '' AND (principal IN (emdesk_principal(), '*') OR emdesk_principal() = 'all'))",
        "CREATE POLICY hub_insert ON row_audience FOR INSERT TO {role} WITH CHECK (emdesk_principal() = 'all')",
        "CREATE POLICY hub_delete ON row_audience FOR DELETE TO {role} USING (emdesk_principal() = 'all')",
    ),
    "hub_rows": (
        "CREATE POLICY scope_read ON hub_rows FOR SELECT TO {role} USING "
        "(emdesk_principal() <> '' AND (emdesk_principal() = 'all' OR " + _SEES.format(who="emdesk_principal()") + "))",
        "CREATE POLICY hub_insert ON hub_rows FOR INSERT TO {role} WITH CHECK (emdesk_principal() = 'all')",
        "CREATE POLICY hub_update ON hub_rows FOR UPDATE TO {role} USING (emdesk_principal() = 'all')",
        "CREATE POLICY hub_delete ON hub_rows FOR DELETE TO {role} USING (emdesk_principal() = 'all')",
        "CREATE POLICY writer_scope ON hub_rows AS RESTRICTIVE FOR UPDATE TO {role} USING "
        "(emdesk_writer() IN ('', 'all') OR " + _SEES.format(who="emdesk_writer()") + ")",
    ),
}

GRANTS = {
    "hub_meta": "SELECT",
    "hub_state": "SELECT, UPDATE",
}


def init_postgres(owner_dsn: str, hub_role: str, *, hub_password: str | None = None) -> list[str]:
    """Create (or bring up to date) the hub schema as the owner; returns what was done."""
    done: list[str] = []
    try:
        conn = psycopg.connect(owner_dsn)
    except psycopg.OperationalError as exc:
        raise StorageUnavailable(f"cannot connect as the owner: {exc}") from exc
    role = pgsql.Identifier(hub_role)
    with conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [hub_role]).fetchone()
        if not exists:
            if hub_password:
                conn.execute(pgsql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(role, pgsql.Literal(hub_password)))
            else:
                conn.execute(pgsql.SQL("CREATE ROLE {} LOGIN").format(role))
            done.append(f"created role {hub_role}")
        elif hub_password:
            conn.execute(pgsql.SQL("ALTER ROLE {} PASSWORD {}").format(role, pgsql.Literal(hub_password)))
        owner = conn.execute("SELECT current_user").fetchone()[0]
        if owner == hub_role:
            raise StorageUnavailable("the hub role must not be the owner: row-level security would not apply to it")
        for statement in SCHEMA:
            conn.execute(statement)
        for table, column, kind in ADDED_COLUMNS:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
        for statement in FUNCTIONS:
            conn.execute(statement)
        for table, policies in POLICIES.items():
            conn.execute(pgsql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(pgsql.Identifier(table)))
            for name in conn.execute("SELECT policyname FROM pg_policies WHERE tablename = %s", [table]).fetchall():
                conn.execute(pgsql.SQL("DROP POLICY {} ON {}").format(pgsql.Identifier(name[0]), pgsql.Identifier(table)))
            for policy in policies:
                conn.execute(pgsql.SQL(policy).format(role=role))
        conn.execute(pgsql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            pgsql.Identifier(conn.info.dbname), role))
        conn.execute(pgsql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        for table in TABLES:
            rights = GRANTS.get(table, "SELECT, INSERT, UPDATE, DELETE")
            conn.execute(pgsql.SQL("REVOKE ALL ON {} FROM {}").format(pgsql.Identifier(table), role))
            conn.execute(pgsql.SQL(f"GRANT {rights} ON {{}} TO {{}}").format(pgsql.Identifier(table), role))
        initial_rows(Tx(conn, paramstyle="format"))
        done.append(f"schema, row-level security and grants for {hub_role} in database {conn.info.dbname}")
    conn.close()
    return done


class _PgTx(Tx):
    """PostgreSQL: many-row inserts go through COPY.  psycopg's executemany, pipelined or not,
    costs a statement per row in Python (~40 us), which is most of a 1,000-op push."""

    _INSERT = re.compile(r"^INSERT INTO (\w+) \(([^)]*)\) VALUES \([?, ]+\)(.*)$", re.DOTALL)
    COPY_FROM_ROWS = 20

    def _many(self, sql: str, rows: list[tuple]) -> int:
        match = self._INSERT.match(sql) if len(rows) >= self.COPY_FROM_ROWS else None
        if match is None:
            return super()._many(sql, rows)
        table, columns, tail = match.groups()
        return self._copy_insert(table, [c.strip() for c in columns.split(",")], rows, tail)

    def bulk_insert(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if rows:
            self.flush_writes()
            self._copy_insert(table, columns, rows)

    def _copy_insert(self, table: str, columns: list[str], rows: list[tuple], tail: str = "") -> int:
        """COPY into a temporary table, then one INSERT ... SELECT: COPY FROM does not run on a
        table with row-level security, and the INSERT keeps its policies checked."""
        names = ", ".join(columns)
        with self.conn.cursor() as cur:
            # One per connection, emptied at every COMMIT (no catalog churn per transaction).
            used = self.memo.setdefault("bulk_tables", set())
            if table in used:
                cur.execute(f"TRUNCATE bulk_{table}")
            else:
                cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS bulk_{table} (LIKE {table}) ON COMMIT DELETE ROWS")
                used.add(table)
            with cur.copy(f"COPY bulk_{table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(self._sql(f"INSERT INTO {table} ({names}) SELECT {names} FROM bulk_{table}{tail}"))
            return cur.rowcount


class PostgresHubStorage(HubStorage):
    """The hub's tables in PostgreSQL, reached as the (non-owner) hub role."""

    kind = "postgresql"

    def __init__(self, dsn: str, *, pool_size: int = 8):
        self.dsn = dsn
        self._pool = _Pool(self._connect, pool_size)
        try:
            with self.bookkeeping() as tx:
                if tx.one("SELECT 1 FROM hub_state WHERE id = 1") is None:
                    raise StorageUnavailable("the hub schema is not initialised: run `emdesk hub init` as the owner")
        except psycopg.errors.UndefinedTable as exc:
            raise StorageUnavailable("the hub schema is missing: run `emdesk hub init` as the owner first") from exc
        info = psycopg.conninfo.conninfo_to_dict(dsn)
        self.label = f"postgresql://{info.get('user', '')}@{info.get('host', '')}:{info.get('port', '')}/{info.get('dbname', '')}"

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self.dsn)
        except psycopg.OperationalError as exc:
            raise StorageUnavailable(f"cannot reach the hub database: {exc}") from exc
        # The hub's statements are short; JIT-compiling them costs far more than running them
        # (on a freshly loaded hub, before ANALYZE, every bootstrap page paid ~150 ms for it).
        conn.execute("SET jit = off")
        conn.commit()
        return conn

    @contextmanager
    def _tx(self, setup: list[tuple[str, list]]) -> Iterator[Tx]:
        with self._pool.connection() as conn:
            try:
                tx = _PgTx(conn, paramstyle="format")
                for statement, args in setup:
                    tx.execute(statement, args)
                yield tx
                tx.flush_seq()
                conn.commit()
            except psycopg.OperationalError as exc:
                _rollback(conn)
                raise StorageUnavailable(f"the hub database failed: {exc}") from exc
            except BaseException:
                _rollback(conn)
                raise

    @contextmanager
    def write(self, *, writer: str = "") -> Iterator[Tx]:
        # The advisory lock is taken first and held to COMMIT: writers run one at a time
        # and their seqs become visible in order (see storage.py).
        with self._tx([("SELECT pg_advisory_xact_lock(?)", [WRITE_LOCK]),
                       ("SELECT set_config('emdesk.principal', 'all', true)", []),
                       ("SELECT set_config('emdesk.writer', ?, true)", [writer])]) as tx:
            yield tx

    @contextmanager
    def read(self, principal: str) -> Iterator[Tx]:
        with self._tx([("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", []),
                       ("SELECT set_config('emdesk.principal', ?, true)", [principal])]) as tx:
            yield tx

    @contextmanager
    def bookkeeping(self) -> Iterator[Tx]:
        # Accounts, devices and counters; of the scoped tables only what is addressed to
        # everyone (user records) is visible here.
        with self._tx([("SELECT set_config('emdesk.principal', '*', true)", [])]) as tx:
            yield tx

    def close(self) -> None:
        self._pool.close()


def _rollback(conn) -> None:
    try:
        conn.rollback()
    except Exception:
        pass
