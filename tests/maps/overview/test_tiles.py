"""Tiles as configured: an offline pack (MBTiles, PMTiles) served to the page on emdesk's
own scheme, a tile server URL, or none."""
from __future__ import annotations

import json

import pytest
from PySide6.QtGui import QImage

from emdesk.services.map_tiles import TilePackError, open_tile_pack
from emdesk.ui import qt_app  # noqa: F401  (registers the tiles' scheme before the QApplication)
from emdesk.ui.maps.layers import trail_layer
from emdesk.ui.maps.page import MapBuilder
from emdesk.ui.maps.tiles import PACK_URL, serve_tile_pack, tile_source
from emdesk.ui.maps.view import MapView

from .tilekit import colour, make_mbtiles, make_pmtiles

MAKERS = {"mbtiles": make_mbtiles, "pmtiles": make_pmtiles}


@pytest.fixture(params=sorted(MAKERS))
def pack_path(request, tmp_path):
    return MAKERS[request.param](tmp_path / f"test.{request.param}")


@pytest.mark.parametrize("z, x, y", [(0, 0, 0), (1, 0, 0), (1, 1, 0), (1, 0, 1), (2, 1, 0), (2, 3, 2)])
def test_a_pack_gives_each_tile_by_its_web_numbering(qapp, pack_path, z, x, y):
    pack = open_tile_pack(pack_path)
    image = QImage.fromData(pack.tile(z, x, y))
    got = image.pixelColor(10, 10)
    assert (image.width(), (got.red(), got.green(), got.blue())) == (256, colour(z, x, y))
    assert (pack.info.mime, pack.info.max_zoom, pack.info.attribution) == ("image/png", 2, "Test tiles")


def test_a_tile_the_pack_lacks_is_none(pack_path):
    assert open_tile_pack(pack_path).tile(3, 0, 0) is None


@pytest.mark.parametrize("name, body, words", [
    ("missing.mbtiles", None, "no such tile pack"),
    ("tiles.zip", b"PK", "unknown tile pack type .zip"),
    ("broken.mbtiles", b"not sqlite at all" * 100, "not a readable MBTiles file"),
    ("broken.pmtiles", b"not pmtiles" * 100, "not a readable PMTiles file"),
])
def test_an_unreadable_pack_is_named_with_what_to_do(tmp_path, name, body, words):
    path = tmp_path / name
    if body is not None:
        path.write_bytes(body)
    with pytest.raises(TilePackError, match=words) as caught:
        open_tile_pack(path)
    assert str(path) in str(caught.value) and "EMDESK_MAP_TILE_PACK" in str(caught.value)


@pytest.mark.parametrize("env, url, local", [
    ({}, None, None),
    ({"EMDESK_MAP_TILES": "https://tiles.example/{z}/{x}/{y}.png"}, "https://tiles.example/{z}/{x}/{y}.png", False),
    ({"EMDESK_MAP_TILE_PACK": "PACK"}, PACK_URL, True),
    ({"EMDESK_MAP_TILE_PACK": "PACK", "EMDESK_MAP_TILES": "https://tiles.example/{z}/{x}/{y}.png"}, PACK_URL, True),
    ({"EMDESK_MAP_TILE_PACK": "/nowhere/x.mbtiles", "EMDESK_MAP_TILES": "https://t.example/{z}/{x}/{y}"},
     "https://t.example/{z}/{x}/{y}", False),
])
def test_the_configured_source_a_pack_first(pack_path, env, url, local):
    env = {k: str(pack_path) if v == "PACK" else v for k, v in env.items()}
    source = tile_source(env)
    assert (source and source.url, source and source.local) == (url, local)
    if local:
        assert source.max_native_zoom == 2 and source.attribution == "Test tiles"
        assert "maxNativeZoom" in MapBuilder(tiles=source).render()


def test_a_vector_pack_is_passed_over_for_the_url_or_a_plain_background(tmp_path, caplog):
    import sqlite3

    path = make_mbtiles(tmp_path / "vector.mbtiles")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE metadata SET value = 'pbf' WHERE name = 'format'")
    assert tile_source({"EMDESK_MAP_TILE_PACK": str(path)}) is None
    assert "cannot draw" in caplog.text and "vector.mbtiles" in caplog.text
    url = "https://t.example/{z}/{x}/{y}"
    assert tile_source({"EMDESK_MAP_TILE_PACK": str(path), "EMDESK_MAP_TILES": url}).url == url


def js(qtbot, view: MapView, script: str):
    with qtbot.waitCallback(timeout=10_000) as callback:
        view.run_js(f"JSON.stringify({script})", callback)
    return json.loads(callback.args[0])


_LOADED = ("Array.from(document.querySelectorAll('img.leaflet-tile')).filter(function (i) {"
           " return i.complete && i.naturalWidth > 0 && i.src.indexOf('emdesk-tiles://pack/') === 0; })"
           ".map(function (i) { return [i.src, i.naturalWidth]; })")


def test_the_page_shows_the_packs_tiles_with_remote_access_still_off(qtbot, tmp_path):
    # One pack kind here (the page may keep a tile it fetched once); both read alike above.
    pack_path = make_mbtiles(tmp_path / "page.mbtiles")
    handler = serve_tile_pack(path=str(pack_path))
    assert handler is not None
    source = tile_source({"EMDESK_MAP_TILE_PACK": str(pack_path)})
    view = MapView(tiles=source)
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    # A file:// page on a local scheme needs no remote access: keep it off, as for no tiles.
    from PySide6.QtWebEngineCore import QWebEngineSettings
    view.web.page().settings().setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, False)
    with qtbot.waitSignal(view.page_loaded, timeout=20_000) as loaded:
        view.show_layers(trail_layer([(52.48, -1.89), (52.49, -1.88)]))
    assert loaded.args == [True]
    qtbot.waitUntil(lambda: len(js(qtbot, view, _LOADED)) > 0, timeout=10_000)
    shown = js(qtbot, view, _LOADED)
    assert all(width == 256 for _, width in shown)
    assert handler.served >= len(shown)     # from the pack, through the handler
    # Zoomed past the pack, Leaflet asks for its deepest tiles (z2) and scales them up.
    assert {src.split("/")[3] for src, _ in shown} == {"2"}
