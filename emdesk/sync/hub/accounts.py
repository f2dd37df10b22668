"""The hub's accounts: passwords, per-desktop refresh tokens, short-lived access tokens.

Both kinds of token are opaque random strings; the database keeps only their SHA-256
(``credentials.py``, and on PostgreSQL the owner's functions in ``postgres.py``).  A
password is checked without the hub ever reading its hash: the database hands out the
argon2 parameters and salt, the hub computes the candidate's hash, the database compares.
"""
from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass

import msgspec
from argon2 import Type
from argon2.exceptions import HashingError
from argon2.low_level import hash_secret

from emdesk.domain.users import Role, User

from .. import protocol as p
from ..scope import principal_of
from .credentials import DeviceInfo, Outcome, new_token, token_hash
from .storage import Tx


class HubError(Exception):
    """An answer other than 200: HTTP status, stable code, message for the user."""

    def __init__(self, status: int, code: str, message: str, *, hub_time_ms: int = 0, retry_after_s: int = 0):
        super().__init__(message)
        self.status, self.code, self.message, self.hub_time_ms = status, code, message, hub_time_ms
        self.retry_after_s = retry_after_s


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


_USER = msgspec.json.Decoder(User)
_TYPES = {"argon2id": Type.ID, "argon2i": Type.I, "argon2d": Type.D}
UNAUTHORISED = "Unknown user or wrong password. Check both and try again."


def argon2_with(params: str, hash_len: int, password: str) -> str:
    """The encoded argon2 hash of ``password`` under ``$type$v=..$m=..,t=..,p=..$salt``."""
    try:
        _, kind, version, costs, salt = params.split("$")
        cost = dict(item.split("=") for item in costs.split(","))
        raw_salt = base64.b64decode(salt + "=" * (-len(salt) % 4), validate=True)
        return hash_secret(password.encode(), raw_salt, time_cost=int(cost["t"]), memory_cost=int(cost["m"]),
                           parallelism=int(cost["p"]), hash_len=hash_len, type=_TYPES[kind],
                           version=int(version.removeprefix("v="))).decode()
    except (ValueError, KeyError, binascii.Error, HashingError) as exc:
        raise HubError(500, "bad_account", "This account's password record on the hub is damaged: "
                       "ask an administrator to set the password again.") from exc


def _wait_message(outcome: Outcome) -> tuple[str, int]:
    seconds = max(1, math.ceil(outcome.retry_after_ms / 1000))
    when = f"{math.ceil(seconds / 60)} minute(s)" if seconds >= 60 else f"{seconds} seconds"
    if outcome.status == "address_limited":
        return f"Too many sign-in attempts from this address. Wait {when} and try again.", seconds
    return (f"Too many failed sign-ins for this account. Wait {when} and try again, or ask an administrator "
            "to check the password.", seconds)


