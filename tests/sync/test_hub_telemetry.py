"""Telemetry at the hub, on both storages (a SQLite hub file and a real PostgreSQL): the
telemetry port (events, dirty marks, the engine's findings as records), the append-only feed
to workstations by scope, the bulk load, and opening the port on what `hub serve` takes."""
from __future__ import annotations

import inspect
import sqlite3
from datetime import timedelta

import msgspec
import psycopg
import pytest
from synckit import MONITOR, NOW, OFFICER, SUPERVISOR, hub_row, make_hub, new_pg_database

from emdesk.domain.clock import FixedClock
from emdesk.domain.engine.events import ms
from emdesk.domain.monitoring import Alert, EventKind, Incident, IncidentChange, IncidentStatus, TelemetryEvent
from emdesk.domain.orders import Order
from emdesk.services.telemetry_port import TelemetryPort
from emdesk.store import Store
from emdesk.store.migrations import LATEST
from emdesk.sync import protocol as p
from emdesk.sync.hub import StorageUnavailable, open_storage
from emdesk.sync.hub.postgres import init_postgres
from emdesk.sync.hub.telemetry import HubTelemetry, open_hub_port

LONDON_MONITOR = "monitor.london"
HOUR = 3_600_000
T0 = ms(NOW) + HOUR            # after every event of the demo world


def _placed(port: HubTelemetry, region: str) -> tuple[str, str, str]:
    """(order id, subject id, serial) of a device fitted to a watched order of ``region``."""
    fleet = port.fleet()
    serial, place = min((s, pl) for s, pl in fleet.places.items() if fleet.watches[pl.order_id].region == region)
    return place.order_id, fleet.watches[place.order_id].subject_id, serial


def _row(order_id: str, serial: str, at: int, kind: str = "position", lat: float = 53.4812345678) -> tuple:
    return (order_id, serial, at, kind, lat, -2.2412345678, 4.5, 1.25, None, f"{serial}:{at}:{kind}", at + 900, 0)


def _local_events(desk) -> dict[tuple, tuple]:
    with desk.store.reading() as db:
        return {(r[1], r[2], r[3]): tuple(r) for r in db.execute(
            "SELECT order_id, device, at, kind, lat, lon, hdop, speed, value, event_id, received, late "
            "FROM device_events_named").fetchall()}


def _hub_events(kit) -> dict[tuple, tuple]:
    with kit.hub.storage.read("all") as tx:
        return {(r[1], r[2], r[3]): tuple(r) for r in tx.all(
            "SELECT order_id, device, at, kind, lat, lon, hdop, speed, value, event_id, received, late "
            "FROM hub_device_events")}


def _region_orders(kit, region: str | None) -> set[str]:
    with kit.hub.storage.read("all") as tx:
        rows = tx.all("SELECT id, case_region FROM hub_rows WHERE tbl = 'orders'")
    return {oid for oid, r in rows if region is None or r == region}


# -- the port ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(n for n in vars(TelemetryPort) if not n.startswith("_")))
def test_the_hub_port_has_every_method_of_the_port_with_its_signature(name):
    assert inspect.signature(getattr(HubTelemetry, name)).parameters.keys() == \
        inspect.signature(getattr(TelemetryPort, name)).parameters.keys()


APPENDS = [
    # (what, rows as (serial index, minutes after T0, kind), new rows counted)
    ("three new", [(0, 0, "position"), (0, 1, "position"), (0, 2, "position")], 3),
    ("the same again", [(0, 0, "position"), (0, 1, "position"), (0, 2, "position")], 0),
    ("one new twice in the batch, one old", [(0, 3, "position"), (0, 3, "position"), (0, 1, "position")], 1),
    ("same device and time, another kind", [(0, 1, "strap_tamper")], 1),
    ("another device at the same time", [(1, 1, "position")], 1),
    ("late: earlier than what is stored", [(0, -30, "position")], 1),
]


