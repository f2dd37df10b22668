"""A store is created whole, with its administrator, or not at all."""
from __future__ import annotations

import pytest

from emdesk.domain.users import User
from emdesk.services.errors import ServiceError
from emdesk.services.setup import create_store
from emdesk.store import Store


@pytest.mark.parametrize("plain", [False, True])
def test_a_store_is_made_whole_and_opens_with_the_admin_password(tmp_path, plain):
    path = create_store(tmp_path / "laptop.db", "admin", "long enough", plain=plain)
    store = Store.unlock(path, "admin", "long enough")
    try:
        assert [u.username for u in store.find(User)] == ["admin"]
    finally:
        store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["laptop.db", "laptop.db.keys"]


@pytest.mark.parametrize("password", ["", "short"])
def test_a_refused_password_leaves_nothing_behind_and_a_retry_works(tmp_path, password):
    with pytest.raises(ServiceError, match="at least 8 characters"):
        create_store(tmp_path / "laptop.db", "admin", password)
    assert list(tmp_path.iterdir()) == []
    create_store(tmp_path / "laptop.db", "admin", "long enough")


def test_an_existing_store_is_never_replaced(tmp_path):
    path = create_store(tmp_path / "laptop.db", "admin", "long enough")
    before = path.read_bytes()
    with pytest.raises(ServiceError, match="a store is already there"):
        create_store(path, "admin", "another one")
    assert path.read_bytes() == before
