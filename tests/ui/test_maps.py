"""Maps: the web files installed offline, pages that never reach the network, and a
real QtWebEngine page that draws the route and reports clicks."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile

import pytest
from PySide6.QtWebEngineCore import QWebEngineSettings, QWebEngineUrlRequestInterceptor

from emdesk.domain.conditions import Circle, Polygon, Zone, ZoneKind
from emdesk.ui.maps import assets
from emdesk.ui.maps.layers import Pin, RouteData, route_layer, trail_layer, zone_layer
from emdesk.ui.maps.page import MapBuilder, remote_references
from emdesk.ui.maps.view import MapView

BASE = (52.4862, -1.8904)
STOPS = [Pin(f"v{i}", 52.45 + 0.03 * i, -1.95 + 0.05 * i, str(i), f"Stop {i}: O'Brien `x` ${{y}}")
         for i in range(1, 6)]
ZONES = (Zone(name="Victim's street", kind=ZoneKind.EXCLUSION, shape=Circle(lat=52.5, lon=-1.9, radius_m=300)),
         Zone(name="Town centre", kind=ZoneKind.INCLUSION,
              shape=Polygon(points=((52.47, -1.92), (52.49, -1.92), (52.49, -1.88)))))


def js(qtbot, view: MapView, script: str):
    with qtbot.waitCallback(timeout=10_000) as callback:
        view.run_js(f"JSON.stringify({script})", callback)
    return json.loads(callback.args[0])


def shown(qtbot, view: MapView, *layers):
    with qtbot.waitSignal(view.page_loaded, timeout=20_000) as loaded:
        assert view.show_layers(*layers)
    assert loaded.args == [True]
    qtbot.waitUntil(lambda: js(qtbot, view, "window.emdesk !== undefined"), timeout=5_000)


class Recorder(QWebEngineUrlRequestInterceptor):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def interceptRequest(self, info):       # noqa: N802 (Qt's name)
        self.urls.append(info.requestUrl().toString())


def allow_remote(web) -> None:
    """As with a tile server configured: the page may reach the network, so the
    interceptor sees whatever it would ask for (blocked, it would ask silently)."""
    settings = web.page().settings()
    settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True)
    settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)


_RECORDERS: list = []


@pytest.fixture
def recorder():
    from PySide6.QtWebEngineCore import QWebEngineProfile

    rec = Recorder()
    # Kept for the whole session: the profile's network thread may still hold it for a
    # moment after it is removed, and a deleted interceptor there is a crash.
    _RECORDERS.append(rec)
    profile = QWebEngineProfile.defaultProfile()
    profile.setUrlRequestInterceptor(rec)
    yield rec
    profile.setUrlRequestInterceptor(None)


# -- assets -------------------------------------------------------------------------

def test_every_pinned_package_is_installed_for_this_environment():
    assert assets.missing() == [], f"run {assets.FETCH_COMMAND}"
    assert assets.file_path("leaflet", "dist/leaflet.js").stat().st_size > 100_000
    # The folder layout is kept, so Leaflet's sheet finds its images and Font Awesome its fonts.
    assert assets.file_path("leaflet", "dist/images/marker-icon.png").exists()
    assert any(assets.file_path("@fortawesome/fontawesome-free", "webfonts").iterdir())


def _tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_fetch_verifies_the_integrity_keeps_the_layout_and_is_idempotent(tmp_path, monkeypatch):
    data = _tarball({"dist/lib.js": b"var lib = 1;", "dist/images/a.png": b"png"})
    package = assets.Package("@scope/lib", "1.0.0", _integrity(data))
    monkeypatch.setattr(assets, "PACKAGES", (package,))
    downloads = []

    def download(url, timeout):
        downloads.append(url)
        return data

    assert assets.fetch(tmp_path, download=download, log=lambda *_: None) == [package]
    assert downloads == ["https://registry.npmjs.org/@scope/lib/-/lib-1.0.0.tgz"]
    assert (tmp_path / "@scope+lib@1.0.0" / "dist" / "images" / "a.png").read_bytes() == b"png"
    assert assets.fetch(tmp_path, download=download, log=lambda *_: None) == []
    assert len(downloads) == 1                      # nothing fetched twice


def test_a_tampered_download_installs_nothing(tmp_path, monkeypatch):
    good = _tarball({"dist/lib.js": b"var lib = 1;"})
    package = assets.Package("lib", "1.0.0", _integrity(good))
    monkeypatch.setattr(assets, "PACKAGES", (package,))
    bad = _tarball({"dist/lib.js": b"steal();"})
    with pytest.raises(assets.AssetError, match="integrity mismatch"):
        assets.fetch(tmp_path, download=lambda url, timeout: bad, log=lambda *_: None)
    assert not (tmp_path / "lib@1.0.0").exists()
    assert assets.missing(tmp_path) == [package]


# -- pages --------------------------------------------------------------------------

def test_a_page_names_only_local_files_that_exist():
    builder = MapBuilder()
    builder.add(route_layer(RouteData(base=BASE, stops=STOPS))).add(zone_layer(ZONES))
    builder.add(trail_layer([(52.48, -1.90), (52.481, -1.899), (52.482, -1.897)]))
    html = builder.render()
    assert remote_references(html) == []
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html)
    local = re.findall(r"""(?:src|href)="(file://[^"]+)\"""", html)
    assert len(local) >= 8
    from urllib.parse import unquote, urlparse
    for url in local:
        assert (p := unquote(urlparse(url).path)) and __import__("pathlib").Path(p).is_file(), url


def test_the_remote_check_catches_a_cdn_file():
    assert remote_references('<script src="https://cdn.example/x.js"></script>')
    assert remote_references("<link rel='stylesheet' href='//cdn.example/x.css'>")
    assert not remote_references('<script src="file:///opt/x.js"></script>')


def test_missing_assets_show_how_to_fetch_them(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("EMDESK_WEB_ASSETS", str(tmp_path / "nothing-here"))
    view = MapView()
    qtbot.addWidget(view)
    assert not view.show_layers(route_layer(RouteData(base=BASE, stops=STOPS)))
    assert view.showing_message
    assert assets.FETCH_COMMAND in view.message.text() and "leaflet@1.9.3" in view.message.text()


# -- a real page in QtWebEngine -----------------------------------------------------

def test_the_route_is_drawn_offline_with_numbered_stops_and_a_scale(qtbot, recorder):
    view = MapView()
    qtbot.addWidget(view)
    allow_remote(view.web)
    view.resize(800, 600)
    view.show()
    shown(qtbot, view, route_layer(RouteData(base=BASE, stops=STOPS)), zone_layer(ZONES))
    assert js(qtbot, view, "typeof L") == "object"
    assert js(qtbot, view, "Object.keys(emdesk.markers).sort()") == ["base", "v1", "v2", "v3", "v4", "v5"]
    assert js(qtbot, view, "Array.from(document.querySelectorAll('.emdesk-pin')).map(e => e.textContent)") \
        == ["B", "1", "2", "3", "4", "5"]
    # One route line through base, the five stops, and back to base.
    assert js(qtbot, view, "emdesk.lines.map(l => l.getLatLngs().length)") == [7]
    assert js(qtbot, view, "document.querySelectorAll('path.emdesk-zone').length") == 2
    assert js(qtbot, view, "document.querySelectorAll('.leaflet-control-scale').length") == 1
    # Nothing but local files was asked for.
    assert recorder.urls, "the interceptor saw the page load"
    remote = [u for u in recorder.urls if not u.startswith(("file:", "data:"))]
    assert remote == []


def test_the_interceptor_would_see_a_remote_request(qtbot, recorder, tmp_path):
    """The no-network check can fail: a page that asks for a CDN file is seen asking."""
    from PySide6.QtCore import QUrl
    from PySide6.QtWebEngineWidgets import QWebEngineView

    page = tmp_path / "leaky.html"
    page.write_text('<html><head><script src="https://cdn.invalid/leaflet.js"></script></head></html>')
    view = QWebEngineView()
    qtbot.addWidget(view)
    allow_remote(view)
    with qtbot.waitSignal(view.loadFinished, timeout=20_000):
        view.load(QUrl.fromLocalFile(str(page)))
    assert any(u.startswith("https://cdn.invalid/") for u in recorder.urls)


def test_a_click_on_a_stop_names_it_and_selecting_highlights_it(qtbot):
    view = MapView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    shown(qtbot, view, route_layer(RouteData(base=BASE, stops=STOPS)))
    for key in ("v3", "v3", "base"):          # the same stop twice is two clicks
        with qtbot.waitSignal(view.marker_clicked, timeout=5_000) as clicked:
            view.run_js(f"emdesk.markers['{key}'].fire('click')", lambda _: None)
        assert clicked.args == [key]
    view.select("v2")
    qtbot.waitUntil(lambda: js(qtbot, view, "Array.from(document.querySelectorAll('.emdesk-pin.selected'))"
                                            ".map(e => e.textContent)") == ["2"], timeout=5_000)


def test_tooltips_cannot_break_out_of_the_page(qtbot):
    view = MapView()
    qtbot.addWidget(view)
    shown(qtbot, view, route_layer(RouteData(base=None, stops=STOPS[:1])))
    # The backtick and ${...} in the tooltip stayed text: the page's script ran to the end.
    assert js(qtbot, view, "Object.keys(emdesk.markers)") == ["v1"]
    assert "O&#39;Brien" in view.page_path.read_text() or "O&#x27;Brien" in view.page_path.read_text()


def test_only_a_configured_tile_server_lets_the_page_reach_the_network(qtbot):
    from emdesk.ui.maps.page import TileSource

    remote = QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls
    offline = MapView(tiles=None)
    qtbot.addWidget(offline)
    assert offline.tiles is None and not offline.web.page().settings().testAttribute(remote)
    tiles = TileSource(url="https://tiles.example/{z}/{x}/{y}.png", attribution="Example")
    online = MapView(tiles=tiles)
    qtbot.addWidget(online)
    assert online.web.page().settings().testAttribute(remote)
    html = online.builder().add(route_layer(RouteData(base=BASE, stops=STOPS))).render()
    assert "https://tiles.example/{z}/{x}/{y}.png" in html and remote_references(html) == []
