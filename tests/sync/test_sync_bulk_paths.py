"""The hub's fast paths give what the plain ones give: bulk ``Hub.load``, protocol-2 bootstrap
pages (ready table rows), queued writes.  Both storages."""
from __future__ import annotations

import msgspec
import pytest
from conftest import new_pg_database
from synckit import NOW, OFFICER, SUPERVISOR, assert_converged, make_hub

from emdesk.domain.clock import FixedClock
from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Order
from emdesk.store.migrations import LATEST
from emdesk.store.store import replica_row
from emdesk.store.tables import BY_TABLE
from emdesk.sync import protocol as p
from emdesk.sync.hub.engine import Hub
from emdesk.sync.ordering import RANK
from emdesk.sync.scope import ALL, EVERYONE

# -- bulk load ------------------------------------------------------------------------------


@pytest.fixture
def two_hub_stores(request, tmp_path, hub_store):
    if hub_store.startswith("postgres") or "=" in hub_store:
        return hub_store, new_pg_database(request.getfixturevalue("pg_cluster"))[1]
    return hub_store, str(tmp_path / "hub-2.db")


def _state(hub: Hub) -> dict:
    with hub.storage.read("all") as tx:
        rows = {(r[0], r[1]): r[2:] for r in tx.all(
            "SELECT tbl, id, rank, data, hlc, field_hlcs, field_meta, deleted, order_id, subject_id, case_region, "
            "case_officer, desk, desk_schema FROM hub_rows")}
        audience: dict = {}
        for tbl, rid, who in tx.all("SELECT tbl, row_id, principal FROM row_audience"):
            audience.setdefault((tbl, rid), set()).add(who)
        principals = {r[0] for r in tx.all("SELECT DISTINCT principal FROM change_feed")}
        principals |= {ALL for _ in tx.all("SELECT 1 FROM change_log WHERE to_all = 1 LIMIT 1")}
        accounts = sorted(r[0] for r in tx.all("SELECT username FROM hub_accounts")) if hub.storage.kind == "sqlite" \
            else None
    # field_meta holds seqs, which differ (the record-by-record load emits more entries): keep
    # only which fields and which writer.
    rows = {k: (*v[:3], v[3], sorted((f, m[1]) for f, m in msgspec.json.decode(v[4]).items()), *v[5:])
            for k, v in rows.items()}
    return {"rows": rows, "audience": audience, "principals": principals, "accounts": accounts}


def _feed(hub: Hub, principal: str) -> tuple[dict, list[tuple[int, str]]]:
    """What a desktop replaying the whole feed ends up with, and the feed's table order."""
    with hub.storage.read(principal) as tx:
        source, seq, whose, args = Hub._entries(principal)
        entries = tx.all(f"SELECT c.seq, c.tbl, c.row_id, c.kind, c.payload FROM {source} WHERE {whose} "
                         f"ORDER BY {seq}", args)
    final: dict = {}
    for _seq, tbl, rid, kind, payload in entries:
        if kind == "evict":
            final.pop((tbl, rid), None)
        else:
            final[(tbl, rid)] = (kind, payload)
    return final, [(e[0], e[1]) for e in entries]


def test_a_bulk_load_leaves_the_hub_as_a_record_by_record_load(two_hub_stores, small_world):
    bulk, plain = (make_hub(url, FixedClock(NOW)) for url in two_hub_stores)
    try:
        records = small_world.records()
        # A second load of some records takes the per-record path for them (held already).
        assert bulk.load(small_world.users, records) == plain.load(small_world.users, records, bulk=False)
        first = bulk.head()
        again = [r.evolve(text=r.text + " (corrected)") if isinstance(r, Note) else r
                 for r in records if isinstance(r, (Note, Order))][:40]
        assert bulk.load([], again) == plain.load([], again, bulk=False)
        a, b = _state(bulk), _state(plain)
        assert a["rows"].keys() == b["rows"].keys()
        assert a == b
        for principal in sorted(a["principals"]):
            (final_a, order_a), (final_b, _) = _feed(bulk, principal), _feed(plain, principal)
            assert final_a == final_b, principal
            ranks = [RANK[t] for seq, t in order_a if seq <= first]
            assert ranks and ranks == sorted(ranks), f"{principal}: parents before children"
        assert bulk.head() <= plain.head()
    finally:
        bulk.storage.close()
        plain.storage.close()


