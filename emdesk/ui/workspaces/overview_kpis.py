"""The five install KPIs on the supervisor's Overview, each drilling down to its visits.

Figures come from ``KpiService.figures()`` (key, label, value text, detail, visit ids);
a click asks ``visits_behind(key)`` on the store lane and lists them.  The strip is
hidden when the session has no KPI service.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ..formatting import fmt_when, humanize, plural
from ..style import set_prop
from ..table_model import Column
from ..table_view import make_table


def _attr(row: Any, *names: str, default: Any = "") -> Any:
    for name in names:
        if hasattr(row, name):
            return getattr(row, name)
    return default


class KpiTile(QFrame):
    """A figure that opens the visits behind it (click, or Enter/Space when focused)."""

    opened = Signal(str)

    def __init__(self, figure: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("tile")
        self.key = figure.key
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.value = QLabel("", objectName="tileValue")
        self.caption = QLabel("", objectName="tileCaption")
        self.caption.setWordWrap(True)
        self.note = QLabel("", objectName="tileNote")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 8)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        layout.addWidget(self.note)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.set_figure(figure)

    def set_figure(self, figure: Any) -> None:
        self.value.setText(str(_attr(figure, "value", "value_text")))
        self.caption.setText(figure.label)
        self.note.setText(str(_attr(figure, "detail")))
        n = len(_attr(figure, "visit_ids", default=()) or ())
        self.setToolTip(f"Show the {plural(n, 'visit')} behind this figure")
        self.setAccessibleName(f"{figure.label}: {self.value.text()}")
        alert = bool(_attr(figure, "alert", default=False))
        if self.property("alert") != alert:
            set_prop(self, "alert", alert)

    def mouseReleaseEvent(self, event):          # noqa: N802 (Qt's name)
        if event.button() == Qt.MouseButton.LeftButton:
            self.opened.emit(self.key)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event):               # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.opened.emit(self.key)
            return
        super().keyPressEvent(event)


VISIT_COLUMNS = [
    Column("Subject", lambda r: _attr(r, "subject_name", "subject"), width=170, bold=lambda r: True),
    Column("Order", lambda r: _attr(r, "order_reference", "reference"), width=130),
    Column("Visit", lambda r: _attr(r, "kind"), fmt=lambda v: humanize(str(v)) if v else "", width=80),
    Column("Attempt", lambda r: _attr(r, "attempt", default=None), width=70, align=Qt.AlignmentFlag.AlignCenter),
    Column("When", lambda r: _attr(r, "window_start", "at", default=None), fmt=fmt_when, width=130),
    Column("Status", lambda r: _attr(r, "status"), fmt=lambda v: humanize(str(v)) if v else "", width=90),
    Column("Outcome", lambda r: _attr(r, "outcome"), width=190),
    Column("Region", lambda r: _attr(r, "region"), width=160),
]


class KpiStrip(QWidget):
    opened = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tiles: dict[str, KpiTile] = {}
        self.heading = QLabel("Installs and recovery (click a figure for the visits behind it)",
                              objectName="countLabel")
        self._row = QHBoxLayout()
        self._row.setSpacing(10)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addLayout(self._row)

    def set_figures(self, figures: list[Any]) -> None:
        keys = [f.key for f in figures]
        if keys != list(self.tiles):
            for tile in self.tiles.values():
                tile.setParent(None)
                tile.deleteLater()
            self.tiles = {}
            for figure in figures:
                tile = KpiTile(figure, self)
                tile.opened.connect(self.opened)
                self._row.addWidget(tile)
                self.tiles[figure.key] = tile
        for figure in figures:
            self.tiles[figure.key].set_figure(figure)


class DrillDown(QWidget):
    """The visits behind one figure, with the way back to the orders."""

    back = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.key = ""
        self.title = QLabel("", objectName="countLabel")
        self.back_button = QPushButton("\u2190 Back to orders", objectName="drillBack")
        self.back_button.clicked.connect(self.back)
        self.table = make_table(VISIT_COLUMNS, self, name="kpiVisits", sort_column=None)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.back_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.table.view, 1)

    def show_rows(self, key: str, label: str, rows: list[Any]) -> None:
        self.key = key
        self.title.setText(f"{label}: {plural(len(rows), 'visit')} behind the figure")
        self.table.model.set_rows(list(rows))
