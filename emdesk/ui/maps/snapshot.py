"""A picture of a wearer's trail for a breach pack, drawn headless by the trail map's own page.

``map_image_for(store, user, clock)`` gives the pack builder a ``MapImage``: called with
a request (order, window, the violation stretch), it reads the trail with the same
``TrailService`` and writes the same page (``render_trail``: trail, zones, stretches,
stops, curfew address) the monitoring workspace's ``TrailMap`` shows, loads it in a
QtWebEngine view that is never put on a screen, waits for the page's script to say it
has drawn (its title becomes ``emdesk:trail:drawn#<n>``) and two more frames, and grabs
the view as a PNG.

The pack is built off the GUI thread (the store lane) and by the CLI on the main thread
before any event loop runs.  The trail is read on the calling thread (it owns the
store); the web page lives on the GUI thread only: from another thread the work is
posted there and waited for on a ``threading.Event``; on the GUI thread a local
``QEventLoop`` runs until it is done.  No answer within the timeout (the GUI thread busy,
QtWebEngine missing, a script error) gives ``None``: the pack is built without a map.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

# A loaded machine can take seconds to start Chromium; a pack without its map is worse than a wait.
TIMEOUT_S = 30.0
SIZE = (1200, 800)                # px: an A4 page's width at a readable scale, 3:2
ZOOM = 1.5                        # the page drawn larger than on screen, for paper
_DRAWN = "emdesk:trail:drawn#"
_READY = "emdesk:snapshot:ready"
_SETTLE_MS = 120
# Two frames after the draw, so the canvas is on screen; tiles, if any, finished loading.
_WHEN_PAINTED = """
(function () {
  function tilesLoading() {
    var busy = false;
    if (window.emdesk && emdesk.map) {
      emdesk.map.eachLayer(function (l) { if (l.isLoading && l.isLoading()) { busy = true; } });
    }
    return busy;
  }
  var tries = 0;
  function settle() {
    if (tilesLoading() && tries++ < 100) { setTimeout(settle, 50); return; }
    // A picture on paper: no zoom buttons to press.
    document.querySelectorAll('.leaflet-control-zoom').forEach(function (c) { c.remove(); });
    // Two frames for the page to paint, and a moment for Chromium to hand the frame to Qt.
    requestAnimationFrame(function () { requestAnimationFrame(function () {
      setTimeout(function () { document.title = '%s#' + Math.round(performance.now()); }, %d);
    }); });
  }
  settle();
})();
""" % (_READY, _SETTLE_MS)


def _application():
    """The running QApplication, or one made now (the CLI); None when there can be none."""
    from PySide6.QtCore import QCoreApplication
    app = QCoreApplication.instance()
    if app is not None:
        return app if hasattr(app, "topLevelWidgets") else None    # a QCoreApplication cannot show a page
    if threading.current_thread() is not threading.main_thread():
        return None                  # a QApplication must be made on the main thread
    import os
    import sys
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..qt_app import make_application   # prepares QtWebEngine before the application
    return make_application([])


class _Shot:
    """One page loaded and grabbed on the GUI thread; ``done`` is set with ``png`` (or None)."""

    def __init__(self, page: Path, size: tuple[int, int], timeout_s: float):
        self.page, self.size, self.timeout_s = page, size, timeout_s
        self.png: bytes | None = None
        self.why = ""
        self.done = threading.Event()
        self.abandoned = threading.Event()   # the caller stopped waiting: do not start
        self.view = None
        self.timer = None
        self.on_finish: list[Callable[[], None]] = []

    # -- the GUI thread ---------------------------------------------------------------
    def start(self) -> None:
        from PySide6.QtCore import QTimer, QUrl, Qt
        from PySide6.QtWebEngineCore import QWebEngineSettings
        from PySide6.QtWebEngineWidgets import QWebEngineView

        if self.abandoned.is_set():
            self._finish("the caller stopped waiting before the map could start")
            return
        view = QWebEngineView()
        self.view = view
        # Chromium paints only a view that is shown (WA_DontShowOnScreen gives a white
        # picture): a frameless tool window, out of reach of input and focus, put beyond
        # the screen's edge, so nothing appears on the operator's desktop.
        view.setWindowFlags(Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                            | Qt.WindowType.WindowDoesNotAcceptFocus | Qt.WindowType.WindowTransparentForInput)
        view.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        view.move(-20_000, -20_000)
        settings = view.page().settings()
        from .page import tile_source_from_env
        tiles = tile_source_from_env()
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls,
                              tiles is not None and not tiles.local)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
        settings.setAttribute(QWebEngineSettings.WebAttribute.ShowScrollBars, False)
        view.resize(*self.size)
        # Printed at a third of a page's height, labels and the scale must still read.
        view.setZoomFactor(ZOOM)
        view.titleChanged.connect(self._title)
        view.loadFinished.connect(self._loaded)
        self.timer = QTimer(view, singleShot=True, interval=int(self.timeout_s * 1000))
        self.timer.timeout.connect(lambda: self._finish(f"the map did not draw within {self.timeout_s:.0f} s"))
        self.timer.start()
        view.show()
        view.load(QUrl.fromLocalFile(str(self.page)))

    def _loaded(self, ok: bool) -> None:
        if not ok:
            self._finish("the map page did not load")

    def _title(self, title: str) -> None:
        if self.view is None:
            return
        if title.startswith(_DRAWN):
            self.view.page().runJavaScript(_WHEN_PAINTED, 0)
        elif title.startswith(_READY):
            self._grab()

    def _grab(self) -> None:
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice

        image = self.view.grab().toImage()
        if image.isNull() or image.width() == 0:
            self._finish("the map view gave an empty picture")
            return
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        self.png = bytes(data)
        self._finish("")

    def _finish(self, why: str) -> None:
        if self.done.is_set():
            return
        self.why = why
        if why:
            log.warning("pack map: %s", why)
        if self.timer is not None:
            self.timer.stop()
            self.timer = None                # goes with the view, on this thread
        view, self.view = self.view, None
        if view is not None:
            view.titleChanged.disconnect(self._title)
            view.loadFinished.disconnect(self._loaded)
            view.hide()
            view.deleteLater()      # never deleted inside its own signal
        self.done.set()
        for hook in self.on_finish:
            hook()


def _poster():
    """A QObject on the GUI thread whose queued signal runs a callable there (made once)."""
    from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

    global _POSTER
    with _POSTER_LOCK:
        if _POSTER is None:
            class Poster(QObject):
                post = Signal(object)

                def __init__(self):
                    super().__init__()
                    self.post.connect(self._run, Qt.ConnectionType.QueuedConnection)

                @Slot(object)
                def _run(self, fn):
                    fn()

            poster = Poster()
            app = QCoreApplication.instance()
            if poster.thread() != app.thread():
                poster.moveToThread(app.thread())      # made on a worker: pushed to the GUI thread
            _POSTER = poster
    return _POSTER


_POSTER = None
_POSTER_LOCK = threading.Lock()


def grab_page(page: Path, *, size: tuple[int, int] = SIZE, timeout_s: float = TIMEOUT_S) -> bytes | None:
    """PNG bytes of a trail page file drawn in an unseen QtWebEngine view; None on timeout
    or failure.  Any thread; the view lives on the GUI thread."""
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer

    app = _application()
    if app is None:
        log.warning("pack map: no QApplication to draw the map with")
        return None
    shot = _Shot(page, size, timeout_s)
    if app.thread().isCurrentThread():
        loop = QEventLoop()
        shot.on_finish.append(loop.quit)
        QTimer.singleShot(0, shot.start)
        # A backstop beyond the shot's own timer, should the page never start.
        QTimer.singleShot(int(timeout_s * 1000) + 2000, loop.quit)
        if not shot.done.is_set():
            loop.exec()
        shot.on_finish.clear()
        if not shot.done.is_set():
            shot._finish(f"the map did not draw within {timeout_s:.0f} s")
        # The view goes now, not at some later loop's turn (the CLI has no other loop).
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        return shot.png
    _poster().post.emit(shot.start)
    if not shot.done.wait(timeout_s + 1.0):
        shot.abandoned.set()
        log.warning("pack map: the GUI thread did not draw the map within %.0f s", timeout_s)
        # Whatever is under way finishes on its own timer; its result is not wanted.
        return None
    return shot.png


def _highlight(request: Any) -> tuple[datetime, datetime | None] | None:
    lo = getattr(request, "highlight_start", None)
    return (lo, getattr(request, "highlight_end", None)) if lo is not None else None


def map_image_for(store, user, clock, *, size: tuple[int, int] = SIZE,
                  timeout_s: float = TIMEOUT_S) -> Callable[[Any], bytes | None]:
    """A ``MapImage`` for ``PackService``: request (order_id, start, end, highlight_start,
    highlight_end) -> PNG bytes of the trail and zones over [start, end] with the
    violation stretch standing out, or None when the map cannot be drawn."""
    from emdesk.services.trails import TrailService

    from .page import tile_source_from_env
    from .trail_page import render_trail

    trails = TrailService(store, user, clock)       # refuses roles that may not see trails

    def map_image(request) -> bytes | None:
        trail = trails.trail(request.order_id, request.start, request.end)
        folder = Path(tempfile.mkdtemp(prefix="emdesk-packmap-"))
        try:
            page = render_trail(trail, tiles=tile_source_from_env(), folder=folder, highlight=_highlight(request))
            if page.path is None:
                log.warning("pack map: %s", page.message)
                return None
            return grab_page(page.path, size=size, timeout_s=timeout_s)
        finally:
            # A shot given up on may still be loading the page: it reads a missing file and ends.
            shutil.rmtree(folder, ignore_errors=True)

    return map_image


def attach_pack_maps(ctx) -> None:
    """Give the session's pack builder this map (the desktop's wiring calls it at sign-in);
    roles that do not build packs, or may not see trails, get none."""
    from emdesk.domain.users import Permission
    packs = getattr(ctx, "packs", None)
    if packs is None or not ctx.user.can(Permission.BUILD_PACKS) or getattr(ctx, "trails", None) is None:
        return
    packs.map_image = map_image_for(packs.store, ctx.user, ctx.clock)


__all__ = ["SIZE", "TIMEOUT_S", "attach_pack_maps", "grab_page", "map_image_for"]
