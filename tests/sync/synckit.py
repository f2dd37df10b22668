"""Helpers for the sync tests: a PostgreSQL cluster, an in-process hub, desktops, a real server."""
from __future__ import annotations

import glob
import shutil
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import anyio.from_thread
import httpx
import msgspec
from argon2 import PasswordHasher

from emdesk.domain.clock import FixedClock
from emdesk.domain.visits import Visit, VisitStatus
from emdesk.store import Store
from emdesk.sync.client import SyncClient
from emdesk.sync.hub import Hub, open_storage
from emdesk.sync.scope import principal_of

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
HUB_ROLE = "emdesk_hub"


# -- PostgreSQL -----------------------------------------------------------------------


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgCluster:
    owner_dsn_for: callable      # dbname -> owner DSN
    hub_dsn_for: callable        # dbname -> hub role DSN
    created: list = field(default_factory=list)    # databases made by the tests


def new_pg_database(cluster: PgCluster) -> tuple[str, str]:
    import psycopg

    from emdesk.sync.hub.postgres import init_postgres
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(cluster.owner_dsn_for("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    cluster.created.append(name)
    init_postgres(cluster.owner_dsn_for(name), HUB_ROLE)
    return cluster.owner_dsn_for(name), cluster.hub_dsn_for(name)


# -- an in-process hub and desktops ----------------------------------------------------


class ASGIClient(httpx.Client):
    """A synchronous httpx client that talks to an ASGI app in-process (httpx.ASGITransport
    driven from a blocking portal), so the synchronous SyncClient can use it."""

    def __init__(self, app, *, fail: callable | None = None):
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        portal = self._portal_cm.__enter__()
        inner = httpx.ASGITransport(app=app)
        self.requests: list[str] = []
        self.fail = fail     # (path, phase) -> bool: simulate a dropped connection

        client = self

        class _Transport(httpx.BaseTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                path = request.url.path
                if client.fail and client.fail(path, "before"):
                    raise httpx.ConnectError("simulated: network down", request=request)

                async def go():
                    response = await inner.handle_async_request(request)
                    body = await response.aread()
                    return httpx.Response(response.status_code, headers=response.headers, content=body)
                response = portal.call(go)
                client.requests.append(path)
                if client.fail and client.fail(path, "after"):
                    raise httpx.ReadError("simulated: connection lost before the answer arrived", request=request)
                return response

        super().__init__(transport=_Transport(), base_url="http://hub.test")

    def close(self) -> None:
        super().close()
        self._portal_cm.__exit__(None, None, None)


@dataclass
class Desk:
    """A desktop: its store, its sync client, its user."""

    store: Store
    client: SyncClient
    user: object
    password: str

    def sync(self, **kw):
        return self.client.sync_once(**kw)

    def counts(self) -> dict[str, int]:
        out = {}
        with self.store.reading() as db:
            for table in ("users", "subjects", "orders", "devices", "visits", "notes", "alerts",
                          "incidents", "breach_packs", "outcomes", "checklist_ticks"):
                n = db.execute(f"SELECT count(*) FROM {table} WHERE deleted = 0").fetchone()[0]
                if n:
                    out[table] = n
        return out

    @property
    def principal(self) -> str:
        return principal_of(self.user.role, self.user.id, self.user.region)


@dataclass
class HubKit:
    hub: Hub
    app: object
    clock: FixedClock
    world: object
    tmp: Path
    http: ASGIClient
    desks: list = field(default_factory=list)

    def user(self, username: str):
        return next((u, pw) for u, pw in self.world.users if u.username == username)

    def desk(self, username: str, *, clock: FixedClock | None = None, join: bool = True, http=None,
             **client_kw) -> Desk:
        user, password = self.user(username)
        path = self.tmp / f"{username}-{len(self.desks)}.db"
        store, _ = Store.create(path, plain=True, clock=clock or FixedClock(NOW))
        client = SyncClient(store, "http://hub.test", http=http or self.http, **client_kw)
        desk = Desk(store, client, user, password)
        self.desks.append(desk)
        if join:
            client.register(username, password, f"{username}'s laptop")
            client.sync_once()
        return desk

    def reopen(self, desk: Desk, **client_kw) -> Desk:
        """The same store with a new client (a restarted app)."""
        desk.client = SyncClient(desk.store, "http://hub.test", http=client_kw.pop("http", self.http), **client_kw)
        return desk


def make_hub(store_url: str, clock: FixedClock, **kw) -> Hub:
    return Hub(open_storage(store_url), clock=clock, hasher=FAST_HASHER, **kw)


# -- a real server -----------------------------------------------------------------------


class ServerThread:
    """uvicorn serving an app on a loopback port, in a thread of the test process."""

    def __init__(self, app, *, cert: Path | None = None, key: Path | None = None):
        import uvicorn
        self.port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on",
                                ssl_certfile=str(cert) if cert else None, ssl_keyfile=str(key) if key else None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        scheme = "https" if cert else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


# -- shared test helpers ------------------------------------------------------------------

OFFICER, OTHER_OFFICER = "officer.manchester", "officer.liverpool"      # both North West
MONITOR, SUPERVISOR = "monitor.northwest", "supervisor"


def hub_row(kit, table: str, row_id: str) -> dict | None:
    with kit.hub.storage.read("all") as tx:
        row = tx.one("SELECT data FROM hub_rows WHERE tbl = ? AND id = ?", [table, row_id])
    return msgspec.json.decode(row[0]) if row else None


def own_open_visit(desk, officer_id):
    return next(v for v in desk.store.find(Visit, order_by="id")
                if v.officer_id == officer_id and v.status is VisitStatus.SCHEDULED)


def assert_converged(kit, *desks):
    for desk in desks:
        assert desk.counts() == kit.hub.visible_counts(desk.principal), desk.user.username
        with desk.store.reading() as db:
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []
