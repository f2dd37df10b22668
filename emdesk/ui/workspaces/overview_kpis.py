"""The five install KPIs on the supervisor's Overview, each drilling down to its visits.

Figures come from ``KpiService.figures()`` (``emdesk.domain.install_kpis.Figure``); a
click asks ``visits_behind(key)`` on the store lane and lists the rows
(``emdesk.services.kpis.BehindRow``).  The strip is hidden when the session has no KPI
service (roles that may not see management figures).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from emdesk.domain.install_kpis import FAILURE_PREFIX, RECOVERY

from ..formatting import fmt_when, humanize, plural
from ..style import set_prop
from ..tiles import FigureTile
from ..table_model import Column
from ..table_view import make_table


def headline(figure: Any) -> tuple[str, str]:
    """The big number and the line under it, from a ``emdesk.domain.install_kpis.Figure``."""
    if figure.value is None:
        return "\u2014", "no data yet"
    if figure.unit == "share":
        return f"{figure.value:.0%}", f"{figure.numerator:g} of {figure.denominator:,}"
    if figure.unit == "hours":
        return f"{figure.value:.1f} h", f"average over {plural(figure.denominator, 'install')}"
    return f"{figure.value:,g}", (f"tolerance {figure.target:,g}" if figure.target is not None else "")


def _alert(figure: Any) -> bool:
    if figure.value is None or figure.target is None:
        return False
    # A count against a tolerance is bad above it; a share against a target, below it.
    return figure.value > figure.target if figure.unit == "visits" else figure.value < figure.target


class KpiTile(FigureTile):
    """A figure that opens the visits behind it (click, or Enter/Space when focused)."""

    def __init__(self, figure: Any, parent: QWidget | None = None):
        super().__init__(figure.key, parent)
        self.set_figure(figure)

    def set_figure(self, figure: Any) -> None:
        big, small = headline(figure)
        self.value.setText(big)
        self.caption.setText(figure.label)
        self.note.setText(" \u00b7 ".join(t for t in (small, figure.note) if t))
        n = len(figure.visit_ids) + len(figure.device_ids)
        self.setToolTip(f"Show the {plural(n, 'visit' if figure.visit_ids else 'device')} behind this figure")
        self.setAccessibleName(f"{figure.label}: {big} {small}")
        alert = _alert(figure)
        if self.property("alert") != alert:
            set_prop(self, "alert", alert)


class ReasonsTile(QFrame):
    """Failure reasons by share: one line per reason, each opening its failed visits."""

    opened = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("tile")
        self.caption = QLabel("Why attempts failed", objectName="tileCaption")
        self.lines: dict[str, QPushButton] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(12, 6, 12, 8)
        self._layout.setSpacing(0)
        self._layout.addWidget(self.caption)
        self._layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(180)

    def set_figures(self, figures: list[Any]) -> None:
        keys = [f.key for f in figures]
        if keys != list(self.lines):
            for line in self.lines.values():
                line.setParent(None)
                line.deleteLater()
            self.lines = {}
            for i, figure in enumerate(figures):
                line = QPushButton(self, objectName="reasonLine")
                line.setFlat(True)
                line.setCursor(Qt.CursorShape.PointingHandCursor)
                line.clicked.connect(lambda _=False, key=figure.key: self.opened.emit(key))
                self._layout.insertWidget(1 + i, line)
                self.lines[figure.key] = line
        total = max((f.denominator for f in figures), default=0)
        self.caption.setText(f"Why attempts failed ({total:,})" if total else "Why attempts failed: none yet")
        for figure in figures:
            big, small = headline(figure)
            line = self.lines[figure.key]
            line.setText(f"{big}  {figure.label}")
            line.setToolTip(f"{figure.label}: {small}. Show these failed visits")
            line.setAccessibleName(f"Failure reason {figure.label}: {big}, {small}")


def _when(row: Any):
    return row.when


VISIT_COLUMNS = [
    Column("Subject", lambda r: r.subject_name, width=170, bold=lambda r: True),
    Column("Order", lambda r: r.order_reference, width=130),
    Column("Visit or device", lambda r: f"{r.device_serial} ({humanize(r.kind)})" if r.device_serial
           else humanize(r.kind), width=150),
    Column("Attempt", lambda r: r.attempt, width=70, align=Qt.AlignmentFlag.AlignCenter),
    Column("When", _when, fmt=fmt_when, width=130),
    Column("Status", lambda r: r.status, fmt=lambda v: humanize(str(v)) if v else "", width=90),
    Column("Outcome", lambda r: r.outcome, width=170),
    Column("Officer", lambda r: r.officer, width=140),
    Column("Why listed", lambda r: r.part, fmt=lambda v: humanize(str(v)) if v else "", width=150),
]


class KpiStrip(QWidget):
    """The install KPIs in one row: four tiles, the failure reasons, device recovery."""

    opened = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tiles: dict[str, KpiTile] = {}
        self.reasons = ReasonsTile(self)
        self.reasons.opened.connect(self.opened)
        self.heading = QLabel("Installs and recovery (click a figure for the visits behind it)",
                              objectName="countLabel")
        self._row = QHBoxLayout()
        self._row.setSpacing(10)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addLayout(self._row)

    def set_figures(self, figures: list[Any]) -> None:
        main = [f for f in figures if not f.key.startswith(FAILURE_PREFIX)]
        reasons = [f for f in figures if f.key.startswith(FAILURE_PREFIX)]
        keys = [f.key for f in main]
        if keys != list(self.tiles):
            for tile in self.tiles.values():
                tile.setParent(None)
                tile.deleteLater()
            self._row.removeWidget(self.reasons)
            self.tiles = {}
            for figure in main:
                tile = KpiTile(figure, self)
                tile.opened.connect(self.opened)
                self.tiles[figure.key] = tile
            # The reasons sit after the install figures, before recovery.
            order = [*(t for k, t in self.tiles.items() if k != RECOVERY), self.reasons,
                     *(t for k, t in self.tiles.items() if k == RECOVERY)]
            for widget in order:
                self._row.addWidget(widget, 2 if widget is self.reasons else 1)
        for figure in main:
            self.tiles[figure.key].set_figure(figure)
        self.reasons.set_figures(reasons)


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
