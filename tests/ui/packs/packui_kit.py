"""The breach pack UI tests' desks (fixtures and helpers): real stores, real services, the real queue.

- ``desk``: the watched world (incidents the engine made from a real evening's telemetry),
  an operator of its region on the real queue, the pack service drawing its maps headless.
- ``demo_desk``: a private copy of the UI tests' demo world (the fleet simulator's
  telemetry fed through ingest), so what a test escalates and issues stays its own.

No ``__init__.py`` here: ``tests/packs`` is already a package named ``packs``; these test
modules are named ``test_packui_*`` to stay unique, as ``tests/ui/queue``'s are.
"""
from __future__ import annotations

import io
import shutil
import sqlite3
from datetime import datetime, timezone

import pytest

from emdesk.domain.clock import FixedClock
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.users import Role, User
from emdesk.services.context import AppContext
from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import StoreTelemetry
from emdesk.store import Store
from emdesk.ui.maps.snapshot import attach_pack_maps
from emdesk.ui.queue.panel import QueuePanel
from monitoring.watchworld import build, evening, line

DEMO_NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)     # tests/ui/conftest.py's demo hour


def signed_in(store, user, clock) -> AppContext:
    """A session as the desktop's wiring makes it: the pack builder draws the trail map."""
    ctx = AppContext.for_user(store, user, clock, GazetteerGeocoder())
    attach_pack_maps(ctx)
    return ctx


def open_panel(qtbot, ctx) -> QueuePanel:
    panel = QueuePanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1200, 500)
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.show()
    panel.filters.status_box.setCurrentIndex(panel.filters.status_box.findText("All"))
    panel.view.setFocus()
    return panel


@pytest.fixture
def world_store(tmp_path):
    store = build(tmp_path / "w.db")
    lines = evening(47) + [line("HMU-CURFEW", datetime(2026, 12, 1, 21, 0, tzinfo=timezone.utc), "hmu_power_off"),
                           line("HMU-CURFEW", datetime(2026, 12, 1, 21, 12, tzinfo=timezone.utc), "hmu_power_on")]
    IngestService(StoreTelemetry(store)).ingest(io.BytesIO("\n".join(lines).encode()))
    yield store
    store.close()


@pytest.fixture
def desk(world_store, qtbot):
    """(panel, store, operator, clock): the queue of an operator of the world's region."""
    clock = FixedClock(world_store.clock.now())
    operator = world_store.put(User(username="op", display_name="Olwen Ap Rhys", role=Role.MONITORING_OPERATOR,
                                    region="West Midlands"))
    ctx = signed_in(world_store, operator, clock)
    assert ctx.packs is not None and ctx.packs.map_image is not None
    return open_panel(qtbot, ctx), world_store, operator, clock


@pytest.fixture
def demo_desk(demo_store, tmp_path):
    """(store, users by role) over a private copy of the demo world, at the demo's hour."""
    source, world = demo_store
    copy = tmp_path / "demo.db"
    with sqlite3.connect(source.path) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    shutil.copyfile(f"{source.path}.keys", f"{copy}.keys")     # a plain store's key file says so
    store = Store.open(copy, clock=FixedClock(DEMO_NOW))
    users = {}
    for account, _password in world.users:
        users.setdefault(account.role, account)
    yield store, users
    store.close()
