"""The gateway end to end: real HTTP over loopback into a real demo store."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import datetime, timezone

import httpx
import msgspec
import pytest

from emdesk.domain.conditions import Proximity
from emdesk.domain.devices import Device, DeviceKind
from emdesk.domain.orders import Order
from emdesk.gateway.server import MAX_BODY, Gateway, make_server
from emdesk.services.demo import build_demo
from emdesk.services.telemetry_port import StoreTelemetry
from emdesk.store import Store

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)
MIN = 60_000
PHONE = "PHONE-PROTECTED-1"       # a protected person's phone, named on an order in the fixture


class World:
    def __init__(self, path):
        self.store, _ = build_demo(path, seed=2026, now=NOW, subjects=40, plan_seconds=0)
        fleet = StoreTelemetry(self.store).fleet()
        devices = {d.serial: d for d in self.store.find(Device)}
        live = sorted(s for s, p in fleet.places.items()
                      if p.fitted_ms < NOW_MS - 24 * 60 * MIN and (p.order_end_ms is None or p.order_end_ms > NOW_MS)
                      and s in devices and devices[s].kind in (DeviceKind.GPS_TAG, DeviceKind.NON_FITTED))
        self.non_fitted = next(s for s in live if devices[s].kind is DeviceKind.NON_FITTED)
        self.tags = [s for s in live if devices[s].kind is DeviceKind.GPS_TAG]
        self.places = fleet.places
        self.unfitted = sorted(fleet.unfitted)[0]
        # The victim-protection pilot: the wearer of the first tag must keep away from this phone.
        order = self.store.get(Order, self.places[self.tags[0]].order_id)
        self.store.put(order.evolve(conditions=msgspec.structs.replace(
            order.conditions, proximity=Proximity(device_serial=PHONE))), actor="test")

    def order_of(self, serial: str) -> str:
        return self.places[serial].order_id

    def events(self, serial: str, kind: str | None = None) -> list[tuple]:
        order = self.places[serial].order_id if serial in self.places else self.order_of(self.tags[0])
        rows = self.store.telemetry.for_order(order, 0, 2**62)
        return [r for r in rows if r[0] == serial and (kind is None or r[2] == kind)]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("gateway") / "demo.db")
    yield w
    w.store.close()


def _start(gateway: Gateway, **kw):
    server = make_server(gateway, "127.0.0.1", 0, **kw)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="module")
def server(world):
    server = _start(Gateway(StoreTelemetry(world.store)))
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def _iso(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, timezone.utc).isoformat().replace("+00:00", "Z")


def _query(serial: str, at_ms: int, **extra) -> dict:
    return {"id": serial, "timestamp": str(at_ms // 1000), "lat": "51.5074", "lon": "-0.1278", **extra}


def _json(serial: str, at_ms: int, level: float = 0.64) -> dict:
    return {"device_id": serial, "location": {
        "timestamp": _iso(at_ms), "is_moving": False, "odometer": 0, "event": "",
        "coords": {"latitude": 51.51, "longitude": -0.13, "accuracy": 20, "speed": 2.5, "heading": 10,
                   "altitude": 15},
        "battery": {"level": level, "is_charging": False}, "activity": {"type": "still"}, "extras": {}}}


def test_query_form_get_is_stored_with_speed_in_metres_per_second(world, http):
    at = NOW_MS - 50 * MIN
    r = http.get("/", params=_query(world.tags[1], at, speed="10", accuracy="10", batt="55"))
    assert (r.status_code, r.text) == (200, "")
    [fix] = [e for e in world.events(world.tags[1], "position") if e[1] == at]
    assert fix[3:7] == (51.5074, -0.1278, 2.0, pytest.approx(10 * 1852 / 3600))
    assert [e[7] for e in world.events(world.tags[1], "battery_level") if e[1] == at] == [55.0]


def test_query_form_post_body_is_stored(world, http):
    at = NOW_MS - 49 * MIN
    r = http.post("/", data=_query(world.tags[1], at))
    assert r.status_code == 200, r.text
    assert [e[1] for e in world.events(world.tags[1], "position") if e[1] == at] == [at]


def test_json_body_with_battery_is_stored(world, http):
    at = NOW_MS - 45 * MIN
    r = http.post("/", json=_json(world.non_fitted, at, level=0.64))
    assert (r.status_code, r.text) == (200, "")
    [fix] = [e for e in world.events(world.non_fitted, "position") if e[1] == at]
    assert fix[3:7] == (51.51, -0.13, 4.0, 2.5)
    assert [e[7] for e in world.events(world.non_fitted, "battery_level") if e[1] == at] == [64.0]


def test_a_resend_is_taken_and_stored_once(world, http):
    at = NOW_MS - 40 * MIN
    before = world.store.telemetry.count()
    answers = [http.post("/", json=_json(world.non_fitted, at)).status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    assert world.store.telemetry.count() == before + 2          # one fix, one battery reading
    assert len([e for e in world.events(world.non_fitted) if e[1] == at]) == 2


def test_a_late_delivery_within_the_order_is_stored_late(world, http):
    serial = world.tags[2]
    newest, older = NOW_MS - 2 * MIN, NOW_MS - 30 * MIN
    assert http.get("/", params=_query(serial, newest)).status_code == 200
    r = http.get("/", params=_query(serial, older))
    assert r.status_code == 200, r.text
    late = {e[1]: e[8] for e in world.events(serial, "position")}
    assert (late[newest], late[older]) == (0, 1)


def test_the_protected_persons_phone_is_taken(world, http):
    at = NOW_MS - 10 * MIN
    r = http.post("/", json=_json(PHONE, at))
    assert r.status_code == 200, r.text
    assert [e[1] for e in world.events(PHONE, "position")] == [at]


# (what is sent, the reason the 400 must start with, words it must hold)
REFUSALS = [
    ("ten minutes ahead", lambda w: _query(w.tags[1], NOW_MS + 10 * MIN), "ahead_of_clock", "clock"),
    ("before fitting", lambda w: _query(w.tags[1], w.places[w.tags[1]].fitted_ms - 60 * MIN), "before_fitted",
     "fitted"),
    ("unknown device", lambda w: _query("NOBODY-1", NOW_MS - MIN), "unknown_device", "check the serial"),
    ("known but not fitted", lambda w: _query(w.unfitted, NOW_MS - MIN), "not_fitted", "not fitted"),
    ("missing lat", lambda w: {k: v for k, v in _query(w.tags[1], NOW_MS).items() if k != "lat"}, "malformed",
     "lat: missing"),
    ("lat 91", lambda w: _query(w.tags[1], NOW_MS, lat="91"), "malformed", "-90..90"),
    ("bad timestamp", lambda w: _query(w.tags[1], NOW_MS, timestamp="soon"), "malformed", "timestamp"),
]


@pytest.mark.parametrize("params, reason, words", [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_refusals_are_400_with_the_reason(world, http, params, reason, words):
    before = world.store.telemetry.count()
    r = http.get("/", params=params(world))
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith(f"{reason}: ") and words in r.text
    assert world.store.telemetry.count() == before


def test_json_refusal_names_the_field(http):
    r = http.post("/", json={"device_id": "NFD-1", "location": {"timestamp": _iso(NOW_MS), "coords": {}}})
    assert r.status_code == 400
    assert "location.coords.latitude" in r.text


def test_an_oversize_body_is_413_and_not_read(http):
    r = http.post("/", content=b"{" + b" " * MAX_BODY + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "limit" in r.text


def test_an_oversize_chunked_body_is_413(http):
    def chunks():
        for _ in range(MAX_BODY // 4096 + 2):
            yield b"x" * 4096
    r = http.post("/", content=chunks())
    assert r.status_code == 413


def test_a_chunked_body_within_the_limit_is_read(world, http):
    at = NOW_MS - 35 * MIN
    body = json.dumps(_json(world.non_fitted, at)).encode()
    r = http.post("/", content=iter([body[:40], body[40:]]), headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert [e[1] for e in world.events(world.non_fitted, "position") if e[1] == at] == [at]


@pytest.mark.parametrize("method, path, status", [("PUT", "/", 405), ("DELETE", "/", 405), ("GET", "/api/x", 404)])
def test_other_methods_and_paths(http, method, path, status):
    r = http.request(method, path, params=_query("GPS-1", NOW_MS))
    assert r.status_code == status
    assert r.text.strip()


def test_keep_alive_serves_several_requests_on_one_connection(world, server):
    with socket.create_connection(server.server_address, timeout=5) as s:
        reader = s.makefile("rb")
        # A refused method's body is read past, not taken for the next request.
        s.sendall(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\nGET / HTTP/1")
        assert reader.readline().startswith(b"HTTP/1.1 405")
        length = 0
        while (header := reader.readline()) not in (b"\r\n", b""):
            if header.lower().startswith(b"content-length:"):
                length = int(header.split(b":")[1])
        reader.read(length)
        for n in range(3):
            query = httpx.QueryParams(_query(world.tags[1], NOW_MS - (20 - n) * MIN))
            s.sendall(f"GET /?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert reader.readline().startswith(b"HTTP/1.1 200")
            while reader.readline() not in (b"\r\n", b""):     # headers; a 200 has no body
                pass
    assert len([e for e in world.events(world.tags[1], "position") if NOW_MS - 20 * MIN <= e[1] <= NOW_MS - 18 * MIN]) == 3


def test_phones_posting_at_once_are_each_stored_once(world, server):
    """Many connections at the same moment, each fix sent twice: every answer 200, every
    fix stored once."""
    serial, times = world.tags[5], [NOW_MS - 200 * MIN + n * 1000 for n in range(40)]
    answers: list[int] = []

    def phone(mine: list[int]) -> None:
        with httpx.Client(base_url=server.url, timeout=20) as http:
            for at in mine + mine:
                answers.append(http.get("/", params=_query(serial, at)).status_code)

    threads = [threading.Thread(target=phone, args=(times[k::8],)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers == [200] * 80
    assert sorted(e[1] for e in world.events(serial, "position") if e[1] in set(times)) == times


def test_a_client_too_slow_to_send_is_dropped(world):
    server = _start(Gateway(StoreTelemetry(world.store)), read_timeout_s=0.3)
    try:
        with socket.create_connection(server.server_address, timeout=5) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nid=GPS")
            answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408")
    finally:
        server.shutdown()
        server.server_close()


def test_devices_fitted_while_running_are_heard(world):
    """The fleet is re-read (here at once): a phone named on an order after the gateway
    started is taken once it is known."""
    phone = "PHONE-PROTECTED-2"
    gateway = Gateway(StoreTelemetry(world.store), fleet_ttl_s=3600)
    server = _start(gateway)
    try:
        with httpx.Client(base_url=server.url) as http:
            params = _query(phone, NOW_MS - 5 * MIN)
            assert http.get("/", params=params).status_code == 400
            order = world.store.get(Order, world.order_of(world.tags[3]))
            world.store.put(order.evolve(conditions=msgspec.structs.replace(
                order.conditions, proximity=Proximity(device_serial=phone))), actor="test")
            assert http.get("/", params=params).status_code == 400         # not re-read yet
            gateway.fleet_ttl_s = 0
            assert http.get("/", params=params).status_code == 200
    finally:
        server.shutdown()
        server.server_close()


def test_a_store_failure_is_500_without_a_traceback(tmp_path):
    store, _ = Store.create(tmp_path / "empty.db", plain=True)
    server = _start(Gateway(StoreTelemetry(store), fleet_ttl_s=0))
    store.close()
    try:
        with httpx.Client(base_url=server.url) as http:
            r = http.get("/", params=_query("GPS-1", NOW_MS))
        assert r.status_code == 500
        assert "Traceback" not in r.text and "File " not in r.text
        assert "send it again" in r.text
    finally:
        server.shutdown()
        server.server_close()


# -- the command ---------------------------------------------------------------------------

def _run(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "EMDESK_NOW": NOW.isoformat(), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen([sys.executable, "-m", "emdesk", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kw)


def test_the_command_serves_until_sigterm(world):
    proc = _run("--db", str(world.store.path), "gateway", "--port", "0")
    try:
        first = proc.stdout.readline()
        assert first.startswith("emdesk gateway: listening on http://127.0.0.1:"), first + proc.stderr.read()
        url = first.rsplit(" ", 1)[1].strip()
        told = [proc.stdout.readline() for _ in range(3)]          # how to point Traccar Client at it
        assert "Traccar Client" in told[0] and "Ctrl-C" in told[2], told
        at = NOW_MS - 15 * MIN
        r = httpx.get(url, params=_query(world.tags[4], at), timeout=20)
        assert r.status_code == 200, r.text
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert f"device={world.tags[4]} status=200 verdict=stored" in err
    assert [e[1] for e in world.events(world.tags[4], "position") if e[1] == at] == [at]


@pytest.mark.parametrize("args, words", [
    (("gateway",), "--port"),
    (("gateway", "--port", "99999"), "port number"),
    (("--db", "x.db", "gateway", "--port", "0", "--store", "postgresql://h/db"), "not both"),
    (("--db", "missing.db", "gateway", "--port", "0"), "no store at"),
])
def test_the_command_says_what_is_wrong(args, words):
    proc = _run(*args)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert words in err
