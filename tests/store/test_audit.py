"""The audit chain detects edited, deleted and truncated entries."""
from __future__ import annotations

import sqlite3

import pytest

from emdesk.domain.people import Subject


@pytest.fixture
def audited(store):
    for name in ("Ann", "Bob", "Cat", "Dan"):
        s = store.put(Subject(given_name=name, family_name="X"), actor="officer-1")
        store.audit_view(actor="officer-2", entity="subjects", entity_id=s.id, subject_id=s.id)
    return store


def _bypass_triggers(store):
    # Someone editing the file directly is not bound by our triggers.
    store.db.execute("DROP TRIGGER audit_log_no_update")
    store.db.execute("DROP TRIGGER audit_log_no_delete")


def test_intact_chain_verifies(audited):
    verdict = audited.verify_audit()
    assert verdict.ok and verdict.entries == 8


def test_changes_and_views_of_a_person_are_logged_with_who(audited):
    subject = audited.find(Subject)[0]
    actions = [(e.actor, e.action) for e in audited.audit_entries(subject_id=subject.id)]
    assert actions == [("officer-1", "create"), ("officer-2", "view")]


def test_the_log_refuses_update_and_delete(audited):
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        audited.db.execute("UPDATE audit_log SET actor = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        audited.db.execute("DELETE FROM audit_log WHERE seq = 1")


@pytest.mark.parametrize("tamper, reason", [
    ("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3", "entry 3 was altered"),
    ("UPDATE audit_log SET action = 'create' WHERE seq = 2", "entry 2 was altered"),
    ("DELETE FROM audit_log WHERE seq = 5", "entries 5..5 are missing"),
    ("DELETE FROM audit_log WHERE seq >= 7", "removed from the end"),
])
def test_tampering_is_detected(audited, tamper, reason):
    _bypass_triggers(audited)
    audited.db.execute(tamper)
    verdict = audited.verify_audit()
    assert not verdict.ok and reason in verdict.reason


def test_rewriting_an_entry_with_a_fresh_hash_still_breaks_the_next_link(audited):
    from emdesk.store.audit import _digest
    _bypass_triggers(audited)
    row = audited.db.execute("SELECT seq, at, actor, action, entity, entity_id, subject_id, detail, prev_hash "
                             "FROM audit_log WHERE seq = 2").fetchone()
    seq, at, _actor, action, entity, eid, sid, detail, prev = row
    forged = _digest(prev, seq, at, "forger", action, entity, eid, sid, detail)
    audited.db.execute("UPDATE audit_log SET actor = 'forger', hash = ? WHERE seq = 2", [forged])
    verdict = audited.verify_audit()
    assert not verdict.ok and verdict.broken_at == 3
