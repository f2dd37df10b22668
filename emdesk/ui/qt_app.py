"""The QApplication: names (for QSettings), style sheet and window icon."""
from __future__ import annotations

from typing import Sequence

from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication

from .resources import APP_ICON, read_style_sheet
from .settings import APPLICATION, ORGANISATION


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    """The one QApplication, configured; reuses an existing one (tests, screenshots)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else [])
    apply_look(app)
    return app


def apply_look(app: QApplication) -> None:
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("emdesk")
    app.setStyle("Fusion")   # the same look on every desktop, and under offscreen
    font = QFont(app.font())
    font.setPointSize(10)
    app.setFont(font)
    app.setStyleSheet(read_style_sheet())
    if APP_ICON.exists():
        app.setWindowIcon(QIcon(str(APP_ICON)))
