"""The hub's accounts: passwords, per-desktop refresh tokens, short-lived access tokens."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import jwt
import msgspec
from argon2.exceptions import InvalidHashError, VerificationError

from emdesk.domain.users import Role, User

from .. import protocol as p
from ..scope import principal_of
from .storage import Tx


class HubError(Exception):
    """An answer other than 200: HTTP status, stable code, message for the user."""

    def __init__(self, status: int, code: str, message: str, *, hub_time_ms: int = 0):
        super().__init__(message)
        self.status, self.code, self.message, self.hub_time_ms = status, code, message, hub_time_ms


@dataclass(frozen=True)
class Account:
    """Who is calling: from a verified access token and the hub's current user record."""

    user_id: str
    username: str
    role: Role
    region: str
    device_id: str

    @property
    def principal(self) -> str:
        return principal_of(self.role, self.user_id, self.region)


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_USER = msgspec.json.Decoder(User)


class Accounts:
    """Mixed into ``Hub``: uses its storage, hasher, clock and schema check."""


    def secret(self) -> str:
        if self._secret is None:
            self._secret = self.storage.secret()
        return self._secret

    def set_password(self, user: User, password: str) -> None:
        digest = self.hasher.hash(password)
        with self.storage.bookkeeping() as tx:
            self._put_account(tx, user, digest)

    def _put_account(self, tx: Tx, user: User, digest: str) -> None:
        tx.execute("INSERT INTO hub_accounts (user_id, username, password_hash, changed_ms) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, "
                   "password_hash = excluded.password_hash, changed_ms = excluded.changed_ms",
                   [user.id, user.username, digest, self.now_ms()])

    def _user(self, tx: Tx, user_id: str) -> User | None:
        row = tx.one("SELECT data FROM hub_rows WHERE tbl = 'users' AND id = ?", [user_id])
        if row is None:
            return None
        user = _USER.decode(row[0])
        return None if user.deleted else user

    def token(self, req: p.TokenRequest) -> p.TokenResponse:
        self.check_schema(req.schema_version)
        now = self.now_ms()
        if not req.device_id:
            raise HubError(400, "bad_request", "the desktop sent no device id")
        if req.password:
            with self.storage.bookkeeping() as tx:
                acct = tx.one("SELECT user_id, password_hash FROM hub_accounts WHERE username = ?", [req.username])
            if acct is None or not self._verify(acct[1], req.password):
                raise HubError(401, "unauthorised", "Unknown user or wrong password. Check both and try again.")
            refresh = secrets.token_urlsafe(32)
            with self.storage.bookkeeping() as tx:
                user = self._active_user(tx, acct[0])
                taken = tx.one("SELECT user_id FROM hub_devices WHERE device_id = ?", [req.device_id])
                if taken and taken[0] != user.id:
                    raise HubError(409, "device_taken", "This desktop's store already syncs for another user: "
                                   "join with a new store (--db) for this account.")
                tx.execute("INSERT INTO hub_devices (device_id, user_id, name, refresh_hash, created_ms, last_seen_ms) "
                           "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET "
                           "refresh_hash = excluded.refresh_hash, name = excluded.name, revoked = 0, "
                           "last_seen_ms = excluded.last_seen_ms",
                           [req.device_id, user.id, req.device_name or req.device_id, _hash_refresh(refresh), now, now])
        elif req.refresh_token:
            refresh = req.refresh_token
            with self.storage.bookkeeping() as tx:
                dev = tx.one("SELECT user_id, refresh_hash, revoked FROM hub_devices WHERE device_id = ?", [req.device_id])
                if dev is None or dev[2] or not hmac.compare_digest(dev[1], _hash_refresh(refresh)):
                    raise HubError(401, "unauthorised", "This desktop's sign-in to the hub was revoked or is unknown: "
                                   "join it again with `emdesk join`.")
                user = self._active_user(tx, dev[0])
                tx.execute("UPDATE hub_devices SET last_seen_ms = ? WHERE device_id = ?", [now, req.device_id])
        else:
            raise HubError(400, "bad_request", "a password or a refresh token is needed")
        expires = now + self.access_ttl_s * 1000
        access = jwt.encode({"sub": user.id, "dev": req.device_id, "iat": now // 1000, "exp": expires // 1000},
                            self.secret(), algorithm="HS256")
        return p.TokenResponse(access_token=access, expires_at_ms=expires, refresh_token=refresh,
                               user=p.UserInfo(id=user.id, username=user.username, role=user.role.value,
                                               region=user.region),
                               hub_time_ms=now)

    def _verify(self, digest: str, password: str) -> bool:
        try:
            return self.hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return False

    def _active_user(self, tx: Tx, user_id: str) -> User:
        user = self._user(tx, user_id)
        if user is None or not user.active:
            raise HubError(403, "account_disabled", "This account is disabled on the hub. Ask an administrator.")
        return user

    def authenticate(self, bearer: str | None) -> Account:
        if not bearer:
            raise HubError(401, "unauthorised", "Sign in to the hub first.")
        try:
            # Times are checked against the hub's own (injectable) clock, not PyJWT's.
            claims = jwt.decode(bearer, self.secret(), algorithms=["HS256"],
                                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
        except jwt.PyJWTError:
            raise HubError(401, "unauthorised", "The hub did not accept this sign-in; sign in again.") from None
        if int(claims.get("exp", 0)) * 1000 <= self.now_ms():
            raise HubError(401, "token_expired", "The hub sign-in has expired; it will be renewed.")
        with self.storage.bookkeeping() as tx:
            dev = tx.one("SELECT user_id, revoked FROM hub_devices WHERE device_id = ?", [claims.get("dev", "")])
            if dev is None or dev[1] or dev[0] != claims.get("sub"):
                raise HubError(401, "unauthorised", "This desktop's sign-in to the hub was revoked: join it again.")
            user = self._active_user(tx, claims["sub"])
        return Account(user_id=user.id, username=user.username, role=user.role, region=user.region,
                       device_id=claims["dev"])

    def revoke_device(self, device_id: str) -> bool:
        with self.storage.bookkeeping() as tx:
            return tx.execute("UPDATE hub_devices SET revoked = 1 WHERE device_id = ?", [device_id]).rowcount == 1
