"""Page 3: the pairing done, what was recorded, and what to do next."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from .. import palette
from ..style import set_prop


class RecordPage(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, objectName="recordPage")
        box = QGroupBox("Installation")
        layout = QVBoxLayout(box)
        self.result_text = QLabel("", objectName="pairingResult")
        self.result_text.setWordWrap(True)
        self.summary = QLabel("", objectName="pairingSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.record_text = QLabel("", objectName="recordText")
        self.record_text.setWordWrap(True)
        self.record_retry = QPushButton("Retry recording", objectName="recordRetry")
        self.record_retry.setVisible(False)
        layout.addWidget(self.result_text)
        layout.addWidget(self.summary)
        layout.addSpacing(6)
        layout.addWidget(self.record_text)
        layout.addWidget(self.record_retry, 0, Qt.AlignmentFlag.AlignLeft)
        self.next_steps = QLabel("", objectName="nextSteps")
        self.next_steps.setWordWrap(True)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 8, 0, 0)
        outer.addWidget(box)
        outer.addWidget(self.next_steps)
        outer.addStretch(1)

    def show_summary(self, rows: list[tuple[str, str]], next_steps: str) -> None:
        muted = palette.css("muted")
        self.summary.setText("<table cellspacing='4'>" + "".join(
            f"<tr><td style='color:{muted}; padding-right:12px'>{k}</td><td>{v}</td></tr>" for k, v in rows)
            + "</table>")
        self.next_steps.setText(next_steps)

    def say(self, text: str, tone: str) -> None:
        """``tone``: "good" (recorded) or "bad" (not recorded)."""
        self.record_text.setText(text)
        set_prop(self.record_text, "tone", tone)
