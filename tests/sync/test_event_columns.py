"""A first sync's events as columns (``emdesk.sync.columns``): what the hub packs, the desktop
unpacks to the same events; a page that is wrong anywhere is refused naming the field, and the
desktop keeps nothing of it; arbitrary bytes never get past the checks."""
from __future__ import annotations

import math
from datetime import UTC, datetime

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emdesk.domain.clock import FixedClock
from emdesk.store import Store
from emdesk.sync import columns
from emdesk.sync import protocol as p
from emdesk.sync.client import SyncClient
from emdesk.sync.errors import HubRefused

T0 = 1_795_000_000_000
ORDER_A, ORDER_B = "01JORDERAAAAAAAAAAAAAAAAAA", "01JORDERBBBBBBBBBBBBBBBBBB"


def _ev(seq, order, device, at, kind="position", lat=53.48, lon=-2.24, hdop=4.5, speed=1.25, value=None,
        event_id=None, received=None, late=0) -> tuple:
    return (seq, order, device, at, kind, lat, lon, hdop, speed, value, event_id, at + 900 if received is None
            else received, late)


PAGES = {
    "empty": [],
    "one event, no numbers": [_ev(1, ORDER_A, "RF-1", T0, "comms_lost", None, None, None, None, None)],
    "two orders, devices and kinds, no event ids": [
        _ev(1, ORDER_A, "RF-1", T0), _ev(4, ORDER_A, "GPS-9", T0, "strap_tamper"),
        _ev(2, ORDER_A, "RF-1", T0 + 60_000, "battery_low", value=0.11), _ev(3, ORDER_B, "RF-2", T0 - 5, late=1)],
    "some event ids": [_ev(7, ORDER_B, "RF-2", T0, event_id="RF-2:17"), _ev(8, ORDER_B, "RF-2", T0 + 1)],
    "extreme numbers": [_ev(9, ORDER_A, "RF-1", 0, lat=-90.0, lon=180.0, hdop=0.0, speed=1e308, value=-1e-300,
                            received=2**62)],
}


def _same(a, b) -> bool:
    return a == b or (a is None and isinstance(b, float) and math.isnan(b))


def _rows_of(arrays: columns.EventArrays) -> list[tuple]:
    names = {code: kind for kind, code in columns.BY_VALUE.items()}
    c = arrays.cols
    ids = arrays.event_ids or [None] * len(c.at)
    return [(arrays.orders[c.order[i]], arrays.devices[c.device[i]], int(c.at[i]), names[int(c.kind[i])],
             *(float(getattr(c, f)[i]) for f in ("lat", "lon", "hdop", "speed", "value")),
             ids[i], int(arrays.received[i]), int(arrays.late[i])) for i in range(len(c.at))]


@pytest.mark.parametrize("name", PAGES)
def test_a_packed_page_unpacks_to_the_same_events_over_the_wire(name):
    rows = PAGES[name]
    page = columns.pack(rows, head=99, after_order=ORDER_B, after_at=T0, after_seq=8, more=True, hub_time_ms=T0)
    wire = msgspec.msgpack.decode(msgspec.msgpack.encode(page), type=p.EventColumns)
    assert (wire.head, wire.after_order, wire.after_at, wire.after_seq, wire.more, wire.rows) == (
        99, ORDER_B, T0, 8, True, len(rows))
    got = _rows_of(columns.unpack(wire))
    assert len(got) == len(rows)
    for want, have in zip(rows, got, strict=True):
        assert all(_same(w, h) for w, h in zip(want[1:], have, strict=True)), (want, have)


def _good() -> p.EventColumns:
    return columns.pack(PAGES["two orders, devices and kinds, no event ids"], head=4)


def _with(**changes) -> p.EventColumns:
    page = _good()
    for name, value in changes.items():
        setattr(page, name, value)
    return page


HOSTILE = [
    ({"rows": -1}, "rows is -1"),
    ({"rows": columns.MAX_ROWS + 1}, "rows is"),
    ({"rows": 5}, "order holds 16 bytes; 5 events of 4 bytes need 20"),
    ({"at": b"\0" * 31}, "at holds 31 bytes"),
    ({"lat": b""}, "lat holds 0 bytes"),
    ({"late": b"\0\0\0"}, "late holds 3 bytes"),
    ({"order": np.array([0, 0, 0, 2], "<u4").tobytes()}, "order points past the page's 2 orders (index 2)"),
    ({"device": np.array([0, 7, 0, 0], "<u4").tobytes()}, "device points past the page's 3 devices (index 7)"),
    ({"kind": np.array([0, 0, 3, 0], "<u2").tobytes()}, "kind points past the page's 3 kinds"),
    ({"kinds": ["position", "strap_tamper", "teleport"]}, "'teleport', an event kind this emdesk does not know"),
    ({"orders": [ORDER_A, ""]}, "orders[1] is not an id the hub gives"),
    ({"devices": ["RF-1", "x" * 201, "RF-2"]}, "devices[1] is not an id"),
    ({"late": bytes([0, 2, 0, 0])}, "late must be 0 or 1"),
    ({"event_ids": ["a"]}, "event_ids holds 1 ids for 4 events"),
    ({"event_ids": ["a", None, "b" * 201, None]}, "event_ids holds an id longer than 200"),
]


