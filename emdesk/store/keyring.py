"""Keys for an encrypted store, kept beside it in ``<store>.keys``.

The database is encrypted with one random data key; each local account holds a copy
of that key wrapped (AES-GCM) under a key derived from its own password (argon2id).
So several officers can share a laptop, a password change rewraps one slot, and the
database file alone is unreadable.  A plain (unencrypted) store says so here too, so
plain mode is always an explicit choice, never a silent fallback.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import StoreError, WrongSecret

FORMAT = 1
# OWASP's argon2id baseline; about 0.1 s here, paid once per sign-in.
KDF_PARAMS = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 2}


def keyring_path(db_path: str | Path) -> Path:
    return Path(str(db_path) + ".keys")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


def _derive(password: str, salt: bytes, params: dict) -> bytes:
    return hash_secret_raw(password.encode(), salt, hash_len=32, type=Type.ID, **params)


@dataclass
class Keyring:
    path: Path
    plain: bool
    slots: dict[str, dict]

    @classmethod
    def load(cls, db_path: str | Path) -> "Keyring | None":
        path = keyring_path(db_path)
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            return cls(path=path, plain=bool(data["plain"]), slots=dict(data.get("slots", {})))
        except (ValueError, KeyError) as exc:
            raise StoreError(f"{path}: key file is damaged ({exc}); restore it from backup") from exc

    @classmethod
    def new(cls, db_path: str | Path, *, plain: bool) -> tuple["Keyring", bytes | None]:
        ring = cls(path=keyring_path(db_path), plain=plain, slots={})
        return ring, (None if plain else secrets.token_bytes(32))

    def save(self) -> None:
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps({"format": FORMAT, "plain": self.plain, "slots": self.slots}, indent=1))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def add(self, username: str, password: str, data_key: bytes) -> None:
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        wrapped = AESGCM(_derive(password, salt, KDF_PARAMS)).encrypt(nonce, data_key, username.encode())
        self.slots[username] = {
            "kdf": "argon2id", "params": KDF_PARAMS, "salt": _b64(salt),
            "nonce": _b64(nonce), "wrapped": _b64(wrapped),
        }

    def remove(self, username: str) -> None:
        self.slots.pop(username, None)

    def unlock(self, username: str, password: str) -> bytes:
        slot = self.slots.get(username)
        if slot is None:
            raise WrongSecret("unknown user or wrong password")
        kek = _derive(password, _unb64(slot["salt"]), slot["params"])
        try:
            return AESGCM(kek).decrypt(_unb64(slot["nonce"]), _unb64(slot["wrapped"]), username.encode())
        except InvalidTag:
            raise WrongSecret("unknown user or wrong password") from None