class Accounts:
    """Mixed into ``Hub``: uses its storage, hasher, clock and schema check."""

    def set_password(self, user: User, password: str) -> None:
        """Set (or change) a hub password; on PostgreSQL only the database owner may."""
        self.storage.credentials.set_password(user.id, user.username, self.hasher.hash(password), self.now_ms())

    def _put_account(self, tx: Tx, user: User, digest: str) -> None:
        # Loading records gives accounts to users who have none; an existing password stays.
        self.storage.credentials.add_account(tx, user.id, user.username, digest, self.now_ms())

    def _user(self, tx: Tx, user_id: str) -> User | None:
        row = tx.one("SELECT data FROM hub_rows WHERE tbl = 'users' AND id = ?", [user_id])
        if row is None:
            return None
        user = _USER.decode(row[0])
        return None if user.deleted else user

    def token(self, req: p.TokenRequest, address: str = "") -> p.TokenResponse:
        """Sign in with a password (registers the desktop) or a refresh token (rotated)."""
        self.check_schema(req.schema_version)
        now = self.now_ms()
        expires = now + self.access_ttl_s * 1000
        if not req.device_id:
            raise HubError(400, "bad_request", "the desktop sent no device id")
        access, refresh = new_token(), new_token()
        creds = self.storage.credentials
        if req.password:
            begun = creds.begin_sign_in(req.username, address, now)
            if begun.status != "ok":
                self._limited(begun)
            candidate = argon2_with(begun.params, begun.hash_len, req.password)
            done = creds.check_password(req.username, candidate, address, req.device_id,
                                        req.device_name or req.device_id, token_hash(access), token_hash(refresh),
                                        now, expires)
            if done.status.endswith("_limited"):
                self._limited(done)
            if done.status == "wrong":
                raise HubError(401, "unauthorised", UNAUTHORISED)
            if done.status == "revoked":
                raise HubError(403, "device_revoked", "This desktop was revoked on the hub, so it cannot sign in "
                               "again until an administrator re-enrols it (`emdesk hub enrol --store ... "
                               f"{req.device_id}`).")
            if done.status == "taken":
                raise HubError(409, "device_taken", "This desktop's store already syncs for another user: "
                               "join with a new store (--db) for this account.")
        elif req.refresh_token:
            done = creds.refresh(req.device_id, token_hash(req.refresh_token), token_hash(refresh),
                                 token_hash(access), now, expires)
            if done.status == "reused":
                raise HubError(401, "refresh_reused", "This desktop's sign-in was used twice (a copied or stolen "
                               "token?), so the hub revoked the desktop. Ask an administrator to re-enrol it.")
            if done.status != "ok":
                raise HubError(401, "unauthorised", "This desktop's sign-in to the hub was revoked or is unknown: "
                               "join it again with `emdesk join`.")
        else:
            raise HubError(400, "bad_request", "a password or a refresh token is needed")
        with self.storage.bookkeeping() as tx:
            user = self._active_user(tx, done.user_id)
        return p.TokenResponse(access_token=access, expires_at_ms=expires, refresh_token=refresh,
                               user=p.UserInfo(id=user.id, username=user.username, role=user.role.value,
                                               region=user.region),
                               hub_time_ms=now)

    @staticmethod
    def _limited(outcome: Outcome) -> None:
        message, seconds = _wait_message(outcome)
        raise HubError(429, "too_many_attempts", message, retry_after_s=seconds)

    def _active_user(self, tx: Tx, user_id: str) -> User:
        user = self._user(tx, user_id)
        if user is None or not user.active:
            raise HubError(403, "account_disabled", "This account is disabled on the hub. Ask an administrator.")
        return user

    def authenticate(self, bearer: str | None) -> Account:
        if not bearer:
            raise HubError(401, "unauthorised", "Sign in to the hub first.")
        with self.storage.bookkeeping() as tx:
            found = self.storage.credentials.session(tx, token_hash(bearer), self.now_ms())
            if found.status == "expired":
                raise HubError(401, "token_expired", "The hub sign-in has expired; it will be renewed.")
            if found.status == "revoked":
                raise HubError(401, "unauthorised", "This desktop's sign-in to the hub was revoked: join it again.")
            if found.status != "ok":
                raise HubError(401, "unauthorised", "The hub did not accept this sign-in; sign in again.")
            user = self._active_user(tx, found.user_id)
        return Account(user_id=user.id, username=user.username, role=user.role, region=user.region,
                       device_id=found.device_id)

    # -- administration ---------------------------------------------------------

    def revoke_device(self, device_id: str) -> DeviceInfo | None:
        """Revoke a desktop: its tokens stop working at once, and a password does not bring it back."""
        return self.storage.credentials.revoke(device_id)

    def enrol_device(self, device_id: str) -> DeviceInfo | None:
        """Lift a revocation; the desktop then signs in with its user's password again."""
        return self.storage.credentials.enrol(device_id)

    def devices(self) -> list[DeviceInfo]:
        return self.storage.credentials.devices()
