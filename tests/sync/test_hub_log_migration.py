"""A hub made before the change log was kept once per seq (one log row per principal, ``all``
stored in every audience) is brought up to date when it is opened (SQLite), or by ``hub init``
(PostgreSQL: its hub role may not alter tables, so it refuses to serve until then).  Every
principal's feed reads the same afterwards, and its desktops go on syncing."""
from __future__ import annotations

import json
import sqlite3

import psycopg
import psycopg.conninfo
import pytest
from synckit import HUB_ROLE, OFFICER, SUPERVISOR

from emdesk.domain.ids import new_id
from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Order
from emdesk.sync.hub import Hub, StorageUnavailable, open_storage
from emdesk.sync.hub.postgres import init_postgres
from emdesk.sync.scope import ALL, EVERYONE

# The log as emdesk kept it until 2026-12-03.
OLD_LOG = (
    "CREATE TABLE change_log (principal TEXT NOT NULL, seq BIGINT NOT NULL, tbl TEXT NOT NULL, row_id TEXT NOT NULL, "
    "kind TEXT NOT NULL, hlc TEXT NOT NULL, payload TEXT NOT NULL, at_ms BIGINT NOT NULL, origin TEXT, "
    "PRIMARY KEY (principal, seq))",
    "CREATE INDEX change_log_seq ON change_log (seq)",
)


def _as_before(execute) -> None:
    """Put the hub's log and audiences back the way an older emdesk kept them."""
    execute("ALTER TABLE change_log RENAME TO log_now")
    for sql in OLD_LOG:
        execute(sql)
    execute("INSERT INTO change_log SELECT f.principal, c.seq, c.tbl, c.row_id, c.kind, c.hlc, c.payload, c.at_ms, "
            "c.origin FROM change_feed f JOIN log_now c ON c.seq = f.seq")
    execute("INSERT INTO change_log SELECT 'all', seq, tbl, row_id, kind, hlc, payload, at_ms, origin FROM log_now "
            "WHERE to_all = 1")
    execute("DROP TABLE log_now")
    execute("DROP TABLE change_feed")
    execute("INSERT INTO row_audience (tbl, row_id, principal) SELECT tbl, id, 'all' FROM hub_rows")


def _feed(hub: Hub, principal: str) -> list[tuple]:
    source, seq, whose, args = Hub._entries(principal)
    with hub.storage.read(principal) as tx:
        return tx.all(f"SELECT c.seq, c.tbl, c.row_id, c.kind, c.hlc, c.payload, c.origin FROM {source} "
                      f"WHERE {whose} ORDER BY {seq}", args)


def _reaches(hub: Hub) -> dict[int, set[str]]:
    with hub.storage.read(ALL) as tx:
        return {seq: set(json.loads(text)) for seq, text in tx.all("SELECT seq, reaches FROM change_log")}


def _audiences(hub: Hub) -> set[tuple]:
    with hub.storage.read(ALL) as tx:
        return set(tx.all("SELECT tbl, row_id, principal FROM row_audience"))


def _notes(desk, case: Order, n: int) -> list[Note]:
    notes = [Note(id=new_id(), subject_id=case.subject_id, order_id=case.id, author_id=desk.user.id, at=case.created_at,
                  text=f"note {i}") for i in range(n)]
    desk.store.put_many(notes, actor=desk.user.id)
    return notes


def test_a_hub_that_kept_its_log_per_principal_is_brought_up_to_date(request, kit):
    boss, officer = kit.desk(SUPERVISOR), kit.desk(OFFICER)
    case = next(o for o in officer.store.find(Order, order_by="id") if o.assigned_officer_id == officer.user.id)
    _notes(boss, case, 3)
    boss.sync()                  # entries the pushing desktop holds as they are (``origin``)
    officer.sync()
    principals = (ALL, officer.principal, f"region:{case.region}", EVERYONE, "tech")
    feeds = {who: _feed(kit.hub, who) for who in principals}
    assert all(feeds.values()) and any(row[6] for row in feeds[ALL])
    audiences, reaches = _audiences(kit.hub), _reaches(kit.hub)
    assert any(reaches.values())
    assert not any(who == ALL for _, _, who in audiences)

    if kit.hub.storage.kind == "sqlite":
        with sqlite3.connect(kit.hub.storage.path) as conn:
            _as_before(conn.execute)
        open_storage(kit.hub.storage.path, create=False).close()       # opening the hub moves it
    else:
        name = psycopg.conninfo.conninfo_to_dict(kit.hub.storage.dsn)["dbname"]
        owner = request.getfixturevalue("pg_cluster").owner_dsn_for(name)
        with psycopg.connect(owner, autocommit=True) as conn:
            _as_before(conn.execute)
        with pytest.raises(StorageUnavailable, match=r"change_feed.*emdesk hub init"):
            open_storage(kit.hub.storage.dsn)
        assert any("once per seq" in line for line in init_postgres(owner, HUB_ROLE))
        assert not any("once per seq" in line for line in init_postgres(owner, HUB_ROLE))     # once only

    assert {who: _feed(kit.hub, who) for who in principals} == feeds
    assert _audiences(kit.hub) == audiences
    assert _reaches(kit.hub) == reaches
    notes = _notes(boss, case, 2)
    assert boss.sync().pushed == 2
    assert officer.sync().pulled == 2
    assert {n.id for n in notes} <= {n.id for n in officer.store.find(Note)}
