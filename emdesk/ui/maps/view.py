"""``MapView``: a map page in QtWebEngine, offline, that says which marker was clicked.

Clicks come back through the page title (``emdesk:select:<key>#<n>``, the count making
each click a change): no QWebChannel script to serve, no page subclass.  The view keeps
QtWebEngine's own page on the default profile, which in Qt 6 is off the record: nothing
of a page (names, addresses) is kept on disk.  Selecting from the Qt side runs ``emdesk.select(key)`` in the page.  If the map's web
files are not installed, the view shows how to install them instead of a blank page.
"""
from __future__ import annotations

import shutil
import tempfile
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtWebEngineCore import QWebEngineSettings
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

from .page import AssetsMissing, MapBuilder, TileSource, tile_source_from_env, write_page

_SELECT = "emdesk:select:"


@dataclass(frozen=True)
class RenderedPage:
    """A page written to disk, or why there is none (the web files are missing)."""

    path: Path | None
    message: str = ""


def render_page(layers: Sequence, *, tiles: TileSource | None, folder: Path) -> RenderedPage:
    """Render ``layers`` to a new file in ``folder``; safe off the GUI thread (no Qt)."""
    try:
        builder = MapBuilder(tiles=tiles)
        for layer in layers:
            builder.add(layer)
        html = builder.render()
    except AssetsMissing as exc:
        return RenderedPage(None, str(exc))
    return RenderedPage(write_page(html, folder, f"map-{uuid.uuid4().hex[:12]}.html"))


class MapView(QWidget):
    marker_clicked = Signal(str)     # the key of the clicked marker (a visit id, "base")
    page_loaded = Signal(bool)       # the page finished loading (ok or not)

    def __init__(self, parent: QWidget | None = None, *, tiles: TileSource | None = None):
        super().__init__(parent)
        self.setObjectName("mapView")
        self.tiles = tiles if tiles is not None else tile_source_from_env()
        self.web = QWebEngineView(self)
        self.web.titleChanged.connect(self._title)
        self.web.setAccessibleName("Map")
        settings = self.web.page().settings()
        # A file:// page reaches the network only for a configured tile server; then both
        # settings are needed, or the local scripts stop loading too.
        remote = self.tiles is not None and not self.tiles.local
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, remote)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
        self.message = QLabel("", objectName="mapMessage")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMargin(24)
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.web)
        self._stack.addWidget(self.message)
        # Pages hold names and addresses: a private folder per view, removed with it.
        self._folder = Path(tempfile.mkdtemp(prefix="emdesk-map-"))
        weakref.finalize(self, shutil.rmtree, self._folder, True)
        self.page_path: Path | None = None
        self.loading = False
        self.web.loadFinished.connect(self._loaded)

    @property
    def folder(self) -> Path:
        """Where this view's pages are written (private to it, removed with it)."""
        return self._folder

    def builder(self) -> MapBuilder:
        """A fresh page to add layers to; raises ``AssetsMissing`` if the files are absent."""
        return MapBuilder(tiles=self.tiles)

    def show_layers(self, *layers) -> bool:
        """Render ``layers`` here and now and load the page (small pages; big ones: render
        with ``render_page`` off the GUI thread, then ``show_page``)."""
        return self.show_page(render_page(layers, tiles=self.tiles, folder=self._folder))

    def show_page(self, page: RenderedPage) -> bool:
        """Load a rendered page; False (and the reason shown) if there is none."""
        if page.path is None:
            self.show_message(page.message)
            return False
        previous, self.page_path = self.page_path, page.path
        self._stack.setCurrentWidget(self.web)
        self.loading = True
        self.web.load(QUrl.fromLocalFile(str(self.page_path)))
        if previous is not None and previous != page.path:
            previous.unlink(missing_ok=True)     # the view holds what it loaded
        return True

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self._stack.setCurrentWidget(self.message)

    @property
    def showing_message(self) -> bool:
        return self._stack.currentWidget() is self.message

    def select(self, key: str | None) -> None:
        if key is not None and not self.showing_message:
            self.web.page().runJavaScript(f"window.emdesk && emdesk.select({_js_string(key)})", 0)

    def run_js(self, script: str, callback) -> None:
        self.web.page().runJavaScript(script, 0, callback)

    @Slot(str)
    def _title(self, title: str) -> None:
        if title.startswith(_SELECT):
            self.marker_clicked.emit(title[len(_SELECT):].rsplit("#", 1)[0])

    @Slot(bool)
    def _loaded(self, ok: bool) -> None:
        self.loading = False
        self.page_loaded.emit(ok)


def _js_string(text: str) -> str:
    import json
    return json.dumps(text)
