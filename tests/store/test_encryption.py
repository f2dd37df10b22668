"""Encryption at rest: the file is unreadable without the key; accounts unlock it."""
from __future__ import annotations

import sqlite3

import pytest

from emdesk.domain.people import Subject
from emdesk.store import Store, StoreLocked, WrongSecret


@pytest.fixture
def encrypted(tmp_path, clock):
    store, key = Store.create(tmp_path / "laptop.db", clock=clock)
    store.add_key_slot("officer.leeds", "correct horse", key)
    store.add_key_slot("supervisor", "battery staple", key)
    store.put(Subject(given_name="Marcus", family_name="Okafor"))
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return tmp_path / "laptop.db"


def test_file_holds_no_plaintext_and_plain_sqlite_cannot_read_it(encrypted):
    raw = encrypted.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    assert b"Okafor" not in raw and b"subjects" not in raw
    conn = sqlite3.connect(encrypted)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        conn.execute("SELECT * FROM subjects").fetchall()
    conn.close()


def test_each_account_unlocks_with_its_own_password(encrypted, clock):
    for user, pw in (("officer.leeds", "correct horse"), ("supervisor", "battery staple")):
        store = Store.unlock(encrypted, user, pw, clock=clock)
        assert store.encrypted and store.find(Subject)[0].family_name == "Okafor"
        store.close()


@pytest.mark.parametrize("user, pw", [("officer.leeds", "wrong"), ("nobody", "correct horse"), ("supervisor", "correct horse")])
def test_wrong_secret_is_refused(encrypted, user, pw):
    with pytest.raises(WrongSecret):
        Store.unlock(encrypted, user, pw)


def test_encrypted_store_needs_a_key(encrypted):
    with pytest.raises(StoreLocked):
        Store.open(encrypted)
    with pytest.raises(WrongSecret):
        Store.open(encrypted, key=b"\x00" * 32)


def test_plain_mode_is_explicit_and_recorded(tmp_path):
    store, key = Store.create(tmp_path / "demo.db", plain=True)
    assert key is None and not store.encrypted
    store.close()
    assert (tmp_path / "demo.db").read_bytes().startswith(b"SQLite format 3")
    assert '"plain": true' in (tmp_path / "demo.db.keys").read_text()
