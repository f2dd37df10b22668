"""What a triage action asks for before it runs: a reason, a note, an excused stretch.

Each dialog is opened window-modal with ``open()`` (the GUI keeps running) and read
after ``accepted``; OK stays disabled until what is required is there, and the line
under the fields says what is missing.
"""
from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimeZone
from PySide6.QtWidgets import (QComboBox, QDateTimeEdit, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget)

from emdesk.domain.clock import at_local, local
from emdesk.domain.monitoring import ExcuseKind
from emdesk.services.queue_items import QueueItem

from ..formatting import fmt_when

_WALL = QTimeZone(QTimeZone.Initialization.UTC)    # the edits hold London wall-clock values as they read


def _subject(item: QueueItem) -> str:
    who = item.subject_name or "the wearer"
    return f"{item.reference} · {who} · {item.condition} from {fmt_when(item.started_at)}"


class _Form(QDialog):
    def __init__(self, title: str, item: QueueItem, parent: QWidget | None, *, action_text: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("triageDialog")
        self.item = item
        self._answered = False
        self.form = QFormLayout()
        self.problem = QLabel("", objectName="fieldProblem")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(action_text)
        self.ok.setObjectName("ok")
        self.ok.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        about = QLabel(_subject(item), objectName="dialogSubject")
        about.setWordWrap(True)
        outer = QVBoxLayout(self)
        outer.addWidget(about)
        outer.addLayout(self.form)
        outer.addWidget(self.problem)
        outer.addWidget(self.buttons)
        self.setMinimumWidth(440)

    def missing(self) -> str:
        """What stops the action, in words ("" when it may go)."""
        return ""

    def check(self) -> None:
        text = self.missing()
        self.problem.setText(text)
        self.ok.setEnabled(not text)

    def accept(self) -> None:
        # Once only: Enter in a line edit and the default button may both ask.
        self.check()
        if self.ok.isEnabled() and not self._answered:
            self._answered = True
            super().accept()


class ReasonDialog(_Form):
    """One line of reason (Enter accepts); ``warning`` says what the action commits to."""

    def __init__(self, title: str, item: QueueItem, parent: QWidget | None = None, *, prompt: str = "Reason",
                 action_text: str = "OK", warning: str = "", placeholder: str = ""):
        super().__init__(title, item, parent, action_text=action_text)
        self.reason = QLineEdit(objectName="reason", placeholderText=placeholder)
        self.reason.setAccessibleName(prompt)
        self.form.addRow(f"{prompt}:", self.reason)
        if warning:
            note = QLabel(warning, objectName="warningText")
            note.setWordWrap(True)
            self.form.addRow(note)
        self.reason.textChanged.connect(self.check)
        self.reason.returnPressed.connect(self.accept)
        self.check()

    def missing(self) -> str:
        return "" if self.reason.text().strip() else "Give the reason: it is kept in the incident's history."

    def text(self) -> str:
        return self.reason.text().strip()


class NoteDialog(_Form):
    """A free-text note (several lines; Ctrl+Enter or the button saves it)."""

    def __init__(self, item: QueueItem, parent: QWidget | None = None):
        super().__init__("Add a note", item, parent, action_text="Add note")
        self.note = QPlainTextEdit(objectName="note")
        self.note.setAccessibleName("Note")
        self.note.setTabChangesFocus(True)
        self.form.addRow("Note:", self.note)
        self.note.textChanged.connect(self.check)
        self.check()

    def missing(self) -> str:
        return "" if self.note.toPlainText().strip() else "Write the note."

    def text(self) -> str:
        return self.note.toPlainText().strip()

    def keyPressEvent(self, event) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.accept()
            return
        super().keyPressEvent(event)


def _wall(dt: datetime) -> QDateTime:
    here = local(dt)
    return QDateTime(QDate(here.year, here.month, here.day), QTime(here.hour, here.minute), _WALL)


def _instant(edit: QDateTimeEdit) -> datetime:
    value = edit.dateTime()
    return at_local(value.date().toPython(), value.time().toPython())


class ExcuseDialog(_Form):
    """A reasonable excuse or an authorised absence over a stretch (London time),
    by default the incident's whole stretch, with the reason."""

    def __init__(self, item: QueueItem, now: datetime, parent: QWidget | None = None):
        super().__init__("Excuse time", item, parent, action_text="Excuse")
        self.kind = QComboBox(objectName="excuseKind")
        self.kind.addItem("Reasonable excuse", ExcuseKind.REASONABLE_EXCUSE)
        self.kind.addItem("Authorised absence", ExcuseKind.AUTHORISED_ABSENCE)
        self.kind.setAccessibleName("Kind of excuse")
        self.start = self._edit("excuseStart", item.started_at, "Excused from (UK time)")
        self.end = self._edit("excuseEnd", item.ended_at or now, "Excused until (UK time)")
        self.reason = QLineEdit(objectName="reason", placeholderText="who authorised it, what happened")
        self.reason.setAccessibleName("Reason")
        self.form.addRow("&Kind:", self.kind)
        self.form.addRow("&From (UK time):", self.start)
        self.form.addRow("&Until (UK time):", self.end)
        self.form.addRow("&Reason:", self.reason)
        for signal in (self.start.dateTimeChanged, self.end.dateTimeChanged, self.reason.textChanged):
            signal.connect(self.check)
        self.reason.returnPressed.connect(self.accept)
        self.check()
        self.reason.setFocus()

    @staticmethod
    def _edit(name: str, at: datetime, accessible: str) -> QDateTimeEdit:
        edit = QDateTimeEdit(objectName=name)
        edit.setAccessibleName(accessible)
        edit.setTimeZone(_WALL)
        edit.setDisplayFormat("dd MMM yyyy HH:mm")
        edit.setCalendarPopup(True)
        edit.setDateTime(_wall(at))
        return edit

    def missing(self) -> str:
        if not self.start.dateTime() < self.end.dateTime():
            return "The excused stretch must end after it starts: check From and Until."
        if not self.reason.text().strip():
            return "Give the reason: who authorised it, what happened."
        return ""

    def values(self) -> tuple[ExcuseKind, datetime, datetime, str]:
        return ExcuseKind(self.kind.currentData()), _instant(self.start), _instant(self.end), self.reason.text().strip()