# -- protocol-2 bootstrap pages ------------------------------------------------------------


def _pages(desk, protocol: int, limit: int) -> list[p.BootstrapResponse]:
    pages, snapshot, after = [], 0, ("", "")
    while True:
        page = desk.client._post("/v1/bootstrap", p.BootstrapRequest(
            schema_version=LATEST, device_id=desk.store.desktop_id, snapshot=snapshot, after_table=after[0],
            after_id=after[1], limit=limit, protocol=protocol), p.BootstrapResponse)
        pages.append(page)
        if not page.more:
            return pages
        snapshot, after = page.snapshot, (page.after_table, page.after_id)


@pytest.mark.parametrize("username", [SUPERVISOR, OFFICER, "monitor.london", "tech.leeds"])
def test_table_pages_hold_exactly_the_rows_of_a_version_1_page(kit, username):
    desk = kit.desk(username, join=False)
    desk.client.register(username, desk.password)
    # Rows whose ready-made row is missing (written before the hub kept them) get one made.
    with kit.hub.storage.write() as tx:
        tx.execute("UPDATE hub_rows SET desk = NULL, desk_schema = NULL WHERE tbl IN ('orders', 'users')")
        tx.execute("UPDATE hub_rows SET desk_schema = -1 WHERE tbl = 'visits'")
    limit = 37 if username == SUPERVISOR else 5
    old, new = _pages(desk, 1, limit), _pages(desk, 2, limit)
    assert len(old) == len(new) > 2
    with kit.hub.storage.read(desk.principal) as tx:
        # ``all`` holds every row, and is never stored as an audience.
        visible = {(t, i) for t, i in (tx.all("SELECT tbl, id FROM hub_rows") if desk.principal == ALL else tx.all(
            "SELECT tbl, row_id FROM row_audience WHERE principal IN (?, ?)", [desk.principal, EVERYONE]))}
    for v1, v2 in zip(old, new, strict=True):
        assert v1.tables == [] and (v1.after_table, v1.after_id, v1.more) == (v2.after_table, v2.after_id, v2.more)
        expected = {}
        for change in v1.rows:
            assert (change.table, change.row_id) in visible
            expected.setdefault(change.table, []).append(change)
        got = {c.table: [c] for c in v2.rows}
        assert all(t not in BY_TABLE for t in got)
        for part in v2.tables:
            rows = msgspec.json.decode(bytes(part.rows))
            assert part.count == len(rows)
            changes = expected[part.table]
            assert part.top_hlc == max(c.hlc for c in changes)
            for change, values in zip(changes, rows, strict=True):
                record = msgspec.json.decode(change.payload, type=BY_TABLE[part.table])
                names, want = replica_row(record)
                assert list(names) == part.columns and values == want
            got[part.table] = changes
        assert got.keys() == expected.keys()


def test_an_interrupted_table_bootstrap_resumes_and_matches_an_old_client(kit):
    """Pages of ready rows are applied each with its keyset position; a stop between pages
    resumes where it was, and the store ends as a version-1 bootstrap leaves it."""
    new = kit.desk(SUPERVISOR, join=False, bootstrap_limit=50)
    new.client.register(SUPERVISOR, new.password)
    seen = {"n": 0}

    def stop_after_three(path, phase):
        if path == "/v1/bootstrap" and phase == "before":
            seen["n"] += 1
            return seen["n"] > 3
        return False
    kit.http.fail = stop_after_three
    with pytest.raises(Exception):
        new.sync()
    assert new.store.sync_value("bootstrap_done") == "150" and sum(new.counts().values()) == 150
    kit.http.fail = None
    kit.reopen(new, bootstrap_limit=50)
    new.sync()
    old = kit.desk(SUPERVISOR, join=False, bootstrap_limit=50)
    old.client.register(SUPERVISOR, old.password)
    # the version-1 request, as an older desktop sends it
    old.client._bootstrap_page = lambda snapshot, table, rid: old.client._post(
        "/v1/bootstrap", p.BootstrapRequest(schema_version=LATEST, device_id=old.store.desktop_id, snapshot=snapshot,
                                            after_table=table, after_id=rid, limit=50), p.BootstrapResponse)
    old.sync()
    assert_converged(kit, new, old)
    for table in BY_TABLE:
        with new.store.reading() as a, old.store.reading() as b:
            assert (a.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
                    == b.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()), table
    assert new.store.meta("hlc_last") is not None


