"""The incident queue as an operator works it: filters, the live table, keyboard triage.

Every service call runs on the session's STORE lane: the first snapshot, the 2-second
poll for changes (only while the panel is visible) and each triage action, which also
fetches the changes since the cursor so the row updates in place at once.  A 30-second
tick moves the deadline clocks and ages on.  Live changes keep the operator's place:
the selected incident stays selected, and the incident the eye is on (the selected one
if on screen, else the top row) stays where it was on screen.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QSizePolicy, QTableView,
                               QToolButton, QVBoxLayout, QWidget)

from emdesk.services.queue_items import QueueBatch, QueueItem

from ..tasks import STORE, Task, TaskError, runner_for
from .columns import COLUMNS, KEYS
from .filters import FilterBar
from .keys import TRIAGE, help_text
from .model import QueueData, QueueModel
from .packs import QueuePacks
from .triage import Triager, key_action

POLL_MS = 2_000
TICK_MS = 30_000
ROW_HEIGHT = 28


def queue_table(model: QueueModel, parent: QWidget) -> QTableView:
    """The table, set for speed at 100,000 rows: fixed row heights, no word wrap."""
    view = QTableView(parent, objectName="queueTable")
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setAccessibleName("Incident queue")
    rows = view.verticalHeader()
    rows.setVisible(False)
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)    # uniform heights: no per-row sizing
    rows.setDefaultSectionSize(ROW_HEIGHT)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setStretchLastSection(True)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    for i, column in enumerate(COLUMNS):
        view.setColumnWidth(i, column.width)
    header.setSortIndicator(KEYS.index("priority"), Qt.SortOrder.DescendingOrder)
    view.setSortingEnabled(True)
    return view


class QueuePanel(QWidget):
    incident_selected = Signal(object)     # the QueueItem under the cursor, or None
    open_subject = Signal(object)          # Enter (or a double click) on a row: its QueueItem
    triaged = Signal(object)               # an action done: the Incident the service returned
    loaded = Signal()                      # a snapshot is on screen
    pack_opened = Signal(object)           # P on an escalated incident: the PackDialog opened
    failed = Signal(str)                   # a load or an action failed: the sentence shown

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self.ctx = ctx
        self.queue = getattr(ctx, "queue", None)          # None for roles that do not work incidents
        self.incidents = getattr(ctx, "incidents", None)
        self.model = QueueModel(self, now=ctx.clock.now())
        self.cursor: str | None = None
        self._load: Task | None = None
        self._poll_task: Task | None = None
        self._shown: QueueItem | None = None

        self.filters = FilterBar(self)
        self.filters.changed.connect(self._filter_changed)
        self.view = queue_table(self.model, self)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.doubleClicked.connect(lambda _i: self.open_selected())
        self.triager = Triager(self)
        self.triager.done.connect(self.triaged)
        self.triager.refused.connect(self._show_error)
        self.triager.busy_changed.connect(self._update_actions)
        self.move_actions = [key_action(self.view, "queue-next", "Next incident", ["J"], lambda _=False: self.move(1)),
                             key_action(self.view, "queue-previous", "Previous incident", ["K"],
                                        lambda _=False: self.move(-1))]
        self.open_action = key_action(self.view, "queue-open", "Open the subject", ["Return", "Enter"],
                                      lambda _=False: self.open_selected())
        self.pack_desk = QueuePacks(self)          # P, "Build pack…", the context menu, the packs' clocks
        self.count_label = QLabel("", objectName="countLabel")
        self.message = QLabel("", objectName="statusText")
        self.error_label = QLabel("", objectName="errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        keys = " · ".join(f"{t.key} {t.name}" for t in TRIAGE)
        self.help_label = QLabel(f"Keys: {keys} · P pack · J/K move · Enter open", objectName="hintText")
        self.help_label.setToolTip(help_text())
        # The key list may be cut on a narrow screen: its tooltip and the buttons say it all.
        self.help_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        top = QHBoxLayout()
        top.addWidget(self.filters, 1)
        self.filters.add_count(self.count_label)
        tools = QHBoxLayout()
        tools.setSpacing(4)
        for action in self.triager.actions.values():
            button = QToolButton(objectName=f"button-{action.objectName()}")
            button.setDefaultAction(action)
            tools.addWidget(button)
        self.pack_desk.add_button(tools)
        tools.addWidget(self.message)
        tools.addStretch(1)
        tools.addWidget(self.help_label)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        outer.addLayout(top)
        outer.addWidget(self.error_label)
        outer.addWidget(self.view, 1)
        outer.addLayout(tools)

        self.poll_timer = QTimer(self, interval=POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        self.tick_timer = QTimer(self, interval=TICK_MS)
        self.tick_timer.timeout.connect(self.tick)
        if self.queue is None:
            self._show_error("Your account does not work incidents, so there is no queue to show.")
        self._update_actions()
        self._update_count()

    # -- what tests and the workspace reach for ---------------------------------------------
    @property
    def triage_actions(self):
        return self.triager.actions

    @property
    def dialog(self):
        """The triage dialog open now, or None."""
        return self.triager.dialog

    @property
    def last_error(self) -> str:
        return self.error_label.text()

    def triage(self, name: str) -> None:
        """Run the triage action ``name`` ("acknowledge", "genuine"…) on the selected incident."""
        self.triager.start(name)

    # -- loading and live changes -----------------------------------------------------------
    def refresh(self) -> None:
        """Load the whole queue (on the store lane); later loads merge, keeping the place."""
        if self.queue is None or self._load is not None:
            return
        self.say("Loading the queue…")
        queue = self.queue

        def load() -> tuple[QueueBatch, QueueData]:
            batch = queue.snapshot()
            return batch, QueueData(batch.items)      # the columns are built here, off the GUI thread

        self._load = runner_for(self.ctx).run(load, lane=STORE, name="queue snapshot",
                                              on_done=self._on_snapshot, on_error=self._on_load_failed,
                                              on_cancelled=self._on_load_cancelled)

    def poll(self) -> None:
        """Ask for what changed since the cursor (the 2-second timer; tests call it).  With
        no cursor (never loaded, or the last poll failed) it takes a whole snapshot."""
        if self.queue is None or self._load is not None or self._poll_task is not None:
            return
        if self.cursor is None:
            self.refresh()
            return
        self._poll_task = runner_for(self.ctx).run(self.queue.changes, self.cursor, lane=STORE, name="queue changes",
                                                   on_done=self._on_changes, on_error=self._on_poll_failed,
                                                   on_cancelled=self._on_poll_cancelled)

    def tick(self) -> None:
        self.model.set_now(self.ctx.clock.now())
        self.pack_desk.refresh()

    def apply(self, batch: QueueBatch, *, after_action: QueueItem | None = None) -> None:
        """Merge live changes, keeping the selection and what is on screen.  After an action
        whose incident left the view (a filter no longer matches), the next one is selected."""
        if batch.cursor:
            self.cursor = batch.cursor
        anchor = self._anchor()
        row = self.model.row_of(after_action.id) if after_action is not None else -1
        if not any(self.model.apply(batch)) and after_action is None:
            return                          # an empty poll: nothing to redo
        if row >= 0 and self.selected() is None:
            self.select_row(min(row, self.model.rowCount() - 1))
        self._after_change(anchor)

    @Slot(object)
    def _on_snapshot(self, loaded: tuple[QueueBatch, QueueData]) -> None:
        batch, data = loaded
        self._load = None
        self.model.set_now(self.ctx.clock.now())
        first = self.model.total == 0
        anchor = self._anchor()
        self.model.set_data(data)
        self.cursor = batch.cursor
        self._after_change(anchor)
        if first and self.model.rowCount():
            self.select_row(0)
            self.view.setFocus()           # the keys work at once
        self.say("")
        self.clear_error()
        self.pack_desk.refresh()
        self.loaded.emit()

    @Slot(object)
    def _on_changes(self, batch: QueueBatch) -> None:
        self._poll_task = None
        self.apply(batch)

    @Slot(object)
    def _on_load_failed(self, error: TaskError) -> None:
        self._load = None
        self.say("")
        self._show_error(f"Could not load the queue. {error.sentence}")

    @Slot()
    def _on_load_cancelled(self) -> None:
        self._load = None

    @Slot(object)
    def _on_poll_failed(self, error: TaskError) -> None:
        # Whatever went wrong (a cursor the queue no longer knows, a busy store), the next
        # tick starts again from a snapshot; the rows and the selection stay meanwhile.
        self._poll_task = None
        self.cursor = None
        self._show_error(f"The queue stopped updating. {error.sentence} It tries again every few seconds.")

    @Slot()
    def _on_poll_cancelled(self) -> None:
        self._poll_task = None

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.queue is None:
            return
        self.poll_timer.start()
        self.tick_timer.start()
        if self.cursor is None:
            self.refresh()

    def hideEvent(self, event) -> None:
        self.poll_timer.stop()
        self.tick_timer.stop()
        super().hideEvent(event)

    def end_session(self) -> None:
        """The session is ending: no more polling, nothing of ours left running."""
        self.poll_timer.stop()
        self.tick_timer.stop()
        for task in (self._load, self._poll_task):
            if task is not None:
                task.cancel()
        self.pack_desk.end_session()

    # -- keeping the operator's place -------------------------------------------------------
    def _anchor(self) -> tuple[str, int] | None:
        """The incident the eye is on and its height on screen: the selected one if it is
        on screen, else the top row."""
        item = self.selected()
        if item is not None:
            y = self.view.rowViewportPosition(self.model.row_of(item.id))
            if 0 <= y < self.view.viewport().height():
                return item.id, y
        top = self.view.rowAt(0)
        return None if top < 0 else (self.model.item_at(top).id, self.view.rowViewportPosition(top))

    def _after_change(self, anchor: tuple[str, int] | None) -> None:
        if anchor is not None:
            row = self.model.row_of(anchor[0])
            if row >= 0:
                self.view.doItemsLayout()          # the scroll range must know the new row count
                bar = self.view.verticalScrollBar()
                bar.setValue(bar.value() + self.view.rowViewportPosition(row) - anchor[1])
        self.filters.refill(self.model)
        self._update_count()
        self._current_changed()

    def _update_count(self) -> None:
        self.count_label.setText(f"{self.model.rowCount():,} of {self.model.total:,} incidents")

    @Slot()
    def _filter_changed(self) -> None:
        anchor = self._anchor()
        self.model.set_filter(self.filters.current())
        self._after_change(anchor)

    # -- selection and moving ---------------------------------------------------------------
    def selected(self) -> QueueItem | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.item_at(rows[0].row()) if rows else None

    def select_row(self, row: int) -> None:
        if not 0 <= row < self.model.rowCount():
            return
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index)

    def select_incident(self, incident_id: str) -> bool:
        row = self.model.row_of(incident_id)
        self.select_row(row)
        return row >= 0

    def move(self, step: int) -> None:
        item = self.selected()
        row = 0 if item is None else self.model.row_of(item.id) + step
        self.select_row(max(0, min(row, self.model.rowCount() - 1)))

    def open_selected(self) -> None:
        item = self.selected()
        if item is not None:
            self.open_subject.emit(item)

    @Slot()
    def _current_changed(self, *_: Any) -> None:
        self._update_actions()
        item = self.selected()
        if item is not self._shown:        # another incident, or the same one changed
            self._shown = item
            self.incident_selected.emit(item)

    @Slot()
    def _update_actions(self) -> None:
        # While a dialog asks, the table's keys rest (Enter there answers the dialog).
        item, asking = self.selected(), self.triager.dialog is not None
        self.triager.update(item)
        for action in self.move_actions:
            action.setEnabled(not asking)
        self.open_action.setEnabled(item is not None and not asking)
        self.pack_desk.update(item)

    # -- words on the panel ------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.message.setText(text)

    @Slot(str)
    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(True)
        self.failed.emit(text)

    def clear_error(self) -> None:
        self.error_label.setVisible(False)
        self.error_label.setText("")