def test_appends_count_only_new_events_and_keep_them_as_given(kit):
    port = HubTelemetry(kit.hub)
    order_id, _, serial = _placed(port, "North West")
    serials = [serial, serial + "-B"]
    before = port.count(order_id)
    for what, batch, new in APPENDS:
        rows = [_row(order_id, serials[i], T0 + m * 60_000, kind) for i, m, kind in batch]
        assert port.append(rows, []) == new, what
    assert port.count(order_id) == before + sum(new for _, _, new in APPENDS)
    got = port.events(order_id, T0 - HOUR, T0 + HOUR)
    assert [r[1] for r in got] == sorted(r[1] for r in got)                  # time order
    assert got[0] == (serial, T0 - 30 * 60_000, "position", 53.4812345678, -2.2412345678, 4.5, 1.25, None, 0)
    assert port.events(order_id, T0, T0 + 60_000) == [r for r in got if r[1] == T0]
    assert port.last_contact(order_id) == T0 + 3 * 60_000
    assert port.high_water()[serial] == T0 + 3 * 60_000
    assert port.high_water()[serials[1]] == T0 + 60_000
    # Enum members (as ingest may hand them) are stored as their text.
    assert port.append([_row(order_id, serial, T0 + 9 * 60_000, EventKind.BATTERY_LOW)], []) == 1
    assert port.events(order_id, T0 + 9 * 60_000, T0 + 10 * 60_000)[0][2] == "battery_low"


def test_dirty_marks_stay_until_evaluated_and_a_mark_made_again_meanwhile_stays(kit):
    port = HubTelemetry(kit.hub)
    order_id, _, serial = _placed(port, "North West")
    first, second = (order_id, T0 - 2 * HOUR), (order_id, T0 + 22 * HOUR)
    assert port.append([_row(order_id, serial, T0)], [second, first, first]) == 1
    assert port.dirty() == [first, second]
    # New events for the first period arrive while the engine evaluates what it read.
    port.append([_row(order_id, serial, T0 + 60_000)], [first])
    port.save_evaluation([], [], [first, second])
    assert port.dirty() == [first]
    port.save_evaluation([], [], [first])
    assert port.dirty() == []
    # A port that never read the marks (another process) clears what it is told.
    port.append([], [second])
    HubTelemetry(kit.hub).save_evaluation([], [], [second])
    assert port.dirty() == []


def _finding(order_id: str, subject_id: str, start: int) -> tuple[Incident, Alert]:
    incident_id = f"inc-{order_id[:8]}-{start}"
    alert = Alert(id=f"al-{order_id[:8]}-{start}", order_id=order_id, subject_id=subject_id, code="TAMPER-STRAP",
                  condition="tamper", raised_at=NOW - timedelta(hours=6), incident_id=incident_id, origin="engine")
    incident = Incident(id=incident_id, order_id=order_id, subject_id=subject_id, region="North West",
                        condition="tamper", codes=("TAMPER-STRAP",), period_start=NOW - timedelta(hours=8),
                        started_at=NOW - timedelta(hours=6), alert_ids=(alert.id,), origin="engine",
                        history=(IncidentChange(at=NOW, status=IncidentStatus.OPEN, by="engine",
                                                reason="strap tamper"),))
    return incident, alert


