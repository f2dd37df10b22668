"""A visit's checklist: each step saved the moment it is ticked, required steps marked,
and the first step not done shown as where to carry on (after a crash, too).

The panel shows the stored state (``emdesk.services.checklists.ChecklistState``, its
steps ``StepState``) and asks for changes (``tick_requested``); the workspace saves them
on the store lane and hands the stored state back (``show_state``).  Steps that do not
apply to this kit are not shown.  Readings come from the devices (the pairing wizard),
never typed here.  A step that allows it can be marked "not possible" with a reason.
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

from emdesk.domain.checklists import READINGS, StepKind

from .. import palette
from ..style import set_prop

RESUME = "\u25b6 Carry on here"
NO_READINGS = "Filled in from the devices by the pairing wizard (Pair devices\u2026 below)"
LIST_AT_MOST = 3          # name the steps still required once only a few are left


def reading_text(value: Any) -> str:
    """The devices' readings in words, one a line ("" if none yet)."""
    if not isinstance(value, dict):
        return ""
    lines = []
    for name, v in value.items():
        if v is None:
            continue
        spec = READINGS.get(name)
        label = spec.label if spec else name.replace("_", " ")
        shown = ("yes" if v else "NO") if isinstance(v, bool) else str(v)
        lines.append(f"{label[:1].upper()}{label[1:]}: {shown}")
    return "\n".join(lines)


def _kind_label(kind) -> str:
    label = getattr(kind, "label", str(kind))
    return label if label[:2].isupper() else label.lower()


