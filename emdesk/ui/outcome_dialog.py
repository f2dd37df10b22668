"""Record how a visit ended: done (a check or a repair), or why it could not be done --
one reason from the list, and free notes.

The reasons are the NAO's install failure causes (``OutcomeCode``); they are the data
the service lacks today.  Installs and removals are not finished here (the pairing
wizard and the removal form record their devices), so the caller passes the outcomes
this visit may take (``VisitOutcomeService.outcomes_for``).  The dialog records nothing
itself: ``accepted`` hands back the chosen code and the notes; the caller saves them off
the GUI thread.
"""
from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from emdesk.domain.visits import OutcomeCode

from .form_widgets import notes_field, save_cancel
from .style import set_prop

O = OutcomeCode
# In the order an officer meets them at the door.
FAILURE_REASONS = (
    (O.NOT_AT_ADDRESS, "Nobody answered, or the wearer was not in"),
    (O.REFUSED, "The wearer refused the equipment or the visit"),
    (O.WRONG_ADDRESS, "The address does not exist, or is not the wearer's"),
    (O.UNSAFE, "Withdrew: it was not safe to go on (say why in the notes)"),
    (O.EQUIPMENT_FAULT, "The equipment would not work"),
    (O.ORDER_CANCELLED, "The order was cancelled or ended before the visit"),
    (O.LATE_ORDER, "The order came too late to be done in this visit"),
)
NOTES_NEEDED = {O.UNSAFE, O.REFUSED}
SUCCESSES = {
    O.CHECKED_OK: "The equipment was checked and is working as it should",
    O.REPAIRED: "The fault was put right, and the equipment works again",
}


class OutcomeDialog(QDialog):
    def __init__(self, title: str, parent: QWidget | None = None, choices: Iterable[OutcomeCode] | None = None):
        super().__init__(parent)
        self.setObjectName("outcomeDialog")
        self.setWindowTitle("Record outcome")
        self.setModal(True)
        heading = QLabel(title, objectName="detailsTitle")
        heading.setWordWrap(True)
        allowed = list(choices) if choices is not None else [code for code, _ in FAILURE_REASONS]
        hints = {**SUCCESSES, **dict(FAILURE_REASONS)}
        options = [c for c in allowed if c.success] + [c for c, _ in FAILURE_REASONS if c in allowed]
        ask = QLabel(("Was it done? If not, why not? " if any(c.success for c in options) else
                      "Why could the visit not be done? ") + "A new attempt is booked for a failed one.")
        ask.setWordWrap(True)
        self.group = QButtonGroup(self)
        self.buttons: dict[OutcomeCode, QRadioButton] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(ask)
        both = any(c.success for c in options) and any(not c.success for c in options)
        for code in options:
            if both and code is next(c for c in options if not c.success):
                layout.addWidget(QLabel("<b>Not done, because:</b>", objectName="inlineCaption"))
            elif both and code is options[0]:
                layout.addWidget(QLabel("<b>Done:</b>", objectName="inlineCaption"))
            hint = hints.get(code, code.label)
            button = QRadioButton(code.label, objectName=f"reason-{code.value}")
            button.setToolTip(hint)
            button.setAccessibleDescription(hint)
            self.group.addButton(button)
            self.buttons[code] = button
            layout.addWidget(button)
        notes_label, self.notes = notes_field("outcomeNotes", "&Notes (what happened, for the next officer):", 90)
        self.problem = QLabel("", objectName="errorText")
        self.problem.setWordWrap(True)
        self.box, self.save_button = save_cancel(self, "Record outcome", self._check)
        layout.addWidget(notes_label)
        layout.addWidget(self.notes)
        layout.addWidget(self.problem)
        layout.addWidget(self.box)
        self.resize(460, self.sizeHint().height())

    def choose(self, code: OutcomeCode) -> None:
        self.buttons[code].setChecked(True)

    @property
    def outcome(self) -> OutcomeCode | None:
        return next((code for code, b in self.buttons.items() if b.isChecked()), None)

    @property
    def note_text(self) -> str:
        return self.notes.toPlainText().strip()

    def problem_text(self) -> str | None:
        """What stops the outcome being recorded, in words; None when it can be."""
        if self.outcome is None:
            return "Choose a reason."
        if self.outcome in NOTES_NEEDED and not self.note_text:
            return f"Say what happened in the notes: \u201c{self.outcome.label}\u201d needs them."
        return None

    def _check(self) -> None:
        problem = self.problem_text()
        self.problem.setText(problem or "")
        set_prop(self.problem, "shown", bool(problem))
        if problem is None:
            self.accept()
        elif self.outcome is None:
            next(iter(self.buttons.values())).setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.notes.setFocus(Qt.FocusReason.OtherFocusReason)
