"""A first sync's events (``GET /v1/telemetry/snapshot``), on both hub storages: every event
of the desktop's scope up to a head seq, in the log's order (order id, time, seq), page by
page; then the feed from that head.  Nothing is missed or doubled when events arrive during
the snapshot, when it stops between pages, or when the hub no longer has it."""
from __future__ import annotations

import math
import time

import msgspec
import pytest
from synckit import MONITOR, OFFICER, SUPERVISOR
from test_hub_telemetry import FEED_SCOPES, T0, _hub_events, _local_events, _placed, _region_orders, _row

from emdesk.domain.orders import Order
from emdesk.store.migrations import LATEST
from emdesk.sync import columns
from emdesk.sync import protocol as p
from emdesk.sync.client import EVENTS_AFTER, EVENTS_HEAD
from emdesk.sync.hub.telemetry import HubTelemetry

MINUTE = 60_000


def _snapshot(desk, limit: int, head: int = 0) -> list[p.TelemetrySnapshotPage]:
    """Every page of a snapshot, asked for by hand, ``limit`` rows a page."""
    pages, position = [], ("", 0, 0)
    while True:
        asked = {"head": head, "order": position[0], "at": position[1], "seq": position[2]}
        page = desk.client._post("/v1/telemetry/snapshot", None, p.TelemetrySnapshotPage,
                                 params={**asked, "limit": limit})
        _PAGES_SEEN[id(page)] = asked
        pages.append(page)
        head, position = page.head, (page.after_order, page.after_at, page.after_seq)
        if not page.more:
            return pages


def _seed(kit) -> HubTelemetry:
    """Events of two regions, several at one time on one order (ties the seq must break)."""
    port = HubTelemetry(kit.hub)
    for where in ("North West", "London"):
        order_id, _, serial = _placed(port, where)
        port.append([_row(order_id, serial, T0 + i * MINUTE) for i in range(5)], [])
        port.append([_row(order_id, serial, T0 + 2 * MINUTE, kind) for kind in ("battery_low", "strap_tamper")]
                    + [_row(order_id, serial + "-B", T0 + 2 * MINUTE)], [])
    return port


@pytest.mark.parametrize("username, region", FEED_SCOPES)
def test_the_snapshot_holds_the_scopes_events_in_the_logs_order_each_once(kit, username, region):
    _seed(kit)
    desk = kit.desk(username)
    pages = _snapshot(desk, limit=2)
    rows = [r for page in pages for r in page.rows]
    expected = {} if region == "" else {k: v for k, v in _hub_events(kit).items()
                                         if v[0] in _region_orders(kit, region)}
    assert sorted(tuple(r[1:]) for r in rows) == sorted(expected.values())
    assert [(r[1], r[3], r[0]) for r in rows] == sorted((r[1], r[3], r[0]) for r in rows)
    assert len({r[0] for r in rows}) == len(rows)
    assert all(len(page.rows) <= 2 for page in pages)
    with kit.hub.storage.read("all") as tx:
        top = tx.scalar("SELECT max(seq) FROM hub_device_events")
    # One head for the whole snapshot: the newest event the scope can see (PostgreSQL's
    # row-level security hides the others' from a region), at most the hub's newest.
    heads = {page.head for page in pages}
    assert len(heads) == 1 and max((r[0] for r in rows), default=0) <= heads.pop() <= top
    # The desktop itself took the snapshot when it joined, and follows the feed from its head.
    assert _local_events(desk) == expected
    if region != "":
        assert max(r[0] for r in rows) <= desk.client.events_cursor() <= top
    assert (desk.store.sync_value(EVENTS_HEAD) or "", desk.store.sync_value(EVENTS_AFTER) or "") == ("", "")


def test_a_snapshot_stops_at_its_head_and_what_comes_later_arrives_by_the_feed_once(kit):
    port = _seed(kit)
    order_id, _, serial = _placed(port, "North West")
    boss = kit.desk(SUPERVISOR, join=False, events_limit=3)
    boss.client.register(SUPERVISOR, boss.password, "boss's laptop")
    added = []

    def meanwhile(stage, done, total):
        # While the snapshot is under way the hub takes events before, among and after the
        # ones already sent: they are past the head, so the feed brings them.
        if stage == "telemetry" and not added:
            added.extend([_row(order_id, serial, T0 - 5 * MINUTE), _row(order_id, serial, T0 + 2 * MINUTE, "comms_lost"),
                          _row(order_id, serial, T0 + 90 * MINUTE)])
            assert port.append(added, []) == 3

    report = boss.client.sync_once(progress=meanwhile)
    assert added and _local_events(boss) == _hub_events(kit)
    assert report.events == len(_hub_events(kit))
    assert boss.sync().events == 0


