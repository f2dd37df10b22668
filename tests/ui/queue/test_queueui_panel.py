"""The queue panel: loads and polls on the store lane, keeps the operator's place through
live changes, filters from its bar, and offers only the actions that apply."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from emdesk.services.errors import ServiceError
from emdesk.services.incidents import IncidentService
from emdesk.ui.queue.columns import KEYS
from emdesk.ui.queue.keys import TRIAGE
from emdesk.ui.queue.panel import POLL_MS, QueuePanel

from queueui_kit import ListQueue, bumped, make_items

ITEMS = make_items(3000, seed=21)


class ThreadedQueue(ListQueue):
    """Remembers which thread each call ran on."""

    def __init__(self, items):
        super().__init__(items)
        self.threads: list[str] = []
        self.refuse = False

    def snapshot(self):
        self.threads.append(threading.current_thread().name)
        return super().snapshot()

    def changes(self, cursor):
        self.threads.append(threading.current_thread().name)
        if self.refuse:
            self.refuse = False
            raise ServiceError(f"cursor: {cursor!r} is not one this queue gave out; take a new snapshot()")
        return super().changes(cursor)


@pytest.fixture
def panel_for(qtbot, operator_ctx):
    def make(items=ITEMS, show=True):
        operator_ctx.queue = ThreadedQueue(items)
        operator_ctx.incidents = IncidentService(operator_ctx._store, operator_ctx.user, operator_ctx.clock)
        operator_ctx.clock.at = items[0].started_at + timedelta(days=3) if items else operator_ctx.clock.at
        panel = QueuePanel(operator_ctx)
        qtbot.addWidget(panel)
        panel.resize(1200, 600)
        if show:
            with qtbot.waitSignal(panel.loaded, timeout=10_000):
                panel.show()
        return panel
    return make


def _poll(qtbot, panel):
    before = panel.cursor
    panel.poll()
    qtbot.waitUntil(lambda: panel.cursor != before and panel._poll_task is None, timeout=5000)


def _on_screen(panel, item_id) -> int:
    row = panel.model.row_of(item_id)
    y = panel.view.rowViewportPosition(row)
    assert 0 <= y < panel.view.viewport().height(), f"row {row} is at y={y}, off screen"
    return y


def test_the_first_show_loads_the_queue_off_the_gui_thread_and_selects_the_top(panel_for):
    panel = panel_for()
    assert panel.ctx.queue.threads and threading.main_thread().name not in panel.ctx.queue.threads
    shown = sum(1 for it in ITEMS if it.status in ("open", "acknowledged", "escalated"))
    assert panel.model.rowCount() == shown
    assert panel.count_label.text() == f"{shown:,} of {len(ITEMS):,} incidents"
    assert panel.selected() is panel.model.item_at(0)
    assert panel.poll_timer.isActive() and panel.poll_timer.interval() == POLL_MS


def test_polling_runs_only_while_visible(panel_for, qtbot):
    panel = panel_for()
    panel.hide()
    assert not panel.poll_timer.isActive() and not panel.tick_timer.isActive()
    panel.show()
    assert panel.poll_timer.isActive()


def test_a_thousand_incidents_above_keep_the_selection_and_where_it_sits_on_screen(panel_for, qtbot):
    panel = panel_for()
    panel.select_row(300)
    chosen = panel.selected()
    y = _on_screen(panel, chosen.id)
    seen = []
    panel.incident_selected.connect(seen.append)
    # Ranked above everything, so all 1,000 land above the chosen row.
    panel.ctx.queue.put(*[bumped(it, priority=101, status="open") for it in make_items(1000, seed=3, start=90_000)])
    _poll(qtbot, panel)
    assert panel.model.row_of(chosen.id) == 1300
    assert panel.selected().id == chosen.id
    assert _on_screen(panel, chosen.id) == y
    assert seen == []                        # nothing changed for the subject view


def test_the_top_row_stays_on_screen_when_nothing_selected_is_visible(panel_for, qtbot):
    panel = panel_for()
    panel.select_row(0)
    panel.view.verticalScrollBar().setValue(28 * 500)      # scrolled away from the selection
    top = panel.model.item_at(panel.view.rowAt(0))
    y = panel.view.rowViewportPosition(panel.model.row_of(top.id))
    panel.ctx.queue.put(*[bumped(it, priority=101, status="open") for it in make_items(200, seed=4, start=80_000)])
    _poll(qtbot, panel)
    assert panel.view.rowViewportPosition(panel.model.row_of(top.id)) == y
    assert panel.selected().id != top.id


def test_a_changed_selected_incident_is_announced_again(panel_for, qtbot):
    panel = panel_for()
    chosen = panel.selected()
    with qtbot.waitSignal(panel.incident_selected, check_params_cb=lambda it: it.id == chosen.id
                          and it.status == "escalated", timeout=5000):
        panel.ctx.queue.put(bumped(chosen, status="escalated"))
        panel.poll()


def test_a_removed_incident_leaves_the_queue(panel_for, qtbot):
    panel = panel_for()
    gone = panel.model.item_at(5)
    panel.ctx.queue.drop(gone.id)
    _poll(qtbot, panel)
    assert panel.model.row_of(gone.id) == -1 and panel.model.total == len(ITEMS) - 1


@pytest.mark.parametrize(("box", "choice", "rule"), [
    ("status_box", "All", lambda it: True),
    ("status_box", "Auto-closed (technical)", lambda it: it.status == "auto_closed"),
    ("cohort_box", "Court bail", lambda it: it.cohort == "court_bail" and it.status in ("open", "acknowledged",
                                                                                        "escalated")),
    ("condition_box", "Tamper", lambda it: it.condition == "tamper" and it.status in ("open", "acknowledged",
                                                                                      "escalated")),
    ("code_box", "AL08", lambda it: "AL08" in it.codes and it.status in ("open", "acknowledged", "escalated")),
])
def test_the_filter_bar_narrows_the_queue(panel_for, box, choice, rule):
    panel = panel_for()
    combo = getattr(panel.filters, box)
    at = combo.findText(choice)
    assert at > 0, f"{choice!r} not offered: {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setCurrentIndex(at)
    assert set(panel.model.visible_ids()) == {it.id for it in ITEMS if rule(it)}


def test_typing_in_find_narrows_after_a_pause_and_the_keys_stay_typing(panel_for, qtbot):
    panel = panel_for()
    panel.filters.search.setFocus()
    qtbot.keyClicks(panel.filters.search, "EM-00012")
    assert panel.filters.search.text() == "EM-00012"          # A, E... were typed, not triage
    qtbot.waitUntil(lambda: panel.model.rowCount() < 20, timeout=2000)
    assert all("EM-00012" in panel.model.item_at(r).reference for r in range(panel.model.rowCount()))


def test_j_k_move_and_enter_opens_the_subject(panel_for, qtbot):
    panel = panel_for()
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_J)
    qtbot.keyClick(panel.view, Qt.Key.Key_J)
    qtbot.keyClick(panel.view, Qt.Key.Key_K)
    assert panel.selected() is panel.model.item_at(1)
    with qtbot.waitSignal(panel.open_subject, check_params_cb=lambda it: it is panel.model.item_at(1)):
        qtbot.keyClick(panel.view, Qt.Key.Key_Return)


# (status, technical, the actions offered)
OFFERED = [
    ("open", False, {"acknowledge", "genuine", "technical", "excuse", "note", "escalate"}),
    ("acknowledged", False, {"genuine", "technical", "excuse", "note", "escalate"}),
    ("escalated", False, {"excuse", "note"}),
    ("auto_closed", True, {"note", "reopen"}),
    ("closed", False, {"note"}),
    ("closed", True, {"note", "reopen"}),
]


@pytest.mark.parametrize(("status", "technical", "offered"), OFFERED)
def test_only_the_actions_that_apply_are_enabled(panel_for, qtbot, status, technical, offered):
    item = bumped(ITEMS[0], status=status, technical=technical)
    panel = panel_for([item])
    panel.filters.status_box.setCurrentIndex(panel.filters.status_box.findText("All"))
    panel.select_row(0)
    assert {n for n, a in panel.triage_actions.items() if a.isEnabled()} == offered
    assert all(t.key in panel.help_label.toolTip() for t in TRIAGE)


def test_the_tick_moves_the_clocks_on(panel_for, qtbot):
    panel = panel_for()
    col = KEYS.index("deadline")
    before = panel.model.index(0, col).data()
    panel.ctx.clock.at += timedelta(hours=2)
    panel.tick()
    assert panel.model.index(0, col).data() != before


def test_a_refused_poll_is_shown_then_a_snapshot_takes_over_keeping_the_selection(panel_for, qtbot):
    panel = panel_for()
    panel.select_row(7)
    chosen = panel.selected()
    panel.ctx.queue.refuse = True
    panel.ctx.queue.put(bumped(chosen, status="escalated"))
    with qtbot.waitSignal(panel.failed, timeout=5000):
        panel.poll()
    assert "stopped updating" in panel.last_error and "take a new snapshot" in panel.last_error
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.poll()
    assert panel.ctx.queue.calls[-1] == "snapshot" and not panel.error_label.isVisible()
    assert panel.selected().id == chosen.id and panel.selected().status == "escalated"
