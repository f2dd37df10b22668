"""Checking in returned kit by serial: every serial shown with what happens, all or nothing."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from emdesk.services.bench_records import CheckIn, CheckInOutcome, parse_serials

from .. import palette
from ..table_view import make_table
from ..tasks import TaskError, TaskRunner
from .bench_columns import CHECKIN_COLUMNS


class CheckInPanel(QWidget):
    """``checked_in(CheckIn | None)`` after each attempt; ``applied()`` when records changed."""

    checked_in = Signal(object)
    applied = Signal()

    def __init__(self, ctx, tasks: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.tasks = ctx, tasks
        self.last_check_in: CheckIn | None = None
        c = QVBoxLayout(self)
        c.setContentsMargins(6, 6, 6, 6)
        form = QFormLayout()
        self.serials_edit = QPlainTextEdit(objectName="checkinSerials")
        self.serials_edit.setPlaceholderText("Scan or paste serials: one per line, or separated by commas")
        self.serials_edit.setFixedHeight(110)
        self.outcome_combo = QComboBox(objectName="checkinOutcome")
        for outcome in CheckInOutcome:
            self.outcome_combo.addItem(outcome.label, outcome.value)
        self.reason_edit = QLineEdit(objectName="checkinReason")
        self.reason_edit.setPlaceholderText("e.g. returned after order ended; strap sensor fault; RMA 1234")
        self.checkin_button = QPushButton("Check in", objectName="checkinButton")
        self.checkin_button.clicked.connect(self.check_in)
        # addRow(text, field) makes the label the field's buddy.
        form.addRow("&Serials:", self.serials_edit)
        form.addRow("&Outcome:", self.outcome_combo)
        form.addRow("&Reason:", self.reason_edit)
        self.serials_edit.setAccessibleName("Serials of the returned devices")
        self.outcome_combo.setAccessibleName("Outcome of the check-in")
        self.reason_edit.setAccessibleName("Reason")
        c.addLayout(form)
        row = QHBoxLayout()
        self.checkin_summary = QLabel("", objectName="checkinSummary")
        self.checkin_summary.setWordWrap(True)
        row.addWidget(self.checkin_summary, 1)
        row.addWidget(self.checkin_button)
        c.addLayout(row)
        self.checkin_table = make_table(CHECKIN_COLUMNS, self, name="checkinResults", sort_column=None)
        c.addWidget(self.checkin_table.view, 1)

    def check_in(self) -> None:
        serials = parse_serials(self.serials_edit.toPlainText())
        outcome = self.outcome_combo.currentData()
        reason = self.reason_edit.text()
        self.checkin_summary.setText("Checking in…")
        self.checkin_button.setEnabled(False)
        self.tasks.run(self.ctx.bench.check_in_returned, serials, outcome, reason, name="check in",
                       on_done=self._checked_in, on_error=self._refused)

    def _say(self, text: str, tone: str) -> None:
        self.checkin_summary.setText(f"<b style='color:{palette.css(tone)}'>{text[:1].upper()}{text[1:]}.</b>")

    def _checked_in(self, result: CheckIn) -> None:
        self.checkin_table.set_rows(list(result.lines))
        self._say(result.summary, "good" if result.applied else "bad")
        self.checkin_button.setEnabled(True)
        self.last_check_in = result
        if result.applied:
            self.serials_edit.clear()
            self.applied.emit()
        self.checked_in.emit(result)

    def _refused(self, error: TaskError) -> None:
        self.checkin_table.set_rows([])
        self._say(error.sentence.rstrip("."), "bad")
        self.checkin_button.setEnabled(True)
        self.last_check_in = None
        self.checked_in.emit(None)
