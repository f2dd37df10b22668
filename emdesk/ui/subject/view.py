"""One wearer's file in a right-hand pane: who and which order, the conditions and the kit's
health on top, the timeline, previous breaches and notes in tabs below.

Loaded on the session's store lane; a newer ``show_order`` makes an older answer stale.
Enter or a double-click on a timeline row (or a breach) that has an incident emits
``incident_activated`` with its id, so the workspace can select it in the queue.
"""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from emdesk.services.subject_file import SubjectFile, TimelineRow

from ..formatting import fmt_when
from ..table_model import ROW_ROLE
from ..table_view import Table, make_table
from ..tasks import Task, TaskError, runner_for
from .columns import BREACHES, NOTES, TIMELINE, about
from .summary import conditions_html, devices_html, header_line, order_html

EMPTY_TEXT = "No wearer selected.\nPick an incident in the queue or a wearer on the map to see their file here."


def _rich_label(name: str) -> QLabel:
    label = QLabel("", objectName=name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    return label


class SubjectView(QWidget):
    incident_activated = Signal(str)     # an incident id
    loaded = Signal()                    # a file is on screen
    load_failed = Signal(str)

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("subjectView")
        self.ctx = ctx
        self.order_id: str | None = None
        self.file: SubjectFile | None = None
        self._task: Task | None = None

        self.title = QLabel("", objectName="detailsTitle")
        self.title.setWordWrap(True)
        self.meta = QLabel("", objectName="workspaceSubtitle")
        self.meta.setWordWrap(True)
        self.busy = QProgressBar(objectName="busy")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedHeight(4)
        self.busy.setVisible(False)
        self.error = QLabel("", objectName="errorText")
        self.error.setWordWrap(True)
        self.error.setVisible(False)

        self.empty = QLabel(EMPTY_TEXT, objectName="mapMessage")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self._build_file())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.meta)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        layout.addWidget(self.stack, 1)
        self.clear()

    def _build_file(self) -> QWidget:
        self.order_label = _rich_label("subjectOrder")
        self.conditions_label = _rich_label("subjectConditions")
        self.devices_label = _rich_label("subjectDevices")
        summary = QWidget(objectName="visitContent")
        inner = QVBoxLayout(summary)
        inner.setContentsMargins(8, 6, 8, 6)
        for label in (self.order_label, self.conditions_label, self.devices_label):
            inner.addWidget(label)
        inner.addStretch(1)
        scroll = QScrollArea(objectName="subjectSummary")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(summary)

        self.timeline = self._table(TIMELINE, "subjectTimeline", "Timeline of events, alerts and incidents")
        self.breaches = self._table(BREACHES, "subjectBreaches", "Previous breaches")
        self.notes = self._table(NOTES, "subjectNotes", "Notes")
        self.timeline.view.selectionModel().currentRowChanged.connect(self._show_detail)
        self.detail = QLabel("", objectName="subjectRowDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.more = QLabel("", objectName="inlineCaption")
        self.more.setWordWrap(True)
        timeline_page = QWidget()
        page = QVBoxLayout(timeline_page)
        page.setContentsMargins(0, 4, 0, 0)
        page.addWidget(self.timeline.view, 1)
        page.addWidget(self.detail)
        page.addWidget(self.more)
        self.tabs = QTabWidget(objectName="subjectTabs")
        self.tabs.addTab(timeline_page, "&Timeline")
        self.tabs.addTab(self.breaches.view, "Previous &breaches")
        self.tabs.addTab(self.notes.view, "&Notes")

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(scroll)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        # The kit's health stays in sight while the timeline is read; scaled to the pane.
        splitter.setSizes([300, 420])
        return splitter

    def _table(self, columns, name: str, accessible: str) -> Table:
        table = make_table(columns, self, name=name, sort_column=None)
        table.view.setAccessibleName(accessible)
        table.view.activated.connect(self._activated)
        return table

    # -- loading ---------------------------------------------------------------

    def show_order(self, order_id: str | None) -> None:
        """Load and show this order's file; None: back to the empty state."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if order_id is None:
            self.clear()
            return
        self.order_id = order_id
        service = getattr(self.ctx, "subject_files", None)
        if service is None:
            self._fail(f"{self.ctx.user.role.label} accounts do not read monitoring files.")
            return
        self.busy.setVisible(True)
        self._task = runner_for(self.ctx).run(service.file, order_id, name="load subject file",
                                              on_done=self._on_done, on_error=self._on_error)

    def refresh(self) -> None:
        if self.order_id is not None:
            self.show_order(self.order_id)

    def clear(self) -> None:
        self.order_id, self.file = None, None
        self.title.setText("Subject")
        self.meta.setText("")
        self.error.setVisible(False)
        self.busy.setVisible(False)
        for table in (self.timeline, self.breaches, self.notes):
            table.set_rows([])
        self.detail.setText("")
        self.detail.setVisible(False)
        self.stack.setCurrentWidget(self.empty)

    def end_session(self) -> None:
        if self._task is not None:
            self._task.cancel()

    @Slot(object)
    def _on_done(self, f: SubjectFile) -> None:
        if self.sender() is not self._task:
            return
        self._task = None
        self.busy.setVisible(False)
        self.error.setVisible(False)
        self.show_file(f)
        self.loaded.emit()

    @Slot(object)
    def _on_error(self, error: TaskError) -> None:
        if self.sender() is not self._task:
            return
        self._task = None
        self._fail(f"Could not load the file. {error.sentence}")

    def _fail(self, text: str) -> None:
        self.busy.setVisible(False)
        self.error.setText(text)
        self.error.setVisible(True)
        self.load_failed.emit(text)

    # -- showing ---------------------------------------------------------------

    def show_file(self, f: SubjectFile) -> None:
        keep = self.file is not None and self.file.order.order_id == f.order.order_id
        self.file, self.order_id = f, f.order.order_id
        self.title.setText(f.person.name if f.person.shown else f"Wearer on {f.order.reference}")
        self.meta.setText(header_line(f))
        self.order_label.setText(order_html(f))
        self.conditions_label.setText(conditions_html(f))
        self.devices_label.setText(devices_html(f))
        self.timeline.set_rows(f.timeline)
        self.breaches.set_rows(f.breaches)
        self.notes.set_rows(f.notes)
        self.more.setText(
            (f"Showing the newest {len(f.timeline)} rows since {fmt_when(f.timeline_from)}; older ones left out."
             if f.timeline_more else f"Since {fmt_when(f.timeline_from)}.")
            if f.timeline else f"Nothing since {fmt_when(f.timeline_from)}.")
        self.tabs.setTabText(1, f"Previous &breaches ({len(f.breaches)})")
        self.tabs.setTabText(2, f"&Notes ({len(f.notes)})")
        if not keep:
            self.tabs.setCurrentIndex(0)
            self.timeline.view.scrollToTop()
        self.stack.setCurrentIndex(1)

    @Slot(QModelIndex, QModelIndex)
    def _show_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.data(ROW_ROLE) if current.isValid() else None
        detail = (about(row) if isinstance(row, TimelineRow) else "") if row is not None else ""
        hint = " (Enter: open the incident)" if getattr(row, "incident_id", None) else ""
        self.detail.setText(f"{detail}{hint}".strip())
        self.detail.setVisible(bool(self.detail.text()))

    @Slot(QModelIndex)
    def _activated(self, index: QModelIndex) -> None:
        row = index.data(ROW_ROLE)
        incident = getattr(row, "incident_id", None)
        if incident:
            self.incident_activated.emit(incident)


__all__ = ["SubjectView"]
