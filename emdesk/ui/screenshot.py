"""Render a signed-in user's main window to a PNG, headless (QT_QPA_PLATFORM=offscreen).

Used by ``emdesk demo --screenshot`` and by tests: build the window, wait for every
workspace's data to arrive (never a fixed sleep), grab and save.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

from .geometry import FRAME, LAPTOP
from .main_window import MainWindow
from .qt_app import make_application
from .tasks import end_session

# The window as it opens on a 1366x768 laptop (less the taskbar and the window frame).
LAPTOP_WINDOW = (LAPTOP.width() - FRAME.width(), LAPTOP.height() - 40 - FRAME.height())


class ScreenshotError(RuntimeError):
    pass


def render_workspace(ctx, path: str | Path, size: tuple[int, int] = LAPTOP_WINDOW, *,
                     workspace: str | None = None, timeout_s: float = 30.0) -> Path:
    """Save a PNG of the window for ``ctx.user``; ``workspace`` picks a tab by key."""
    app = QApplication.instance() or make_application([])
    window = MainWindow(ctx, load=False, remember=False)
    try:
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        window.resize(*size)
        if workspace is not None:
            if window.workspace(workspace) is None:
                keys = ", ".join(ws.key for ws in window.workspaces)
                raise ScreenshotError(f"no workspace {workspace!r} for a {ctx.user.role.label.lower()} "
                                      f"(has: {keys})")
            window.show_workspace(workspace)
        window.show()
        _wait_loaded(window, timeout_s)
        _wait_maps(window, timeout_s)
        app.processEvents()   # let the last layout and paint settle before grabbing
        image = window.grab().toImage()
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(out), "PNG"):
            raise ScreenshotError(f"could not write {out}")
        return out
    finally:
        window.close()
        window.deleteLater()
        # Deleted now, not at exit: QtWebEngine crashes if a page outlives its profile.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        end_session(ctx, close=False)      # its loads stopped and waited for; the caller closes the store


def _wait_maps(window: MainWindow, timeout_s: float) -> None:
    """Maps load their pages after the data arrives: wait for them too (bounded)."""
    from .maps.view import MapView

    loop = QEventLoop()
    for view in window.findChildren(MapView):
        if view.loading:
            view.page_loaded.connect(loop.quit)
            QTimer.singleShot(int(timeout_s * 1000), loop.quit)
            loop.exec()
    # Leaflet draws its layers just after the load event.
    QTimer.singleShot(300, loop.quit)
    loop.exec()


def _wait_loaded(window: MainWindow, timeout_s: float) -> None:
    loop = QEventLoop()
    timed_out = []
    window.loaded.connect(loop.quit)
    timer = QTimer(singleShot=True, interval=int(timeout_s * 1000))
    timer.timeout.connect(lambda: (timed_out.append(True), loop.quit()))
    timer.start()
    window.refresh_all()
    if window.is_loading():
        loop.exec()
    timer.stop()
    if timed_out:
        waiting = ", ".join(ws.title for ws in window.workspaces if ws.is_loading)
        raise ScreenshotError(f"workspace data did not load within {timeout_s:g} s (still loading: {waiting})")
