"""Confirming what cannot be undone (unpair, factory reset) by typing the device's serial."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget


class ConfirmSerialDialog(QDialog):
    """Type the device's serial to confirm something that cannot be undone."""

    def __init__(self, parent: QWidget | None, title: str, warning: str, serial: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.serial = serial
        text = QLabel(f"{warning}<br><br>Type the serial <b>{serial}</b> to confirm:")
        text.setWordWrap(True)
        self.edit = QLineEdit(objectName="confirmSerial")
        self.edit.setAccessibleName(f"Serial of the device to {title.lower()}")
        text.setBuddy(self.edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(title)
        self.ok.setEnabled(False)
        self.edit.textChanged.connect(lambda t: self.ok.setEnabled(t.strip().upper() == serial.upper()))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.edit)
        layout.addWidget(self.buttons)

    def typed(self) -> str:
        return self.edit.text().strip()


def ask_serial(parent: QWidget, title: str, warning: str, serial: str) -> str | None:
    dialog = ConfirmSerialDialog(parent, title, warning, serial)
    return dialog.typed() if dialog.exec() == QDialog.DialogCode.Accepted else None
