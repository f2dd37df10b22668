"""The management figures as a grid of compact tiles, each opening the cases behind it.

A tile shows the value, the figure's name and a line with its counts and tolerance; a
figure over its tolerance (``Measure.beyond``) turns the tile red.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from emdesk.domain.mi import OUTCOME_PREFIX

from ..style import set_prop
from ..tiles import FigureTile

COLUMNS = 5
OUTCOMES = "outcomes"          # the one tile holding every outcome:<code> figure


def _count(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def headline(m: Any) -> tuple[str, str]:
    """(the big value, the line under it) for a ``emdesk.domain.mi.Measure``."""
    limit = ""
    if m.tolerance is not None:
        limit = f"tolerance {m.tolerance:.0%}" if m.unit == "share" else f"tolerance {m.tolerance:,g}"
    if m.value is None:
        big, small = "\u2014", "nothing to measure in this period"
    elif m.unit == "share":
        big, small = f"{m.value:.0%}", f"{_count(m.numerator)} of {_count(m.denominator)}"
    elif m.unit in ("hours", "days"):
        big, small = f"{m.value:.1f} {'h' if m.unit == 'hours' else 'days'}", f"average over {_count(m.denominator)}"
    elif m.unit == "ratio":
        big, small = f"{m.value:.1f}", f"{_count(m.numerator)} alerts, {_count(m.denominator)} packs"
    else:
        big, small = f"{m.value:,g}", (f"of {_count(m.denominator)} active" if m.key == "unmonitored" else "")
    return big, " · ".join(t for t in (small, limit) if t)


class MiTile(FigureTile):
    """One figure; click (or Enter/Space) opens its cases and chart."""

    def __init__(self, key: str, parent: QWidget | None = None):
        super().__init__(key, parent, value_name="miValue", margins=(10, 4, 10, 6), min_width=140)

    def set_measure(self, m: Any) -> None:
        big, small = headline(m)
        self.value.setText(big)
        self.caption.setText(m.label)
        self.note.setText(small)
        about = f"{m.label} ({m.note})" if m.note else m.label
        self.setToolTip(f"{about}. Click for the cases behind it and its chart over time.")
        self.setAccessibleName(f"{m.label}: {big}, {small}")
        set_prop(self, "alert", bool(m.beyond))
        set_prop(self.value, "alert", bool(m.beyond))

    def set_chosen(self, chosen: bool) -> None:
        set_prop(self, "chosen", chosen)


class OutcomesTile(QFrame):
    """Outcomes by type: a line a code (its share of the decided outcomes), each opening its breaches."""

    opened = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("tile")
        self.key = OUTCOMES
        self.caption = QLabel("Outcomes", objectName="tileCaption")
        self.caption.setWordWrap(True)
        self.lines: dict[str, QPushButton] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(10, 4, 10, 6)
        self._layout.setSpacing(0)
        self._layout.addWidget(self.caption)
        self._layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(140)

    def set_measures(self, measures: list[Any]) -> None:
        for line in self.lines.values():
            line.setParent(None)
            line.deleteLater()
        self.lines = {}
        decided = max((m.denominator for m in measures), default=0)
        self.caption.setText(f"Outcomes ({decided:,g} decided)" if decided else "Outcomes: none decided yet")
        for i, m in enumerate(measures):
            line = QPushButton(f"{m.value:.0%} {m.label.removeprefix('Outcome: ')}", self, objectName="outcomeLine")
            line.setFlat(True)
            line.setCursor(Qt.CursorShape.PointingHandCursor)
            line.setToolTip(f"{m.label}: {m.numerator:g} of {m.denominator:g} decided. Show these breaches")
            line.setAccessibleName(f"{m.label}: {m.value:.0%}")
            line.clicked.connect(lambda _=False, key=m.key: self.opened.emit(key))
            self._layout.insertWidget(1 + i, line)
            self.lines[m.key] = line

    def set_chosen(self, chosen: bool) -> None:
        set_prop(self, "chosen", chosen)


class TileGrid(QWidget):
    """Every figure in display order, ``COLUMNS`` to a row; the outcomes share one tile."""

    opened = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tiles: dict[str, MiTile] = {}
        self.outcomes = OutcomesTile(self)
        self.outcomes.opened.connect(self.opened)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        for column in range(COLUMNS):
            self.grid.setColumnStretch(column, 1)

    def set_measures(self, measures: list[Any]) -> None:
        outcomes = [m for m in measures if m.key.startswith(OUTCOME_PREFIX)]
        main = [m for m in measures if not m.key.startswith(OUTCOME_PREFIX)]
        keys = [m.key for m in main]
        if keys != list(self.tiles):
            for tile in self.tiles.values():
                tile.setParent(None)
                tile.deleteLater()
            self.grid.removeWidget(self.outcomes)
            self.tiles = {}
            place = 0
            for m in main:
                tile = MiTile(m.key, self)
                tile.opened.connect(self.opened)
                self.grid.addWidget(tile, place // COLUMNS, place % COLUMNS)
                self.tiles[m.key] = tile
                place += 1
                if m.key == "response_time":     # the outcomes follow the response they are
                    self.grid.addWidget(self.outcomes, place // COLUMNS, place % COLUMNS)
                    place += 1
        for m in main:
            self.tiles[m.key].set_measure(m)
        self.outcomes.set_measures(outcomes)

    def choose(self, key: str) -> None:
        for k, tile in self.tiles.items():
            tile.set_chosen(k == key)
        self.outcomes.set_chosen(key.startswith(OUTCOME_PREFIX))
