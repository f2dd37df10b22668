"""The hub's secrets: password hashes, refresh and access token hashes, sign-in attempts.

One set of primitives, two back ends.  On PostgreSQL they are SECURITY DEFINER functions
owned by the schema owner (``postgres.py``), and these tables are not granted to the hub
role at all: the hub process never reads a password hash or a token hash, it asks the
database to compare.  On SQLite the same steps run here in Python over the same tables.

  begin_sign_in   rate limits, then the argon2 parameters and salt of the account (a
                  deterministic fake for an unknown name, so names cannot be enumerated)
  check_password  the hub's argon2 of the candidate against the stored hash, in the database;
                  a failure is counted, a success enrols the desktop and opens a session
  refresh         rotate the desktop's refresh token; reuse of a rotated-out one revokes it
  session         access-token hash -> user and desktop, if still valid and not revoked
  revoke, enrol, devices, add_account (if missing), set_password (owner only on PostgreSQL)

Tokens are opaque random strings; only their SHA-256 is kept.  Rate limits are counted
on the database's clock on PostgreSQL (a hub process cannot move it to reset them), on
the hub's clock on SQLite.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .storage import Tx

# Sign-in limits.  argon2 is deliberately expensive (64 MiB a hash by default), so attempts from one
# address are bounded whatever their outcome; failures per account lock it for a while.
ADDRESS_LIMIT, ADDRESS_WINDOW_MS = 60, 10 * 60_000
ACCOUNT_LIMIT, ACCOUNT_WINDOW_MS = 10, 15 * 60_000
ATTEMPTS_KEPT_MS = 60 * 60_000
REFRESH_GRACE_MS = 2 * 60_000          # a lost answer: the just-rotated token once more, this long
SPENT_KEPT_MS = 90 * 86_400_000        # rotated-out refresh tokens remembered (reuse detection)
DEFAULT_PARAMS, DEFAULT_HASH_LEN = "$argon2id$v=19$m=65536,t=3,p=4", 32

AUTH_TABLES = ("hub_meta", "hub_accounts", "hub_refresh_tokens", "hub_sessions", "hub_signin_attempts")

AUTH_SCHEMA: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS hub_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hub_accounts (user_id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, "
    "password_hash TEXT NOT NULL, changed_ms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hub_refresh_tokens (token_hash TEXT PRIMARY KEY, device_id TEXT NOT NULL, "
    "state TEXT NOT NULL, issued_ms BIGINT NOT NULL, rotated_ms BIGINT, retried INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS hub_refresh_tokens_device ON hub_refresh_tokens (device_id, state)",
    "CREATE TABLE IF NOT EXISTS hub_sessions (token_hash TEXT PRIMARY KEY, device_id TEXT NOT NULL, "
    "user_id TEXT NOT NULL, expires_ms BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS hub_sessions_device ON hub_sessions (device_id)",
    "CREATE TABLE IF NOT EXISTS hub_signin_attempts (kind TEXT NOT NULL, address TEXT NOT NULL, "
    "username TEXT NOT NULL, at_ms BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS hub_signin_attempts_address ON hub_signin_attempts (address, kind, at_ms)",
    "CREATE INDEX IF NOT EXISTS hub_signin_attempts_username ON hub_signin_attempts (username, kind, at_ms)",
    "CREATE INDEX IF NOT EXISTS hub_signin_attempts_age ON hub_signin_attempts (at_ms)",
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Outcome:
    """What a primitive decided: ``status`` is ok or a reason (wrong, address_limited,
    account_limited, revoked, taken, unknown, reused, expired)."""

    status: str
    user_id: str = ""
    device_id: str = ""
    params: str = ""              # begin_sign_in: "$argon2id$v=19$m=..,t=..,p=..$salt"
    hash_len: int = 0
    retry_after_ms: int = 0


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    user_id: str
    username: str
    name: str
    last_seen_ms: int
    revoked: bool


def initial_auth_rows(tx: Tx) -> None:
    """The key that makes fake salts for unknown names (run by whoever owns the schema)."""
    if tx.one("SELECT 1 FROM hub_meta WHERE key = 'fake_salt_key'") is None:
        tx.execute("INSERT INTO hub_meta (key, value) VALUES ('fake_salt_key', ?)", [secrets.token_urlsafe(32)])
    tx.execute("DELETE FROM hub_meta WHERE key = 'token_secret'")      # JWT signing: no longer used


def migrate_devices(tx: Tx, columns: set[str]) -> None:
    """A hub made before token rotation kept each desktop's refresh hash in ``hub_devices``:
    move it to ``hub_refresh_tokens`` (desktops keep working) and drop the column."""
    if "refresh_hash" not in columns:
        return
    tx.execute("INSERT INTO hub_refresh_tokens (token_hash, device_id, state, issued_ms) "
               "SELECT refresh_hash, device_id, 'current', last_seen_ms FROM hub_devices WHERE refresh_hash <> '' "
               "ON CONFLICT DO NOTHING")
    tx.execute("ALTER TABLE hub_devices DROP COLUMN refresh_hash")


def _split(digest: str) -> tuple[str, int]:
    """An argon2 encoded hash -> (everything but the digest, digest length in bytes)."""
    head, _, tail = digest.rpartition("$")
    return head, len(tail) * 3 // 4


def fake_params(key: str, username: str, latest: str | None) -> tuple[str, int]:
    """Parameters for a name with no account: the newest account's cost (same time taken),
    a salt only the database can compute."""
    params, hash_len = DEFAULT_PARAMS, DEFAULT_HASH_LEN
    if latest:
        head, hash_len = _split(latest)
        params = head.rpartition("$")[0]
    salt = base64.b64encode(hashlib.sha256(f"{key}:{username}".encode()).digest()[:16]).decode().rstrip("=")
    return f"{params}${salt}", hash_len


class SQLiteCredentials:
    """The primitives in Python over the hub's SQLite file (the same steps as the
    PostgreSQL functions in ``postgres.py``)."""

    def __init__(self, storage):
        self.storage = storage

    def add_account(self, tx: Tx, user_id: str, username: str, digest: str, now: int) -> bool:
        return tx.execute("INSERT INTO hub_accounts (user_id, username, password_hash, changed_ms) "
                          "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [user_id, username, digest, now]).rowcount == 1

    def set_password(self, user_id: str, username: str, digest: str, now: int) -> None:
        with self.storage.bookkeeping() as tx:
            tx.execute("INSERT INTO hub_accounts (user_id, username, password_hash, changed_ms) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, "
                       "password_hash = excluded.password_hash, changed_ms = excluded.changed_ms",
                       [user_id, username, digest, now])

    @staticmethod
    def _limited(tx: Tx, column: str, value: str, kind: str, limit: int, window: int, t: int) -> int:
        n, oldest = tx.one(f"SELECT count(*), min(at_ms) FROM hub_signin_attempts WHERE {column} = ? AND kind = ? "
                           "AND at_ms > ?", [value, kind, t - window])
        return max(1, int(oldest) + window - t) if n >= limit else 0

    def begin_sign_in(self, username: str, address: str, now: int) -> Outcome:
        with self.storage.bookkeeping() as tx:
            tx.execute("DELETE FROM hub_signin_attempts WHERE at_ms < ?", [now - ATTEMPTS_KEPT_MS])
            wait = self._limited(tx, "address", address, "attempt", ADDRESS_LIMIT, ADDRESS_WINDOW_MS, now)
            if wait:
                return Outcome("address_limited", retry_after_ms=wait)
            wait = self._limited(tx, "username", username, "failure", ACCOUNT_LIMIT, ACCOUNT_WINDOW_MS, now)
            if wait:
                return Outcome("account_limited", retry_after_ms=wait)
            tx.execute("INSERT INTO hub_signin_attempts (kind, address, username, at_ms) VALUES ('attempt', ?, ?, ?)",
                       [address, username, now])
            row = tx.one("SELECT password_hash FROM hub_accounts WHERE username = ?", [username])
            if row is not None:
                head, hash_len = _split(row[0])
                return Outcome("ok", params=head, hash_len=hash_len)
            latest = tx.scalar("SELECT password_hash FROM hub_accounts ORDER BY changed_ms DESC LIMIT 1")
            key = tx.scalar("SELECT value FROM hub_meta WHERE key = 'fake_salt_key'", default="")
        params, hash_len = fake_params(key, username, latest)
        return Outcome("ok", params=params, hash_len=hash_len)

    def check_password(self, username: str, candidate: str, address: str, device_id: str, device_name: str,
                       access_hash: str, refresh_hash: str, now: int, expires: int) -> Outcome:
        with self.storage.bookkeeping() as tx:
            wait = self._limited(tx, "username", username, "failure", ACCOUNT_LIMIT, ACCOUNT_WINDOW_MS, now)
            if wait:
                return Outcome("account_limited", retry_after_ms=wait)
            acct = tx.one("SELECT user_id, password_hash FROM hub_accounts WHERE username = ?", [username])
            if acct is None or not hmac.compare_digest(acct[1].encode(), candidate.encode()):
                tx.execute("INSERT INTO hub_signin_attempts (kind, address, username, at_ms) "
                           "VALUES ('failure', ?, ?, ?)", [address, username, now])
                return Outcome("wrong")
            user_id = acct[0]
            tx.execute("DELETE FROM hub_signin_attempts WHERE username = ? AND kind = 'failure'", [username])
            dev = tx.one("SELECT user_id, revoked FROM hub_devices WHERE device_id = ?", [device_id])
            if dev is not None and dev[1]:
                return Outcome("revoked", user_id)
            if dev is not None and dev[0] != user_id:
                return Outcome("taken", user_id)
            if dev is None:
                tx.execute("INSERT INTO hub_devices (device_id, user_id, name, created_ms, last_seen_ms) "
                           "VALUES (?, ?, ?, ?, ?)", [device_id, user_id, device_name, now, now])
            else:
                tx.execute("UPDATE hub_devices SET name = ?, last_seen_ms = ? WHERE device_id = ?",
                           [device_name, now, device_id])
            tx.execute("DELETE FROM hub_refresh_tokens WHERE device_id = ?", [device_id])
            self._issue(tx, device_id, user_id, refresh_hash, access_hash, now, expires)
        return Outcome("ok", user_id, device_id)

    @staticmethod
    def _issue(tx: Tx, device_id: str, user_id: str, refresh_hash: str, access_hash: str, now: int,
               expires: int) -> None:
        tx.execute("INSERT INTO hub_refresh_tokens (token_hash, device_id, state, issued_ms) "
                   "VALUES (?, ?, 'current', ?)", [refresh_hash, device_id, now])
        tx.execute("DELETE FROM hub_sessions WHERE device_id = ? AND expires_ms <= ?", [device_id, now])
        tx.execute("INSERT INTO hub_sessions (token_hash, device_id, user_id, expires_ms) VALUES (?, ?, ?, ?)",
                   [access_hash, device_id, user_id, expires])

    def refresh(self, device_id: str, refresh_hash: str, new_refresh_hash: str, access_hash: str, now: int,
                expires: int) -> Outcome:
        with self.storage.bookkeeping() as tx:
            tok = tx.one("SELECT device_id, state, rotated_ms, retried FROM hub_refresh_tokens WHERE token_hash = ?",
                         [refresh_hash])
            if tok is None or tok[0] != device_id:
                return Outcome("unknown")
            dev = tx.one("SELECT user_id, revoked FROM hub_devices WHERE device_id = ?", [device_id])
            if dev is None or dev[1]:
                return Outcome("revoked")
            state, rotated, retried = tok[1], tok[2], tok[3]
            if state == "current":
                tx.execute("UPDATE hub_refresh_tokens SET state = 'spent' WHERE device_id = ? AND state = 'previous'",
                           [device_id])
                tx.execute("UPDATE hub_refresh_tokens SET state = 'previous', rotated_ms = ? WHERE token_hash = ?",
                           [now, refresh_hash])
            elif state == "previous" and not retried and now - int(rotated) <= REFRESH_GRACE_MS:
                # Its answer was lost: the successor was never used, so it is dropped for a new one.
                tx.execute("UPDATE hub_refresh_tokens SET state = 'spent' WHERE device_id = ? AND state = 'current'",
                           [device_id])
                tx.execute("UPDATE hub_refresh_tokens SET retried = 1 WHERE token_hash = ?", [refresh_hash])
            else:
                self._revoke(tx, device_id)
                return Outcome("reused", dev[0], device_id)
            tx.execute("DELETE FROM hub_refresh_tokens WHERE device_id = ? AND state = 'spent' AND issued_ms < ?",
                       [device_id, now - SPENT_KEPT_MS])
            self._issue(tx, device_id, dev[0], new_refresh_hash, access_hash, now, expires)
            tx.execute("UPDATE hub_devices SET last_seen_ms = ? WHERE device_id = ?", [now, device_id])
        return Outcome("ok", dev[0], device_id)

    def session(self, tx: Tx, access_hash: str, now: int) -> Outcome:
        row = tx.one("SELECT s.user_id, s.device_id, s.expires_ms, d.user_id, d.revoked FROM hub_sessions s "
                     "LEFT JOIN hub_devices d ON d.device_id = s.device_id WHERE s.token_hash = ?", [access_hash])
        if row is None:
            return Outcome("unknown")
        if row[3] != row[0] or row[4]:
            return Outcome("revoked")
        if int(row[2]) <= now:
            return Outcome("expired")
        return Outcome("ok", row[0], row[1])

    @staticmethod
    def _revoke(tx: Tx, device_id: str) -> None:
        tx.execute("UPDATE hub_devices SET revoked = 1 WHERE device_id = ?", [device_id])
        tx.execute("UPDATE hub_refresh_tokens SET state = 'spent' WHERE device_id = ?", [device_id])
        tx.execute("DELETE FROM hub_sessions WHERE device_id = ?", [device_id])

    _DEVICES = ("SELECT d.device_id, d.user_id, coalesce(a.username, ''), d.name, d.last_seen_ms, d.revoked "
                "FROM hub_devices d LEFT JOIN hub_accounts a ON a.user_id = d.user_id")

    def _device(self, tx: Tx, device_id: str) -> DeviceInfo | None:
        row = tx.one(self._DEVICES + " WHERE d.device_id = ?", [device_id])
        return DeviceInfo(row[0], row[1], row[2], row[3], int(row[4]), bool(row[5])) if row else None

    def revoke(self, device_id: str) -> DeviceInfo | None:
        with self.storage.bookkeeping() as tx:
            self._revoke(tx, device_id)
            return self._device(tx, device_id)

    def enrol(self, device_id: str) -> DeviceInfo | None:
        with self.storage.bookkeeping() as tx:
            # Back in, with a fresh start: its old tokens are forgotten, it signs in with a password.
            tx.execute("UPDATE hub_devices SET revoked = 0 WHERE device_id = ?", [device_id])
            tx.execute("DELETE FROM hub_refresh_tokens WHERE device_id = ?", [device_id])
            tx.execute("DELETE FROM hub_sessions WHERE device_id = ?", [device_id])
            return self._device(tx, device_id)

    def devices(self) -> list[DeviceInfo]:
        with self.storage.bookkeeping() as tx:
            rows = tx.all(self._DEVICES + " ORDER BY a.username, d.name, d.device_id")
        return [DeviceInfo(r[0], r[1], r[2], r[3], int(r[4]), bool(r[5])) for r in rows]
