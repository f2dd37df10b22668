"""The monitoring workspace as an operator meets it: the queue, and beside it the wearer.

Over the UI demo store, whose incidents come from the fleet simulator's telemetry fed
through ingest (as the live demo feeds it): the queue opens on the highest priority
incident with its trail drawn and its stretch highlighted, the subject's file follows
the selection, and a wearer clicked on the fleet map shows that wearer's day.
"""
from __future__ import annotations

import json

from emdesk.domain.users import Role
from emdesk.ui.main_window import MainWindow


def _js(qtbot, trail, script):
    with qtbot.waitCallback(timeout=10_000) as callback:
        trail.view.run_js(f"JSON.stringify({script})", callback)
    return json.loads(callback.args[0])


def _open(qtbot, ctx):
    window = MainWindow(ctx, load=False, remember=False)
    qtbot.addWidget(window)
    window.resize(1350, 690)
    window.show()
    with qtbot.waitSignal(window.loaded, timeout=60_000):
        window.refresh_all()
    return window, window.workspace("monitoring")


def test_the_queue_opens_on_the_top_incident_with_its_trail_and_file(qtbot, ctx_for):
    window, ws = _open(qtbot, ctx_for(Role.SUPERVISOR))
    assert ws.row_count() > 0, "the demo day raised no incident the queue shows"
    item = ws.queue.selected()
    assert item is not None and item.id == ws.selected.id
    priorities = [ws.queue.model.item_at(r).priority for r in range(ws.row_count())]
    assert item.priority == max(priorities) and priorities == sorted(priorities, reverse=True)
    # Loaded means drawn: the workspace waited for the top incident's trail.
    state = _js(qtbot, ws.trail, "emdesk.trail.state()")
    assert state["drawn"] and state["fixes"] > 0 and state["stretches"] >= 1
    assert ws.trail.order_id == item.order_id
    qtbot.waitUntil(lambda: ws.subject.file is not None and ws.subject.order_id == item.order_id, timeout=20_000)
    assert ws.subject.file.order.reference == item.reference
    assert ws.subtitle_label.text().startswith("All regions")


def test_choosing_another_incident_moves_the_trail_and_the_file(qtbot, ctx_for):
    window, ws = _open(qtbot, ctx_for(Role.SUPERVISOR))
    first = ws.queue.selected()
    other_row = next(r for r in range(ws.row_count()) if ws.queue.model.item_at(r).order_id != first.order_id)
    other = ws.queue.model.item_at(other_row)
    with qtbot.waitSignal(ws.trail.loaded, timeout=30_000):
        ws.queue.select_row(other_row)
    assert ws.trail.order_id == other.order_id
    qtbot.waitUntil(lambda: ws.subject.order_id == other.order_id and ws.subject.file is not None, timeout=20_000)


def test_a_wearer_clicked_on_the_fleet_map_shows_their_day(qtbot, ctx_for):
    window, ws = _open(qtbot, ctx_for(Role.SUPERVISOR))
    ws.side.setCurrentWidget(ws.fleet)
    positions = ws.ctx.fleet_map.positions()
    assert positions, "the fleet map has no wearer to click"
    target = next(p for p in positions if p.order_id != ws.trail.order_id)
    with qtbot.waitSignal(ws.trail.loaded, timeout=30_000):
        ws.fleet.wearer_clicked.emit(target.order_id)
    assert ws.side.currentWidget() is ws.trail and ws.trail.order_id == target.order_id
    assert ws.trail.highlight is None


def test_an_operator_sees_only_her_region(qtbot, ctx_for):
    ctx = ctx_for(Role.MONITORING_OPERATOR)
    window, ws = _open(qtbot, ctx)
    assert ws.row_count() > 0, "the operator's region raised nothing: the check below would prove nothing"
    regions = {ws.queue.model.item_at(r).region for r in range(ws.row_count())}
    assert regions == {ctx.user.region}
    assert window.trail_match_action is None       # trail matching is a supervisor's
