"""Triage by keyboard on a real store: the incidents the engine made from a real
evening's telemetry, the real ``IncidentService`` (excuse, reopen), each action audited
and in the outbox for sync, the row updated in place with the selection kept.

The queue's own service is built in parallel; until it is merged, ``StoreQueue`` below
reads the same incidents from the store as queue rows (the cursor is the records'
``hlc``).  ``triage_keys_after_merge.py`` beside this file runs every key against the
real ``ctx.queue`` and ``ctx.incidents``.
"""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import Qt

from emdesk.domain.deadlines import deadlines
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.monitoring import Incident, IncidentStatus
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.users import Role, User
from emdesk.services.context import AppContext
from emdesk.services.incidents import IncidentService
from emdesk.services.ingest import IngestService
from emdesk.services.queue_items import QueueBatch, QueueItem
from emdesk.services.telemetry_port import StoreTelemetry
from emdesk.ui.queue.columns import KEYS
from emdesk.ui.queue.panel import QueuePanel
from monitoring.watchworld import build, evening, line


class StoreQueue:
    """The store's incidents as queue rows; ``changes`` gives those written after the cursor."""

    def __init__(self, store):
        self.store = store

    def _item(self, i: Incident) -> QueueItem:
        order, subject = self.store.get(Order, i.order_id), self.store.get(Subject, i.subject_id)
        due = deadlines(i.period_start)
        return QueueItem(id=i.id, order_id=i.order_id, subject_id=i.subject_id,
                         reference=i.reference or order.reference,
                         subject_name=f"{subject.given_name} {subject.family_name}", region=i.region,
                         cohort=order.cohort.value, condition=i.condition, codes=i.codes, status=i.status.value,
                         priority=i.priority, reasons=i.reasons, technical=i.technical, started_at=i.started_at,
                         ended_at=i.ended_at, seconds=i.seconds, period_start=i.period_start,
                         notify_by=due.notify_by, pack_by=due.pack_by, updated=i.hlc)

    def _since(self, cursor: str) -> QueueBatch:
        rows = [i for i in self.store.find(Incident) if i.hlc > cursor]
        top = max([cursor, *(i.hlc for i in rows)])
        return QueueBatch(items=[self._item(i) for i in rows], cursor=top)

    def snapshot(self) -> QueueBatch:
        return self._since("")

    def changes(self, cursor: str) -> QueueBatch:
        return self._since(cursor)


@pytest.fixture
def desk(tmp_path, qtbot):
    store = build(tmp_path / "w.db")
    lines = evening(47) + [line("HMU-CURFEW", datetime(2026, 12, 1, 21, 0, tzinfo=timezone.utc), "hmu_power_off"),
                           line("HMU-CURFEW", datetime(2026, 12, 1, 21, 12, tzinfo=timezone.utc), "hmu_power_on")]
    IngestService(StoreTelemetry(store)).ingest(io.BytesIO("\n".join(lines).encode()))
    operator = store.put(User(username="op", display_name="Op", role=Role.MONITORING_OPERATOR, region="West Midlands"))
    ctx = AppContext.for_user(store, operator, store.clock, GazetteerGeocoder())
    ctx.queue = StoreQueue(store)
    ctx.incidents = IncidentService(store, operator, store.clock)
    panel = QueuePanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1200, 500)
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.show()
    panel.filters.status_box.setCurrentIndex(panel.filters.status_box.findText("All"))
    panel.view.setFocus()
    yield panel, store, operator
    store.close()


def _choose(panel, rule) -> QueueItem:
    row = next(r for r in range(panel.model.rowCount()) if rule(panel.model.item_at(r)))
    panel.select_row(row)
    return panel.model.item_at(row)


def _synced(store, incident_id: str) -> bool:
    return any(o["table_name"] == "incidents" and o["row_id"] == incident_id for o in store.outbox())


def _answer(qtbot, panel, reason: str) -> None:
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible(), timeout=3000)
    qtbot.keyClicks(panel.dialog.reason, reason)
    qtbot.keyClick(panel.dialog.reason, Qt.Key.Key_Return)


