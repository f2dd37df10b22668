"""The QApplication: names (for QSettings), style sheet and window icon.

QtWebEngine (the maps) must be imported before the QApplication exists, and as root
its Chromium needs ``--no-sandbox`` or its web process exits at once: importing this
module prepares both, for the app, screenshots and the tests alike.
"""
from __future__ import annotations

import os
from typing import Sequence


def prepare_web_engine() -> None:
    """Chromium flags for this machine, then QtWebEngine loaded (before any QApplication)."""
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    wanted = ["--disable-gpu"]          # no GPU offscreen or under Xvfb; silences GBM/Vulkan noise
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        wanted.append("--no-sandbox")   # Chromium's sandbox refuses to run as root
    extra = [f for f in wanted if f not in flags]
    if extra:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join([*flags, *extra])
    import PySide6.QtWebEngineWidgets  # noqa: F401  (must precede the QApplication)
    from .maps.tiles import register_tile_scheme
    register_tile_scheme()              # offline tile packs' scheme: also before the QApplication


prepare_web_engine()

from PySide6.QtCore import QCoreApplication, QEvent, Qt  # noqa: E402
from PySide6.QtGui import QFont, QIcon  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from .gui_gc import collect_on_gui_thread, stop_collecting  # noqa: E402
from .resources import APP_ICON, read_style_sheet  # noqa: E402
from .settings import APPLICATION, ORGANISATION  # noqa: E402


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    """The one QApplication, configured; reuses an existing one (tests, screenshots)."""
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QApplication(list(argv) if argv is not None else [])
    apply_look(app)
    from .maps.tiles import serve_tile_pack
    serve_tile_pack()                   # EMDESK_MAP_TILE_PACK, if set, answers the maps' tile requests
    collect_on_gui_thread(app)       # never free a Qt object on a worker thread
    if not app.property("emdesk_quit_hook"):
        app.setProperty("emdesk_quit_hook", True)
        app.aboutToQuit.connect(_delete_pending)
    return app


def _delete_pending() -> None:
    """Windows closed with ``deleteLater`` go now: a QtWebEngine page (the maps) still
    alive when the process ends takes it down with a crash."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app = QCoreApplication.instance()
    if app is not None:
        stop_collecting(app)


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
