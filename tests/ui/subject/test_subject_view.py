"""The subject view, pytest-qt over a real store: each section filled from the service, the
empty state, refusals shown in words, and Enter or a double-click opening an incident."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from emdesk.domain.monitoring import Incident
from emdesk.domain.users import ROLE_PERMISSIONS, Permission, Role
from emdesk.ui.subject import SubjectView
from emdesk.ui.table_model import ROW_ROLE


def shown(qtbot, ctx, order_id) -> SubjectView:
    view = SubjectView(ctx)
    qtbot.addWidget(view)
    view.resize(600, 720)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show_order(order_id)
    return view


def rows(table) -> list:
    return [table.proxy.index(r, 0).data(ROW_ROLE) for r in range(table.proxy.rowCount())]


def test_a_new_view_says_no_one_is_selected(qtbot, session_for):
    view = SubjectView(session_for())
    qtbot.addWidget(view)
    assert view.stack.currentWidget() is view.empty and "No wearer selected" in view.empty.text()


def test_show_order_fills_every_section(qtbot, session_for, wearer_world):
    store, order = wearer_world
    view = shown(qtbot, session_for(), order.id)
    assert view.stack.currentIndex() == 1
    assert view.title.text() == "Test W-CURFEW"
    assert view.meta.text() == "W-CURFEW · Court sentence · High risk · Active"
    assert "Sam Okafor, Probation" in view.order_label.text() and "B1 1AA" in view.order_label.text()
    assert "every day 19:00–07:00" in view.conditions_label.text()
    devices = view.devices_label.text()
    for words in ("GPS-CURFEW", "Battery 12% ", "low", "late", "not cleared (open)", "HMU-CURFEW", "on mains",
                  "in range"):
        assert words in devices, words
    timeline = rows(view.timeline)
    assert timeline == list(view.file.timeline) and {r.kind for r in timeline} == {"event", "traffic", "alert", "incident"}
    assert [b.codes for b in rows(view.breaches)] == [("AL08", "AL09")]
    assert [n.text for n in rows(view.notes)] == ["Phoned: says the bus broke down"]
    assert view.tabs.tabText(1) == "Previous &breaches (1)" and view.tabs.tabText(2) == "&Notes (1)"


def _incident_row(view) -> tuple[int, str]:
    for r, row in enumerate(rows(view.timeline)):
        if row.kind == "incident":
            return r, row.incident_id
    raise AssertionError("no incident on the timeline")


def test_double_clicking_an_incident_row_opens_it(qtbot, session_for, wearer_world):
    store, order = wearer_world
    view = shown(qtbot, session_for(), order.id)
    r, incident_id = _incident_row(view)
    assert store.get(Incident, incident_id).order_id == order.id
    table = view.timeline.view
    rect = table.visualRect(view.timeline.proxy.index(r, 1))
    with qtbot.waitSignal(view.incident_activated, timeout=2_000) as opened:
        # A person's double-click: QTest's own sends no first press, which the view waits for.
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [incident_id]


def test_enter_on_an_incident_row_opens_it_and_a_plain_event_opens_nothing(qtbot, session_for, wearer_world):
    _, order = wearer_world
    view = shown(qtbot, session_for(), order.id)
    table = view.timeline.view
    plain = next(i for i, row in enumerate(rows(view.timeline)) if row.incident_id is None)
    table.setFocus()
    table.setCurrentIndex(view.timeline.proxy.index(plain, 0))
    opened: list[str] = []
    view.incident_activated.connect(opened.append)
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert opened == []
    r, incident_id = _incident_row(view)
    table.setCurrentIndex(view.timeline.proxy.index(r, 0))
    assert "Enter: open the incident" in view.detail.text()
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert opened == [incident_id]


def test_a_breach_row_opens_its_incident_too(qtbot, session_for, wearer_world):
    _, order = wearer_world
    view = shown(qtbot, session_for(), order.id)
    view.tabs.setCurrentIndex(1)
    table = view.breaches.view
    table.setFocus()
    table.setCurrentIndex(view.breaches.proxy.index(0, 0))
    with qtbot.waitSignal(view.incident_activated, timeout=2_000) as opened:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert opened.args == [view.file.breaches[0].incident_id]


def test_show_order_none_goes_back_to_the_empty_state(qtbot, session_for, wearer_world):
    _, order = wearer_world
    view = shown(qtbot, session_for(), order.id)
    view.show_order(None)
    assert view.stack.currentWidget() is view.empty and view.file is None and view.timeline.model.rowCount() == 0


@pytest.mark.parametrize(("role", "region", "words"), [
    (Role.MONITORING_OPERATOR, "Wales", "not in your region"),
    (Role.FIELD_OFFICER, "West Midlands", "do not read monitoring files"),
])
def test_a_refusal_is_said_in_words(qtbot, session_for, wearer_world, role, region, words):
    _, order = wearer_world
    view = SubjectView(session_for(role, region))
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.load_failed, timeout=10_000) as failed:
        view.show_order(order.id)
    assert words in failed.args[0] and view.error.isVisibleTo(view)
    assert view.stack.currentWidget() is view.empty


def test_without_personal_details_the_header_names_the_order_not_the_wearer(qtbot, session_for, wearer_world,
                                                                         monkeypatch):
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.MONITORING_OPERATOR,
                        ROLE_PERMISSIONS[Role.MONITORING_OPERATOR] - {Permission.VIEW_PERSONAL_DETAILS})
    _, order = wearer_world
    view = shown(qtbot, session_for(), order.id)
    assert view.title.text() == "Wearer on W-CURFEW"
    assert "not shown to your role" in view.order_label.text() and "B1 1AA" not in view.order_label.text()
