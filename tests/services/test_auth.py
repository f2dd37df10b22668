"""Local accounts: argon2 hashes, sign-in, and encrypted stores unlocked per account."""
from __future__ import annotations

import pytest

from emdesk.domain.users import Role, User
from emdesk.services import auth
from emdesk.services.errors import ServiceError, SignInError
from emdesk.store import Store


def test_password_is_stored_as_an_argon2_hash(store):
    user = auth.add_user(store, User(username="tech.leeds", display_name="T", role=Role.TECHNICIAN), "s3cret-pass")
    stored = store.password_hash(user.id)
    assert stored.startswith("$argon2id$") and "s3cret-pass" not in stored


def test_sign_in_checks_the_password_and_audits_both_outcomes(store):
    auth.add_user(store, User(username="officer.a", display_name="A", role=Role.FIELD_OFFICER), "right-password")
    with pytest.raises(SignInError, match="wrong password"):
        auth.sign_in(store, "officer.a", "wrong-password")
    with pytest.raises(SignInError):
        auth.sign_in(store, "nobody", "right-password")
    assert auth.sign_in(store, "officer.a", "right-password").username == "officer.a"
    actions = [e.action for e in store.audit_entries() if e.entity == "users"]
    assert actions[-3:] == ["sign_in_failed", "sign_in_failed", "sign_in"]


def test_disabled_account_cannot_sign_in(store):
    auth.add_user(store, User(username="gone", display_name="G", role=Role.SUPERVISOR, active=False), "long-password")
    with pytest.raises(SignInError, match="disabled"):
        auth.sign_in(store, "gone", "long-password")


@pytest.mark.parametrize("password", ["", "short"])
def test_short_passwords_are_refused(store, password):
    with pytest.raises(ServiceError, match="at least 8"):
        auth.add_user(store, User(username="x", display_name="X", role=Role.ADMIN), password)


def test_duplicate_usernames_are_refused_with_a_clear_message(store):
    auth.add_user(store, User(username="x", display_name="X", role=Role.ADMIN), "long-password")
    with pytest.raises(ServiceError, match="already exists"):
        auth.add_user(store, User(username="x", display_name="Y", role=Role.ADMIN), "long-password")


def test_new_account_on_encrypted_store_unlocks_it(tmp_path, clock):
    store, key = Store.create(tmp_path / "e.db", clock=clock)
    auth.add_user(store, User(username="admin", display_name="A", role=Role.ADMIN), "admin-password", data_key=key)
    auth.add_user(store, User(username="officer", display_name="O", role=Role.FIELD_OFFICER), "officer-pass", data_key=key)
    store.close()
    again = Store.unlock(tmp_path / "e.db", "officer", "officer-pass", clock=clock)
    assert auth.sign_in(again, "officer", "officer-pass").role is Role.FIELD_OFFICER
    again.close()
