"""Small builders and readers for the order form's fields."""
from __future__ import annotations

from enum import Enum
from typing import TypeVar

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QWidget

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
