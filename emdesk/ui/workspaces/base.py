"""What every workspace shares: a header, a busy bar, loading on the session's store lane.

A workspace says what to ask the services (``request``, built on the GUI thread so
the task never reads widgets) and how to show the answer (``show_data``).  Tables
apply a reload row by row (``RowTableModel.set_rows``), so a refresh after a sync
keeps the selection, the scroll position and the actions that depend on them.
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QProgressBar, QVBoxLayout, QWidget

from ..tasks import Task, TaskError, runner_for


class Workspace(QWidget):
    key: ClassVar[str] = ""
    title: ClassVar[str] = ""

    loaded = Signal()            # data is on screen (after every successful load)
    load_failed = Signal(str)    # the message is also shown in the workspace

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"workspace-{self.key}")
        self.ctx = ctx
        self._task: Task | None = None
        self._loading = False
        self.last_error = ""

        self.title_label = QLabel(self.title, objectName="workspaceTitle")
        self.subtitle_label = QLabel("", objectName="workspaceSubtitle")
        self.count_label = QLabel("", objectName="countLabel")
        self.tools = QHBoxLayout()     # filters and search sit here, right of the title
        self.tools.setSpacing(8)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title_label)
        titles.addWidget(self.subtitle_label)
        header.addLayout(titles)
        header.addStretch(1)
        header.addLayout(self.tools)
        header.addWidget(self.count_label)

        self.busy = QProgressBar(objectName="busy")
        self.busy.setRange(0, 0)       # indeterminate: service calls do not report steps
        self.busy.setTextVisible(False)
        self.busy.setFixedHeight(4)
        self.busy.setVisible(False)
        self.error_label = QLabel("", objectName="errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)

        self.body = QVBoxLayout()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 10, 14, 12)
        outer.setSpacing(8)
        outer.addLayout(header)
        outer.addWidget(self.busy)
        outer.addWidget(self.error_label)
        outer.addLayout(self.body, 1)

    # -- for subclasses --------------------------------------------------------
    def request(self) -> Callable[[], Any]:
        """The service call to make, bound to the current filter values."""
        raise NotImplementedError

    def show_data(self, data: Any) -> None:
        raise NotImplementedError

    def row_count(self) -> int:
        """Rows loaded into the main table (tests and the status of a screen)."""
        table = getattr(self, "table", None)
        return table.model.rowCount() if table is not None else 0

    def add_search(self, table, placeholder: str = "Filter…") -> QLineEdit:
        search = QLineEdit(placeholderText=placeholder, objectName="search")
        search.setAccessibleName(f"Filter {self.title.lower()}")
        search.setAccessibleDescription(placeholder.rstrip("…"))
        search.setClearButtonEnabled(True)
        search.setFixedWidth(220)
        search.textChanged.connect(table.proxy.setFilterFixedString)
        label = QLabel("Fi&lter:")
        label.setBuddy(search)
        self.tools.addWidget(label)
        self.tools.addWidget(search)
        return search

    # -- loading ---------------------------------------------------------------
    @property
    def is_loading(self) -> bool:
        return self._loading

    def refresh(self) -> None:
        if self._task is not None:
            self._task.cancel()            # an older load answering late would be stale
        self._loading = True
        self.busy.setVisible(True)
        # Bound methods of this widget: Qt drops them if the widget is gone first.
        self._task = runner_for(self.ctx).run(self.request(), name=f"load {self.key}",
                                              on_done=self._on_finished, on_error=self._on_failed,
                                              on_cancelled=self._on_cancelled)

    @Slot(object)
    def _on_finished(self, data: Any) -> None:
        if self._stale():
            return
        self._done()
        self.error_label.setVisible(False)
        self.last_error = ""
        self.show_data(data)
        self.loaded.emit()

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        if self._stale():
            return
        self._done()
        self.last_error = error.sentence
        self.error_label.setText(f"Could not load {self.title.lower()}. {error.sentence}")
        self.error_label.setVisible(True)
        self.load_failed.emit(self.last_error)

    @Slot()
    def _on_cancelled(self) -> None:
        if not self._stale():
            self._done()
            self.load_failed.emit("")

    def end_session(self) -> None:
        """The session is ending: stop what this screen started (the shell waits for it)."""
        if self._task is not None:
            self._task.cancel()

    def _stale(self) -> bool:
        return self.sender() is not self._task

    def _done(self) -> None:
        self._task = None
        self._loading = False
        self.busy.setVisible(False)
