"""Triage by keyboard on a real store: the incidents the engine made from a real
evening's telemetry, the real ``IncidentService`` (excuse, reopen), each action audited
and in the outbox for sync, the row updated in place with the selection kept.

``test_queueui_triage_keys.py`` beside this file runs every key the same way.
"""
from __future__ import annotations


from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from emdesk.domain.monitoring import Incident, IncidentStatus
from emdesk.services.queue_items import QueueItem
from emdesk.ui.queue.columns import KEYS
from triage_desk import desk  # noqa: F401  (the fixture)


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