def test_a_snapshot_stopped_between_pages_goes_on_from_where_it_stopped(kit):
    _seed(kit)
    boss = kit.desk(SUPERVISOR, join=False, events_limit=4)
    boss.client.register(SUPERVISOR, boss.password, "boss's laptop")
    total = len(_hub_events(kit))

    class Unplugged(Exception):
        pass

    def unplug(stage, done, total_):
        if stage == "telemetry" and done >= 8:
            raise Unplugged

    with pytest.raises(Unplugged):
        boss.client.sync_once(progress=unplug)
    held = len(_local_events(boss))
    assert 8 <= held < total
    assert boss.store.sync_value(EVENTS_HEAD) and boss.store.sync_value(EVENTS_AFTER)
    assert boss.client.events_cursor() == 0
    again = kit.reopen(boss, events_limit=4).sync()
    assert again.events == total - held                # went on, did not start again
    assert _local_events(boss) == _hub_events(kit)
    assert boss.store.sync_value(EVENTS_HEAD) == ""


def test_a_snapshot_the_hub_no_longer_has_is_finished_by_the_feed(kit):
    _seed(kit)
    boss = kit.desk(SUPERVISOR, join=False)
    boss.client.register(SUPERVISOR, boss.password, "boss's laptop")
    # As if the hub were restored from a backup older than the snapshot this desktop began.
    with boss.store.transaction():
        boss.store.set_sync_value(EVENTS_HEAD, str(10**12))
        boss.store.set_sync_value(EVENTS_AFTER, '["zzz", 0, 0]')
    boss.sync()
    assert _local_events(boss) == _hub_events(kit)
    assert boss.store.sync_value(EVENTS_HEAD) == "" and boss.client.events_cursor() > 0


def test_field_officers_get_no_events_from_the_snapshot(kit):
    _seed(kit)
    officer = kit.desk(OFFICER)
    assert _snapshot(officer, limit=50)[0].rows == [] and _local_events(officer) == {}


@pytest.mark.parametrize("query, status, words", [
    ("head=-1", 400, "'head'"),
    ("head=%EF%BC%91", 400, "'head'"),
    ("at=1e3", 400, "'at'"),
    ("seq=x", 400, "'seq'"),
    ("order=" + "x" * 201, 400, "'order'"),
    ("head=999999999999", 400, "head 999999999999 is past"),
    ("format=xml", 400, "'format' must be 'json' or 'columns'"),
    ("limit=0", 200, ""),
])
def test_the_snapshot_refuses_bad_parameters_saying_which(kit, query, status, words):
    _seed(kit)
    desk = kit.desk(MONITOR)
    answer = kit.http.get(f"/v1/telemetry/snapshot?{query}",
                          headers={"Authorization": f"Bearer {desk.client._access()}", "X-Emdesk-Schema": str(LATEST)})
    assert answer.status_code == status, answer.text
    if status != 200:
        assert answer.json()["error"] == "bad_request" and words in answer.json()["message"]
    else:
        assert len(answer.json()["rows"]) == 1


def test_the_snapshot_needs_a_signed_in_desktop(kit):
    assert kit.http.get("/v1/telemetry/snapshot").status_code == 401
    assert kit.http.get("/v1/telemetry/snapshot", headers={"Authorization": "Bearer forged"}).status_code == 401


@pytest.mark.parametrize("username, region", FEED_SCOPES)
def test_the_snapshot_as_columns_holds_the_same_pages_as_the_rows(kit, username, region):
    _seed(kit)
    desk = kit.desk(username)
    headers = {"Authorization": f"Bearer {desk.client._access()}", "X-Emdesk-Schema": str(LATEST)}
    for page in _snapshot(desk, limit=3):
        # The rows' page's own parameters: the columns' page must be that page again.
        query = {"limit": 3, "format": "columns"}
        rows = page.rows
        answer = kit.http.get("/v1/telemetry/snapshot", params={**query, **_before(page)}, headers=headers)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(p.COLUMNS_MEDIA)
        cols = msgspec.msgpack.decode(answer.content, type=p.EventColumns)
        assert (cols.head, cols.after_order, cols.after_at, cols.after_seq, cols.more, cols.rows) == (
            page.head, page.after_order, page.after_at, page.after_seq, page.more, len(rows))
        unpacked = columns.unpack(cols)
        c = unpacked.cols
        kinds = {code: name for name, code in columns.BY_VALUE.items()}
        got = [(unpacked.orders[o], unpacked.devices[d], int(a), kinds[int(k)]) for o, d, a, k in zip(
            c.order, c.device, c.at, c.kind, strict=True)]
        assert got == [(r[1], r[2], r[3], r[4]) for r in rows]
        for i, name in enumerate(("lat", "lon", "hdop", "speed", "value"), start=5):
            assert [None if math.isnan(x) else x for x in getattr(c, name).tolist()] == [r[i] for r in rows]
        assert (unpacked.event_ids or [None] * len(rows)) == [r[10] for r in rows]
        assert unpacked.received.tolist() == [r[11] for r in rows] and unpacked.late.tolist() == [r[12] for r in rows]


