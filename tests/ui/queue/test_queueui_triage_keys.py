"""Every triage key end to end on the real queue and the real incident service.

A real store with the incidents the engine made from a real evening's telemetry; an
operator of that region signs in; each key runs its action through the panel: the row
updates in place with the selection kept, the action is in the audit log and the
incident's change is in the outbox for sync.
"""
from __future__ import annotations


import pytest
from PySide6.QtCore import Qt

from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.monitoring import Incident
from emdesk.domain.users import Role, User
from emdesk.services.context import AppContext
from triage_desk import desk  # noqa: F401  (the fixture)




def _open_curfew(it):
    return it.condition == "curfew" and it.status == "open"


def _auto_closed(it):
    return it.status == "auto_closed"


# (key, which incident, what the dialog is answered with, the status after, the audit action)
KEYS = [
    (Qt.Key.Key_A, _open_curfew, None, "acknowledged", "acknowledge"),
    (Qt.Key.Key_G, _open_curfew, "seen leaving on the street camera", "acknowledged", "classify"),
    (Qt.Key.Key_T, _open_curfew, "power cut on the whole street", "closed", "classify"),
    (Qt.Key.Key_E, _open_curfew, "out all night; no answer to calls", "escalated", "escalate"),
    (Qt.Key.Key_N, _open_curfew, "rang the wearer: no answer", "open", "note"),
    (Qt.Key.Key_X, _open_curfew, "bus cancelled; driver confirmed", "open", "excuse"),
    (Qt.Key.Key_R, _auto_closed, "neighbours had power: ask the wearer", "open", "reopen"),
]


@pytest.mark.parametrize(("key", "which", "answer", "status", "action"), KEYS,
                         ids=[k[4] + "-" + k[3] for k in KEYS])
def test_each_key_triages_the_selected_incident(desk, qtbot, key, which, answer, status, action):
    panel, store, op = desk
    row = next(r for r in range(panel.model.rowCount()) if which(panel.model.item_at(r)))
    panel.select_row(row)
    chosen = panel.selected()
    with qtbot.waitSignal(panel.triaged, timeout=10_000):
        qtbot.keyClick(panel.view, key)
        if answer is not None:
            qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible(), timeout=3000)
            field = getattr(panel.dialog, "reason", None) or panel.dialog.note
            qtbot.keyClicks(field, answer)
            if field is getattr(panel.dialog, "note", None):
                qtbot.keyClick(panel.dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            else:
                qtbot.keyClick(field, Qt.Key.Key_Return)
    assert panel.model.item(chosen.id).status == status
    assert store.get(Incident, chosen.id).status.value == status
    assert panel.selected().id == chosen.id                     # kept, under the "All" filter
    assert any(e.action == action and e.actor == op.id for e in store.audit_entries())
    assert any(o["table_name"] == "incidents" and o["row_id"] == chosen.id for o in store.outbox())
    if answer is not None:
        assert answer in store.get(Incident, chosen.id).history[-1].reason


def test_technical_leaves_the_needs_action_list_and_the_next_is_selected(desk, qtbot):
    panel, store, _ = desk
    panel.filters.status_box.setCurrentIndex(panel.filters.status_box.findText("Needs action"))
    row = next(r for r in range(panel.model.rowCount()) if _open_curfew(panel.model.item_at(r)))
    panel.select_row(row)
    chosen = panel.selected()
    with qtbot.waitSignal(panel.triaged, timeout=10_000):
        qtbot.keyClick(panel.view, Qt.Key.Key_T)
        qtbot.waitUntil(lambda: panel.dialog is not None, timeout=3000)
        qtbot.keyClicks(panel.dialog.reason, "power cut on the whole street")
        qtbot.keyClick(panel.dialog.reason, Qt.Key.Key_Return)
    assert panel.model.row_of(chosen.id) == -1
    if panel.model.rowCount():
        assert panel.selected() is not None and panel.selected().id != chosen.id


def test_the_poll_brings_another_desks_change(desk, qtbot):
    panel, store, _ = desk
    chosen = panel.model.item_at(0)
    other = User(username="op2", display_name="Op Two", role=Role.MONITORING_OPERATOR, region="West Midlands")
    store.put(other)
    ctx2 = AppContext.for_user(store, other, store.clock, GazetteerGeocoder())
    if chosen.status == "open":
        ctx2.incidents.acknowledge(chosen.id)
        expected = "acknowledged"
    else:
        ctx2.incidents.add_note(chosen.id, "checked from the other desk")
        expected = chosen.status
    before = panel.cursor
    panel.poll()
    qtbot.waitUntil(lambda: panel.cursor != before, timeout=5000)
    assert panel.model.item(chosen.id).status == expected
    assert panel.model.item(chosen.id).updated != chosen.updated