class _Step(QWidget):
    changed = Signal(str, bool, object, str)      # key, done, value, skipped (the reason)

    def __init__(self, state, devices, parent=None):
        super().__init__(parent)
        step = state.step
        self.step = step
        self.key = step.key
        self.kind = step.kind
        self.devices = tuple(devices)
        self.editable = True
        self.per_device: dict[str, QComboBox] = {}
        label = step.label + (" *" if step.required else "")
        self.mark = QLabel("", objectName="stepMark")
        self.mark.setFixedWidth(18)
        self.resume = QLabel("", objectName="resumeMark")
        self.title = QLabel(label if step.kind is not StepKind.TICK else "", objectName="stepTitle")
        self.title.setWordWrap(True)
        self.editor: QWidget
        content = QVBoxLayout()
        content.setContentsMargins(0, 0, 0, 0)
        content.setSpacing(2)
        if step.kind is StepKind.TICK:
            self.editor = QCheckBox(label, objectName=f"step-{step.key}")
            self.editor.toggled.connect(lambda on: self.changed.emit(self.key, on, None, ""))
            content.addWidget(self.editor)
        elif step.kind is StepKind.TEXT:
            content.addWidget(self.title)
            self.editor = QLineEdit(objectName=f"step-{step.key}", placeholderText="A few words")
            self.editor.editingFinished.connect(self._text_done)
            content.addWidget(self.editor)
        elif step.kind is StepKind.CHOICE and step.per_device:
            content.addWidget(self.title)
            self.editor = QWidget(objectName=f"step-{step.key}")
            form = QGridLayout(self.editor)
            form.setContentsMargins(0, 0, 0, 0)
            form.setColumnStretch(1, 1)
            for i, (serial, kind) in enumerate(self.devices):
                combo = QComboBox(objectName=f"step-{step.key}-{serial}")
                combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                combo.setMinimumContentsLength(12)
                combo.addItem("choose…", None)
                for option in step.choices:
                    combo.addItem(option, option)
                combo.setAccessibleName(f"{step.label}: {serial}")
                combo.activated.connect(self._device_done)
                self.per_device[serial] = combo
                name = QLabel(f"{serial}<br><span style='color:{palette.css('faint')}'>{_kind_label(kind)}</span>")
                name.setTextFormat(Qt.TextFormat.RichText)
                name.setBuddy(combo)
                form.addWidget(name, i, 0)
                form.addWidget(combo, i, 1)
            if not self.devices:
                form.addWidget(QLabel("No devices are recorded on this order.", objectName="inlineCaption"), 0, 0)
            content.addWidget(self.editor)
        elif step.kind is StepKind.CHOICE:
            content.addWidget(self.title)
            self.editor = QComboBox(objectName=f"step-{step.key}")
            self.editor.addItem("choose…", None)
            for option in step.choices:
                self.editor.addItem(option, option)
            self.editor.activated.connect(self._choice_done)
            content.addWidget(self.editor)
        else:        # a reading: taken from the device, shown, never typed
            content.addWidget(self.title)
            self.editor = QLabel(objectName=f"step-{step.key}")
            self.editor.setWordWrap(True)
            self.editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            set_prop(self.editor, "tone", "muted")
            content.addWidget(self.editor)
        self.editor.setAccessibleName(step.label)
        if step.help:
            self.editor.setToolTip(step.help)
            self.title.setToolTip(step.help)
        if isinstance(self.editor, (QLineEdit, QComboBox)):
            self.title.setBuddy(self.editor)

        # "Not possible…": asks the reason inline (a modal box would stop the officer's flow).
        self.skip_button: QPushButton | None = None
        self.skip_reason = QLineEdit(objectName=f"skip-reason-{step.key}",
                                     placeholderText="Why was it not possible? (e.g. wearer absconded)")
        self.skip_save = QPushButton("Save reason", objectName=f"skip-save-{step.key}")
        self.skip_line = QWidget()
        skip_layout = QHBoxLayout(self.skip_line)
        skip_layout.setContentsMargins(0, 0, 0, 0)
        skip_layout.addWidget(self.skip_reason, 1)
        skip_layout.addWidget(self.skip_save)
        self.skip_line.setVisible(False)
        self.skipped_label = QLabel("", objectName="skippedText")
        self.skipped_label.setWordWrap(True)
        set_prop(self.skipped_label, "tone", "muted")
        self.skipped_label.setVisible(False)
        if step.skip:
            self.skip_button = QPushButton("Not possible\u2026", objectName=f"skip-{step.key}")
            set_prop(self.skip_button, "link", True)
            self.skip_button.setCursor(Qt.CursorShape.PointingHandCursor)
            self.skip_button.setToolTip("This step could not be done: say why (it then counts as answered)")
            self.skip_button.clicked.connect(self._skip_clicked)
            self.skip_save.clicked.connect(self._skip_done)
            self.skip_reason.returnPressed.connect(self._skip_done)
            line = QHBoxLayout()
            line.setContentsMargins(0, 0, 0, 0)
            line.addWidget(self.skipped_label)
            line.addWidget(self.skip_button)
            line.addStretch(1)
            content.addLayout(line)
            content.addWidget(self.skip_line)
        self.problem = QLabel("", objectName="errorText")
        self.problem.setWordWrap(True)
        self.problem.setVisible(False)
        content.addWidget(self.problem)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 3, 0, 3)
        grid.addWidget(self.mark, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addLayout(content, 0, 1)
        grid.addWidget(self.resume, 0, 2, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(1, 1)
        self.set_step(state)

    def set_step(self, state, editable: bool = True) -> None:
        self.editable = editable
        self.done = bool(state.done)
        self.mark.setText("\u2713" if state.done else ("!" if state.problem else ""))
        set_prop(self.mark, "state", "done" if state.done else ("failed" if state.problem else ""))
        value = state.value
        editor = self.editor
        editor.blockSignals(True)
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(state.done) and not state.skipped)
        elif isinstance(editor, QLineEdit):
            if not editor.hasFocus():
                editor.setText("" if value is None else str(value))
        elif isinstance(editor, QComboBox):
            index = editor.findData(value) if value is not None else 0
            editor.setCurrentIndex(max(index, 0))
        elif self.per_device:
            answers = value if isinstance(value, dict) else {}
            for serial, combo in self.per_device.items():
                combo.blockSignals(True)
                index = combo.findData(answers.get(serial)) if answers.get(serial) is not None else 0
                combo.setCurrentIndex(max(index, 0))
                combo.blockSignals(False)
        elif isinstance(editor, QLabel):
            editor.setText(reading_text(value) or NO_READINGS)
        editor.blockSignals(False)
        editor.setEnabled(editable)
        skipped = state.skipped or ""
        self.skipped_label.setText(f"Not possible: {skipped}" if skipped else "")
        self.skipped_label.setVisible(bool(skipped))
        if self.skip_button is not None:
            self.skip_button.setText("Undo" if skipped else "Not possible\u2026")
            self.skip_button.setToolTip("Clear the reason: the step is to be done after all" if skipped
                                        else "This step could not be done: say why (it then counts as answered)")
            self.skip_button.setVisible(editable and (bool(skipped) or not state.done))
            self.skip_button.setEnabled(True)
        if skipped or not editable:
            self.skip_line.setVisible(False)
        self.problem.setText(state.problem or "")
        self.problem.setVisible(bool(state.problem))

    def set_busy(self) -> None:
        """Until the store says it is saved."""
        self.editor.setEnabled(False)
        if self.skip_button is not None:
            self.skip_button.setEnabled(False)

    def _text_done(self) -> None:
        text = self.editor.text().strip()
        self.changed.emit(self.key, bool(text), text or None, "")

    def _choice_done(self, index: int) -> None:
        value = self.editor.itemData(index)
        self.changed.emit(self.key, value is not None, value, "")

    def _device_done(self, *_) -> None:
        answers = {serial: combo.currentData() for serial, combo in self.per_device.items()}
        missing = [s for s, a in answers.items() if a is None]
        if missing:
            # The service takes the step whole: it is saved once every device has its answer.
            self.problem.setText(f"Now answer for {', '.join(missing)}: saved once every device has an answer.")
            self.problem.setVisible(True)
            return
        self.changed.emit(self.key, True, answers, "")

    def _skip_clicked(self) -> None:
        if self.skipped_label.isVisible():           # undo: the step is to be done after all
            self.changed.emit(self.key, False, None, "")
            return
        self.skip_line.setVisible(not self.skip_line.isVisible())
        if self.skip_line.isVisible():
            self.skip_reason.setFocus(Qt.FocusReason.OtherFocusReason)

    def _skip_done(self) -> None:
        reason = " ".join(self.skip_reason.text().split())
        if not reason:
            self.problem.setText("Say why it was not possible.")
            self.problem.setVisible(True)
            return
        self.skip_line.setVisible(False)
        self.skip_reason.clear()
        self.changed.emit(self.key, False, None, reason)


class ChecklistPanel(QFrame):
    tick_requested = Signal(str, str, bool, object, str)     # visit id, key, done, value, skipped
    back_requested = Signal()
    finish_requested = Signal(str)                           # visit id: pair, record the removal...

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("detailsPane")
        self.visit_id: str | None = None
        self.state: Any = None
        self.rows: dict[str, _Step] = {}
        self._shape: tuple = ()
        self.title = QLabel("Checklist", objectName="detailsTitle")
        self.title.setWordWrap(True)
        self.status = QLabel("", objectName="checklistStatus")
        self.status.setWordWrap(True)
        self.error = QLabel("", objectName="errorText")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        self._steps = QWidget(objectName="visitContent")
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
        self.finish_button = QPushButton("", objectName="checklistFinish")
        self.finish_button.clicked.connect(lambda: self.visit_id and self.finish_requested.emit(self.visit_id))
        self.finish_button.setVisible(False)
        self.legend = QLabel("* required: the visit cannot be completed without it. Each tick is saved at once.",
                             objectName="inlineCaption")
        self.legend.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.back_button)
        bottom.addStretch(1)
        bottom.addWidget(self.finish_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.legend)
        layout.addLayout(bottom)

    def set_finish(self, text: str, tooltip: str = "") -> None:
        """The action that ends the visit from here ("Record removal…"); "" for none."""
        self.finish_button.setText(text)
        self.finish_button.setToolTip(tooltip)
        self.finish_button.setVisible(bool(text))

    def show_state(self, visit_id: str, title: str, state: Any) -> None:
        """Show the stored checklist (rebuilt when it is another visit's, or its shape changed)."""
        self.error.setVisible(False)
        shown = [s for s in state.steps if s.applies]
        shape = (visit_id, tuple(s.key for s in shown), tuple(state.devices))
        if shape != self._shape:
            self._rebuild(shown, state.devices)
            self._shape = shape
        self.visit_id = visit_id
        self.state = state
        self.title.setText(title)
        editable = bool(state.editable)
        for s in shown:
            self.rows[s.key].set_step(s, editable)
        resume = state.resume if editable else None
        for key, row in self.rows.items():
            row.resume.setText(RESUME if key == resume else "")
            set_prop(row, "resume", key == resume)
        done = sum(1 for s in shown if s.done)
        if not editable:
            self.status.setText(f"Read only: {done} of {len(shown)} steps done"
                                + (". The visit is closed." if state.complete else "."))
            set_prop(self.status, "tone", "muted")
        elif state.complete:
            self.status.setText(f"Complete: {done} of {len(shown)} steps done. Record the outcome to finish.")
            set_prop(self.status, "tone", "good")
        else:
            still = [s.step.label + (" (from the devices)" if s.step.kind is StepKind.READING else "")
                     for s in shown if s.step.required and not s.done]
            if len(still) > LIST_AT_MOST:
                left = f" {len(still)} required steps (marked *) still to do."
            else:
                left = f" Still required: {', '.join(still)}." if still else ""
            self.status.setText(f"{done} of {len(shown)} steps done.{left}")
            set_prop(self.status, "tone", "muted")
        self.legend.setVisible(editable)
        self.finish_button.setEnabled(editable)
        if resume is not None and resume in self.rows:
            self.scroll.ensureWidgetVisible(self.rows[resume])

    @staticmethod
    def resume_key(state: Any) -> str | None:
        return state.resume

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)

    def _rebuild(self, steps, devices) -> None:
        for row in self.rows.values():
            row.setParent(None)
            row.deleteLater()
        self.rows = {}
        for i, state in enumerate(steps):
            row = _Step(state, devices, self._steps)
            row.changed.connect(self._changed)
            self._steps_layout.insertWidget(i, row)
            self.rows[state.key] = row

    def _changed(self, key: str, done: bool, value, skipped: str) -> None:
        if self.visit_id is None:
            return
        self.rows[key].set_busy()
        self.tick_requested.emit(self.visit_id, key, done, value, skipped)
