"""What every workspace shares: a header, a busy bar, loading on the service thread.

A workspace says what to ask the services (``request``, built on the GUI thread so
the worker never reads widgets) and how to show the answer (``show_data``).
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QProgressBar, QVBoxLayout, QWidget

from ..worker import Worker, start


class Workspace(QWidget):
    key: ClassVar[str] = ""
    title: ClassVar[str] = ""

    loaded = Signal()            # data is on screen (after every successful load)
    load_failed = Signal(str)    # the message is also shown in the workspace

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"workspace-{self.key}")
        self.ctx = ctx
        self._generation = 0
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
        search.setClearButtonEnabled(True)
        search.setFixedWidth(220)
        search.textChanged.connect(table.proxy.setFilterFixedString)
        self.tools.addWidget(search)
        return search

    # -- loading ---------------------------------------------------------------
    @property
    def is_loading(self) -> bool:
        return self._loading

    def refresh(self) -> None:
        self._generation += 1
        generation = self._generation
        self._loading = True
        self.busy.setVisible(True)
        worker = Worker(self.request())
        worker.signals.setProperty("generation", generation)
        # Bound methods of this widget: Qt drops them if the widget is gone first.
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        start(worker)

    @Slot(object)
    def _on_finished(self, data: Any) -> None:
        if self._stale():
            return
        self._done()
        self.error_label.setVisible(False)
        self.last_error = ""
        self.show_data(data)
        self.loaded.emit()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._stale():
            return
        self._done()
        self.last_error = message
        self.error_label.setText(f"Could not load {self.title.lower()}: {message}")
        self.error_label.setVisible(True)
        self.load_failed.emit(message)

    def _stale(self) -> bool:
        # An older load answering after a newer refresh started: ignore it.
        sender = self.sender()
        generation = sender.property("generation") if sender is not None else None
        return generation is not None and generation != self._generation

    def _done(self) -> None:
        self._loading = False
        self.busy.setVisible(False)
