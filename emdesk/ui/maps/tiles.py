"""Map tiles as configured: an online tile server, an offline pack on disk, or none.

- ``EMDESK_MAP_TILE_PACK``: an .mbtiles or .pmtiles file.  Its tiles reach the page on
  the ``emdesk-tiles://pack/{z}/{x}/{y}`` scheme, answered by ``TilePackHandler`` from
  the file: no server, no network.  Wins over a URL when both are set.
- ``EMDESK_MAP_TILES``: a URL template with {z}/{x}/{y} (``EMDESK_MAP_ATTRIBUTION`` to
  credit it).
- Neither: no tile layer; the maps draw on a plain background.

Chromium learns of a custom scheme only before the QApplication exists, so
``register_tile_scheme`` runs when ``emdesk.ui.qt_app`` is imported.  It is flagged a
local scheme: a ``file://`` map page may load from it with remote access still off.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication
from PySide6.QtWebEngineCore import (QWebEngineProfile, QWebEngineUrlRequestJob, QWebEngineUrlScheme,
                                     QWebEngineUrlSchemeHandler)

from emdesk.services.map_tiles import TilePack, TilePackError, open_tile_pack

from .page import TileSource

log = logging.getLogger(__name__)

SCHEME = b"emdesk-tiles"
PACK_URL = "emdesk-tiles://pack/{z}/{x}/{y}"
PACK_ENV, URL_ENV, ATTRIBUTION_ENV = "EMDESK_MAP_TILE_PACK", "EMDESK_MAP_TILES", "EMDESK_MAP_ATTRIBUTION"
_PATH = re.compile(r"^/(\d{1,2})/(\d+)/(\d+)(?:\.\w+)?$")
_MAX_ZOOM = 19                        # Leaflet scales the pack's deepest tiles up to here


def register_tile_scheme() -> bool:
    """Tell QtWebEngine about the tiles' scheme; False if too late (an application exists)."""
    if QWebEngineUrlScheme.schemeByName(QByteArray(SCHEME)).name() == QByteArray(SCHEME):
        return True
    if QCoreApplication.instance() is not None:
        log.warning("map tile scheme not registered: the application was made first")
        return False
    scheme = QWebEngineUrlScheme(QByteArray(SCHEME))
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(QWebEngineUrlScheme.Flag.SecureScheme | QWebEngineUrlScheme.Flag.LocalScheme)
    QWebEngineUrlScheme.registerScheme(scheme)
    return True


def tile_source(env: Mapping[str, str] | None = None) -> TileSource | None:
    """The configured tiles: a pack (served on our scheme), a server URL, or None."""
    env = os.environ if env is None else env
    pack_path = env.get(PACK_ENV, "").strip()
    attribution = env.get(ATTRIBUTION_ENV, "").strip()
    if pack_path:
        try:
            pack = _pack(pack_path)
        except TilePackError as exc:
            log.warning("%s; the maps draw without tiles", exc)
        else:
            if not pack.info.raster:
                log.warning("%s holds %s (vector) tiles, which these maps cannot draw; give a pack of PNG, JPEG "
                            "or WebP tiles", pack_path, pack.info.format)
                return _url_source(env, attribution)
            return TileSource(url=PACK_URL, attribution=attribution or pack.info.attribution or Path(pack_path).name,
                              max_zoom=_MAX_ZOOM, max_native_zoom=pack.info.max_zoom, local=True)
    return _url_source(env, attribution)


def _url_source(env: Mapping[str, str], attribution: str) -> TileSource | None:
    url = env.get(URL_ENV, "").strip()
    if not url:
        return None
    return TileSource(url=url, attribution=attribution or url)


class TilePackHandler(QWebEngineUrlSchemeHandler):
    """Answers ``emdesk-tiles://pack/z/x/y`` from the pack; a tile it lacks is a 404."""

    def __init__(self, pack: TilePack, parent=None):
        super().__init__(parent)
        self.pack = pack
        self.served = 0

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:  # noqa: N802 (Qt's name)
        url = job.requestUrl()
        found = _PATH.match(url.path())
        if url.host() != "pack" or found is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlInvalid)
            return
        z, x, y = (int(g) for g in found.groups())
        try:
            data = self.pack.tile(z, x, y)
        except Exception:          # a damaged pack: one missing tile, not a crashed page
            log.exception("tile %s/%s/%s from %s", z, x, y, self.pack.path)
            data = None
        if data is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        reply = QBuffer(job)       # lives as long as the request
        reply.setData(QByteArray(data))
        reply.open(QBuffer.OpenModeFlag.ReadOnly)
        job.reply(QByteArray(self.pack.info.mime.encode()), reply)
        self.served += 1


_PACKS: dict[str, TilePack] = {}
_HANDLERS: dict[int, TilePackHandler] = {}


def _pack(path: str) -> TilePack:
    key = str(Path(path).expanduser().resolve())
    if key not in _PACKS:
        _PACKS[key] = open_tile_pack(key)
    return _PACKS[key]


def serve_tile_pack(profile: QWebEngineProfile | None = None, path: str | None = None) -> TilePackHandler | None:
    """Answer the tiles' scheme on ``profile`` (the default one) from ``path`` (the
    configured pack); None, and nothing installed, without a readable pack.  Call once
    the application exists; again with another pack to switch."""
    path = path if path is not None else os.environ.get(PACK_ENV, "").strip()
    if not path:
        return None
    try:
        pack = _pack(path)
    except TilePackError as exc:
        log.warning("%s", exc)
        return None
    profile = profile or QWebEngineProfile.defaultProfile()
    handler = _HANDLERS.get(id(profile))
    if handler is not None:
        handler.pack = pack               # one handler per profile; a new pack swaps in
        return handler
    handler = TilePackHandler(pack)
    profile.installUrlSchemeHandler(QByteArray(SCHEME), handler)
    _HANDLERS[id(profile)] = handler      # the profile does not own it: keep it alive
    return handler


__all__ = ["PACK_URL", "SCHEME", "TilePackHandler", "register_tile_scheme", "serve_tile_pack", "tile_source"]
