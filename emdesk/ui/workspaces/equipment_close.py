"""Taking a device off the outstanding-equipment list: recovered after all, or written off.

The dialog records nothing itself: it hands back how and the notes, and the workspace
asks the service (off the GUI thread).  What the service would refuse this account is
shown disabled, with the reason (``close_refusal``); a write-off needs notes, as the
service requires, and the dialog says so before it is sent.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from emdesk.services.equipment import OutstandingRow

from ..form_widgets import notes_field, save_cancel
from ..style import set_prop

# In the order a supervisor meets them: most kit turns up; write-offs are the exception.
WAYS = (
    ("recovered", "Recovered: the device is back (it goes to the bench to be checked in)"),
    ("written_off", "Written off: it will not come back (say why in the notes)"),
)


def why_text(reason: str) -> str:
    """"Not recovered: <reason>", without saying it twice when the reason already does."""
    if not reason:
        return "Not recovered: no reason recorded."
    if reason.lower().startswith("not recovered"):
        return reason[:1].upper() + reason[1:].rstrip(".") + "."
    return f"Not recovered: {reason.rstrip('.')}."


def describe(row: OutstandingRow) -> str:
    whose = f" from {row.wearer}" if row.wearer else ""
    order = f" (order {row.order_reference})" if row.order_reference else ""
    return f"{row.kind} {row.serial}{whose}{order}"


class CloseOutstandingDialog(QDialog):
    def __init__(self, row: OutstandingRow, refusals: dict[str, str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("closeOutstandingDialog")
        self.setWindowTitle("Close outstanding equipment")
        self.setModal(True)
        heading = QLabel(describe(row), objectName="detailsTitle")
        heading.setWordWrap(True)
        why = QLabel(why_text(row.reason))
        why.setWordWrap(True)
        set_prop(why, "tone", "muted")
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(why)
        for how, hint in WAYS:
            refused = refusals.get(how, "")
            button = QRadioButton(hint, objectName=f"close-{how}")
            button.setEnabled(not refused)
            button.setToolTip(refused or hint)
            button.setAccessibleDescription(refused or hint)
            self.group.addButton(button)
            self.buttons[how] = button
            layout.addWidget(button)
            if refused:
                note = QLabel(refused, objectName=f"refused-{how}")
                set_prop(note, "tone", "faint")
                layout.addWidget(note)
        notes_label, self.notes = notes_field(
            "closeNotes", "&Notes (where it was found, or why it is written off: e.g. police report):", 80)
        notes_label.setWordWrap(True)
        self.notes.setAccessibleName("Notes")
        self.problem = QLabel("", objectName="errorText")
        self.problem.setWordWrap(True)
        self.box, self.save_button = save_cancel(self, "Take off the list", self._check)
        layout.addWidget(notes_label)
        layout.addWidget(self.notes)
        layout.addWidget(self.problem)
        layout.addWidget(self.box)
        self.resize(480, self.sizeHint().height())

    def choose(self, how: str) -> None:
        self.buttons[how].setChecked(True)

    @property
    def how(self) -> str | None:
        return next((how for how, b in self.buttons.items() if b.isChecked() and b.isEnabled()), None)

    @property
    def note_text(self) -> str:
        return self.notes.toPlainText().strip()

    def problem_text(self) -> str | None:
        """What stops the device being taken off the list, in words; None when it can be."""
        if self.how is None:
            return "Choose whether the device was recovered or is written off."
        if self.how == "written_off" and not self.note_text:
            return "Say in the notes why the device is written off (e.g. police report, wearer abroad)."
        return None

    def _check(self) -> None:
        problem = self.problem_text()
        self.problem.setText(problem or "")
        set_prop(self.problem, "shown", bool(problem))
        if problem is None:
            self.accept()
        elif self.how is None:
            next(b for b in self.buttons.values() if b.isEnabled()).setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.notes.setFocus(Qt.FocusReason.OtherFocusReason)

    def answer(self) -> tuple[str, str] | None:
        return (self.how, self.note_text) if self.how else None


def ask_close(parent: QWidget, row: OutstandingRow, refusals: dict[str, str]) -> tuple[str, str] | None:
    """How to close ``row`` and the notes, or None if the user cancelled."""
    dialog = CloseOutstandingDialog(row, refusals, parent)
    return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else None
