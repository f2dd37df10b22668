"""The procedure's steps as the wizard lists them: a mark, a title and what happened."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from emdesk.devices.pairing import PairingStep

from ..style import set_prop

TITLES = {
    PairingStep.DETECT: "Connect",
    PairingStep.IDENTIFY: "Identify",
    PairingStep.CHECK_ALLOCATION: "Check allocation",
    PairingStep.AUTHENTICATE: "Authenticate",
    PairingStep.PREPARE: "Pair",
    PairingStep.WRITE_CONFIG: "Write configuration",
    PairingStep.SELF_TEST: "Self-test",
    PairingStep.COMMIT: "Commit",
    PairingStep.VERIFY: "Verify",
}
RECORD = "record"
DONE = {
    PairingStep.DETECT: "both devices answered",
    PairingStep.IDENTIFY: "serials, firmware, battery and strap read",
    PairingStep.CHECK_ALLOCATION: "allocated to this order",
    PairingStep.AUTHENTICATE: "genuine (manufacturer's key)",
    PairingStep.PREPARE: "pairing prepared on both devices",
    PairingStep.WRITE_CONFIG: "configuration stored and checked (CRC-32)",
    PairingStep.SELF_TEST: "strap, battery, radio range: passed",
    PairingStep.COMMIT: "committed by the home unit, over the radio to the tag",
    PairingStep.VERIFY: "both devices report the same pairing",
}
MARKS = {"pending": "○", "running": "◐", "done": "✓", "failed": "✗", "skipped": "–"}


class StepRow(QWidget):
    """One step; its colours come from the style sheet by ``state``."""

    def __init__(self, key, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.state = "pending"
        self.mark = QLabel(objectName="stepMark")
        self.mark.setFixedWidth(22)
        self.mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(title, objectName="stepTitle")
        self.title.setMinimumWidth(150)
        self.detail = QLabel("", objectName="stepDetail")
        self.detail.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(self.mark)
        row.addWidget(self.title)
        row.addWidget(self.detail, 1)
        self.set("pending")

    def set(self, state: str, detail: str | None = None) -> None:
        self.state = state
        self.mark.setText(MARKS[state])
        set_prop(self.mark, "state", state)
        set_prop(self.title, "state", state)
        self.setAccessibleName(f"{self.title.text()}: {state}")
        if detail is not None:
            self.detail.setText(detail)
