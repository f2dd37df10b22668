"""Page 2: the procedure's steps as they run, the devices found, a prompt or an error."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from emdesk.devices.pairing import STEPS

from .steps import RECORD, TITLES, StepRow


class PairPage(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, objectName="pairPage")
        steps = QGroupBox("Pairing")
        box = QVBoxLayout(steps)
        box.setSpacing(0)
        self.rows: dict = {}
        for step in STEPS:
            self.rows[step] = StepRow(step, TITLES[step])
            box.addWidget(self.rows[step])
        self.rows[RECORD] = StepRow(RECORD, "Record")
        box.addWidget(self.rows[RECORD])
        self.progress = QProgressBar(objectName="pairingProgress")
        self.progress.setRange(0, len(STEPS) + 1)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(6)
        self.progress.setAccessibleName("Pairing progress")
        box.addSpacing(6)
        box.addWidget(self.progress)

        devices = QGroupBox("Devices")
        dev = QVBoxLayout(devices)
        self.tag_label = QLabel("Tag: not identified yet", objectName="tagDevice")
        self.hmu_label = QLabel("Home unit: not identified yet", objectName="hmuDevice")
        for label in (self.tag_label, self.hmu_label):
            label.setWordWrap(True)
            dev.addWidget(label)

        self.prompt_box = QFrame(objectName="promptBox")
        self.prompt_text = QLabel("", objectName="promptText")
        self.prompt_text.setWordWrap(True)
        self.prompt_retry = QPushButton("Retry", objectName="promptRetry")
        self.prompt_stop = QPushButton("Give up", objectName="promptStop")
        p = QHBoxLayout(self.prompt_box)
        p.addWidget(self.prompt_text, 1)
        p.addWidget(self.prompt_retry)
        p.addWidget(self.prompt_stop)
        self.prompt_box.setVisible(False)

        self.error_box = QFrame(objectName="errorBox")
        self.error_text = QLabel("", objectName="errorText")
        self.error_text.setWordWrap(True)
        self.error_note = QLabel("", objectName="errorNote")
        self.error_note.setWordWrap(True)
        self.retry_button = QPushButton("Retry", objectName="retry")
        e = QGridLayout(self.error_box)
        e.setColumnStretch(0, 1)
        e.addWidget(self.error_text, 0, 0)
        e.addWidget(self.retry_button, 0, 1, 2, 1, Qt.AlignmentFlag.AlignVCenter)
        e.addWidget(self.error_note, 1, 0)
        self.error_box.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(steps)
        layout.addWidget(devices)
        layout.addWidget(self.prompt_box)
        layout.addWidget(self.error_box)
        layout.addStretch(1)

    def reset(self, with_hmu: bool) -> None:
        """Everything back to "not started" for a new attempt."""
        for row in self.rows.values():
            row.set("pending", "")
        self.progress.setValue(0)
        self.prompt_box.setVisible(False)
        self.error_box.setVisible(False)
        self.tag_label.setText("Tag: not identified yet")
        self.hmu_label.setText("Home unit: not identified yet" if with_hmu else "Home unit: none")
