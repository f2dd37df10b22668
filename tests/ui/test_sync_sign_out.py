"""Signing out in the middle of a real sync round (fault 2 of issue 9), end to end.

A real hub (``emdesk.sync.hub`` served by uvicorn on a loopback port, its network slowed
to a poor mobile link) and a desktop joined to it, syncing through the app's own
``SyncAdapter``.  The laptop's disk is slow too: the round's write after the hub answers
takes a moment, and the person signs out during it.  Before the fix, sign-out closed the
database under the round (``ProgrammingError: Cannot operate on a closed database``).
"""
from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timezone

import anyio
import pytest
from argon2 import PasswordHasher

from emdesk.app import _context
from emdesk.domain.clock import FixedClock
from emdesk.domain.users import User
from emdesk.domain.visits import Visit, VisitStatus
from emdesk.store import Store
from emdesk.sync.client import join
from emdesk.sync.hub import Hub, create_app, open_storage

from session_kit import signed_in_shell, store_is_closed

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
OFFICER = "officer.leeds"
LINK_DELAY_S = 0.3


class SlowLink:
    """ASGI middleware: each push or pull waits, as over a weak mobile signal."""

    def __init__(self, app):
        self.app = app
        self.slow = False
        self.asked = threading.Event()

    async def __call__(self, scope, receive, send):
        if self.slow and scope.get("type") == "http" and scope.get("path") in ("/v1/push", "/v1/pull"):
            self.asked.set()
            await anyio.sleep(LINK_DELAY_S)
        await self.app(scope, receive, send)


class SlowDisk:
    """The store's lock: once armed, the sync round's next database work takes a while."""

    def __init__(self, lock):
        self.lock = lock
        self.round_thread: threading.Thread | None = None
        self.armed = False
        self.busy = threading.Event()

    def __enter__(self):
        entered = self.lock.__enter__()
        if self.armed and threading.current_thread() is self.round_thread:
            self.armed = False
            self.busy.set()
            time.sleep(0.3)
        return entered

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


@pytest.fixture
def hub(tmp_path, demo_source):
    import uvicorn

    hub = Hub(open_storage(str(tmp_path / "hub.db")), clock=FixedClock(NOW),
              hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    users, records, _ = demo_source(2026, 24, NOW)
    hub.load(users, records)
    link = SlowLink(create_app(hub))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(link, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-hub", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the hub did not start"
    yield f"http://127.0.0.1:{port}", link
    server.should_exit = True
    thread.join(10)
    hub.storage.close()


def test_sign_out_during_a_real_sync_round_loses_nothing(qtbot, hub, tmp_path):
    url, link = hub
    path = tmp_path / "laptop.db"
    store, _ = join(url, OFFICER, f"demo-{OFFICER}", path, plain=True, clock=FixedClock(NOW))
    user = store.find(User, where={"username": OFFICER})[0]
    # Work done offline, waiting to go to the hub.
    mine = [v for v in store.find(Visit, order_by="id")
            if v.officer_id == user.id and v.status is VisitStatus.SCHEDULED][:3]
    assert mine
    for visit in mine:
        store.put(visit.evolve(notes=f"note for {visit.id}"), actor=user.id)
    pending = store.outbox_count()
    ctx = _context(store, user, FixedClock(NOW))
    escaped: list[BaseException] = []
    sync_now = ctx.sync.sync_now

    disk = SlowDisk(store._lock)
    store._lock = disk

    def watched(*args, **kwargs):
        disk.round_thread = threading.current_thread()
        try:
            return sync_now(*args, **kwargs)
        except BaseException as exc:      # what the round met (a stop is fine, a closed database is not)
            escaped.append(exc)
            raise

    ctx.sync.sync_now = watched
    link.slow = True
    shell = signed_in_shell(qtbot, ctx)          # the window starts a round at once
    assert link.asked.wait(10), "the round never reached the hub"
    disk.armed = True                            # the hub's answer is written slowly
    assert disk.busy.wait(10), "the round never wrote what the hub answered"

    began = time.monotonic()
    shell.window.sign_out_action.trigger()
    took = time.monotonic() - began
    qtbot.addWidget(shell.dialog)

    assert took < 2.0, f"sign-out took {took:.1f} s"
    assert [type(e).__name__ for e in escaped if type(e).__name__ != "TaskCancelled"] == []
    assert store_is_closed(store)
    # Nothing lost: the edits are on the desktop, sent or still waiting; the next round finishes the job.
    link.slow = False
    again = Store.open(path, clock=FixedClock(NOW))
    try:
        assert all(again.get(Visit, v.id).notes == f"note for {v.id}" for v in mine)
        assert again.outbox_count() in (0, pending)
        from emdesk.app import SyncAdapter
        adapter = SyncAdapter(again)
        try:
            status = adapter.sync_now()
        finally:
            adapter.close()
        assert status.ok, status.message
        assert again.outbox_count() == 0
    finally:
        again.close()
