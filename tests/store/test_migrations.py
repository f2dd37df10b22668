"""A store made by the first schema version upgrades in place, keeping its data."""
from __future__ import annotations

import json

import pytest

from emdesk.domain.people import Subject
from emdesk.store import Store, StoreError
from emdesk.store import migrations
from emdesk.store.connection import connect


def test_version_one_store_upgrades_to_latest(tmp_path, clock):
    path = tmp_path / "old.db"
    (tmp_path / "old.db.keys").write_text(json.dumps({"format": 1, "plain": True, "slots": {}}))
    db = connect(path, None)
    assert migrations.migrate(db, up_to=1) == [1]
    # A record written the way version 1 wrote it.
    db.execute("INSERT INTO meta VALUES ('desktop_id', 'old-desk')")
    subject = Subject(given_name="Old", family_name="Record")
    from emdesk.store.store import encode
    db.execute("INSERT INTO subjects (id, created_at, updated_at, origin, deleted, hlc, data, family_name, given_name) "
               "VALUES (?, '2026-01-01T00:00:00.000+00:00', '2026-01-01T00:00:00.000+00:00', 'old-desk', 0, '', ?, 'Record', 'Old')",
               [subject.id, encode(subject)])
    assert "sync_state" not in db.table_names()
    db.conn.close()

    store = Store.open(path, clock=clock)
    assert store.schema_version == migrations.LATEST
    assert "sync_state" in store.db.table_names()
    assert "orders_by_officer" in {i.name for i in store.db["orders"].indexes}
    assert store.get(Subject, subject.id).full_name == "Old Record"
    assert store.desktop_id == "old-desk"
    applied = store.db.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [v for v, _ in applied] == [m.version for m in migrations.MIGRATIONS]
    store.close()


def test_a_failing_migration_rolls_back_whole(tmp_path, monkeypatch):
    db = connect(tmp_path / "x.db", None)
    migrations.migrate(db, up_to=1)

    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk full")

    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS[:1], migrations.Migration(2, "broken", broken)))
    with pytest.raises(RuntimeError):
        migrations.migrate(db)
    assert "half_done" not in db.table_names()
    assert migrations.current_version(db) == 1


def test_a_store_from_a_newer_emdesk_is_refused(tmp_path):
    db = connect(tmp_path / "x.db", None)
    migrations.migrate(db)
    db.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'now')")
    with pytest.raises(StoreError, match="upgrade emdesk"):
        migrations.migrate(db)


def test_version_four_store_gains_checklist_ticks_that_sync_and_are_never_deleted(tmp_path, clock):
    from emdesk.domain.checklists import ChecklistTick
    from emdesk.domain.people import Subject as Person

    path = tmp_path / "v4.db"
    (tmp_path / "v4.db.keys").write_text(json.dumps({"format": 1, "plain": True, "slots": {}}))
    db = connect(path, None)
    assert migrations.migrate(db, up_to=4) == [1, 2, 3, 4]
    assert "checklist_ticks" not in db.table_names()
    db.conn.close()
    store = Store.open(path, clock=clock)
    try:
        assert store.schema_version == migrations.LATEST
        person = store.put(Person(given_name="A", family_name="B"))
        tick = store.put(ChecklistTick(visit_id="v1", order_id="o1", subject_id=person.id, template="check@1",
                                       step="strap", at=clock.now(), by="u1"))
        assert store.find(ChecklistTick, where={"visit_id": "v1"}) == [tick]
        ops = [r for r in store.outbox() if r["table_name"] == "checklist_ticks"]
        assert len(ops) == 1 and ops[0]["row_id"] == tick.id
        with pytest.raises(Exception, match="rows are never deleted"):
            store.db.execute("DELETE FROM checklist_ticks")
        assert "checklist_ticks_by_visit" in {i.name for i in store.db["checklist_ticks"].indexes}
    finally:
        store.close()
