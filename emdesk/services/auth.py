"""Local accounts: password hashes (argon2id) and sign-in."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from emdesk.domain.users import User
from emdesk.store import Store

from .errors import ServiceError, SignInError

_hasher = PasswordHasher()

MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


def add_user(store: Store, user: User, password: str, *, data_key: bytes | None = None,
             actor: str = "system") -> User:
    """Create an account; on an encrypted store, its password also unlocks the store."""
    if len(password) < MIN_PASSWORD:
        raise ServiceError(f"password for {user.username}: at least {MIN_PASSWORD} characters, please")
    if store.find(User, where={"username": user.username}):
        raise ServiceError(f"user {user.username!r} already exists: choose another username")
    user = store.put(user, actor=actor)
    store.set_password_hash(user.id, hash_password(password))
    store.add_key_slot(user.username, password, data_key)
    return user


def sign_in(store: Store, username: str, password: str) -> User:
    found = store.find(User, where={"username": username})
    user = found[0] if found else None
    stored = store.password_hash(user.id) if user else None
    if user is None or stored is None or not check_password(stored, password):
        store.audit_view(actor=username or "?", entity="users", entity_id=user.id if user else "",
                         subject_id=None, action="sign_in_failed")
        raise SignInError("Unknown user or wrong password. Check both and try again.")
    if not user.active:
        raise SignInError(f"The account {username} is disabled. Ask an administrator.")
    store.audit_view(actor=user.id, entity="users", entity_id=user.id, subject_id=None, action="sign_in")
    return user
