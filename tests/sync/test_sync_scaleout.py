"""Hub commands, several stateless hubs on one store, and concurrent writers."""
from __future__ import annotations

import threading

import msgspec
import pytest
from synckit import (
    MONITOR,
    NOW,
    OFFICER,
    ASGIClient,
    assert_converged,
    make_hub,
    new_pg_database,
    own_open_visit,
)

from emdesk.domain import hlc
from emdesk.domain.monitoring import Note
from emdesk.domain.visits import Visit
from emdesk.store.migrations import LATEST
from emdesk.sync import protocol as p
from emdesk.sync.cli import hub_main
from emdesk.sync.hub import create_app


def demo_source(seed, subjects, now):
    from emdesk.services.demo_world import generate_world
    world = generate_world(seed, now=now, subjects=subjects)
    return world.users, world.records()


def test_hub_commands(tmp_path, capsys):
    from synckit import FAST_HASHER
    store = str(tmp_path / "hub.db")
    assert hub_main(["init", "--store", store]) == 0
    assert hub_main(["load-demo", "--store", store, "--subjects", "6"], demo_world=demo_source,
                    hasher=FAST_HASHER) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("loaded 44 users, 6 subjects, ")
    assert hub_main(["gc", "--store", store]) == 0
    assert "tombstones_purged 0" in capsys.readouterr().out
    assert hub_main(["load-demo", "--store", store]) == 2                       # no generator wired in
    assert hub_main(["serve", "--store", store, "--host", "0.0.0.0"]) == 2       # plain HTTP off loopback
    assert "refusing plain HTTP" in capsys.readouterr().err
    assert hub_main(["serve", "--store", store, "--cert", "x.pem"]) == 2
    assert hub_main(["revoke", "--store", store, "no-such-desktop"]) == 2


def test_hub_init_on_postgresql_as_the_owner(pg_cluster, capsys):
    import psycopg
    owner, hub_dsn = new_pg_database(pg_cluster)
    assert hub_main(["init", "--store", owner, "--hub-role", "emdesk_hub"]) == 0
    assert "row-level security" in capsys.readouterr().out
    with psycopg.connect(owner) as conn:
        assert conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'hub_rows'").fetchone()[0] != "emdesk_hub"
        assert conn.execute("SELECT relrowsecurity FROM pg_class WHERE relname = 'change_log'").fetchone()[0]
    assert hub_main(["gc", "--store", hub_dsn]) == 0


def test_two_hub_processes_serve_one_store(kit, hub_store):
    """Stateless: a token from one hub works on another; both see the same feed."""
    other = make_hub(hub_store, kit.clock)
    other_http = ASGIClient(create_app(other))
    try:
        officer, monitor = kit.desk(OFFICER), kit.desk(MONITOR)
        visit = own_open_visit(officer, officer.user.id)
        officer.store.put(officer.store.get(Visit, visit.id).evolve(notes="via the second hub"))
        officer.client.http = other_http            # the load balancer sends her elsewhere
        assert officer.sync().pushed == 1
        monitor.sync()
        assert monitor.store.get(Visit, visit.id).notes == "via the second hub"
        assert_converged(kit, officer, monitor)
    finally:
        other_http.close()
        other.storage.close()


def test_concurrent_pushes_become_visible_in_sequence_order(kit):
    """Writers on several threads, a reader paging all the while: no change is ever skipped
    (seqs are allocated and committed in order)."""
    hub = kit.hub
    user, password = kit.user(MONITOR)
    order = next(o for o in kit.world.orders if o.region == user.region)

    def device(name: str):
        answer = hub.token(p.TokenRequest(device_id=name, username=user.username, password=password,
                                          schema_version=LATEST))
        return hub.authenticate(answer.access_token)

    writers = [device(f"writer-{i}") for i in range(4)]
    reader = device("reader")
    written: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def write(who, n: int):
        try:
            for i in range(n):
                note = Note(subject_id=order.subject_id, order_id=order.id, at=NOW, text=f"{who.device_id} {i}",
                            hlc=str(hlc.Stamp(hub.now_ms(), i, who.device_id)))
                op = p.Op(op_id=f"{who.device_id}-{i}", device_seq=i + 1, table="notes", row_id=note.id,
                          kind="upsert", hlc=note.hlc, payload=msgspec.json.encode(note).decode())
                result = hub.push(who, p.PushRequest(schema_version=LATEST, device_id=who.device_id, ops=[op]))
                assert result.results[0].status == "applied", result
                with lock:
                    written.append(note.id)
        except BaseException as exc:   # surfaced in the main thread
            errors.append(exc)

    seen: set[str] = set()
    cursor = hub.head()
    threads = [threading.Thread(target=write, args=(w, 15)) for w in writers]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        page = hub.pull(reader, p.PullRequest(schema_version=LATEST, device_id="reader", cursor=cursor, limit=3))
        seen |= {c.row_id for c in page.changes if c.table == "notes"}
        cursor = page.cursor
    for t in threads:
        t.join()
    assert not errors, errors
    while True:
        page = hub.pull(reader, p.PullRequest(schema_version=LATEST, device_id="reader", cursor=cursor, limit=50))
        seen |= {c.row_id for c in page.changes if c.table == "notes"}
        cursor = page.cursor
        if not page.more:
            break
    assert len(written) == 60 and set(written) <= seen


@pytest.mark.parametrize("version", [LATEST - 1, LATEST])
def test_health_and_bad_requests(kit, version):
    assert kit.http.get("/v1/health").json()["ok"] is True
    desk = kit.desk(OFFICER, join=False)
    assert desk.client.reachable()
    from synckit import _free_port

    from emdesk.sync.client import SyncClient
    with SyncClient(desk.store, f"http://127.0.0.1:{_free_port()}") as nowhere:
        assert not nowhere.reachable(timeout=1)
    bad = kit.http.post("/v1/token", content=b"not json", headers={"X-Emdesk-Schema": str(version)})
    assert bad.status_code == 400 and bad.json()["error"] == "bad_request"
    newer = kit.http.post("/v1/token", content=b"{}", headers={"X-Emdesk-Schema": str(LATEST + 1)})
    assert newer.status_code == 409 and "upgrade the hub" in newer.json()["message"]