def test_the_engines_findings_reach_the_regions_workstation_as_records(kit):
    port = HubTelemetry(kit.hub)
    order_id, subject_id, serial = _placed(port, "North West")
    mark = (order_id, T0 - 2 * HOUR)
    port.append([_row(order_id, serial, T0, "strap_tamper")], [mark])
    monitor, london, officer = kit.desk(MONITOR), kit.desk(LONDON_MONITOR), kit.desk(OFFICER)
    incident, alert = _finding(order_id, subject_id, T0)
    port.dirty()
    port.save_evaluation([incident], [alert], [mark])
    assert port.dirty() == []
    held = hub_row(kit, "incidents", incident.id)
    assert held["condition"] == "tamper" and held["hlc"].endswith("-hub")
    assert [i.id for i in port.incidents_of(order_id, incident.period_start)] == [incident.id]
    assert port.incidents_of(order_id, incident.period_start + timedelta(days=1)) == []
    assert port.genuine_since(order_id, NOW - timedelta(days=1), NOW) == 1
    assert port.genuine_since(order_id, NOW - timedelta(days=3), NOW - timedelta(days=2)) == 0
    report = monitor.sync()
    assert report.pulled >= 2 and not report.refused
    assert monitor.store.get(Incident, incident.id).condition == "tamper"
    assert monitor.store.get(Alert, alert.id).incident_id == incident.id
    for other in (london, officer):
        other.sync()
        assert other.store.get(Incident, incident.id) is None and other.store.get(Alert, alert.id) is None
    # The engine revises its finding: the workstation gets the new version with its next sync.
    closed = incident.evolve(status=IncidentStatus.AUTO_CLOSED)
    port.save_evaluation([closed], [], [])
    assert monitor.sync().pulled == 1
    assert monitor.store.get(Incident, incident.id).status is IncidentStatus.AUTO_CLOSED


