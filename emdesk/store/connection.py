"""Opening a SQLite (or SQLCipher) file with the settings every emdesk store uses."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlcipher3
import sqlite_utils

from .errors import StoreError, WrongSecret


def connect(path: str | Path, key: bytes | None) -> sqlite_utils.Database:
    """A connection with WAL, foreign keys and a busy timeout; SQLCipher when keyed.

    The connection is shared across threads; ``Store`` serialises every use with a
    lock, which makes it the single writer.
    """
    if key is None:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    else:
        conn = sqlcipher3.connect(str(path), check_same_thread=False, isolation_level=None)
        # A raw key skips SQLCipher's own KDF: ours (argon2id) already ran.
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except (sqlite3.DatabaseError, sqlcipher3.DatabaseError) as exc:
        conn.close()
        if key is None:
            raise StoreError(f"{path}: not a readable emdesk store ({exc}); is it encrypted?") from exc
        raise WrongSecret(f"{path}: the key does not open this store") from exc
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA synchronous = NORMAL")
    return sqlite_utils.Database(conn)


def database_errors() -> tuple[type[Exception], ...]:
    return (sqlite3.DatabaseError, sqlcipher3.DatabaseError)
