"""Creating a store with its first administrator: all of it, or nothing.

A store without an administrator (or, encrypted, without a key slot) can never be opened,
and a half-made one blocks the path for the next attempt.  So the password is checked
before anything is written, the store is made under a temporary name beside its final
place, and only a complete store (data and key file) is moved there.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from emdesk.domain.clock import Clock
from emdesk.domain.users import Role, User
from emdesk.store import Store
from emdesk.store.keyring import keyring_path

from . import auth
from .errors import ServiceError


def check_new_password(username: str, password: str) -> None:
    if len(password) < auth.MIN_PASSWORD:
        raise ServiceError(f"password for {username}: at least {auth.MIN_PASSWORD} characters, please; "
                           "nothing was created")


def create_store(path: str | Path, admin: str, password: str, *, plain: bool = False,
                 clock: Clock | None = None) -> Path:
    path = Path(path)
    if path.exists() or keyring_path(path).exists():
        raise ServiceError(f"{path}: a store is already there; open it, or choose another path")
    check_new_password(admin, password)
    path.parent.mkdir(parents=True, exist_ok=True)
    work = path.parent / f".{path.name}.creating-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        draft = work / path.name
        store, key = Store.create(draft, plain=plain, clock=clock)
        try:
            auth.add_user(store, User(username=admin, display_name="Administrator", role=Role.ADMIN),
                          password, data_key=key, actor="init")
        finally:
            store.close()
        # os.link never replaces: a store that appeared meanwhile is left alone.
        try:
            os.link(keyring_path(draft), keyring_path(path))
        except FileExistsError:
            raise ServiceError(f"{path}: a store appeared there meanwhile; nothing was changed") from None
        try:
            os.link(draft, path)
        except BaseException:
            keyring_path(path).unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


__all__ = ["check_new_password", "create_store"]
