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
``hub_rows`` and ``row_audience`` only show rows addressed to that principal or, for
staff, to ``'*'`` (``emdesk_shared``: an agency desk gets no ``'*'`` rows; everything for
``'all'``; nothing with no principal set).  A push runs in the
hub's write mode (``'all'``: the engine must see the current row, its case and its
whole audience to decide and fan out); inserts and deletes are only allowed in that
mode, and a RESTRICTIVE policy makes an UPDATE of a row whose audience does not include
``emdesk.writer`` (the pushing user's principal) match nothing, so a bug in the engine's
checks cannot edit another officer's rows.

Secrets (``credentials.py``): the account, token, sign-in and key tables are the owner's
and are not granted to the hub role at all.  The hub role reaches them only through the
SECURITY DEFINER functions below (owned by the owner, ``search_path`` pinned), which never
return a password hash or a token hash: the hub computes argon2 with the parameters
``emdesk_auth_begin`` gives it and ``emdesk_auth_check`` compares in the database.
Setting a password and lifting a revocation (``emdesk_auth_set_password``,
``emdesk_auth_enrol``) are the owner's alone.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import msgspec
import psycopg
from psycopg import sql as pgsql

from . import credentials as cr
from . import events
from .credentials import AUTH_SCHEMA, AUTH_TABLES, DeviceInfo, Outcome, migrate_devices
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
    log_schema,
    migrate_change_log,
)

_ROWS = msgspec.json.Encoder()

RLS_TABLES = ("hub_rows", "row_audience", "change_log", "change_feed")

FUNCTIONS = (
    "CREATE OR REPLACE FUNCTION emdesk_principal() RETURNS text LANGUAGE sql STABLE AS "
    "$$ SELECT coalesce(current_setting('emdesk.principal', true), '') $$",
    "CREATE OR REPLACE FUNCTION emdesk_writer() RETURNS text LANGUAGE sql STABLE AS "
    "$$ SELECT coalesce(current_setting('emdesk.writer', true), '') $$",
    # scope.shared_with: staff hold the rows addressed to everyone ('*'), an agency does not.
    "CREATE OR REPLACE FUNCTION emdesk_shared(who text) RETURNS text LANGUAGE sql IMMUTABLE AS "
    "$$ SELECT CASE WHEN who LIKE 'agency:%' THEN who ELSE '*' END $$",
)

_SEES = ("EXISTS (SELECT 1 FROM row_audience a WHERE a.tbl = hub_rows.tbl AND a.row_id = hub_rows.id "
         "AND a.principal IN ({who}, emdesk_shared({who})))")

