"""Small builders and readers for the order form's fields."""
from __future__ import annotations

from enum import Enum
from typing import TypeVar

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

E = TypeVar("E", bound=Enum)


def combo(name: str, items: list[tuple[str, Enum]]) -> QComboBox:
    # Item data holds the enum's value: a str-based Enum put in a QVariant comes back
    # as a plain str, so ``chosen`` turns it back into the enum.
    combo = QComboBox(objectName=name)
    combo.addItem("— choose —", None)
    for text, value in items:
        combo.addItem(text, value.value)
    return combo


def chosen(combo: QComboBox, enum: type[E]) -> E | None:
    value = combo.currentData()
    return enum(value) if value is not None else None


def line(name: str, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit(objectName=name)
    edit.setPlaceholderText(placeholder)
    return edit


def caption(text: str, field: QWidget) -> QLabel:
    """A small label beside the second or third input of a row: each input has its own."""
    label = QLabel(text, objectName="inlineCaption")
    label.setBuddy(field)
    field.setAccessibleName(text)
    return label


def inputs_in(widgets) -> list[QWidget]:
    """The inputs among ``widgets`` and inside them, in order."""
    kinds = (QLineEdit, QComboBox, QCheckBox)
    found: list[QWidget] = []
    for w in widgets:
        if isinstance(w, kinds):
            found.append(w)
        else:
            found.extend(c for c in w.findChildren(QWidget) if isinstance(c, kinds))
    return found


def text(edit: QLineEdit) -> str:
    return edit.text().strip()


def opt(edit: QLineEdit) -> str | None:
    return edit.text().strip() or None


def notes_field(name: str, label_text: str, height: int) -> tuple[QLabel, QPlainTextEdit]:
    """A dialog's free notes, with its label as buddy (Tab leaves the box, not types a tab)."""
    label = QLabel(label_text)
    notes = QPlainTextEdit(objectName=name)
    notes.setTabChangesFocus(True)
    notes.setFixedHeight(height)
    label.setBuddy(notes)
    return label, notes


def save_cancel(dialog: QDialog, save_text: str, on_save) -> tuple[QDialogButtonBox, QPushButton]:
    """Save / Cancel for a dialog: Save says what it does, and is measured bold (the default
    button is drawn so) so its text is never clipped; Save checks first (``on_save``)."""
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
    save = box.button(QDialogButtonBox.StandardButton.Save)
    save.setText(save_text)
    bold = save.font()
    bold.setBold(True)
    save.setMinimumWidth(QFontMetrics(bold).horizontalAdvance(save_text) + 48)
    box.accepted.connect(on_save)
    box.rejected.connect(dialog.reject)
    return box, save
