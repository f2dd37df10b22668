"""A desktop is not sent back what it pushed when the hub keeps it exactly as sent
(``change_log.origin``), on both hub storages; anything the hub changed comes back, and
every other desktop, the same user's second laptop included, receives the change."""
from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from synckit import NOW, OFFICER, SUPERVISOR, new_pg_database

from emdesk.domain.ids import new_id
from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Order
from emdesk.sync.hub import StorageUnavailable, open_storage
from emdesk.sync.hub.postgres import init_postgres


def _notes(desk, officer_desk, n: int, **kw) -> list[Note]:
    case = next(o for o in officer_desk.store.find(Order, order_by="id")
                if o.assigned_officer_id == officer_desk.user.id)
    notes = [Note(id=new_id(), subject_id=case.subject_id, order_id=case.id, author_id=desk.user.id,
                  at=kw.get("at", NOW), text=f"note {i}") for i in range(n)]
    desk.store.put_many(notes, actor=desk.user.id)
    return notes


def test_a_push_kept_as_sent_is_not_sent_back_but_reaches_every_other_desktop(kit):
    boss, laptop, officer = kit.desk(SUPERVISOR), kit.desk(SUPERVISOR), kit.desk(OFFICER)
    notes = _notes(boss, officer, 5)
    report = boss.sync()
    assert (report.pushed, report.pulled) == (5, 0)
    assert laptop.sync().pulled == 5                      # the same user, another desktop
    assert officer.sync().pulled == 5
    for desk in (boss, laptop, officer):
        assert {n.id: n.text for n in desk.store.find(Note) if n.id in {x.id for x in notes}} == \
            {n.id: n.text for n in notes}


def test_a_desktop_with_changes_it_has_not_pulled_gets_its_new_rows_back(kit):
    """What comes before a pushed row in the desktop's feed (an eviction of its case or visit)
    can take the desktop's copy away once pulled: then its row is sent back after it, as the
    long convergence run found (a cascade took an officer's new checklist ticks)."""
    boss, officer = kit.desk(SUPERVISOR), kit.desk(OFFICER)
    boss.sync()
    theirs = _notes(officer, officer, 1)                # the supervisor has not pulled this yet
    assert officer.sync().pushed == 1
    mine = _notes(boss, officer, 3)
    report = boss.sync()
    assert (report.pushed, report.pulled) == (3, 4)       # the officer's note, then its own three
    assert {n.id for n in boss.store.find(Note)} >= {n.id for n in theirs + mine}
    more = _notes(boss, officer, 2)                       # up to date now: nothing comes back
    assert (lambda r: (r.pushed, r.pulled))(boss.sync()) == (2, 0) and all(boss.store.get(Note, n.id) for n in more)


def test_a_rebuild_keeps_the_desktops_unsent_rows_which_then_reach_the_hub(kit):
    """A reload from the hub starts from an empty replica; rows made here and not yet pushed
    are put back as they were, for the hub will not send them back (the long convergence run:
    a region's workstation lost the case it opened while it was away a month)."""
    boss, officer = kit.desk(SUPERVISOR), kit.desk(OFFICER)
    unsent = _notes(boss, officer, 2)
    edited = boss.store.find(Order, order_by="id")[0]
    boss.store.put(edited.evolve(reference=edited.reference + "-R"))
    with boss.client._lock:                              # as when its cursor fell behind the GC
        boss.client._bootstrap(lambda *a: None, fresh=True)
    assert all(boss.store.get(Note, n.id) for n in unsent)
    assert boss.store.get(Order, edited.id).reference == edited.reference + "-R"
    report = boss.sync()
    assert report.pushed == 3
    assert all(boss.store.get(Note, n.id) for n in unsent)
    assert officer.sync().pulled == 3 and all(officer.store.get(Note, n.id) for n in unsent)


def test_a_push_the_hub_changed_comes_back_as_the_hub_keeps_it(kit):
    boss, officer = kit.desk(SUPERVISOR), kit.desk(OFFICER)
    # A note dated tomorrow (a wrong clock): the hub keeps it at its own time, and says so.
    late = _notes(boss, officer, 1, at=NOW + timedelta(days=1))[0]
    report = boss.sync()
    assert report.pushed == 1 and report.pulled == 1
    assert boss.store.get(Note, late.id).at == NOW      # the hub's clock in these tests


def test_a_replayed_push_sends_nothing_back_and_adds_no_conflict(kit):
    boss, officer = kit.desk(SUPERVISOR), kit.desk(OFFICER)
    _notes(boss, officer, 3)
    boss.sync()
    with kit.hub.storage.read("all") as tx:
        conflicts = tx.scalar("SELECT count(*) FROM hub_rows WHERE tbl = 'conflicts'")
    assert boss.sync().pulled == 0
    with kit.hub.storage.read("all") as tx:
        assert tx.scalar("SELECT count(*) FROM hub_rows WHERE tbl = 'conflicts'") == conflicts


def test_a_postgresql_hub_made_by_an_older_emdesk_asks_for_hub_init_before_serving(pg_cluster):
    owner, hub_dsn = new_pg_database(pg_cluster)
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute("ALTER TABLE change_log DROP COLUMN origin")
    with pytest.raises(StorageUnavailable, match=r"change_log\.origin.*emdesk hub init"):
        open_storage(hub_dsn)
    init_postgres(owner, "emdesk_hub")
    open_storage(hub_dsn).close()
