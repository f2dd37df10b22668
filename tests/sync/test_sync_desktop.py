"""The desktop's background sync against a real hub on a loopback port: the status bar,
the Sync button, and working offline when the hub goes away."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from synckit import FAST_HASHER, ServerThread

from emdesk.app import _context
from emdesk.domain.clock import FixedClock
from emdesk.domain.users import User
from emdesk.domain.visits import Visit, VisitStatus
from emdesk.store import Store
from emdesk.sync.client import join
from emdesk.sync.hub import Hub, create_app, open_storage

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
OFFICER = "officer.leeds"


@pytest.fixture
def hub(tmp_path, demo_source):
    hub = Hub(open_storage(str(tmp_path / "hub.db")), clock=FixedClock(NOW), hasher=FAST_HASHER)
    users, records, _ = demo_source(2026, 24, NOW)
    hub.load(users, records)
    server = ServerThread(create_app(hub)).__enter__()
    yield server
    server.__exit__(None, None, None)
    hub.storage.close()


@pytest.fixture
def window(hub, tmp_path, qtbot):
    from emdesk.ui.main_window import MainWindow
    store, _report = join(hub.url, OFFICER, f"demo-{OFFICER}", tmp_path / "laptop.db", plain=True,
                          clock=FixedClock(NOW))
    user = store.find(User, where={"username": OFFICER})[0]
    ctx = _context(store, user, FixedClock(NOW))
    assert ctx.sync is not None and ctx.sync.status().configured
    win = MainWindow(ctx, load=False, remember=False)
    qtbot.addWidget(win)
    yield win
    win.sync.stop()
    from emdesk.ui.sync_controller import sync_pool
    sync_pool().waitForDone(10_000)
    ctx.close()


def _own_visit(store, user_id):
    return next(v for v in store.find(Visit, order_by="id") if v.officer_id == user_id and v.status is VisitStatus.SCHEDULED)


def test_sync_button_sends_local_edits_and_says_so(window, qtbot):
    ctx = window.ctx
    store = ctx._store
    visit = _own_visit(store, ctx.user.id)
    store.put(visit.evolve(notes="dog kept in the kitchen"), actor=ctx.user.id)
    assert ctx.sync.status().pending == 1
    with qtbot.waitSignal(window.sync.synced, timeout=20_000) as got:
        window.sync_action.trigger()
    assert got.args[0].ok and got.args[0].pending == 0
    assert "up to date" in window.sync_label.text()


def test_hub_unreachable_keeps_the_desktop_working_offline(window, hub, qtbot):
    hub.__exit__(None, None, None)           # the hub goes away (no signal at the door)
    ctx = window.ctx
    store = ctx._store
    visit = _own_visit(store, ctx.user.id)
    store.put(visit.evolve(notes="written offline"), actor=ctx.user.id)
    with qtbot.waitSignal(window.sync.synced, timeout=20_000) as got:
        window.sync.sync_now()
    status = got.args[0]
    assert not status.ok and status.pending == 1
    assert "working offline" in window.sync_label.text()
    assert window.sync.timer.isActive()       # a retry is scheduled
    # Nothing is lost, and the app still works on local data.
    assert store.get(Visit, visit.id).notes == "written offline"
    assert ctx.cases.visits(day=visit.window_start.date()) is not None