def test_emdesk_ingest_into_the_hub_raises_incidents_that_the_regions_workstation_pulls(kit, hub_store, tmp_path):
    import json
    import os
    import subprocess
    import sys
    from datetime import datetime, timezone
    port = HubTelemetry(kit.hub)
    order_id, _, serial = _placed(port, "North West")

    def iso(at_ms):
        return datetime.fromtimestamp(at_ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace(
            "+00:00", "Z")
    data = tmp_path / "t.jsonl"
    data.write_text("\n".join([json.dumps({"device": serial, "at": iso(T0), "kind": "strap_tamper"}),
                               json.dumps({"device": serial, "at": iso(T0), "kind": "strap_tamper"}),
                               "not json"]) + "\n")
    env = {**os.environ, "EMDESK_NOW": iso(T0 + HOUR)}
    out = subprocess.run([sys.executable, "-m", "emdesk", "ingest", str(data), "--store", hub_store, "--json"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert (got["events"], got["duplicates"], got["rejected"], got["rejected_reasons"]) == (1, 1, 1, {"malformed": 1})
    assert got["incidents"] >= 1
    monitor, london = kit.desk(MONITOR), kit.desk(LONDON_MONITOR)
    monitor.sync()
    london.sync()
    mine = [i for i in monitor.store.find(Incident) if i.order_id == order_id]
    assert [i.codes for i in mine] == [("TAMPER-STRAP",)] and mine[0].reasons
    assert [i for i in london.store.find(Incident) if i.order_id == order_id] == []
    again = subprocess.run([sys.executable, "-m", "emdesk", "ingest", str(data), "--store", hub_store, "--json"],
                           capture_output=True, text=True, env=env)
    assert json.loads(again.stdout)["events"] == 0 and monitor.sync().pulled == 0


# -- the feed ------------------------------------------------------------------------------------

FEED_SCOPES = [
    # (user, which region's orders' events they receive: a region, every one (None), or none (""))
    (MONITOR, "North West"),
    (LONDON_MONITOR, "London"),
    (SUPERVISOR, None),
    (OFFICER, ""),
    ("tech.leeds", ""),
]


@pytest.mark.parametrize("username, region", FEED_SCOPES)
def test_the_feed_brings_each_workstation_the_events_of_its_scope(kit, username, region):
    port = HubTelemetry(kit.hub)
    for where in ("North West", "London"):
        order_id, _, serial = _placed(port, where)
        port.append([_row(order_id, serial, T0 + i * 60_000) for i in range(5)], [])
    desk = kit.desk(username)
    local = _local_events(desk)
    expected = {} if region == "" else {k: v for k, v in _hub_events(kit).items()
                                         if v[0] in _region_orders(kit, region)}
    assert local == expected
    if region != "":
        assert local and desk.client.events_cursor() > 0
    # The hub itself sends this user nothing outside that scope (not only the client's choice).
    page = desk.client._post("/v1/telemetry", None, p.TelemetryPage, params={"after": 0})
    assert {tuple(r[1:]) for r in page.rows} == set(expected.values())
    assert page.columns[:4] == ["seq", "order_id", "device", "at"]


def test_the_feed_pages_resumes_from_its_cursor_and_sends_each_event_once(kit):
    port = HubTelemetry(kit.hub)
    order_id, _, serial = _placed(port, "North West")
    boss = kit.desk(SUPERVISOR, events_limit=7)
    assert _local_events(boss) == _hub_events(kit)
    cursor = boss.client.events_cursor()
    assert boss.store.sync_value("telemetry_cursor") == str(cursor)
    port.append([_row(order_id, serial, T0 + i * 60_000) for i in range(17)], [])
    report = boss.sync()
    assert report.events == 17 and "events 17" in report.summary()
    assert boss.client.events_cursor() > cursor
    assert boss.sync().events == 0
    assert _local_events(boss) == _hub_events(kit)
    # Pulled events are not the desktop's to evaluate: the hub did.
    assert boss.store.telemetry.dirty() == []


def test_an_order_leaving_a_workstations_region_takes_its_events_with_it(kit):
    port = HubTelemetry(kit.hub)
    order_id, _, serial = _placed(port, "North West")
    port.append([_row(order_id, serial, T0)], [])
    monitor, boss = kit.desk(MONITOR), kit.desk(SUPERVISOR)
    assert monitor.store.telemetry.count(order_id) >= 1
    boss.store.put(boss.store.get(Order, order_id).evolve(region="London"))
    assert not boss.sync().refused
    monitor.sync()
    assert monitor.store.get(Order, order_id) is None and monitor.store.telemetry.count(order_id) == 0
    port.append([_row(order_id, serial, T0 + 60_000)], [])
    assert monitor.sync().events == 0


def test_a_workstation_rebuilt_from_the_hub_keeps_only_its_scopes_events(kit):
    port = HubTelemetry(kit.hub)
    order_id, _, serial = _placed(port, "North West")
    fleet = port.fleet()
    other, place = min((s, pl) for s, pl in fleet.places.items()
                       if fleet.watches[pl.order_id].region == "North West" and pl.order_id != order_id)
    port.append([_row(order_id, serial, T0), _row(place.order_id, other, T0)], [])
    monitor, boss = kit.desk(MONITOR), kit.desk(SUPERVISOR)
    kept = {k for k, v in _local_events(monitor).items() if v[0] != order_id}
    assert monitor.store.telemetry.count(order_id) >= 1 and kept
    boss.store.put(boss.store.get(Order, order_id).evolve(region="London"))
    boss.sync()
    kit.clock.advance(timedelta(days=40))          # the workstation was off past the GC horizon
    assert kit.hub.gc()["horizon"] > 0
    assert monitor.sync().rebuilt
    assert monitor.store.telemetry.count(order_id) == 0 and set(_local_events(monitor)) == kept


@pytest.mark.parametrize("query, status, words", [
    ("after=-1", 400, "'after'"),
    ("after=abc", 400, "'after'"),
    ("after=%EF%BC%91", 400, "'after'"),            # a fullwidth digit: int() would take it
    ("limit=1.5", 400, "'limit'"),
    ("after=0&limit=99999999999999999999", 400, "'limit'"),
    ("after=0&limit=0", 200, ""),
])
def test_the_feed_refuses_bad_parameters_saying_which(kit, query, status, words):
    desk = kit.desk(SUPERVISOR)
    token = desk.client._access()
    answer = kit.http.get(f"/v1/telemetry?{query}", headers={"Authorization": f"Bearer {token}",
                                                              "X-Emdesk-Schema": str(LATEST)})
    assert answer.status_code == status, answer.text
    if status != 200:
        assert answer.json()["error"] == "bad_request" and words in answer.json()["message"]
    else:
        assert len(answer.json()["rows"]) == 1             # at least one row a page


def test_the_feed_needs_a_signed_in_desktop(kit):
    assert kit.http.get("/v1/telemetry?after=0").status_code == 401
    assert kit.http.get("/v1/telemetry", headers={"Authorization": "Bearer forged"}).status_code == 401


# -- loading -------------------------------------------------------------------------------------


def test_loading_puts_telemetry_in_the_event_table_not_among_the_records(kit):
    with kit.hub.storage.read("all") as tx:
        assert tx.scalar("SELECT count(*) FROM hub_rows WHERE tbl = 'telemetry'") == 0
        assert tx.scalar("SELECT count(*) FROM change_log WHERE tbl = 'telemetry'") == 0
    assert HubTelemetry(kit.hub).count() == len([e for e in kit.world.telemetry if e.order_id])
    assert "telemetry" not in kit.hub.visible_counts("all")


def test_a_bulk_load_of_100k_events(hub_store):
    hub = make_hub(hub_store, FixedClock(NOW))
    try:
        start = NOW - timedelta(days=2)
        events = [TelemetryEvent(id=f"e{i}", device_serial=f"GPS-{i % 50:03d}", order_id=f"order-{i % 50}",
                                 at=start + timedelta(seconds=i), kind=EventKind.POSITION,
                                 lat=51.5 + (i % 1000) / 1e5, lon=-0.1, hdop=1.0) for i in range(100_000)]
        events.append(TelemetryEvent(device_serial="GPS-X", at=start, kind=EventKind.POSITION))   # no order
        counts = hub.load([], events)
        assert counts["device_events"] == 100_000
        port = HubTelemetry(hub)
        assert port.count() == 100_000 and port.count("order-7") == 2000
        # Half of them again with as many new ones, through the ingest path: only the new count.
        again = [_row(f"order-{i % 50}", f"GPS-{i % 50:03d}", ms(start) + i * 1000) for i in range(50_000, 150_000)]
        assert port.append(again, []) == 50_000
        assert port.count() == 150_000
        # Each device's newest event, kept as they are stored (ingest asks for it first).
        assert port.high_water() == {f"GPS-{d:03d}": ms(start) + (149_950 + d) * 1000 for d in range(50)}
    finally:
        hub.storage.close()


# -- opening the port ------------------------------------------------------------------------------


def test_the_port_opens_on_what_hub_serve_takes(kit, hub_store):
    with open_hub_port(hub_store) as port:
        assert isinstance(port, HubTelemetry)
        assert port.count() == HubTelemetry(kit.hub).count() > 0
        assert port.fleet().watches.keys() == HubTelemetry(kit.hub).fleet().watches.keys()


def _desktop_store(tmp_path):
    store, _ = Store.create(tmp_path / "desk.db", plain=True)
    store.close()
    return tmp_path / "desk.db"


@pytest.mark.parametrize("make, words", [
    (lambda tmp: tmp / "no-such-hub.db", "there is no hub"),
    (_desktop_store, "not an emdesk hub"),
    (lambda tmp: (tmp / "junk.db").write_bytes(b"not a database at all" * 100) and tmp / "junk.db",
     "not a hub database"),
])
def test_the_port_refuses_a_path_with_no_hub(tmp_path, make, words):
    path = make(tmp_path)
    before = path.read_bytes() if path.exists() else None
    with pytest.raises(StorageUnavailable) as caught:
        with open_hub_port(str(path)):
            pass
    assert words in str(caught.value) and f"emdesk hub init --store {path}" in str(caught.value)
    assert (path.read_bytes() if path.exists() else None) == before          # left as it was


# -- a hub that kept telemetry as records ---------------------------------------------------------------


def _old_telemetry(order_id: str, n: int) -> tuple[str, str]:
    event = TelemetryEvent(id=f"old-{n}", device_serial="TAG-OLD", order_id=order_id,
                           at=NOW - timedelta(minutes=n), kind=EventKind.POSITION, lat=53.1, lon=-2.1)
    return event.id, msgspec.json.encode(event).decode()


def _plant_old_telemetry(execute, order_id: str) -> None:
    for n in range(3):
        rid, text = _old_telemetry(order_id, n)
        execute("INSERT INTO hub_rows (tbl, id, rank, data, hlc, field_hlcs, updated_seq, changed_ms) "
                "VALUES ('telemetry', %s, 6, %s, '0000000000001-0000-x', '{}', 1, 1)", [rid, text])
        execute("INSERT INTO row_audience (tbl, row_id, principal) VALUES ('telemetry', %s, 'region:North')", [rid])
        execute("INSERT INTO change_log (seq, tbl, row_id, kind, hlc, payload, at_ms, to_all) "
                "VALUES (%s, 'telemetry', %s, 'upsert', 'x', %s, 1, 1)", [100 + n, rid, text])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_hub_that_kept_telemetry_as_records_moves_it_to_the_event_table(request, tmp_path, backend):
    if backend == "sqlite":
        url = str(tmp_path / "hub.db")
        open_storage(url).close()
        with sqlite3.connect(url) as conn:
            _plant_old_telemetry(lambda sql, args: conn.execute(sql.replace("%s", "?"), args), "order-1")
        open_storage(url, create=False).close()          # opening the hub moves them
    else:
        owner, url = new_pg_database(request.getfixturevalue("pg_cluster"))
        with psycopg.connect(owner) as conn:
            _plant_old_telemetry(conn.execute, "order-1")
        init_postgres(owner, "emdesk_hub")               # the owner brings the schema up to date
    hub = make_hub(url, FixedClock(NOW))
    try:
        with hub.storage.read("all") as tx:
            for table in ("hub_rows", "row_audience", "change_log"):
                assert tx.scalar(f"SELECT count(*) FROM {table} WHERE tbl = 'telemetry'") == 0, table
        port = HubTelemetry(hub)
        assert port.count("order-1") == 3
        assert port.events("order-1", ms(NOW) - HOUR, ms(NOW) + 1)[-1][:5] == (
            "TAG-OLD", ms(NOW), "position", 53.1, -2.1)
    finally:
        hub.storage.close()


# -- row-level security (PostgreSQL): the second line of defence -------------------------------------


@pytest.fixture(scope="module")
def pg_events_hub(pg_cluster, small_world):
    _, url = new_pg_database(pg_cluster)
    hub = make_hub(url, FixedClock(NOW))
    hub.load(small_world.users, small_world.records())
    yield hub
    hub.storage.close()


@pytest.mark.parametrize("principal, sees", [
    ("all", "every"),
    ("region:North West", "North West"),
    ("region:London", "London"),
    ("region:Nowhere", "none"),
    ("officer:someone", "none"),
    ("tech", "none"),
    ("*", "none"),
])
def test_row_level_security_shows_a_principal_only_its_regions_events(pg_events_hub, principal, sees):
    hub = pg_events_hub
    with hub.storage.read("all") as tx:
        regions = dict(tx.all("SELECT id, case_region FROM hub_rows WHERE tbl = 'orders'"))
        every = [r[0] for r in tx.all("SELECT order_id FROM hub_device_events")]
    expected = sorted(o for o in every if sees == "every" or regions.get(o) == sees)
    with hub.storage.read(principal) as tx:       # a query that forgot its scope
        got = sorted(r[0] for r in tx.all("SELECT order_id FROM hub_device_events"))
        marks = tx.scalar("SELECT count(*) FROM hub_watch_dirty")
    assert got == expected and (sees != "every" or got)
    assert marks == 0 or principal == "all"


def test_row_level_security_lets_only_the_hub_write_events(pg_events_hub):
    storage = pg_events_hub.storage
    before = HubTelemetry(pg_events_hub).count()
    with storage.bookkeeping() as tx:               # writable, but not the hub's write mode
        assert tx.execute("DELETE FROM hub_device_events").rowcount == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with storage.bookkeeping() as tx:
            tx.execute("INSERT INTO hub_device_events (order_id, device, at, kind, received) "
                       "VALUES ('o', 'd', 1, 'position', 1)")
    assert HubTelemetry(pg_events_hub).count() == before > 0