POLICIES = {
    "change_log": (
        "CREATE POLICY scope_read ON change_log FOR SELECT TO {role} USING "
        # ``reaches`` (the feed's principals, as a JSON array) rather than a probe of the feed:
        # the planner would hash the principal's whole feed for a pull, or walk the feed's key
        # for every entry with the principal as a filter.
        "(emdesk_principal() <> '' AND (emdesk_principal() = 'all' OR "
        "jsonb_exists_any(reaches::jsonb, ARRAY[emdesk_principal(), emdesk_shared(emdesk_principal())])))",
        "CREATE POLICY hub_insert ON change_log FOR INSERT TO {role} WITH CHECK (emdesk_principal() = 'all')",
        "CREATE POLICY hub_delete ON change_log FOR DELETE TO {role} USING (emdesk_principal() = 'all')",
    ),
    "change_feed": (
        "CREATE POLICY scope_read ON change_feed FOR SELECT TO {role} USING "
        "(emdesk_principal() <> '' AND (principal IN (emdesk_principal(), emdesk_shared(emdesk_principal())) OR emdesk_principal() = 'all'))",
        "CREATE POLICY hub_insert ON change_feed FOR INSERT TO {role} WITH CHECK (emdesk_principal() = 'all')",
        "CREATE POLICY hub_delete ON change_feed FOR DELETE TO {role} USING (emdesk_principal() = 'all')",
    ),
    "row_audience": (
        "CREATE POLICY scope_read ON row_audience FOR SELECT TO {role} USING "
        "(emdesk_principal() <> '' AND (principal IN (emdesk_principal(), emdesk_shared(emdesk_principal())) OR emdesk_principal() = 'all'))",
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
    "hub_state": "SELECT, UPDATE",
    # Sync bookkeeping only: who a desktop is and whether it is revoked are the functions'.
    "hub_devices": "SELECT, UPDATE (cursor, last_seen_ms, last_device_seq)",
    # Anchors are only ever added: the hub role cannot rewrite a desktop's history.
    "audit_anchors": "SELECT, INSERT",
}

_NOW = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
_FN = ("CREATE OR REPLACE FUNCTION {name}({args}) RETURNS {returns} LANGUAGE plpgsql SECURITY DEFINER "
       "SET search_path = {schema}, pg_temp AS $fn$\n#variable_conflict use_column\n{body}\n$fn$")


def _limit_check(column: str, kind: str, limit: int, window: int, status: str, value: str, nulls: str) -> str:
    return (f"SELECT count(*), min(at_ms) INTO n, oldest FROM hub_signin_attempts WHERE {column} = {value} "
            f"AND kind = '{kind}' AND at_ms > t - {window};\n"
            f"IF n >= {limit} THEN RETURN QUERY SELECT '{status}'::text, {nulls}, "
            f"greatest(1, oldest + {window} - t)::bigint; RETURN; END IF;")


_ADDRESS_LIMIT = _limit_check("address", "attempt", cr.ADDRESS_LIMIT, cr.ADDRESS_WINDOW_MS, "address_limited",
                              "p_address", "''::text, 0")
_ACCOUNT_LIMIT = _limit_check("username", "failure", cr.ACCOUNT_LIMIT, cr.ACCOUNT_WINDOW_MS, "account_limited",
                              "p_username", "''::text, 0")
_ACCOUNT_LIMIT_CHECK = _limit_check("username", "failure", cr.ACCOUNT_LIMIT, cr.ACCOUNT_WINDOW_MS,
                                    "account_limited", "p_username", "''::text")
_ISSUE = """INSERT INTO hub_refresh_tokens (token_hash, device_id, state, issued_ms)
  VALUES (p_refresh_hash, p_device_id, 'current', p_now);
DELETE FROM hub_sessions WHERE device_id = p_device_id AND expires_ms <= p_now;
INSERT INTO hub_sessions (token_hash, device_id, user_id, expires_ms) VALUES (p_access_hash, p_device_id, uid, p_expires);"""
_REVOKE = """UPDATE hub_devices SET revoked = 1 WHERE device_id = p_device_id;
UPDATE hub_refresh_tokens SET state = 'spent' WHERE device_id = p_device_id;
DELETE FROM hub_sessions WHERE device_id = p_device_id;"""
_DEVICE_COLS = "(device_id text, user_id text, username text, name text, last_seen_ms bigint, revoked integer)"
_DEVICES = ("SELECT d.device_id, d.user_id, coalesce(a.username, ''), d.name, d.last_seen_ms, d.revoked "
            "FROM hub_devices d LEFT JOIN hub_accounts a ON a.user_id = d.user_id")

# (name, arguments, returns, body, granted to the hub role)
AUTH_FUNCTIONS = (
    ("emdesk_auth_add_account", "p_user_id text, p_username text, p_hash text, p_now bigint", "boolean", """
DECLARE n integer;
BEGIN
  INSERT INTO hub_accounts (user_id, username, password_hash, changed_ms)
    VALUES (p_user_id, p_username, p_hash, p_now) ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n = 1;
END""", True),
    ("emdesk_auth_set_password", "p_user_id text, p_username text, p_hash text, p_now bigint", "void", """
BEGIN
  INSERT INTO hub_accounts (user_id, username, password_hash, changed_ms) VALUES (p_user_id, p_username, p_hash, p_now)
    ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, password_hash = excluded.password_hash,
    changed_ms = excluded.changed_ms;
END""", False),
    ("emdesk_auth_begin", "p_username text, p_address text, p_now bigint",
     "TABLE (status text, params text, hash_len integer, retry_after_ms bigint)", f"""
DECLARE t bigint := {_NOW}; n bigint; oldest bigint; stored text; latest text; k text; head text; salt text;
BEGIN
  DELETE FROM hub_signin_attempts WHERE at_ms < t - {cr.ATTEMPTS_KEPT_MS};
  {_ADDRESS_LIMIT}
  {_ACCOUNT_LIMIT}
  INSERT INTO hub_signin_attempts (kind, address, username, at_ms) VALUES ('attempt', p_address, p_username, t);
  SELECT password_hash INTO stored FROM hub_accounts WHERE username = p_username;
  IF stored IS NOT NULL THEN
    RETURN QUERY SELECT 'ok'::text, regexp_replace(stored, '[$][^$]*$', ''),
      (length(split_part(stored, '$', 6)) * 3 / 4)::integer, 0::bigint;
    RETURN;
  END IF;
  SELECT password_hash INTO latest FROM hub_accounts ORDER BY changed_ms DESC LIMIT 1;
  SELECT value INTO k FROM hub_meta WHERE key = 'fake_salt_key';
  head := coalesce(regexp_replace(latest, '[$][^$]*[$][^$]*$', ''), '{cr.DEFAULT_PARAMS}');
  salt := rtrim(encode(substr(sha256(convert_to(coalesce(k, '') || ':' || p_username, 'UTF8')), 1, 16), 'base64'), '=');
  RETURN QUERY SELECT 'ok'::text, head || '$' || salt,
    coalesce((length(split_part(latest, '$', 6)) * 3 / 4)::integer, {cr.DEFAULT_HASH_LEN}), 0::bigint;
END""", True),
    ("emdesk_auth_check", "p_username text, p_candidate text, p_address text, p_device_id text, p_device_name text, "
     "p_access_hash text, p_refresh_hash text, p_now bigint, p_expires bigint",
     "TABLE (status text, user_id text, retry_after_ms bigint)", f"""
DECLARE t bigint := {_NOW}; n bigint; oldest bigint; uid text; stored text; dev_user text; dev_revoked integer;
BEGIN
  {_ACCOUNT_LIMIT_CHECK}
  SELECT a.user_id, a.password_hash INTO uid, stored FROM hub_accounts a WHERE a.username = p_username;
  -- Digests of both compared, so the comparison's time says nothing about the stored hash.
  IF uid IS NULL OR sha256(convert_to(stored, 'UTF8')) <> sha256(convert_to(p_candidate, 'UTF8')) THEN
    INSERT INTO hub_signin_attempts (kind, address, username, at_ms) VALUES ('failure', p_address, p_username, t);
    RETURN QUERY SELECT 'wrong'::text, ''::text, 0::bigint;
    RETURN;
  END IF;
  DELETE FROM hub_signin_attempts WHERE username = p_username AND kind = 'failure';
  -- A new desktop is enrolled here (two first sign-ins at once: one inserts, both then lock it).
  INSERT INTO hub_devices (device_id, user_id, name, created_ms, last_seen_ms)
    VALUES (p_device_id, uid, p_device_name, p_now, p_now) ON CONFLICT (device_id) DO NOTHING;
  SELECT d.user_id, d.revoked INTO dev_user, dev_revoked FROM hub_devices d WHERE d.device_id = p_device_id FOR UPDATE;
  IF dev_revoked <> 0 THEN RETURN QUERY SELECT 'revoked'::text, uid, 0::bigint; RETURN; END IF;
  IF dev_user <> uid THEN RETURN QUERY SELECT 'taken'::text, uid, 0::bigint; RETURN; END IF;
  UPDATE hub_devices SET name = p_device_name, last_seen_ms = p_now WHERE device_id = p_device_id;
  DELETE FROM hub_refresh_tokens WHERE device_id = p_device_id;
  {_ISSUE}
  RETURN QUERY SELECT 'ok'::text, uid, 0::bigint;
END""", True),
    ("emdesk_auth_refresh", "p_device_id text, p_old_hash text, p_refresh_hash text, p_access_hash text, "
     "p_now bigint, p_expires bigint", "TABLE (status text, user_id text)", f"""
DECLARE tok_device text; tok_state text; tok_rotated bigint; tok_retried integer; uid text; dev_revoked integer;
BEGIN
  SELECT r.device_id, r.state, r.rotated_ms, r.retried INTO tok_device, tok_state, tok_rotated, tok_retried
    FROM hub_refresh_tokens r WHERE r.token_hash = p_old_hash FOR UPDATE;
  IF NOT FOUND OR tok_device <> p_device_id THEN RETURN QUERY SELECT 'unknown'::text, ''::text; RETURN; END IF;
  SELECT d.user_id, d.revoked INTO uid, dev_revoked FROM hub_devices d WHERE d.device_id = p_device_id FOR UPDATE;
  IF NOT FOUND OR dev_revoked <> 0 THEN RETURN QUERY SELECT 'revoked'::text, ''::text; RETURN; END IF;
  IF tok_state = 'current' THEN
    UPDATE hub_refresh_tokens SET state = 'spent' WHERE device_id = p_device_id AND state = 'previous';
    UPDATE hub_refresh_tokens SET state = 'previous', rotated_ms = p_now WHERE token_hash = p_old_hash;
  ELSIF tok_state = 'previous' AND tok_retried = 0 AND p_now - tok_rotated <= {cr.REFRESH_GRACE_MS} THEN
    UPDATE hub_refresh_tokens SET state = 'spent' WHERE device_id = p_device_id AND state = 'current';
    UPDATE hub_refresh_tokens SET retried = 1 WHERE token_hash = p_old_hash;
  ELSE
    {_REVOKE}
    RETURN QUERY SELECT 'reused'::text, uid;
    RETURN;
  END IF;
  DELETE FROM hub_refresh_tokens WHERE device_id = p_device_id AND state = 'spent'
    AND issued_ms < p_now - {cr.SPENT_KEPT_MS}::bigint;
  {_ISSUE}
  UPDATE hub_devices SET last_seen_ms = p_now WHERE device_id = p_device_id;
  RETURN QUERY SELECT 'ok'::text, uid;
END""", True),
    ("emdesk_auth_session", "p_access_hash text, p_now bigint", "TABLE (status text, user_id text, device_id text)", """
DECLARE s_user text; s_device text; s_expires bigint; d_user text; d_revoked integer;
BEGIN
  SELECT s.user_id, s.device_id, s.expires_ms, d.user_id, d.revoked INTO s_user, s_device, s_expires, d_user, d_revoked
    FROM hub_sessions s LEFT JOIN hub_devices d ON d.device_id = s.device_id WHERE s.token_hash = p_access_hash;
  IF NOT FOUND THEN RETURN QUERY SELECT 'unknown'::text, ''::text, ''::text; RETURN; END IF;
  IF d_user IS NULL OR d_user <> s_user OR d_revoked <> 0 THEN
    RETURN QUERY SELECT 'revoked'::text, ''::text, ''::text; RETURN;
  END IF;
  IF s_expires <= p_now THEN RETURN QUERY SELECT 'expired'::text, ''::text, ''::text; RETURN; END IF;
  RETURN QUERY SELECT 'ok'::text, s_user, s_device;
END""", True),
    ("emdesk_auth_revoke", "p_device_id text", f"TABLE {_DEVICE_COLS}", f"""
BEGIN
  {_REVOKE}
  RETURN QUERY {_DEVICES} WHERE d.device_id = p_device_id;
END""", True),
    ("emdesk_auth_enrol", "p_device_id text", f"TABLE {_DEVICE_COLS}", f"""
BEGIN
  UPDATE hub_devices SET revoked = 0 WHERE device_id = p_device_id;
  DELETE FROM hub_refresh_tokens WHERE device_id = p_device_id;
  DELETE FROM hub_sessions WHERE device_id = p_device_id;
  RETURN QUERY {_DEVICES} WHERE d.device_id = p_device_id;
END""", False),
    ("emdesk_auth_devices", "", f"TABLE {_DEVICE_COLS}", f"""
BEGIN
  RETURN QUERY {_DEVICES} ORDER BY 3, 4, 1;
END""", True),
)


def _signature(args: str) -> str:
    return ", ".join(a.split()[1] for a in args.split(", ") if a)


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
        for statement in (*SCHEMA, *AUTH_SCHEMA):
            conn.execute(statement)
        migrate_devices(Tx(conn, paramstyle="format"), {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'hub_devices' "
            "AND table_schema = current_schema()").fetchall()})
        for statement in log_schema("postgresql"):
            conn.execute(statement)
        for table, column, kind in ADDED_COLUMNS:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
        moved = migrate_change_log(Tx(conn, paramstyle="format"), "postgresql", {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'change_log' "
            "AND table_schema = current_schema()").fetchall()})
        if moved:
            done.append(f"kept the change log once per seq ({moved} entries)")
        for statement in events.schema("postgresql"):
            conn.execute(statement)
        moved = events.migrate_record_telemetry(Tx(conn, paramstyle="format"))
        if moved:
            done.append(f"moved {moved} telemetry records into hub_device_events")
        for statement in FUNCTIONS:
            conn.execute(statement)
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        for name, args, returns, body, granted in AUTH_FUNCTIONS:
            conn.execute(pgsql.SQL(_FN.format(name=name, args=args, returns=returns, body=body.strip(),
                                              schema=pgsql.Identifier(schema).as_string(conn))))
            signature = pgsql.SQL(f"{name}({_signature(args)})")
            conn.execute(pgsql.SQL("REVOKE ALL ON FUNCTION {} FROM PUBLIC").format(signature))
            conn.execute(pgsql.SQL("REVOKE ALL ON FUNCTION {} FROM {}").format(signature, role))
            if granted:
                conn.execute(pgsql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(signature, role))
        for table, policies in (*POLICIES.items(), *events.POLICIES.items()):
            conn.execute(pgsql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(pgsql.Identifier(table)))
            for name in conn.execute("SELECT policyname FROM pg_policies WHERE tablename = %s", [table]).fetchall():
                conn.execute(pgsql.SQL("DROP POLICY {} ON {}").format(pgsql.Identifier(name[0]), pgsql.Identifier(table)))
            for policy in policies:
                conn.execute(pgsql.SQL(policy).format(role=role))
        conn.execute(pgsql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            pgsql.Identifier(conn.info.dbname), role))
        conn.execute(pgsql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        for table in (*TABLES, *events.TABLES, *AUTH_TABLES):
            conn.execute(pgsql.SQL("REVOKE ALL ON {} FROM {}").format(pgsql.Identifier(table), role))
            conn.execute(pgsql.SQL("REVOKE ALL ON {} FROM PUBLIC").format(pgsql.Identifier(table)))
            if table in AUTH_TABLES:
                continue        # the secrets: only through the functions above
            rights = {**GRANTS, **events.GRANTS}.get(table, "SELECT, INSERT, UPDATE, DELETE")
            conn.execute(pgsql.SQL(f"GRANT {rights} ON {{}} TO {{}}").format(pgsql.Identifier(table), role))
        initial_rows(Tx(conn, paramstyle="format"))
        done.append(f"schema, row-level security and grants for {hub_role} in database {conn.info.dbname}; "
                    f"accounts and tokens only through the owner's functions")
    conn.close()
    return done


class _PgTx(Tx):
    """PostgreSQL: a many-row INSERT goes as one statement over a JSON array of its rows, sent in
    pipeline mode: the database writes it while the engine goes on deciding (a push sends what
    it has decided every few hundred ops, ``send_writes``), and the next statement that needs
    an answer, or COMMIT, waits for it.  psycopg's executemany costs a statement per row in
    Python (~40 us), and COPY, which cannot be pipelined, makes the engine wait for each table."""

    _INSERT = re.compile(r"^INSERT INTO (\w+) \(([^)]*)\) VALUES \([?, ]+\)(.*)$", re.DOTALL)
    BATCH_FROM_ROWS = 20
    # Each table's column types, read once per process: a JSON value becomes the column's type.
    _types: ClassVar[dict[str, dict[str, str]]] = {}

    def __init__(self, conn, *, paramstyle: str = "format"):
        super().__init__(conn, paramstyle=paramstyle)
        self._pipeline: psycopg.Pipeline | None = None

    def _many(self, sql: str, rows: list[tuple]) -> int:
        match = self._INSERT.match(sql) if len(rows) >= self.BATCH_FROM_ROWS else None
        if match is None:
            self.settle()
            return super()._many(sql, rows)
        table, columns, tail = match.groups()
        columns = [c.strip() for c in columns.split(",")]
        types = self._column_types(table)
        values = ", ".join(f"(r->>{i})::{types[name]}" for i, name in enumerate(columns))
        statement = (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} "
                     f"FROM jsonb_array_elements(%s::jsonb) r{tail}")
        if self._pipeline is None:
            self._pipeline = self.conn.pipeline()
            self._pipeline.__enter__()
        self.conn.execute(statement, [_ROWS.encode(rows).decode()])
        # Only INSERTs come here, and row-level security refuses an insert with an error (at
        # ``settle``), never by leaving a row out: the rows asked for are the rows written.
        return len(rows)

    def _column_types(self, table: str) -> dict[str, str]:
        if table not in self._types:
            self._types[table] = dict(self.all(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped", [table]))
        return self._types[table]

    def send_writes(self) -> None:
        self.flush_deferred()

    def settle(self) -> None:
        """Wait for the statements sent in pipeline mode; the first that failed raises here."""
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            pipeline.__exit__(None, None, None)

    def abandon(self) -> None:
        """Leave pipeline mode on the way to a ROLLBACK, whatever the statements in it did."""
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            with contextlib.suppress(Exception):
                pipeline.__exit__(RuntimeError, RuntimeError("rolled back"), None)

    def all_in(self, sql: str, keys: list, first: list | tuple = ()) -> list[tuple]:
        # One array parameter: a statement psycopg has prepared once, not one text of a
        # thousand placeholders to parse (and plan) for every push.
        # The array goes in binary (%b): in text, psycopg checks every element with a regex
        # for quoting, some 2 ms per thousand keys.
        if not keys:
            return []
        return self.all(self._sql(sql.replace("IN ({})", "= ANY(?)")).replace("= ANY(%s)", "= ANY(%b)"),
                        [*first, list(keys)])

    def bulk_insert(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if rows:
            self.flush_writes()
            self.settle()       # COPY does not run in pipeline mode
            self._copy_insert(table, columns, rows)

    def _copy_insert(self, table: str, columns: list[str], rows: list[tuple]) -> int:
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
            cur.execute(self._sql(f"INSERT INTO {table} ({names}) SELECT {names} FROM bulk_{table}"))
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
            with self.bookkeeping() as tx:
                have = set(tx.all("SELECT table_name, column_name FROM information_schema.columns "
                                  "WHERE table_schema = current_schema()"))
        except psycopg.errors.UndefinedTable as exc:
            raise StorageUnavailable("the hub schema is missing: run `emdesk hub init` as the owner first") from exc
        missing = [f"{t}.{c}" for t, c, _ in ADDED_COLUMNS if (t, c) not in have]
        if ("change_log", "principal") in have or ("change_feed", "seq") not in have:
            missing.append("change_feed")      # the log as it was kept once per principal
        if missing:
            # The hub role may not alter tables: the owner brings them up to this emdesk.
            raise StorageUnavailable(f"the hub's tables are older than this emdesk (no {', '.join(missing)}): run "
                                     "`emdesk hub init` again as the owner to upgrade them, then serve")
        self.credentials = PostgresCredentials(self)
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
                tx.settle()
                conn.commit()
            except psycopg.OperationalError as exc:
                tx.abandon()
                _rollback(conn)
                raise StorageUnavailable(f"the hub database failed: {exc}") from exc
            except BaseException:
                tx.abandon()
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
    def events_write(self) -> Iterator[Tx]:
        # Event appends serialise among themselves (seqs visible in order, see events.py), not
        # with record writes.
        with self._tx([("SELECT pg_advisory_xact_lock(?)", [events.EVENTS_LOCK]),
                       ("SELECT set_config('emdesk.principal', 'all', true)", [])]) as tx:
            yield tx

    @contextmanager
    def bookkeeping(self) -> Iterator[Tx]:
        # Accounts, devices and counters; of the scoped tables only what is addressed to
        # everyone (user records) is visible here.
        with self._tx([("SELECT set_config('emdesk.principal', '*', true)", [])]) as tx:
            yield tx

    def close(self) -> None:
        self._pool.close()

    def rls_warning(self) -> str | None:
        with self.bookkeeping() as tx:
            user, superuser, bypass, owner = tx.one(
                "SELECT r.rolname, r.rolsuper, r.rolbypassrls, pg_has_role(current_user, c.relowner, 'USAGE') "
                "FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = 'hub_rows'::regclass")
        why = ("a superuser" if superuser else "allowed to bypass row-level security (BYPASSRLS)" if bypass
               else "the owner of the hub's tables" if owner else None)
        if why is None:
            return None
        return (f"WARNING: the hub connects as {user}, {why}: row-level security does not apply to it, so a "
                "mistake in the hub's own checks would not be caught by the database. Serve as the hub role "
                "made by `emdesk hub init --hub-role` instead.")


class PostgresCredentials:
    """The primitives of ``credentials.py`` as calls of the owner's SECURITY DEFINER functions."""

    def __init__(self, storage: PostgresHubStorage):
        self.storage = storage

    def _call(self, sql: str, args: list) -> tuple:
        with self.storage.bookkeeping() as tx:
            return tx.one(sql, args)

    def add_account(self, tx: Tx, user_id: str, username: str, digest: str, now: int) -> bool:
        return bool(tx.scalar("SELECT emdesk_auth_add_account(?, ?, ?, ?)", [user_id, username, digest, now]))

    def set_password(self, user_id: str, username: str, digest: str, now: int) -> None:
        try:
            self._call("SELECT emdesk_auth_set_password(?, ?, ?, ?)", [user_id, username, digest, now])
        except psycopg.errors.InsufficientPrivilege as exc:
            raise StorageUnavailable("setting a password needs the database owner's connection") from exc

    def begin_sign_in(self, username: str, address: str, now: int) -> Outcome:
        status, params, hash_len, wait = self._call("SELECT * FROM emdesk_auth_begin(?, ?, ?)",
                                                    [username, address, now])
        return Outcome(status, params=params, hash_len=int(hash_len), retry_after_ms=int(wait))

    def check_password(self, username: str, candidate: str, address: str, device_id: str, device_name: str,
                       access_hash: str, refresh_hash: str, now: int, expires: int) -> Outcome:
        status, user_id, wait = self._call("SELECT * FROM emdesk_auth_check(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                           [username, candidate, address, device_id, device_name, access_hash,
                                            refresh_hash, now, expires])
        return Outcome(status, user_id, device_id, retry_after_ms=int(wait))

    def refresh(self, device_id: str, refresh_hash: str, new_refresh_hash: str, access_hash: str, now: int,
                expires: int) -> Outcome:
        status, user_id = self._call("SELECT * FROM emdesk_auth_refresh(?, ?, ?, ?, ?, ?)",
                                     [device_id, refresh_hash, new_refresh_hash, access_hash, now, expires])
        return Outcome(status, user_id, device_id)

    def session(self, tx: Tx, access_hash: str, now: int) -> Outcome:
        status, user_id, device_id = tx.one("SELECT * FROM emdesk_auth_session(?, ?)", [access_hash, now])
        return Outcome(status, user_id, device_id)

    def _devices(self, sql: str, args: list) -> list[DeviceInfo]:
        try:
            with self.storage.bookkeeping() as tx:
                rows = tx.all(sql, args)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise StorageUnavailable("this needs the database owner's connection: the hub role may not lift "
                                     "a revocation") from exc
        return [DeviceInfo(r[0], r[1], r[2], r[3], int(r[4]), bool(r[5])) for r in rows]

    def revoke(self, device_id: str) -> DeviceInfo | None:
        found = self._devices("SELECT * FROM emdesk_auth_revoke(?)", [device_id])
        return found[0] if found else None

    def enrol(self, device_id: str) -> DeviceInfo | None:
        found = self._devices("SELECT * FROM emdesk_auth_enrol(?)", [device_id])
        return found[0] if found else None

    def devices(self) -> list[DeviceInfo]:
        return self._devices("SELECT * FROM emdesk_auth_devices()", [])


def _rollback(conn) -> None:
    try:
        conn.rollback()
    except Exception:
        pass
