"""Record a removal: every device on the order recovered, or not recovered with a reason.

Only about 60% of devices come back when an order ends; the reason for each one left
behind is what lets the service chase it.  The form starts from what the checklist
already says (a device whose condition was answered "not recovered" starts as not
recovered, with the checklist's "not possible" reason when it gave one).  The dialog records nothing itself: ``submitted`` hands the answer to the
caller, which saves it on the store lane and either closes the dialog or shows why not (``show_problem``), keeping what was entered.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QGridLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from emdesk.services.removals import NOT_RECOVERED_REASONS

from .form_widgets import notes_field, save_cancel
from .style import set_prop

NOT_RECOVERED = "not recovered"      # the removal checklist's device-condition answer for kit left behind


def _kind_text(kind) -> str:
    label = getattr(kind, "label", str(kind))
    return label if label[:2].isupper() else label.lower()


class _DeviceRow:
    def __init__(self, dialog: "RemovalDialog", grid: QGridLayout, row: int, serial: str, kind, condition: str,
                 reason: str = ""):
        self.serial = serial
        name = QLabel(f"<b>{serial}</b><br><span>{_kind_text(kind)}</span>")
        name.setTextFormat(Qt.TextFormat.RichText)
        self.recovered = QRadioButton("Recovered", objectName=f"recovered-{serial}")
        self.lost = QRadioButton("Not recovered", objectName=f"lost-{serial}")
        for b in (self.recovered, self.lost):
            b.setAccessibleDescription(serial)
        self.group = QButtonGroup(dialog)
        self.group.addButton(self.recovered)
        self.group.addButton(self.lost)
        self.reason = QComboBox(objectName=f"reason-{serial}")
        self.reason.setEditable(True)          # the usual reasons, or the officer's own words
        self.reason.addItem("")
        self.reason.addItems(NOT_RECOVERED_REASONS)
        self.reason.lineEdit().setPlaceholderText("Why not? Choose or type")
        self.reason.setAccessibleName(f"Why {serial} was not recovered")
        self.reason.setMinimumWidth(230)
        self.condition = QLabel(f"Checklist: {condition}" if condition else "", objectName="inlineCaption")
        grid.addWidget(name, row, 0)
        grid.addWidget(self.recovered, row, 1)
        grid.addWidget(self.lost, row, 2)
        grid.addWidget(self.reason, row, 3)
        grid.addWidget(self.condition, row + 1, 1, 1, 3)
        if condition == NOT_RECOVERED:
            self.lost.setChecked(True)
            self.reason.setCurrentText(reason)
        elif condition:
            self.recovered.setChecked(True)
        self.lost.toggled.connect(self._update)
        self._update()

    def _update(self, *_) -> None:
        self.reason.setEnabled(self.lost.isChecked())

    @property
    def reason_text(self) -> str:
        return " ".join(self.reason.currentText().split())


class RemovalDialog(QDialog):
    submitted = Signal(list, dict, str)     # recovered serials, {serial: reason}, notes

    def __init__(self, title: str, devices, conditions: dict[str, str] | None = None,
                 parent: QWidget | None = None, *, reason: str = ""):
        super().__init__(parent)
        self.setObjectName("removalDialog")
        self.setWindowTitle("Record removal")
        self.setModal(True)
        conditions = conditions or {}
        heading = QLabel(title, objectName="detailsTitle")
        heading.setWordWrap(True)
        ask = QLabel("Account for every device on the order: recovered, or not recovered and why. "
                     "Kit left behind stays on the outstanding-equipment list until it is closed.")
        ask.setWordWrap(True)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setColumnStretch(3, 1)
        self.rows: dict[str, _DeviceRow] = {}
        for i, (serial, kind) in enumerate(devices):
            self.rows[serial] = _DeviceRow(self, grid, i * 2, serial, kind, conditions.get(serial, ""), reason)
        notes_label, self.notes = notes_field("removalNotes", "&Notes (anything the next person should know):", 70)
        self.problem = QLabel("", objectName="errorText")
        self.problem.setWordWrap(True)
        self.problem.setVisible(False)
        self.box, self.save_button = save_cancel(self, "Record removal", self._check)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(ask)
        if not self.rows:
            none = QLabel("No equipment is recorded as installed on this order.")
            set_prop(none, "tone", "bad")
            layout.addWidget(none)
        layout.addLayout(grid)
        layout.addWidget(notes_label)
        layout.addWidget(self.notes)
        layout.addWidget(self.problem)
        layout.addWidget(self.box)
        self.resize(640, self.sizeHint().height())

    # -- for the caller and tests -------------------------------------------------
    def mark(self, serial: str, recovered: bool, reason: str = "") -> None:
        row = self.rows[serial]
        (row.recovered if recovered else row.lost).setChecked(True)
        if reason:
            row.reason.setCurrentText(reason)

    @property
    def recovered(self) -> list[str]:
        return [s for s, r in self.rows.items() if r.recovered.isChecked()]

    @property
    def reasons(self) -> dict[str, str]:
        return {s: r.reason_text for s, r in self.rows.items() if r.lost.isChecked()}

    @property
    def note_text(self) -> str:
        return self.notes.toPlainText().strip()

    def problem_text(self) -> str | None:
        """What stops the removal being recorded, in words; None when it can be."""
        if not self.rows:
            return "There is nothing to record: no equipment is installed on this order."
        unanswered = [s for s, r in self.rows.items() if not (r.recovered.isChecked() or r.lost.isChecked())]
        if unanswered:
            return f"Say whether {', '.join(unanswered)} {'was' if len(unanswered) == 1 else 'were'} recovered."
        why = [s for s, reason in self.reasons.items() if not reason]
        if why:
            return (f"Say why {', '.join(why)} {'was' if len(why) == 1 else 'were'} not recovered "
                    f"(e.g. {NOT_RECOVERED_REASONS[0]}).")
        return None

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        self.save_button.setEnabled(True)
        self.save_button.setText("Record removal")

    def saving(self) -> None:
        self.problem.setVisible(False)
        self.save_button.setEnabled(False)
        self.save_button.setText("Recording…")

    def _check(self) -> None:
        problem = self.problem_text()
        if problem is not None:
            self.show_problem(problem)
            return
        self.saving()
        self.submitted.emit(self.recovered, self.reasons, self.note_text)