# -- queued writes ----------------------------------------------------------------------------


def test_queued_writes_run_in_an_equivalent_order_before_any_read(kit):
    with kit.hub.storage.write() as tx:
        ins = ("INSERT INTO purged (tbl, id, at_ms) VALUES (?, ?, ?)")
        upd = "UPDATE purged SET at_ms = at_ms + ? WHERE tbl = ? AND id = ?"
        tx.queue(ins, ("t", "a", 1), ("t", "a"))
        tx.queue(upd, (10, "t", "a"), ("t", "a"), must_change=True)
        tx.queue(ins, ("t", "b", 2), ("t", "b"))          # joins the first batch: another row
        tx.queue(ins, ("t", "c", 3), ("t", "c"))
        tx.queue(upd, (100, "t", "a"), ("t", "a"), must_change=True)
        assert len(tx._queued) == 2
        rows = tx.all("SELECT id, at_ms FROM purged WHERE tbl = 't' ORDER BY id")
        assert rows == [("a", 111), ("b", 2), ("c", 3)]
        tx.queue(upd, (1, "t", "zzz"), ("t", "zzz"), must_change=True)     # matches nothing
        with pytest.raises(RuntimeError, match="refused 1 of 1"):
            tx.flush_writes()
        tx.execute("DELETE FROM purged WHERE tbl = 't'")


def test_a_push_batch_asks_the_database_nothing_per_op(kit):
    """A thousand-note push makes a bounded number of statements, whatever its size."""
    desk = kit.desk(SUPERVISOR)
    orders = desk.store.find(Order, order_by="id")[:5]
    calls = {"n": 0}
    storage = kit.hub.storage
    original = storage.write

    from contextlib import contextmanager

    @contextmanager
    def counting_write(**kw):
        with original(**kw) as tx:
            conn = tx.conn

            class Counting:
                def __init__(self, inner):
                    self.inner = inner

                def cursor(self, *a, **k):
                    calls["n"] += 1
                    return self.inner.cursor(*a, **k)

                def __getattr__(self, name):
                    return getattr(self.inner, name)
            tx.conn = Counting(conn)
            try:
                yield tx
            finally:
                tx.conn = conn
    storage.write = counting_write
    try:
        for n in (20, 200):
            author = desk.user.id
            desk.store.put_many([Note(subject_id=orders[i % 5].subject_id, order_id=orders[i % 5].id,
                                      author_id=author, at=NOW, text=f"n{n}-{i}") for i in range(n)], actor=author)
            calls["n"] = 0
            report = desk.sync()
            assert report.pushed == n and not report.refused
            if n == 20:
                small = calls["n"]
        assert calls["n"] <= small + 4, (small, calls["n"])
    finally:
        storage.write = original
    assert_converged(kit, desk)


def test_a_rolled_back_savepoint_takes_its_queued_and_deferred_writes_with_it(kit):
    ins = "INSERT INTO purged (tbl, id, at_ms) VALUES (?, ?, ?)"
    with kit.hub.storage.write() as tx:
        tx.memo["purged"] = {("t", "kept")}
        tx.memo["rows"] = {("t", "x"): None}
        tx.queue(ins, ("t", "before", 1), ("t", "before"))
        tx.defer(ins, [("t", "deferred-before", 1)])
        with pytest.raises(ZeroDivisionError):
            with tx.savepoint():
                tx.queue(ins, ("t", "inside", 2), ("t", "inside"))
                tx.defer(ins, [("t", "deferred-inside", 2)])
                tx.all("SELECT 1")                      # runs the queued insert inside the savepoint
                tx.queue(ins, ("t", "queued-inside", 3), ("t", "queued-inside"))
                1 / 0
        assert "rows" not in tx.memo and tx.memo["purged"] == {("t", "kept")}
        with tx.savepoint():
            tx.queue(ins, ("t", "released", 4), ("t", "released"))
    with kit.hub.storage.write() as tx:
        held = {r[0] for r in tx.all("SELECT id FROM purged WHERE tbl = 't'")}
        tx.execute("DELETE FROM purged WHERE tbl = 't'")
    assert held == {"before", "deferred-before", "released"}
