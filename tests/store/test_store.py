"""The store on real SQLite files: stamps, tombstones, outbox capture, WAL, foreign keys."""
from __future__ import annotations

import sqlite3

import pytest

from emdesk.domain.devices import Device, DeviceKind
from emdesk.domain.orders import Cohort, Order
from emdesk.domain.people import Address, Subject
from emdesk.domain.users import Role, User
from emdesk.store import Store, StoreError


def test_put_stamps_and_round_trips(store, clock):
    subject = Subject(given_name="Ann", family_name="Jones",
                      addresses=(Address(lines=("1 Briggate",), town="Leeds", postcode="LS1 1AA", lat=53.8, lon=-1.54),))
    saved = store.put(subject, actor="u1")
    assert saved.created_at == clock.now() and saved.updated_at == clock.now()
    assert saved.origin == store.desktop_id and saved.hlc
    assert store.get(Subject, subject.id) == saved


def test_every_change_to_a_synced_table_writes_an_outbox_row_in_the_same_transaction(store):
    s = store.put(Subject(given_name="A", family_name="B"))
    store.put(s.evolve(given_name="Alice"))
    store.tombstone(Subject, s.id)
    ops = [(r["table_name"], r["row_id"], r["op"]) for r in store.outbox()]
    assert ops == [("subjects", s.id, "upsert"), ("subjects", s.id, "upsert"), ("subjects", s.id, "delete")]
    assert len({r["op_id"] for r in store.outbox()}) == 3


def test_a_failed_transaction_leaves_neither_row_nor_outbox(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.put(Subject(given_name="A", family_name="B"))
            raise RuntimeError("crash mid-change")
    assert store.count(Subject) == 0 and store.outbox_count() == 0


def test_hlc_stamps_increase_even_when_the_clock_stands_still(store):
    a = store.put(Subject(given_name="A"))
    b = store.put(Subject(given_name="B"))
    assert b.hlc > a.hlc


def test_rows_are_never_deleted_only_tombstoned(store):
    s = store.put(Subject(given_name="A"))
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        store.db.execute("DELETE FROM subjects WHERE id = ?", [s.id])
    store.tombstone(Subject, s.id)
    assert store.get(Subject, s.id) is None
    assert store.get(Subject, s.id, include_deleted=True).deleted


def test_foreign_keys_are_enforced_at_commit(store):
    with pytest.raises(sqlite3.IntegrityError):
        store.put(Order(subject_id="no-such-subject", cohort=Cohort.COURT_BAIL))
    assert store.count(Order) == 0


def test_find_filters_on_indexed_columns(store):
    store.put_many([Device(kind=DeviceKind.HMU, serial=f"HMU-{i:06d}", region="Wales" if i % 2 else "London")
                    for i in range(10)])
    assert store.count(Device, where={"region": "Wales"}) == 5
    assert [d.serial for d in store.find(Device, where={"serial": ["HMU-000001", "HMU-000003"]}, order_by="serial")] \
        == ["HMU-000001", "HMU-000003"]


def test_unique_username(store):
    store.put(User(username="a", display_name="A", role=Role.ADMIN))
    with pytest.raises(sqlite3.IntegrityError):
        store.put(User(username="a", display_name="A2", role=Role.ADMIN))


def test_store_uses_wal_and_foreign_keys(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_reopen_keeps_desktop_id_and_data(tmp_path, clock):
    s, _ = Store.create(tmp_path / "x.db", plain=True, clock=clock)
    desk = s.desktop_id
    s.put(Subject(given_name="A"))
    s.close()
    s2 = Store.open(tmp_path / "x.db", clock=clock)
    assert s2.desktop_id == desk and s2.count(Subject) == 1
    # HLC continues after a restart instead of starting again.
    last = s2.meta("hlc_last")
    assert s2.put(Subject(given_name="B")).hlc > last
    s2.close()


def test_create_refuses_to_overwrite(tmp_path):
    s, _ = Store.create(tmp_path / "x.db", plain=True)
    s.close()
    with pytest.raises(StoreError, match="already there"):
        Store.create(tmp_path / "x.db", plain=True)


def test_open_missing_store_says_what_to_do(tmp_path):
    with pytest.raises(StoreError, match="emdesk init"):
        Store.open(tmp_path / "nothing.db")


def test_a_durable_transaction_syncs_its_commit_and_then_the_store_goes_back_to_normal(store):
    from emdesk.domain.people import Subject as Person

    def level():
        with store.reading() as db:
            return db.execute("PRAGMA synchronous").fetchone()[0]

    assert level() == 1                                  # NORMAL: survives a crashed process
    with store.durable():
        assert level() == 2                              # FULL: the WAL is synced at this commit
        store.put(Person(given_name="A", family_name="B"))
        with store.durable():                            # nested: joins, changes nothing
            assert level() == 2
    assert level() == 1
    with pytest.raises(RuntimeError):
        with store.durable():
            raise RuntimeError("refused")
    assert level() == 1
