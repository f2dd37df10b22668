"""Window sizes that fit a field officer's 1366x768 laptop, remembered within the screen.

A window opens at its preferred size, shrunk to fit the screen it is on (its available
area, less room for the window frame): on the 1366x768 laptops field officers carry,
the main window and the order form open whole.  A saved geometry (QSettings) is used
only where it still lies within that screen.
"""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from .settings import app_settings

LAPTOP = QSize(1366, 768)       # the smallest screen emdesk is built for
# Room for the title bar and borders a window manager adds around the client area
# (a frame's size is only known once a window is shown).
FRAME = QSize(16, 40)


def available(widget: QWidget | None = None) -> QRect:
    """The screen area a window may use (less taskbars and docks)."""
    screen = (widget.screen() if widget is not None else None) or QGuiApplication.primaryScreen()
    if screen is None:
        return QRect(0, 0, LAPTOP.width(), LAPTOP.height())
    return screen.availableGeometry()


def room(widget: QWidget | None = None) -> QSize:
    """The largest client size a window may open at."""
    area = available(widget)
    return QSize(area.width() - FRAME.width(), area.height() - FRAME.height())


def fit(widget: QWidget, preferred: QSize) -> QSize:
    """Resize ``widget`` to ``preferred``, or as much of it as fits."""
    size = preferred.boundedTo(room(widget))
    widget.resize(size)
    return size


def restore(widget: QWidget, key: str, preferred: QSize) -> None:
    """Fit, then restore the saved geometry under ``key`` if it lies on the screen."""
    fit(widget, preferred)
    saved = app_settings().value(f"{key}/geometry")
    if not isinstance(saved, QByteArray) or saved.isEmpty():
        return
    before = widget.geometry()
    if not widget.restoreGeometry(saved):
        return
    bounds = available(widget)
    limit = room(widget)
    if (widget.width() > limit.width() or widget.height() > limit.height()
            or not bounds.contains(widget.frameGeometry().topLeft())):
        # Saved on a bigger screen, or where this one does not reach: open as new.
        widget.setGeometry(before)
        fit(widget, preferred)


def save(widget: QWidget, key: str) -> None:
    settings = app_settings()
    settings.setValue(f"{key}/geometry", widget.saveGeometry())
    settings.sync()
