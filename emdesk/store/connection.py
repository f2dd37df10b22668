"""Opening a SQLite (or SQLCipher) file with the settings every emdesk store uses."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlcipher3
import sqlite_utils

from .errors import StoreError, WrongSecret


SQLITE_HEADER = b"SQLite format 3\x00"


def not_a_store(path: str | Path) -> str | None:
    """What this file is, if it plainly is not a store (empty, text, cut short), else None."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or exc})"
    if size == 0:
        return f"{path} is empty: it is not an emdesk store; choose the store file, or restore it from backup"
    if not head.startswith(SQLITE_HEADER):
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and all(c.isprintable() or c in "\r\n\t" for c in text):
            return f"{path} is a text file, not an emdesk store; choose the store file (.db) instead"
    if size % 512:
        # SQLite files are whole pages (512 to 65,536 bytes each): this one was cut short.
        return f"{path} is damaged ({size:,} bytes, not a whole number of pages): restore it from backup"
    return None


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
        what = not_a_store(path)
        if what:
            raise StoreError(what) from exc
        if key is None:
            if Path(path).read_bytes()[:16] == SQLITE_HEADER:
                raise StoreError(f"{path} is damaged ({exc}): restore it from backup") from exc
            raise StoreError(f"{path}: its key file says it is not encrypted, but it is not a readable SQLite "
                             "file: restore the store and its .keys file from the same backup") from exc
        if Path(path).read_bytes()[:16] == SQLITE_HEADER:
            raise StoreError(f"{path} is not encrypted, but its key file says it is: restore the store and its "
                             ".keys file from the same backup") from exc
        # The password opened the key file (AES-GCM checks it), so the key is right: the file is not.
        raise WrongSecret(f"{path}: the key from its key file does not open it: the store is damaged or not the "
                          "one its .keys file belongs to; restore both from the same backup") from exc
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA synchronous = NORMAL")
    return sqlite_utils.Database(conn)


def database_errors() -> tuple[type[Exception], ...]:
    return (sqlite3.DatabaseError, sqlcipher3.DatabaseError)