_PAGES_SEEN: dict = {}


def _before(page) -> dict:
    """The position a page was asked from (kept by ``_snapshot``)."""
    return _PAGES_SEEN[id(page)]


def test_a_desktop_reading_the_snapshot_as_rows_ends_the_same_as_one_reading_columns(kit):
    _seed(kit)
    rows_desk = kit.desk(SUPERVISOR, join=False, events_limit=3)
    rows_desk.client.snapshot_format = "json"       # as from a hub older than the columns
    rows_desk.client.register(SUPERVISOR, rows_desk.password, "rows laptop")
    rows_desk.client.sync_once()
    cols_desk = kit.desk(SUPERVISOR, join=False, events_limit=3)
    cols_desk.client.register(SUPERVISOR, cols_desk.password, "columns laptop")
    cols_desk.client.sync_once()
    assert _local_events(rows_desk) == _local_events(cols_desk) == _hub_events(kit)


def test_an_order_that_leaves_the_scope_during_a_first_sync_leaves_no_events_behind(kit):
    """The events' first page is asked for while the records load; the pull after them may
    evict an order that page holds.  Its events must not stay on the desktop."""
    _seed(kit)
    order_id = next(iter(_region_orders(kit, "North West") & {v[0] for v in _hub_events(kit).values()}))
    boss = kit.desk(SUPERVISOR)
    monitor = kit.desk(MONITOR, join=False)
    monitor.client.register(MONITOR, monitor.password, "monitor's workstation")
    moved = []

    def meanwhile(stage, done, total):
        if stage == "bootstrap" and not moved:
            # Once the early page is served (with the order still in the region), the case
            # moves to London: the pull after the records evicts it.
            deadline = time.monotonic() + 30
            while "/v1/telemetry/snapshot" not in kit.http.requests and time.monotonic() < deadline:
                time.sleep(0.01)
            boss.store.put(boss.store.get(Order, order_id).evolve(region="London"))
            assert not boss.sync().refused
            moved.append(order_id)

    report = monitor.client.sync_once(progress=meanwhile)
    assert moved and report.evicted >= 1
    assert monitor.store.get(Order, order_id) is None
    assert monitor.store.telemetry.count(order_id) == 0
    assert _local_events(monitor) == {k: v for k, v in _hub_events(kit).items()
                                      if v[0] in _region_orders(kit, "North West")}


def test_a_supervisor_keeps_a_deleted_orders_events_through_a_reload_and_a_first_sync(kit):
    """A supervisor's scope is everything, a deleted order included: a reload from the hub
    (which brings no tombstones) does not take that order's events away, nor does the end of
    a first sync's snapshot (the long convergence run found a reload doing it)."""
    _seed(kit)
    boss = kit.desk(SUPERVISOR)
    order_id = next(iter(_region_orders(kit, "North West") & {v[0] for v in _hub_events(kit).values()}))
    boss.store.put(boss.store.get(Order, order_id).evolve(deleted=True))
    assert not boss.sync().refused
    with kit.hub.storage.read("all") as tx:
        assert tx.scalar("SELECT deleted FROM hub_rows WHERE tbl = 'orders' AND id = ?", [order_id]) == 1
    with boss.client._lock:                              # as when its cursor fell behind the GC
        boss.client._bootstrap(lambda *a: None, fresh=True)
    assert _local_events(boss) == _hub_events(kit)
    late = kit.desk(SUPERVISOR)                            # a first sync after the deletion
    assert _local_events(late) == _hub_events(kit)
    monitor = kit.desk(MONITOR)                            # a region holds its live orders' events
    assert order_id not in {v[0] for v in _local_events(monitor).values()}
