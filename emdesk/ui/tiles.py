"""A figure's tile: its value, caption and note, opening what is behind it on a click or
on Enter/Space when focused (the install KPIs and the management picture share it)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget


class FigureTile(QFrame):
    opened = Signal(str)

    def __init__(self, key: str, parent: QWidget | None = None, *, value_name: str = "tileValue",
                 margins: tuple[int, int, int, int] = (12, 6, 12, 8), min_width: int = 120):
        super().__init__(parent)
        self.setObjectName("tile")
        self.key = key
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.value = QLabel("", objectName=value_name)
        self.caption = QLabel("", objectName="tileCaption")
        self.caption.setWordWrap(True)
        self.note = QLabel("", objectName="tileNote")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*margins)
        layout.setSpacing(0)
        for label in (self.value, self.caption, self.note):
            layout.addWidget(label)
        layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(min_width)

    def mouseReleaseEvent(self, event):          # noqa: N802 (Qt's name)
        if event.button() == Qt.MouseButton.LeftButton:
            self.opened.emit(self.key)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event):               # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.opened.emit(self.key)
            return
        super().keyPressEvent(event)


__all__ = ["FigureTile"]
