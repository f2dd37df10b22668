"""The queue's filter bar: status, cohort, condition, code and free text."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QLineEdit, QWidget

from ..formatting import humanize
from .model import ACTIVE, QueueFilter, QueueModel

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


class FilterBar(QWidget):
    changed = Signal()          # the operator narrowed or widened the queue

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.status_box = QComboBox(objectName="queueStatus")
        for label, statuses in STATUS_CHOICES:
            self.status_box.addItem(label, statuses)
        self.status_box.setAccessibleName("Status filter")
        self.cohort_box = _choice("queueCohort", "All cohorts", "Cohort filter")
        self.condition_box = _choice("queueCondition", "All conditions", "Condition filter")
        self.code_box = _choice("queueCode", "All codes", "Code filter")
        self.search = QLineEdit(objectName="search", placeholderText="Reference, name or code…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Find an incident")
        self.search.setMinimumWidth(120)
        self._typing = QTimer(self, singleShot=True, interval=TYPING_MS)
        self._typing.timeout.connect(self.changed)
        self._vocabulary = -1          # the model's vocabulary size the lists were filled from

        # Two rows: the bar fits beside the map on a 1366-pixel laptop.
        bar = QGridLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setHorizontalSpacing(6)
        bar.setVerticalSpacing(4)
        places = (("&Status:", self.status_box, 0, 0, 1), ("C&ohort:", self.cohort_box, 0, 2, 1),
                  ("Con&dition:", self.condition_box, 0, 4, 1), ("Cod&e:", self.code_box, 1, 0, 1),
                  ("&Find:", self.search, 1, 2, 2))
        for label, widget, row, column, span in places:
            text = QLabel(label)
            text.setBuddy(widget)
            bar.addWidget(text, row, column)
            bar.addWidget(widget, row, column + 1, 1, span)
        bar.setColumnStretch(6, 1)      # the room left over goes to the right, not into one list
        self._grid = bar

    def add_count(self, label: QWidget) -> None:
        """The queue's count sits at the end of the second row, where there is room."""
        self._grid.addWidget(label, 1, 5, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for box in (self.status_box, self.cohort_box, self.condition_box, self.code_box):
            # Narrow enough for a 1366-pixel laptop beside the map; the list opens as wide as it needs.
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(8)
            box.view().setMinimumWidth(220)
            box.currentIndexChanged.connect(self.changed)
        self.search.textChanged.connect(lambda _t: self._typing.start())

    def current(self) -> QueueFilter:
        return QueueFilter(statuses=self.status_box.currentData() or frozenset(), cohort=self.cohort_box.currentData(),
                           condition=self.condition_box.currentData(), code=self.code_box.currentData(),
                           text=self.search.text())

    def refill(self, model: QueueModel) -> None:
        """Offer the values the queue holds (only when a value not seen before arrived)."""
        if model.vocabulary_size == self._vocabulary:
            return
        self._vocabulary = model.vocabulary_size
        for box, key in ((self.cohort_box, "cohort"), (self.condition_box, "condition"), (self.code_box, "codes")):
            values = model.values(key)
            if values == [box.itemData(i) for i in range(1, box.count())]:
                continue
            chosen = box.currentData()
            box.blockSignals(True)
            while box.count() > 1:
                box.removeItem(1)
            for v in values:
                box.addItem(v if key == "codes" else humanize(v), v)
            box.setCurrentIndex(max(box.findData(chosen), 0))
            box.blockSignals(False)


def _choice(name: str, everything: str, accessible: str) -> QComboBox:
    box = QComboBox(objectName=name)
    box.addItem(everything, "")
    box.setAccessibleName(accessible)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return box
