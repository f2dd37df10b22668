"""Behaviour inside the workspaces, over fake services for exact control."""
from PySide6.QtCore import Qt

from emdesk.domain.users import Role
from emdesk.services.errors import AccessDenied
from emdesk.ui.workspaces import OrdersWorkspace, StockWorkspace, TodayWorkspace

from ui_fakes import FakeContext, user


def loaded(qtbot, cls, ctx):
    ws = cls(ctx)
    qtbot.addWidget(ws)
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        ws.refresh()
    return ws


def test_orders_details_list_the_problems_of_the_selected_order(qtbot):
    ws = loaded(qtbot, OrdersWorkspace, FakeContext(user(Role.MONITORING_OPERATOR)))
    table = ws.panel.table
    # Problems first, tinted; the first row is selected and its problems listed.
    first = table.proxy.row_at(0)
    assert first.reference == "LDS-3"
    assert table.proxy.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert table.proxy.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    texts = ws.panel.details.problem_messages()
    assert texts == ["Date of birth is missing. (Subject › Date of birth)",
                     "Postcode is not a UK postcode. (Subject › Address 1 › Postcode)"]
    assert "SUBJ-DOB-MISSING" in ws.panel.details.problem_text.text()
    table.view.selectRow(1)
    assert ws.panel.details.problem_messages() == []
    assert "No problems" in ws.panel.details.heading.text()
    ws.only_problems.setChecked(True)
    assert table.model.rowCount() == 1


def test_stock_filters_go_to_the_service_and_count_updates(qtbot):
    ctx = FakeContext(user(Role.TECHNICIAN))
    ws = loaded(qtbot, StockWorkspace, ctx)
    assert ws.count_label.text() == "2 devices"
    assert [ws.region_combo.itemText(i) for i in range(ws.region_combo.count())] == ["All regions", "London", "Wales"]
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        ws.region_combo.setCurrentIndex(2)
    assert ctx.cases.calls[-1] == ("stock", None, "Wales")
    assert ws.count_label.text() == "1 device"
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        ws.state_combo.setCurrentIndex(ws.state_combo.findData("in_stock"))
    assert ctx.cases.calls[-1] == ("stock", "in_stock", "Wales")
    assert ws.row_count() == 0 and ws.count_label.text() == "0 devices"


def test_today_shows_route_order_window_attempt_and_flags(qtbot):
    ws = loaded(qtbot, TodayWorkspace, FakeContext(user(Role.FIELD_OFFICER)))
    index = ws.table.proxy.index
    assert [index(r, 0).data() for r in range(2)] == ["1", "2"]
    assert index(0, 1).data() == "09:20"
    assert index(0, 2).data() == "09:00–11:00"
    assert index(1, 6).data() == "2nd"
    assert index(0, 8).data(Qt.ItemDataRole.UserRole + 1) == ("Dangerous dog",)
    assert "1 with risk flags" in ws.subtitle_label.text()
    assert "route order" in ws.subtitle_label.text() and "12 km" in ws.subtitle_label.text()


def test_a_refusal_is_shown_in_the_workspace(qtbot):
    ctx = FakeContext(user(Role.FIELD_OFFICER))

    def refuse(day=None):
        raise AccessDenied("Field officer accounts cannot record visits")

    ctx.officer_day.day = refuse
    ws = TodayWorkspace(ctx)
    qtbot.addWidget(ws)
    with qtbot.waitSignal(ws.load_failed, timeout=10_000):
        ws.refresh()
    assert "cannot record visits" in ws.error_label.text()
    assert not ws.is_loading


def test_an_older_load_answering_late_is_ignored(qtbot):
    ctx = FakeContext(user(Role.FIELD_OFFICER))
    ws = TodayWorkspace(ctx)
    qtbot.addWidget(ws)
    shown = []
    ws.loaded.connect(lambda: shown.append(ws.row_count()))
    ctx.officer_day.cards = ctx.officer_day.cards[:1]
    ws.refresh()                                   # will answer with one visit...
    ws.ctx.officer_day = FakeContext(user(Role.FIELD_OFFICER)).officer_day   # ...but a newer load asks again
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        ws.refresh()
    assert shown == [2]                            # the first answer never reached the screen
