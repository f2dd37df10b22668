"""The triage tests' desk: a real store with the incidents the engine made from a real
evening's telemetry, an operator of that region signed in on the real queue and incident
services, and the queue panel showing every status, its outbox emptied so only what an
action writes is left."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.users import Role, User
from emdesk.services.context import AppContext
from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import StoreTelemetry
from emdesk.ui.queue.panel import QueuePanel
from monitoring.watchworld import build, evening, line


@pytest.fixture
def desk(tmp_path, qtbot):
    store = build(tmp_path / "w.db")
    lines = evening(47) + [line("HMU-CURFEW", datetime(2026, 12, 1, 21, 0, tzinfo=timezone.utc), "hmu_power_off"),
                           line("HMU-CURFEW", datetime(2026, 12, 1, 21, 12, tzinfo=timezone.utc), "hmu_power_on")]
    IngestService(StoreTelemetry(store)).ingest(io.BytesIO("\n".join(lines).encode()))
    operator = store.put(User(username="op", display_name="Op", role=Role.MONITORING_OPERATOR, region="West Midlands"))
    ctx = AppContext.for_user(store, operator, store.clock, GazetteerGeocoder())
    assert ctx.queue is not None and ctx.incidents is not None
    panel = QueuePanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1200, 500)
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.show()
    panel.filters.status_box.setCurrentIndex(panel.filters.status_box.findText("All"))
    panel.view.setFocus()
    store.ack_outbox([o["op_id"] for o in store.outbox()])      # only what the action writes is left
    yield panel, store, operator
    store.close()