def test_x_excuses_the_stretch_audited_synced_and_the_row_updates_in_place(desk, qtbot):
    panel, store, op = desk
    chosen = _choose(panel, lambda it: it.condition == "curfew" and it.status == "open")
    store.ack_outbox([o["op_id"] for o in store.outbox()])       # only what the action writes is left
    qtbot.keyClick(panel.view, Qt.Key.Key_X)
    dialog = panel.dialog
    assert dialog.windowTitle() == "Excuse time"
    # The stretch defaults to the incident's own (to the minute, UK time).
    assert dialog.values()[1] == chosen.started_at.replace(second=0, microsecond=0)
    with qtbot.waitSignal(panel.triaged, timeout=10_000) as done:
        _answer(qtbot, panel, "bus cancelled; driver confirmed")
    incident = done.args[0]
    assert incident.excuses[-1].by == op.id and "bus cancelled" in incident.history[-1].reason
    row = panel.model.item(chosen.id)
    assert row.seconds < chosen.seconds and row.seconds == pytest.approx(incident.seconds)
    assert panel.selected().id == chosen.id
    assert any(e.action == "excuse" and e.entity_id == chosen.id and e.actor == op.id for e in store.audit_entries())
    assert _synced(store, chosen.id)
    assert panel.message.text() == f"Excused time on {chosen.reference}."


def test_r_reopens_an_auto_closed_technical_incident(desk, qtbot):
    panel, store, op = desk
    chosen = _choose(panel, lambda it: it.status == "auto_closed")
    assert panel.triage_actions["reopen"].isEnabled() and not panel.triage_actions["excuse"].isEnabled()
    with qtbot.waitSignal(panel.triaged, timeout=10_000):
        qtbot.keyClick(panel.view, Qt.Key.Key_R)
        _answer(qtbot, panel, "neighbours had power: ask the wearer")
    assert panel.model.item(chosen.id).status == "open" and panel.selected().id == chosen.id
    assert store.get(Incident, chosen.id).status is IncidentStatus.OPEN
    assert any(e.action == "reopen" and e.entity_id == chosen.id for e in store.audit_entries())
    assert _synced(store, chosen.id)
    assert not panel.triage_actions["reopen"].isEnabled()


def test_a_refused_action_says_why_and_leaves_the_row_alone(desk, qtbot):
    panel, store, _ = desk
    chosen = _choose(panel, lambda it: it.condition == "curfew" and it.status == "open")
    qtbot.keyClick(panel.view, Qt.Key.Key_X)
    dialog = panel.dialog
    # A stretch a week before the incident: the service refuses it.
    dialog.start.setDateTime(dialog.start.dateTime().addDays(-7))
    dialog.end.setDateTime(dialog.start.dateTime().addSecs(3600))
    with qtbot.waitSignal(panel.failed, timeout=10_000):
        _answer(qtbot, panel, "wrong week")
    assert panel.last_error.startswith(f"Could not record the excuse on {chosen.reference}.")
    assert "does not overlap" in panel.last_error and panel.error_label.isVisible()
    assert panel.model.item(chosen.id) == chosen and panel.selected().id == chosen.id
    assert panel.triage_actions["excuse"].isEnabled()


def test_an_empty_reason_is_not_accepted(desk, qtbot):
    panel, _, _ = desk
    _choose(panel, lambda it: it.status == "auto_closed")
    qtbot.keyClick(panel.view, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible(), timeout=3000)
    assert not panel.dialog.ok.isEnabled() and "reason" in panel.dialog.problem.text()
    qtbot.keyClick(panel.dialog.reason, Qt.Key.Key_Return)
    assert panel.dialog.isVisible()
    qtbot.keyClick(panel.dialog, Qt.Key.Key_Escape)
    assert panel.dialog is None


def test_a_clock_hour_later_the_row_reads_an_hour_less_left(desk, qtbot):
    panel, store, _ = desk
    item = _choose(panel, lambda it: it.status == "open")
    col = KEYS.index("deadline")
    before = panel.model.index(panel.model.row_of(item.id), col).data()
    store.clock.advance(timedelta(hours=1))
    panel.tick()
    assert panel.model.index(panel.model.row_of(item.id), col).data() != before
