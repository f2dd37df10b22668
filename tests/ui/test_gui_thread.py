"""No database work on the GUI thread, and background refreshes that keep the user's place.

Faults 3 and 4 of issue 9.  The store's lock is taken by every read and write
(``Store.reading`` / ``Store.transaction``), so wrapping it records which thread
touched the database.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QApplication

from emdesk.domain.users import Role
from emdesk.ui.main_window import MainWindow
from emdesk.ui.order_form import OrderFormDialog

from session_kit import StoreRound


class RecordingLock:
    """The store's lock, noting the thread of every acquisition."""

    def __init__(self, lock):
        self.lock = lock
        self.threads: list[threading.Thread] = []

    def __enter__(self):
        self.threads.append(threading.current_thread())
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)

    def acquire(self, *a, **kw):
        self.threads.append(threading.current_thread())
        return self.lock.acquire(*a, **kw)

    def release(self):
        return self.lock.release()


@pytest.fixture
def watched(monkeypatch):
    """watched(store) -> the RecordingLock now guarding it."""
    def watch(store):
        recorder = RecordingLock(store._lock)
        monkeypatch.setattr(store, "_lock", recorder)
        return recorder
    return watch


def on_gui_thread(recorder) -> int:
    gui = threading.main_thread()
    return sum(1 for t in recorder.threads if t is gui)


def test_the_window_with_sync_never_touches_the_store_on_the_gui_thread(qtbot, store, operator_ctx, watched):
    recorder = watched(store)
    ctx = operator_ctx
    ctx.sync = StoreRound(store, batches=3, pause=0.01)
    window = MainWindow(ctx, load=False, remember=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.sync.synced, timeout=10_000):
        window.sync.start()                          # status read and a round
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.refresh_all()
    with qtbot.waitSignal(window.sync.status_read, timeout=10_000):
        window.sync.read_status()
    assert "Sync: last never" in window.sync_label.text()
    assert recorder.threads, "the store was never used: the test proves nothing"
    assert on_gui_thread(recorder) == 0, "the GUI thread read the store"


def test_the_order_form_checks_off_the_gui_thread(qtbot, store, operator_ctx, watched):
    recorder = watched(store)
    calls = []
    check = operator_ctx.intake.check

    def spy(order, subject):
        calls.append(threading.current_thread())
        return check(order, subject)

    operator_ctx.intake.check = spy
    dialog = OrderFormDialog(operator_ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.form.checked, timeout=5000):
        dialog.show()
    dialog.form.postcode.setText("LS1 6HD")
    with qtbot.waitSignal(dialog.submitted, timeout=5000):
        dialog.submit()
    assert calls and threading.main_thread() not in calls
    assert recorder.threads and on_gui_thread(recorder) == 0


def test_the_window_stays_responsive_while_sync_holds_the_store(qtbot, store, operator_ctx):
    """A round holding the store's lock must not freeze the window reading the sync status."""
    ctx = operator_ctx
    ctx.sync = StoreRound(store, batches=1, pause=0.0)
    window = MainWindow(ctx, load=False, remember=False)
    qtbot.addWidget(window)
    held, release = threading.Event(), threading.Event()

    def round_in_progress():
        with store.transaction():
            held.set()
            release.wait(5)

    holder = threading.Thread(target=round_in_progress)
    holder.start()
    assert held.wait(5)
    try:
        began = time.monotonic()
        window.sync.read_status()                   # must return at once, not wait on the lock
        window.refresh_all()
        QApplication.processEvents()
        assert time.monotonic() - began < 0.5, "the GUI thread waited on the store"
        assert window.is_loading()
    finally:
        release.set()
        holder.join(5)
    with qtbot.waitSignal(window.sync.status_read, timeout=5000):
        pass
    window.sync.stop()


def test_a_background_sync_keeps_selection_scroll_and_actions(qtbot, ctx_for):
    ctx = ctx_for(Role.FIELD_OFFICER)
    round_ = StoreRound(ctx._store, batches=1, pause=0.0)
    ctx.sync = round_
    window = MainWindow(ctx, load=False, remember=False)
    qtbot.addWidget(window)
    window.resize(900, 420)                     # small enough that the caseload scrolls
    window.show()
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.refresh_all()
    today = window.workspace("today")
    rows = [today.table.proxy.row_at(i) for i in range(today.table.proxy.rowCount())]
    install = next(i for i, r in enumerate(rows) if r.kind == "install" and r.status == "scheduled")
    today.table.view.selectRow(install)
    assert window.pair_devices_action.isEnabled()
    caseload = window.workspace("caseload")
    window.show_workspace("caseload")
    caseload.table.view.selectRow(caseload.row_count() - 1)
    caseload.table.view.scrollToBottom()
    QApplication.processEvents()
    bar = caseload.table.view.verticalScrollBar()
    assert bar.maximum() > 0, "the caseload must scroll for this test to mean anything"
    scrolled = bar.value()
    chosen = caseload.table.selected_row()

    disabled = []
    window.pair_devices_action.changed.connect(
        lambda: disabled.append(True) if not window.pair_devices_action.isEnabled() else None)
    with qtbot.waitSignal(window.sync.synced, timeout=10_000):
        window.sync.sync_now()
    with qtbot.waitSignal(window.loaded, timeout=20_000):   # the refresh the round set off
        pass
    QApplication.processEvents()
    assert today.table.selected_row() == rows[install]
    assert caseload.table.selected_row() == chosen
    assert bar.value() == scrolled
    assert window.pair_devices_action.isEnabled() and not disabled
    window.sync.stop()


def test_a_round_that_brought_nothing_in_does_not_reload_the_screens(qtbot, store, operator_ctx):
    class QuietRound(StoreRound):
        def sync_now(self, progress=None):
            status = super().sync_now(progress)
            return replace(status, changed=0)

    operator_ctx.sync = QuietRound(store, batches=1, pause=0.0)
    window = MainWindow(operator_ctx, load=False, remember=False)
    qtbot.addWidget(window)
    loads = []
    for ws in window.workspaces:
        ws.loaded.connect(lambda: loads.append(True))
    with qtbot.waitSignal(window.sync.synced, timeout=10_000):
        window.sync.sync_now()
    QApplication.processEvents()
    assert not window.is_loading() and loads == []
    window.sync.stop()
