"""The incident queue as an operator works it: filters, the live table, keyboard triage.

Every service call runs on the session's STORE lane: the first snapshot, the 2-second
poll for changes (only while the panel is visible) and each triage action, which also
fetches the changes since the cursor so the row updates in place at once.  A 30-second
tick moves the deadline clocks and ages on.  Live changes keep the operator's place:
the selected incident stays selected, and the incident the eye is on (the selected one
if on screen, else the top row) stays where it was on screen.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QTableView, QToolButton, QVBoxLayout, QWidget)

from emdesk.domain.monitoring import Incident
from emdesk.services.queue_items import QueueBatch, QueueItem

from ..tasks import STORE, Task, TaskError, runner_for
from .columns import COLUMNS, KEYS
from .dialogs import ExcuseDialog, NoteDialog, ReasonDialog
from .keys import BY_NAME, TRIAGE, help_text
from .model import ACTIVE, QueueFilter, QueueModel

POLL_MS = 2_000
TICK_MS = 30_000
TYPING_MS = 150            # the text filter waits for a pause in typing

STATUS_CHOICES: tuple[tuple[str, frozenset[str]], ...] = (
    ("Needs action", ACTIVE.statuses),
    ("Open", frozenset({"open"})),
    ("Acknowledged", frozenset({"acknowledged"})),
    ("Escalated", frozenset({"escalated"})),
    ("Auto-closed (technical)", frozenset({"auto_closed"})),
    ("Closed", frozenset({"closed"})),
    ("All", frozenset()),
)


def updated_item(item: QueueItem, incident: Incident) -> QueueItem:
    """The row as the action left it, until the queue's own changes bring the stored one."""
    return replace(item, status=incident.status.value, priority=incident.priority, reasons=incident.reasons,
                   technical=incident.technical, seconds=incident.seconds, ended_at=incident.ended_at,
                   codes=incident.codes, updated=incident.hlc or item.updated)


