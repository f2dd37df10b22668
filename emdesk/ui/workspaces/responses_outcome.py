"""The outcome of a breach: the codes the pack's agency may record, and notes.

The dialog records nothing itself: it hands back the code and the notes, and the workspace
asks the service (off the GUI thread).  Monitoring staff take an outcome down by phone, so
for them the notes must say who reported it, as the service requires.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QDialog, QLabel, QRadioButton, QVBoxLayout, QWidget

from emdesk.domain.monitoring import BreachOutcomeCode
from emdesk.domain.responses import CODE_LABELS, codes_for
from emdesk.services.responses import InboxRow

from ..form_widgets import notes_field, save_cancel
from ..style import set_prop


class OutcomeDialog(QDialog):
    def __init__(self, row: InboxRow, *, by_phone: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.by_phone = by_phone
        self.setObjectName("outcomeDialog")
        self.setWindowTitle("Record the outcome" if not by_phone else "Record an outcome reported by phone")
        self.setModal(True)
        what = "Decide: the outcome of" if row.radu and not by_phone else "The outcome of"
        heading = QLabel(f"{what} breach pack {row.reference} (v{row.version})", objectName="detailsTitle")
        heading.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        self.group = QButtonGroup(self)
        self.buttons: dict[BreachOutcomeCode, QRadioButton] = {}
        for code in codes_for(row.responder):
            button = QRadioButton(CODE_LABELS[code], objectName=f"code-{code.value}")
            button.setAccessibleName(CODE_LABELS[code])
            self.group.addButton(button)
            self.buttons[code] = button
            layout.addWidget(button)
        prompt = ("&Who reported it (name, agency, phone number) and anything they said:" if by_phone
                  else "&Notes (what was decided and why; optional):")
        notes_label, self.notes = notes_field("outcomeNotes", prompt, 80)
        notes_label.setWordWrap(True)
        self.notes.setAccessibleName("Notes")
        self.problem = QLabel("", objectName="errorText")
        self.problem.setWordWrap(True)
        self.box, self.save_button = save_cancel(self, "Record outcome", self._check)
        layout.addWidget(notes_label)
        layout.addWidget(self.notes)
        layout.addWidget(self.problem)
        layout.addWidget(self.box)
        self.resize(460, self.sizeHint().height())

    def choose(self, code: BreachOutcomeCode) -> None:
        self.buttons[code].setChecked(True)

    @property
    def code(self) -> BreachOutcomeCode | None:
        return next((code for code, b in self.buttons.items() if b.isChecked()), None)

    @property
    def note_text(self) -> str:
        return self.notes.toPlainText().strip()

    def problem_text(self) -> str | None:
        if self.code is None:
            return "Choose the outcome."
        if self.by_phone and not self.note_text:
            return "Say who reported the outcome by phone (name, agency, number)."
        return None

    def _check(self) -> None:
        problem = self.problem_text()
        self.problem.setText(problem or "")
        set_prop(self.problem, "shown", bool(problem))
        if problem is None:
            self.accept()
        elif self.code is None:
            next(iter(self.buttons.values())).setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.notes.setFocus(Qt.FocusReason.OtherFocusReason)

    def answer(self) -> tuple[BreachOutcomeCode, str] | None:
        return (self.code, self.note_text) if self.code is not None else None


def ask_outcome(parent: QWidget, row: InboxRow, by_phone: bool) -> tuple[BreachOutcomeCode, str] | None:
    """The outcome and notes for ``row``, or None if the user cancelled."""
    dialog = OutcomeDialog(row, by_phone=by_phone, parent=parent)
    return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else None