@pytest.mark.parametrize("changes, words", HOSTILE, ids=[w for _, w in HOSTILE])
def test_a_bad_page_is_refused_naming_the_field(changes, words):
    assert columns.unpack(_good())      # the page before the change is fine
    with pytest.raises(columns.BadColumns) as caught:
        columns.unpack(_with(**changes))
    assert words in str(caught.value)


@pytest.fixture
def desktop(tmp_path):
    store, _ = Store.create(tmp_path / "desk.db", plain=True, clock=FixedClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC)))
    client = SyncClient(store, "http://127.0.0.1:9")
    yield client
    client.close()
    store.close()


def _held(store) -> list[tuple]:
    with store.reading() as db:
        return db.execute("SELECT order_id, device, at, kind, lat, lon, hdop, speed, value, event_id, received, late "
                          "FROM device_events_named ORDER BY order_id, at, kind, device").fetchall()


def test_the_desktop_writes_a_page_in_the_logs_order_and_a_second_copy_adds_nothing(desktop):
    rows = PAGES["two orders, devices and kinds, no event ids"] + PAGES["some event ids"][1:]
    page = columns.pack(rows, head=9)
    with desktop.store.transaction():
        assert desktop._apply_snapshot_page(page) == (5, 5)
    held = _held(desktop.store)
    assert sorted(tuple(r) for r in held) == sorted(tuple(r[1:]) for r in rows)
    with desktop.store.reading() as db:
        keys = db.execute("SELECT key FROM telemetry_keys WHERE kind = 'order' ORDER BY n").fetchall()
        newest = dict(db.execute("SELECT k.key, h.newest FROM device_high h JOIN telemetry_keys k "
                                 "ON k.n = h.device_n").fetchall())
    assert [k for (k,) in keys] == sorted({r[1] for r in rows})      # keys in sorted order: appends
    assert newest["RF-1"] == T0 + 60_000
    with desktop.store.transaction():
        assert desktop._apply_snapshot_page(page) == (0, 5)
    assert _held(desktop.store) == held


@pytest.mark.parametrize("changes, words", HOSTILE[2:8], ids=[w for _, w in HOSTILE[2:8]])
def test_a_bad_page_from_the_hub_leaves_the_desktop_as_it_was(desktop, changes, words):
    with desktop.store.transaction():
        desktop._apply_snapshot_page(columns.pack(PAGES["some event ids"], head=8))
    before = _held(desktop.store)
    with pytest.raises(HubRefused) as caught, desktop.store.transaction():
        desktop._apply_snapshot_page(_with(**changes))
    assert caught.value.code == "bad_answer" and words in str(caught.value) and "nothing of it was kept" in str(caught.value)
    assert _held(desktop.store) == before


def _read_or_refuse(data: bytes) -> None:
    """What a desktop does with a body from the hub: read it whole, or refuse it for a reason
    it can name; any other exception fails the test."""
    try:
        page = msgspec.msgpack.decode(data, type=p.EventColumns)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return
    try:
        arrays = columns.unpack(page)
    except columns.BadColumns:
        return
    assert len(arrays.cols.at) == page.rows == len(arrays.received)
    assert not page.rows or int(arrays.cols.order.max()) < len(arrays.orders)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_any_bytes_are_read_or_refused_never_anything_else(data):
    _read_or_refuse(data)


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["rows", "order", "device", "kind", "at", "lat", "late", "orders", "kinds",
                                        "event_ids"]),
                       st.one_of(st.integers(-2**40, 2**40), st.binary(max_size=64),
                                 st.lists(st.one_of(st.none(), st.text(max_size=8)), max_size=6)), max_size=4))
def test_a_mangled_good_page_is_read_or_refused_never_anything_else(changes):
    """A real page with fields swapped for others of any type, as a hostile hub would."""
    encoded = msgspec.to_builtins(_good())
    encoded.update(changes)
    _read_or_refuse(msgspec.msgpack.encode(encoded))


def test_an_empty_page_writes_nothing(desktop):
    with desktop.store.transaction():
        assert desktop._apply_snapshot_page(columns.pack([], head=0)) == (0, 0)
    assert _held(desktop.store) == []


def test_columns_are_read_only_where_a_snapshot_page_is_asked_for(desktop):
    """A hostile hub answering a push with a page of columns gets 'could not be read', not a
    page taken for a push's answer."""
    import httpx

    body = msgspec.msgpack.encode(_good())

    def hub(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": p.COLUMNS_MEDIA})

    desktop.http = httpx.Client(transport=httpx.MockTransport(hub))
    with pytest.raises(HubRefused) as caught:
        desktop._post("/v1/push", p.PushRequest(schema_version=1, device_id="d", ops=[], cursor=0), p.PushResponse,
                      auth=False)
    assert caught.value.code == "bad_answer" and "could not be read" in str(caught.value)
    page = desktop._post("/v1/telemetry/snapshot", None, p.TelemetrySnapshotPage, auth=False, params={})
    assert isinstance(page, p.EventColumns) and page.rows == 4
