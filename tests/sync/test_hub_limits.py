"""A hostile client against the hub's front door: bodies that never end, and sign-in floods.

The body limit is tested over a real socket to a real uvicorn, with a chunked body that
declares no length; the sign-in limits on both hub back ends, through HTTP, with their
state in the database so that every hub process counts the same attempts.
"""
from __future__ import annotations

import select
import socket
import sqlite3

import psycopg
import pytest
from synckit import NOW, OFFICER, SUPERVISOR, ASGIClient, ServerThread, make_hub, new_pg_database

from emdesk.domain.clock import FixedClock
from emdesk.store.migrations import LATEST
from emdesk.sync import protocol as p
from emdesk.sync.hub import create_app
from emdesk.sync.hub.app import BODY_LIMITS
from emdesk.sync.hub.credentials import ACCOUNT_LIMIT, ADDRESS_LIMIT

MiB = 1024 * 1024
GIVE_UP = 48 * MiB          # a hub that reads everything would still be reading here


def _chunked_flood(port: int, path: str, total: int = 300 * MiB) -> tuple[int, bytes]:
    """POST an endless chunked body; returns (bytes sent before the hub answered, answer)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Transfer-Encoding: chunked\r\n\r\n".encode())
    piece = b"[" + b"1," * (32 * 1024)
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent, answer = 0, b""
    sock.setblocking(False)
    try:
        while sent < min(total, GIVE_UP):
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable:
                break
            if not writable:
                raise AssertionError("the hub stopped reading without answering")
            try:
                n = sock.send(chunk[sent % len(chunk):])     # a partial send resumes mid-chunk
                sent += n
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.setblocking(True)
        sock.settimeout(10)
        try:
            while b"\r\n\r\n" not in answer:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
    finally:
        sock.close()
    return sent, answer


@pytest.fixture
def served(tmp_path, small_world):
    hub = make_hub(str(tmp_path / "hub.db"), FixedClock(NOW))
    hub.load(small_world.users, small_world.records())
    with ServerThread(create_app(hub, body_limits={"push": 2 * MiB})) as server:
        yield server
    hub.storage.close()


@pytest.mark.parametrize("endpoint", ["token", "pull", "bootstrap", "push"])
def test_an_endless_chunked_body_is_cut_off_early(served, endpoint):
    sent, answer = _chunked_flood(served.port, f"/v1/{endpoint}")
    assert answer.startswith(b"HTTP/1.1 413"), (sent, answer[:200])
    # The limit plus what the two kernels' socket buffers hold, not the 300 MiB offered.
    assert sent < 16 * MiB, sent
    if endpoint == "token":
        assert BODY_LIMITS["token"] <= 64 * 1024 < BODY_LIMITS["push"]


def test_a_declared_length_over_the_limit_is_refused_before_reading(kit):
    big = kit.http.post("/v1/token", content=b"x" * (BODY_LIMITS["token"] + 1))
    assert big.status_code == 413 and "larger than the hub accepts" in big.json()["message"]
    assert big.headers["connection"] == "close"


# -- sign-in limits ------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def hubs(request, tmp_path, small_world):
    """Two hub processes' worth of Hub objects on one loaded database, and a way to age
    the sign-in attempts as the database owner would see them."""
    if request.param == "sqlite":
        url = owner = str(tmp_path / "hub.db")
    else:
        owner, url = new_pg_database(request.getfixturevalue("pg_cluster"))
    clock = FixedClock(NOW)
    first, second = make_hub(url, clock), make_hub(url, clock)
    first.load(small_world.users, small_world.records())

    def age(minutes: int) -> None:
        sql = "UPDATE hub_signin_attempts SET at_ms = at_ms - %d" % (minutes * 60_000)
        if request.param == "sqlite":
            with sqlite3.connect(owner) as conn:
                conn.execute(sql)
        else:
            with psycopg.connect(owner) as conn:
                conn.execute(sql)

    https = [ASGIClient(create_app(first)), ASGIClient(create_app(second))]
    yield https, age
    for http in https:
        http.close()
    first.storage.close()
    second.storage.close()


def _sign_in(http, username: str, password: str, device: str = "desk-1"):
    return http.post("/v1/token", content=p.encode(p.TokenRequest(
        device_id=device, device_name=device, username=username, password=password, schema_version=LATEST)),
        headers={"X-Emdesk-Schema": str(LATEST)})


def _password(world, username: str) -> str:
    return next(pw for u, pw in world.users if u.username == username)


def test_failed_sign_ins_lock_the_account_for_a_while_on_every_hub_process(hubs, small_world):
    (one, two), age = hubs
    for i in range(ACCOUNT_LIMIT):
        assert _sign_in((one, two)[i % 2], OFFICER, "guess").status_code == 401
    # Now even the right password waits, on either hub process: the count is in the database.
    for http in (one, two):
        locked = _sign_in(http, OFFICER, _password(small_world, OFFICER))
        assert locked.status_code == 429, locked.text
        assert locked.json()["error"] == "too_many_attempts"
        assert "Too many failed sign-ins for this account" in locked.json()["message"]
        assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    # Another account is not affected.
    assert _sign_in(one, SUPERVISOR, _password(small_world, SUPERVISOR), "desk-2").status_code == 200
    age(16)          # the window has passed
    assert _sign_in(two, OFFICER, _password(small_world, OFFICER)).status_code == 200


def test_attempts_from_one_address_are_bounded_whatever_their_outcome(hubs, small_world):
    (one, two), age = hubs
    for i in range(ADDRESS_LIMIT):
        # Different names, none of them failing twice: only the address links them.
        assert _sign_in((one, two)[i % 2], f"nobody{i}", "guess").status_code == 401
    flooded = _sign_in(one, SUPERVISOR, _password(small_world, SUPERVISOR))
    assert flooded.status_code == 429 and "from this address" in flooded.json()["message"]
    assert int(flooded.headers["retry-after"]) > 0
    age(11)
    assert _sign_in(one, SUPERVISOR, _password(small_world, SUPERVISOR)).status_code == 200
