"""The trail-matching dialog: a supervisor's question answered on the store lane and
audited; a reason required; anyone else told why it is not for them."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from emdesk.domain.clock import FixedClock
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.services.context import AppContext
from emdesk.ui.trail_match_dialog import TrailMatchDialog

from .fleetworld import NOW, PLACE, RADIUS, USERS, WINDOW, build


@pytest.fixture
def store(tmp_path):
    store, _ = build(tmp_path / "fleet.db")
    yield store
    store.close()


def dialog_for(qtbot, store, session, who):
    ctx = AppContext.for_user(store, USERS[who], FixedClock(NOW), GazetteerGeocoder())
    session(ctx)
    dialog = TrailMatchDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def audited(store, action):
    return [json.loads(e.detail) for e in store.audit_entries(limit=None) if e.action == action]


def test_a_supervisor_finds_the_wearers_and_the_question_is_audited(qtbot, store, session):
    dialog = dialog_for(qtbot, store, session, "supervisor")
    dialog.set_question(*PLACE, int(RADIUS), *WINDOW, "Burglary, police ref 4411")
    with qtbot.waitSignal(dialog.answered, timeout=10_000) as answered:
        qtbot.mouseClick(dialog.find, Qt.MouseButton.LeftButton)
    assert answered.args == [2]
    model = dialog.table.model
    shown = [[model.index(r, c).data() for c in (0, 6)] for r in range(model.rowCount())]
    assert shown == [["T-WALKED-PAST", "Certain"], ["T-FUZZY-EDGE", "Possible (by accuracy)"]]
    assert "2 wearers found (1 certain, 1 possible" in dialog.status.text()
    assert [d["reason"] for d in audited(store, "trail_match")] == ["Burglary, police ref 4411"]
    with qtbot.waitSignal(dialog.wearer_chosen) as chosen:
        dialog.table.view.doubleClicked.emit(dialog.table.proxy.index(0, 0))
    assert chosen.args == [dialog.results[0].order_id]


@pytest.mark.parametrize("reason, end, says", [
    ("  ", WINDOW[1], "Give a reason"),
    ("Burglary", WINDOW[0] + timedelta(days=40), "To: the window is 40.0 days; ask about at most 31 days"),
])
def test_a_question_that_cannot_be_asked_says_why_and_reads_nothing(qtbot, store, session, reason, end, says):
    dialog = dialog_for(qtbot, store, session, "supervisor")
    dialog.set_question(*PLACE, int(RADIUS), WINDOW[0], end, reason)
    with qtbot.waitSignal(dialog.failed, timeout=10_000) as failed:
        dialog.run()
    assert says in failed.args[0] and says in dialog.status.text()
    assert audited(store, "trail_match") == [] and dialog.results == []


def test_an_operator_is_told_it_is_for_supervisors_and_cannot_ask(qtbot, store, session):
    dialog = dialog_for(qtbot, store, session, "operator")
    assert not dialog.find.isEnabled() and not dialog.reason.isEnabled()
    assert "for supervisors" in dialog.status.text() and "Monitoring" in dialog.status.text()
    dialog.run()
    assert audited(store, "trail_match") == []
