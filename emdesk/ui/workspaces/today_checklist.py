"""A visit's checklist: each step saved the moment it is ticked, required steps marked,
and the first step not done shown as where to carry on (after a crash, too).

The panel only shows state and asks for changes (``tick_requested``); the workspace
saves them on the store lane and hands the stored state back (``show_state``).
Readings come from the devices (the pairing wizard), never typed here.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..style import set_prop

RESUME = "\u25b6 Carry on here"


class _Step(QWidget):
    changed = Signal(str, bool, object)      # key, done, value

    def __init__(self, step, parent=None):
        super().__init__(parent)
        self.key = step.key
        self.kind = step.kind
        label = step.label + (" *" if step.required else "")
        self.mark = QLabel("", objectName="stepMark")
        self.mark.setFixedWidth(18)
        self.resume = QLabel("", objectName="resumeMark")
        self.editor: QWidget
        if step.kind == "tick":
            self.editor = QCheckBox(label, objectName=f"step-{step.key}")
            self.editor.toggled.connect(lambda on: self.changed.emit(self.key, on, None))
        elif step.kind == "text":
            self.editor = QLineEdit(objectName=f"step-{step.key}", placeholderText=label)
            self.editor.editingFinished.connect(self._text_done)
        elif step.kind == "choice":
            self.editor = QComboBox(objectName=f"step-{step.key}")
            self.editor.addItem(f"{label}: choose…", None)
            for option in getattr(step, "options", ()) or ():
                self.editor.addItem(str(option), option)
            self.editor.activated.connect(self._choice_done)
        else:        # a reading: taken from the device, shown, never typed
            self.editor = QLabel(objectName=f"step-{step.key}")
            self.editor.setWordWrap(True)
        self.editor.setAccessibleName(step.label)
        if step.help:
            self.editor.setToolTip(step.help)
        self.title = QLabel(label if step.kind != "tick" else "", objectName="stepTitle")
        self.title.setWordWrap(True)
        if isinstance(self.editor, (QLineEdit, QComboBox)):
            self.title.setBuddy(self.editor)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 2, 0, 2)
        grid.addWidget(self.mark, 0, 0, Qt.AlignmentFlag.AlignTop)
        if step.kind in ("text", "choice", "reading"):
            grid.addWidget(self.title, 0, 1)
            grid.addWidget(self.editor, 1, 1)
        else:
            grid.addWidget(self.editor, 0, 1)
        grid.addWidget(self.resume, 0, 2, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(1, 1)
        self.set_step(step)

    def set_step(self, step) -> None:
        self.done = bool(step.done)
        self.mark.setText("\u2713" if step.done else "")
        set_prop(self.mark, "state", "done" if step.done else "")
        editor = self.editor
        editor.blockSignals(True)
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(step.done))
        elif isinstance(editor, QLineEdit):
            if not editor.hasFocus():
                editor.setText("" if step.value is None else str(step.value))
        elif isinstance(editor, QComboBox):
            index = editor.findData(step.value) if step.value is not None else 0
            editor.setCurrentIndex(max(index, 0))
        else:
            editor.setText(f"{step.value}" if step.value not in (None, "") else
                           "Taken from the devices by the pairing wizard (Devices \u203a Pair devices\u2026)")
        editor.blockSignals(False)
        editor.setEnabled(True)

    def _text_done(self) -> None:
        text = self.editor.text().strip()
        self.changed.emit(self.key, bool(text), text or None)

    def _choice_done(self, index: int) -> None:
        value = self.editor.itemData(index)
        self.changed.emit(self.key, value is not None, value)


class ChecklistPanel(QFrame):
    tick_requested = Signal(str, str, bool, object)     # visit id, key, done, value
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("detailsPane")
        self.visit_id: str | None = None
        self.rows: dict[str, _Step] = {}
        self.title = QLabel("Checklist", objectName="detailsTitle")
        self.title.setWordWrap(True)
        self.status = QLabel("", objectName="checklistStatus")
        self.status.setWordWrap(True)
        self.error = QLabel("", objectName="errorText")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        self._steps = QWidget()
        self._steps_layout = QVBoxLayout(self._steps)
        self._steps_layout.setContentsMargins(0, 0, 4, 0)
        self._steps_layout.addStretch(1)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self._steps)
        self.back_button = QPushButton("\u2190 Back to the visit", objectName="checklistBack")
        self.back_button.clicked.connect(self.back_requested)
        legend = QLabel("* required: the visit cannot be completed without it. Each tick is saved at once.",
                        objectName="inlineCaption")
        legend.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.back_button)
        bottom.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(legend)
        layout.addLayout(bottom)

    def show_state(self, visit_id: str, title: str, state: Any) -> None:
        """Show the stored checklist (rebuilt when it is another visit's)."""
        self.error.setVisible(False)
        keys = [s.key for s in state.steps]
        if visit_id != self.visit_id or keys != list(self.rows):
            self._rebuild(state.steps)
        self.visit_id = visit_id
        self.title.setText(title)
        for step in state.steps:
            self.rows[step.key].set_step(step)
        resume = self.resume_key(state)
        for key, row in self.rows.items():
            row.resume.setText(RESUME if key == resume else "")
            set_prop(row, "resume", key == resume)
        done = sum(1 for s in state.steps if s.done)
        if state.complete:
            self.status.setText(f"Complete: {done} of {len(keys)} steps done. Record the outcome to finish.")
            set_prop(self.status, "tone", "good")
        else:
            blocking = list(state.blocking)
            self.status.setText(f"{done} of {len(keys)} steps done."
                                + (f" Still required: {', '.join(blocking)}." if blocking else ""))
            set_prop(self.status, "tone", "bad" if blocking else "muted")
        if resume is not None:
            self.scroll.ensureWidgetVisible(self.rows[resume])

    @staticmethod
    def resume_key(state: Any) -> str | None:
        return next((s.key for s in state.steps if not s.done), None)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)

    def _rebuild(self, steps) -> None:
        for row in self.rows.values():
            row.setParent(None)
            row.deleteLater()
        self.rows = {}
        for i, step in enumerate(steps):
            row = _Step(step, self._steps)
            row.changed.connect(self._changed)
            self._steps_layout.insertWidget(i, row)
            self.rows[step.key] = row

    def _changed(self, key: str, done: bool, value) -> None:
        if self.visit_id is None:
            return
        self.rows[key].editor.setEnabled(False)        # until the store says it is saved
        self.tick_requested.emit(self.visit_id, key, done, value)
