"""The supervisor's install KPIs: five tiles, each opening the visits behind it."""
from __future__ import annotations

from PySide6.QtCore import Qt

from emdesk.domain.users import Role
from emdesk.ui.workspaces import OverviewWorkspace

from ui_fakes import FakeContext, FakeKpis, user


def loaded(qtbot, ctx):
    ws = OverviewWorkspace(ctx)
    qtbot.addWidget(ws)
    ws.resize(1350, 688)
    ws.show()
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        ws.refresh()
    return ws


def test_the_five_figures_are_tiles_that_open_their_visits(qtbot, tmp_path):
    kpis = FakeKpis()
    ws = loaded(qtbot, FakeContext(user(Role.SUPERVISOR), kpis=kpis))
    assert ws.kpis.isVisibleTo(ws)
    tiles = ws.kpis.tiles
    assert list(tiles) == [f.key for f in kpis.figures_list]
    assert [(t.value.text(), t.caption.text()) for t in tiles.values()] == [
        (f.value, f.label) for f in kpis.figures_list]
    qtbot.mouseClick(tiles["installs_within_standard"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ws.lower_stack.currentWidget() is ws.drill, timeout=10_000)
    shown = [ws.drill.table.proxy.row_at(i).visit_id for i in range(ws.drill.table.proxy.rowCount())]
    assert shown == ["v1", "v2", "v3"] and kpis.asked == ["installs_within_standard"]
    assert "3 visits behind the figure" in ws.drill.title.text()
    assert ws.drill.table.proxy.index(0, 6).data() == "Not at address"
    ws.grab().save(str(tmp_path / "overview.png"))
    # Keyboard too; and back to the orders.
    tiles["backlog"].setFocus()
    qtbot.keyClick(tiles["backlog"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ws.drill.key == "backlog" and ws.drill.table.proxy.rowCount() == 1, timeout=10_000)
    qtbot.mouseClick(ws.drill.back_button, Qt.MouseButton.LeftButton)
    assert ws.lower_stack.currentIndex() == 0


def test_a_refresh_moves_the_open_list_with_the_figures(qtbot):
    kpis = FakeKpis()
    ws = loaded(qtbot, FakeContext(user(Role.SUPERVISOR), kpis=kpis))
    qtbot.mouseClick(ws.kpis.tiles["backlog"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ws.drill.table.proxy.rowCount() == 1, timeout=10_000)
    figure = kpis.figures_list[2]
    kpis.figures_list[2] = type(figure)(figure.key, figure.label, "2", figure.detail, ("v3", "v1"))
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        ws.refresh()
    assert ws.kpis.tiles["backlog"].value.text() == "2"
    qtbot.waitUntil(lambda: ws.drill.table.proxy.rowCount() == 2, timeout=10_000)


def test_without_the_kpi_service_there_is_no_strip(qtbot):
    ws = loaded(qtbot, FakeContext(user(Role.SUPERVISOR)))
    assert not ws.kpis.isVisibleTo(ws) and ws.row_count() == 2
