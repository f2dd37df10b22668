"""A file that is not a store, or a damaged one, is called what it is, not "encrypted"."""
from __future__ import annotations

import shutil
import sqlite3

import pytest

from emdesk.services.setup import create_store
from emdesk.store import Store, StoreError


def _unlock(path):
    return Store.unlock(path, "admin", "long enough")


@pytest.mark.parametrize("content, says", [
    (b"", "is empty: it is not an emdesk store"),
    (b"reference,subject.given_name\nR1,Ann\n", "is a text file, not an emdesk store"),
])
def test_a_file_that_is_no_store_says_so(tmp_path, content, says):
    path = tmp_path / "orders.csv"
    path.write_bytes(content)
    for opening in (lambda: Store.open(path), lambda: _unlock(path)):
        with pytest.raises(StoreError, match=says):
            opening()


@pytest.mark.parametrize("plain", [True, False])
def test_a_store_cut_short_says_damaged_and_restore(tmp_path, plain):
    path = create_store(tmp_path / "laptop.db", "admin", "long enough", plain=plain)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2 + 100])
    with pytest.raises(StoreError, match="damaged.*restore it from backup"):
        _unlock(path)


def test_a_sqlite_file_without_a_key_file_is_not_called_encrypted(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(StoreError, match="no key file beside it") as err:
        Store.open(path)
    assert "encrypted" not in str(err.value)


def test_a_key_file_from_another_store_is_named(tmp_path):
    one = create_store(tmp_path / "one.db", "admin", "long enough")
    two = create_store(tmp_path / "two.db", "admin", "long enough")
    shutil.copy(str(one) + ".keys", str(two) + ".keys")
    with pytest.raises(StoreError, match="not the one its .keys file belongs to"):
        _unlock(two)