class QueuePanel(QWidget):
    incident_selected = Signal(object)     # the QueueItem under the cursor, or None
    open_subject = Signal(object)          # Enter (or a double click) on a row: its QueueItem
    triaged = Signal(object)               # an action done: the Incident the service returned
    loaded = Signal()                      # a snapshot is on screen
    failed = Signal(str)                   # a load or an action failed: the sentence shown

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self.ctx = ctx
        self.queue = getattr(ctx, "queue", None)
        self.incidents = getattr(ctx, "incidents", None)
        self.model = QueueModel(self, now=ctx.clock.now())
        self.cursor: str | None = None
        self.dialog = None                 # the open triage dialog (tests fill it in)
        self._load: Task | None = None
        self._poll_task: Task | None = None
        self._acting: str = ""             # the action running (one at a time)
        self._acting_on: QueueItem | None = None
        self._shown: QueueItem | None = None
        self._vocabulary = -1              # the model's vocabulary size the filter lists show

        self._build_filters()
        self._build_table()
        self._build_actions()
        self.count_label = QLabel("", objectName="countLabel")
        self.message = QLabel("", objectName="statusText")
        self.error_label = QLabel("", objectName="errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        for label, widget in (("&Status:", self.status_box), ("C&ohort:", self.cohort_box),
                              ("Con&dition:", self.condition_box), ("Cod&e:", self.code_box)):
            text = QLabel(label)
            text.setBuddy(widget)
            bar.addWidget(text)
            bar.addWidget(widget)
        find = QLabel("&Find:")
        find.setBuddy(self.search)
        bar.addWidget(find)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count_label)
        tools = QHBoxLayout()
        tools.setSpacing(4)
        for action in self.triage_actions.values():
            button = QToolButton(objectName=f"button-{action.objectName()}")
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            tools.addWidget(button)
        self.help_label = QLabel("Keys: " + " · ".join(f"{t.key} {t.name}" for t in TRIAGE) + " · J/K move · Enter open",
                                 objectName="hintText")
        self.help_label.setToolTip(help_text())
        tools.addStretch(1)
        tools.addWidget(self.help_label)
        tools.addWidget(self.message)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        outer.addLayout(bar)
        outer.addWidget(self.error_label)
        outer.addWidget(self.view, 1)
        outer.addLayout(tools)

        self.poll_timer = QTimer(self, interval=POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        self.tick_timer = QTimer(self, interval=TICK_MS)
        self.tick_timer.timeout.connect(self.tick)
        self._typing = QTimer(self, singleShot=True, interval=TYPING_MS)
        self._typing.timeout.connect(self._filter_changed)
        if self.queue is None:
            self._show_error("Your account does not work incidents, so there is no queue to show.")
        self._update_actions()
        self._update_count()

    # -- building -----------------------------------------------------------------------
    def _build_filters(self) -> None:
        self.status_box = QComboBox(objectName="queueStatus")
        for label, statuses in STATUS_CHOICES:
            self.status_box.addItem(label, statuses)
        self.status_box.setAccessibleName("Status filter")
        self.cohort_box = self._choice("queueCohort", "All cohorts", "Cohort filter")
        self.condition_box = self._choice("queueCondition", "All conditions", "Condition filter")
        self.code_box = self._choice("queueCode", "All codes", "Code filter")
        self.search = QLineEdit(objectName="search", placeholderText="Reference, name or code…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Find an incident")
        self.search.setMinimumWidth(180)
        for box in (self.status_box, self.cohort_box, self.condition_box, self.code_box):
            box.currentIndexChanged.connect(self._filter_changed)
        self.search.textChanged.connect(lambda _t: self._typing.start())

    @staticmethod
    def _choice(name: str, everything: str, accessible: str) -> QComboBox:
        box = QComboBox(objectName=name)
        box.addItem(everything, "")
        box.setAccessibleName(accessible)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        return box

    def _build_table(self) -> None:
        view = self.view = QTableView(self, objectName="queueTable")
        view.setModel(self.model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        view.setShowGrid(False)
        view.setAlternatingRowColors(True)
        view.setAccessibleName("Incident queue")
        view.setToolTip("")            # cells have their own; the keys are on the help line
        rows = view.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)    # uniform heights: no per-row sizing
        rows.setDefaultSectionSize(28)
        header = view.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for i, column in enumerate(COLUMNS):
            view.setColumnWidth(i, column.width)
        header.setSortIndicator(KEYS.index("priority"), Qt.SortOrder.DescendingOrder)
        view.setSortingEnabled(True)
        view.selectionModel().currentRowChanged.connect(self._current_changed)
        view.doubleClicked.connect(lambda _i: self.open_selected())

    def _build_actions(self) -> None:
        self.triage_actions: dict[str, QAction] = {}
        for t in TRIAGE:
            action = self._key_action(f"triage-{t.name}", t.label, [t.key], lambda _=False, n=t.name: self.triage(n))
            action.setToolTip(f"{t.help[:1].upper()}{t.help[1:]} ({t.key})")
            self.triage_actions[t.name] = action
        self.move_actions = [self._key_action("queue-next", "Next incident", ["J"], lambda _=False: self.move(1)),
                             self._key_action("queue-previous", "Previous incident", ["K"],
                                              lambda _=False: self.move(-1))]
        self.open_action = self._key_action("queue-open", "Open the subject", ["Return", "Enter"],
                                            lambda _=False: self.open_selected())

    def _key_action(self, name: str, label: str, keys: list[str], slot: Callable) -> QAction:
        action = QAction(label, self.view, objectName=name)
        action.setShortcuts([QKeySequence(k) for k in keys])
        # Keys act only with the table focused: typing in the filter box stays typing.
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(slot)
        self.view.addAction(action)
        return action

    # -- loading and live changes ---------------------------------------------------------
    def refresh(self) -> None:
        """Load the whole queue (on the store lane); later loads merge, keeping the place."""
        if self.queue is None or self._load is not None:
            return
        self.message.setText("Loading the queue…")
        self._load = runner_for(self.ctx).run(self.queue.snapshot, lane=STORE, name="queue snapshot",
                                              on_done=self._on_snapshot, on_error=self._on_load_failed,
                                              on_cancelled=self._on_load_cancelled)

    def poll(self) -> None:
        """Ask for what changed since the cursor (the 2-second timer; tests call it)."""
        if self.queue is None or self.cursor is None or self._load is not None or self._poll_task is not None:
            return
        self._poll_task = runner_for(self.ctx).run(self.queue.changes, self.cursor, lane=STORE, name="queue changes",
                                                   on_done=self._on_changes, on_error=self._on_poll_failed,
                                                   on_cancelled=self._on_poll_cancelled)

    def tick(self) -> None:
        self.model.set_now(self.ctx.clock.now())

    @Slot(object)
    def _on_snapshot(self, batch: QueueBatch) -> None:
        self._load = None
        self.model.set_now(self.ctx.clock.now())
        first = self.model.total == 0
        anchor = self._anchor()
        self.model.merge_snapshot(batch.items)
        self.cursor = batch.cursor
        self._after_change(anchor)
        if first and self.model.rowCount():
            self.select_row(0)
        self.message.setText("")
        self._clear_error()
        self.loaded.emit()

    @Slot(object)
    def _on_changes(self, batch: QueueBatch) -> None:
        self._poll_task = None
        self.apply(batch)

    def apply(self, batch: QueueBatch) -> None:
        """Merge live changes, keeping the selection and what is on screen."""
        anchor = self._anchor()
        self.model.apply(batch)
        if batch.cursor:
            self.cursor = batch.cursor
        self._after_change(anchor)

    @Slot(object)
    def _on_load_failed(self, error: TaskError) -> None:
        self._load = None
        self.message.setText("")
        self._show_error(f"Could not load the queue. {error.sentence}")

    @Slot()
    def _on_load_cancelled(self) -> None:
        self._load = None

    @Slot(object)
    def _on_poll_failed(self, error: TaskError) -> None:
        self._poll_task = None
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

    # -- keeping the operator's place ---------------------------------------------------
    def _anchor(self) -> tuple[str, int] | None:
        """The incident the eye is on and its height on screen: the selected one if it is
        on screen, else the top row."""
        height = self.view.viewport().height()
        item = self.selected()
        if item is not None:
            row = self.model.row_of(item.id)
            y = self.view.rowViewportPosition(row)
            if 0 <= y < height:
                return item.id, y
        top = self.view.rowAt(0)
        if top < 0:
            return None
        return self.model.item_at(top).id, self.view.rowViewportPosition(top)

    def _after_change(self, anchor: tuple[str, int] | None) -> None:
        if anchor is not None:
            row = self.model.row_of(anchor[0])
            if row >= 0:
                self.view.doItemsLayout()          # the scroll range must know the new row count
                bar = self.view.verticalScrollBar()
                bar.setValue(bar.value() + self.view.rowViewportPosition(row) - anchor[1])
        self._refill_filters()
        self._update_count()
        self._update_actions()
        item = self.selected()
        if item is not self._shown:        # selected another, or the same one changed
            self._shown = item
            self.incident_selected.emit(item)

    def _refill_filters(self) -> None:
        if self.model.vocabulary_size == self._vocabulary:
            return                         # nothing new to offer (names and references grow it too)
        self._vocabulary = self.model.vocabulary_size
        for box, key in ((self.cohort_box, "cohort"), (self.condition_box, "condition"), (self.code_box, "codes")):
            values = self.model.values(key)
            have = [box.itemData(i) for i in range(1, box.count())]
            if values == have:
                continue
            chosen = box.currentData()
            box.blockSignals(True)
            while box.count() > 1:
                box.removeItem(1)
            for v in values:
                box.addItem(v.replace("_", " ").capitalize() if key != "codes" else v, v)
            at = box.findData(chosen)
            box.setCurrentIndex(max(at, 0))
            box.blockSignals(False)

    def _update_count(self) -> None:
        self.count_label.setText(f"{self.model.rowCount():,} of {self.model.total:,} incidents")

    # -- filters --------------------------------------------------------------------------
    def current_filter(self) -> QueueFilter:
        return QueueFilter(statuses=self.status_box.currentData() or frozenset(), cohort=self.cohort_box.currentData(),
                           condition=self.condition_box.currentData(), code=self.code_box.currentData(),
                           text=self.search.text())

    @Slot()
    def _filter_changed(self) -> None:
        anchor = self._anchor()
        self.model.set_filter(self.current_filter())
        self._after_change(anchor)
        if self.selected() is None and self.model.rowCount():
            self.view.scrollToTop()

    # -- selection and moving -------------------------------------------------------------
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
        if item is not self._shown:
            self._shown = item
            self.incident_selected.emit(item)

    def _update_actions(self) -> None:
        # While a dialog asks, the table's keys rest (Enter there answers the dialog).
        item, asking = self.selected(), self.dialog is not None
        for name, action in self.triage_actions.items():
            action.setEnabled(self.incidents is not None and not self._acting and not asking
                              and BY_NAME[name].applies(item))
        for action in self.move_actions:
            action.setEnabled(not asking)
        self.open_action.setEnabled(item is not None and not asking)

    # -- triage ---------------------------------------------------------------------------
    def triage(self, name: str) -> None:
        """Start an action on the selected incident: ask what it needs, then run it."""
        t = BY_NAME[name]
        item = self.selected()
        if self.incidents is None or self._acting or not t.applies(item):
            return
        svc = self.incidents
        if name == "acknowledge":
            self._run(name, item, svc.acknowledge, (item.id,))
            return
        # What each dialog's answer calls, read on the GUI thread when it is accepted.
        if name == "excuse":
            dialog = ExcuseDialog(item, self.ctx.clock.now(), self)
            ask = lambda: (svc.excuse, (item.id, *dialog.values()))  # noqa: E731
        elif name == "note":
            dialog = NoteDialog(item, self)
            ask = lambda: (svc.add_note, (item.id, dialog.text()))  # noqa: E731
        else:
            dialog = self._reason_dialog(name, item)
            ask = {"genuine": lambda: (svc.classify, (item.id, True, dialog.text())),
                   "technical": lambda: (svc.classify, (item.id, False, dialog.text())),
                   "reopen": lambda: (svc.reopen, (item.id, dialog.text())),
                   "escalate": lambda: (svc.escalate, (item.id, dialog.text()))}[name]
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._run(name, item, *ask()))
        dialog.finished.connect(lambda _r: self._dialog_closed(dialog))
        self._update_actions()
        dialog.open()
        dialog.activateWindow()

    def _reason_dialog(self, name: str, item: QueueItem) -> ReasonDialog:
        if name == "escalate":
            return ReasonDialog("Escalate to a breach pack", item, self, action_text="Escalate",
                                placeholder="why this is a breach to report",
                                warning="This records your decision, under your name, that the responsible "
                                        "body is told of a breach and a pack is made. It cannot be undone here.")
        if name == "reopen":
            return ReasonDialog("Reopen the incident", item, self, action_text="Reopen",
                                placeholder="why it needs a person after all")
        genuine = name == "genuine"
        return ReasonDialog("Classify as genuine" if genuine else "Classify as technical", item, self,
                            action_text="Genuine" if genuine else "Technical",
                            placeholder="what shows it was the wearer" if genuine
                            else "what shows it was the equipment (power cut, fault…)")

    def _dialog_closed(self, dialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
        self._update_actions()
        self.view.setFocus()

    def _run(self, name: str, item: QueueItem, fn: Callable[..., Incident], args: tuple) -> None:
        queue, cursor = self.queue, self.cursor

        def work() -> tuple[Incident, QueueBatch | None]:
            incident = fn(*args)
            # The changes since the cursor bring the row as stored (and anything else new).
            return incident, (queue.changes(cursor) if queue is not None and cursor is not None else None)

        self._acting, self._acting_on = name, item
        self._update_actions()
        self._clear_error()
        self.message.setText(f"{BY_NAME[name].label.replace('&', '').rstrip('…')}: {item.reference}…")
        # Bound methods: Qt drops them if this panel is gone before the work returns.
        runner_for(self.ctx).run(work, lane=STORE, name=f"triage {name}", on_done=self._on_triaged,
                                 on_error=self._on_triage_failed, on_cancelled=self._on_triage_cancelled)

    @Slot(object)
    def _on_triaged(self, result: tuple[Incident, QueueBatch | None]) -> None:
        incident, batch = result
        t, item = BY_NAME[self._acting], self._acting_on
        self._acting = ""
        row = self.model.row_of(item.id)
        held = self.model.item(incident.id)
        items = [updated_item(held, incident)] if held is not None else []
        if batch is not None:
            items += batch.items            # later in the list wins: the stored row
        anchor = self._anchor()
        self.model.apply(QueueBatch(items=items, removed=batch.removed if batch is not None else ()))
        if batch is not None and batch.cursor:
            self.cursor = batch.cursor
        if self.selected() is None and row >= 0:
            self.select_row(min(row, self.model.rowCount() - 1))     # it left the view: on to the next
        self._after_change(anchor)
        self.message.setText(f"{t.done} {item.reference}.")
        self.triaged.emit(incident)

    @Slot(object)
    def _on_triage_failed(self, error: TaskError) -> None:
        t, item = BY_NAME[self._acting], self._acting_on
        self._acting = ""
        self.message.setText("")
        self._update_actions()
        self._show_error(f"Could not {t.verb} {item.reference}. {error.sentence}")

    @Slot()
    def _on_triage_cancelled(self) -> None:
        self._acting = ""
        self.message.setText("")
        self._update_actions()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(True)
        self.failed.emit(text)

    def _clear_error(self) -> None:
        self.error_label.setVisible(False)
        self.error_label.setText("")

    @property
    def last_error(self) -> str:
        return self.error_label.text()
