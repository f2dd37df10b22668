"""The local store: the only place SQL lives.

SQLite (SQLCipher on laptops) through sqlite-utils, versioned migrations, an outbox
filled by triggers in the same transaction as each change, and a hash-chained audit log.
"""
from .errors import StoreError, StoreLocked, WrongSecret
from .store import Store

__all__ = ["Store", "StoreError", "StoreLocked", "WrongSecret"]
