"""The supervisor's install KPIs on the Overview, over the real KPI service on the demo
world: tiles and failure reasons, each opening the visits (or devices) behind it, moving
when the store does."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from emdesk.domain.clock import FixedClock
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.users import Role, User
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.services.context import AppContext
from emdesk.services.visit_outcomes import VisitOutcomeService
from emdesk.ui.workspaces import OverviewWorkspace
from emdesk.ui.workspaces.overview_kpis import headline

from conftest import DEMO_NOW


def loaded(qtbot, ctx):
    ws = OverviewWorkspace(ctx)
    qtbot.addWidget(ws)
    ws.resize(1350, 688)
    ws.show()
    with qtbot.waitSignal(ws.loaded, timeout=20_000):
        ws.refresh()
    return ws


def shown_ids(ws):
    proxy = ws.drill.table.proxy
    return [proxy.row_at(i).visit_id for i in range(proxy.rowCount())]


def test_each_figure_is_a_tile_or_a_reason_that_opens_what_is_behind_it(qtbot, ctx_for, tmp_path):
    ctx = ctx_for(Role.SUPERVISOR)
    figures = {f.key: f for f in ctx.kpis.figures()}
    ws = loaded(qtbot, ctx)
    assert ws.kpis.isVisibleTo(ws)
    tiles, reasons = ws.kpis.tiles, ws.kpis.reasons.lines
    assert set(tiles) | set(reasons) == set(figures)
    assert {"installs_within_attempts", "time_to_install", "visits_outstanding", "device_recovery"} <= set(tiles)
    assert all(k.startswith("failure_reason:") for k in reasons) and reasons
    for key, tile in tiles.items():
        assert tile.value.text() == headline(figures[key])[0] and tile.caption.text() == figures[key].label
    # Fits a laptop's width: the strip does not widen the window.
    assert ws.kpis.minimumSizeHint().width() < 1350
    key = "installs_within_attempts"
    qtbot.mouseClick(tiles[key], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ws.lower_stack.currentWidget() is ws.drill and ws.drill.key == key, timeout=10_000)
    assert sorted(shown_ids(ws)) == sorted(figures[key].visit_ids)
    assert f"{len(figures[key].visit_ids)} visits behind the figure" in ws.drill.title.text()
    ws.grab().save(str(tmp_path / "overview.png"))
    # A failure reason lists exactly the failed visits with that reason.
    reason = next(iter(reasons))
    qtbot.mouseClick(reasons[reason], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ws.drill.key == reason, timeout=10_000)
    qtbot.waitUntil(lambda: sorted(shown_ids(ws)) == sorted(figures[reason].visit_ids), timeout=10_000)
    outcome = figures[reason].label
    assert {ws.drill.table.proxy.row_at(i).outcome for i in range(ws.drill.table.proxy.rowCount())} == {outcome}
    # Recovery lists devices; keyboard opens a tile too; and back to the orders.
    tiles["device_recovery"].setFocus()
    qtbot.keyClick(tiles["device_recovery"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ws.drill.key == "device_recovery", timeout=10_000)
    qtbot.waitUntil(lambda: ws.drill.table.proxy.rowCount() == len(figures["device_recovery"].device_ids),
                    timeout=10_000)
    qtbot.mouseClick(ws.drill.back_button, Qt.MouseButton.LeftButton)
    assert ws.lower_stack.currentIndex() == 0


@pytest.fixture
def demo_copy(tmp_path):
    """A demo world of its own, which this test changes."""
    from emdesk.services.demo import build_demo
    store, world = build_demo(tmp_path / "demo.db", seed=2026, now=DEMO_NOW, subjects=120, plan_seconds=0)
    yield store, world
    store.close()


def test_a_failed_attempt_moves_the_figures_and_the_open_list(qtbot, demo_copy):
    store, world = demo_copy
    boss = store.find(User, where={"username": "supervisor"})[0]
    ctx = AppContext.for_user(store, boss, FixedClock(DEMO_NOW), GazetteerGeocoder())
    ws = loaded(qtbot, ctx)
    key = "failure_reason:refused"
    before = ctx.kpis.figure(key)
    qtbot.mouseClick(ws.kpis.reasons.lines[key], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ws.drill.key == key and ws.drill.table.proxy.rowCount() == len(before.visit_ids),
                    timeout=10_000)
    install = next(v for v in store.find(Visit, where={"status": VisitStatus.SCHEDULED.value})
                   if v.kind is VisitKind.INSTALL and v.officer_id)
    officer = store.get(User, install.officer_id)
    VisitOutcomeService(store, officer, FixedClock(DEMO_NOW)).record_outcome(install.id, OutcomeCode.REFUSED,
                                                                            "wearer refused at the door")
    with qtbot.waitSignal(ws.loaded, timeout=20_000):
        ws.refresh()
    after = ctx.kpis.figure(key)
    assert after.numerator == before.numerator + 1
    assert ws.kpis.reasons.lines[key].text().startswith(headline(after)[0])
    qtbot.waitUntil(lambda: install.id in shown_ids(ws), timeout=10_000)


@pytest.mark.parametrize("role", [Role.FIELD_OFFICER, Role.TECHNICIAN, Role.MONITORING_OPERATOR])
def test_roles_without_management_figures_get_neither_figures_nor_the_service(ctx_for, role):
    from emdesk.services.errors import AccessDenied
    from emdesk.services.kpis import KpiService
    from emdesk.ui.workspaces import workspaces_for

    ctx = ctx_for(role)
    assert ctx.kpis is None and OverviewWorkspace not in workspaces_for(ctx.user)
    with pytest.raises(AccessDenied):
        KpiService(ctx._store, ctx.user, ctx.clock)
