"""folium made local: a map page whose every script and style is a file on this machine.

folium's pages name their scripts and styles in class attributes (``default_js`` and
``default_css`` on ``folium.Map`` and on each plugin).  ``localise`` rewrites them, once
per process, to the files ``assets`` installed, and drops the ones with no local copy
(Bootstrap 3's glyphicons, folium's icon-rotation sheet: nothing here uses them).  A
rendered page is checked for any remaining ``http(s)://`` script or sheet before it is
used, so a folium upgrade that adds a CDN file fails loudly instead of leaking.

A page is written to a file and loaded from it: ``QWebEngineView.setHtml`` stops at 2 MB.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import folium
from branca.element import Element, MacroElement
from folium.plugins import MarkerCluster
from jinja2 import Template

from ..resources import MAP_STYLE
from . import assets

# folium's entry name -> (npm package, file inside it).
_LOCAL: dict[str, tuple[str, str]] = {
    "leaflet": ("leaflet", "dist/leaflet.js"),
    "leaflet_css": ("leaflet", "dist/leaflet.css"),
    "jquery": ("jquery", "dist/jquery.min.js"),
    "bootstrap": ("bootstrap", "dist/js/bootstrap.bundle.min.js"),
    "bootstrap_css": ("bootstrap", "dist/css/bootstrap.min.css"),
    "awesome_markers": ("leaflet.awesome-markers", "dist/leaflet.awesome-markers.js"),
    "awesome_markers_css": ("leaflet.awesome-markers", "dist/leaflet.awesome-markers.css"),
    "awesome_markers_font_css": ("@fortawesome/fontawesome-free", "css/all.min.css"),
    "markerclusterjs": ("leaflet.markercluster", "dist/leaflet.markercluster.js"),
    "markerclustercss": ("leaflet.markercluster", "dist/MarkerCluster.css"),
    "markerclusterdefaultcss": ("leaflet.markercluster", "dist/MarkerCluster.Default.css"),
}
# The classes whose files the maps use; their folium defaults, as first seen.
_CLASSES = (folium.Map, MarkerCluster)
_ORIGINAL = {cls: (list(cls.default_js), list(cls.default_css)) for cls in _CLASSES}
_REMOTE = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?\s*(https?:)?//""", re.I)


class AssetsMissing(RuntimeError):
    """The map's web files are not installed; the message says how to install them."""


def message_for_missing(missing: Sequence[assets.Package], root: Path) -> str:
    names = ", ".join(f"{p.name}@{p.version}" for p in missing)
    return (f"The map cannot be shown: its web files are not installed ({names} missing from {root}). "
            f"Install them once, with a network connection: {assets.FETCH_COMMAND}")


def localise(root: Path | None = None) -> Path:
    """Point folium's classes at the local files; raises ``AssetsMissing`` if any are absent."""
    root = root or assets.asset_dir()
    gone = assets.missing(root)
    if gone:
        raise AssetsMissing(message_for_missing(gone, root))

    def local(entries):
        out = []
        for name, _url in entries:
            if name in _LOCAL:
                package, relative = _LOCAL[name]
                out.append((name, assets.file_path(package, relative, root).as_uri()))
        return out

    for cls, (js, css) in _ORIGINAL.items():
        cls.default_js = local(js)
        cls.default_css = local(css)
    return root


def remote_references(html: str) -> list[str]:
    """Script or style-sheet tags in ``html`` that would load from the network."""
    return [m.group(0) for m in _REMOTE.finditer(html)]


@dataclass(frozen=True)
class TileSource:
    """Configured tiles (a URL template with {z}/{x}/{y}); none by default.  ``local``: an
    offline pack served on emdesk's own scheme (``tiles.py``), no network needed."""

    url: str
    attribution: str = ""
    max_zoom: int = 19
    max_native_zoom: int | None = None     # deeper than this, the deepest tiles are scaled up
    local: bool = False


def tile_source_from_env() -> TileSource | None:
    """EMDESK_MAP_TILE_PACK (a pack file) or EMDESK_MAP_TILES (a URL); see ``tiles.py``."""
    from .tiles import tile_source
    return tile_source()


Layer = Callable[[folium.Map], Iterable[tuple[float, float]]]
"""Adds itself to a map and returns the points it covers (to fit the view to)."""


def _page_style() -> str:
    try:
        return f"<style>\n{MAP_STYLE.read_text(encoding='utf-8')}\n</style>"
    except OSError:
        return ""          # plain pins are still a working map


class _Bridge(MacroElement):
    """What the Qt side talks to: ``emdesk.markers`` by key, ``emdesk.select(key)``, and
    the page title ``emdesk:select:<key>#<n>`` when a marker is clicked."""

    _template = Template("""
{% macro script(this, kwargs) %}
window.emdesk = window.emdesk || {markers: {}, lines: [], map: null, clicks: 0};
emdesk.map = {{ this.map_name }};
emdesk.tell = function (key) { emdesk.clicks += 1; document.title = 'emdesk:select:' + key + '#' + emdesk.clicks; };
{% for key, name in this.markers %}
emdesk.markers[{{ key|tojson }}] = {{ name }};
{{ name }}.on('click', function () { emdesk.tell({{ key|tojson }}); });
{% endfor %}
{% for name in this.lines %}emdesk.lines.push({{ name }});
{% endfor %}
emdesk.bounds = {{ this.bounds|tojson }};
if (emdesk.bounds) {
  // The page is laid out before its widget settles: frame the route again when it resizes.
  new ResizeObserver(function () {
    emdesk.map.invalidateSize();
    emdesk.map.fitBounds(emdesk.bounds, {padding: [28, 28], maxZoom: 15});
  }).observe(emdesk.map.getContainer());
}
emdesk.select = function (key) {
  Object.keys(emdesk.markers).forEach(function (k) {
    var el = emdesk.markers[k].getElement && emdesk.markers[k].getElement();
    var pin = el && el.querySelector('.emdesk-pin');
    if (pin) { pin.classList.toggle('selected', k === key); }
    if (emdesk.markers[k].setZIndexOffset) { emdesk.markers[k].setZIndexOffset(k === key ? 1000 : 0); }
  });
  var m = emdesk.markers[key];
  // Bring it into view only if it is out of it: the route stays framed as fitted.
  if (m && m.getLatLng && !emdesk.map.getBounds().pad(-0.05).contains(m.getLatLng())) {
    emdesk.map.panTo(m.getLatLng());
  }
  return !!m;
};
{% endmacro %}
""")

    def __init__(self, map_name: str, markers: list[tuple[str, str]], lines: list[str], bounds):
        super().__init__()
        self._name = "EmdeskBridge"
        self.map_name, self.markers, self.lines, self.bounds = map_name, markers, lines, bounds


class MapBuilder:
    """Collects layers on one folium map; layers register markers and lines with it."""

    def __init__(self, *, tiles: TileSource | None = None, center: tuple[float, float] = (52.5, -1.9),
                 zoom: int = 7):
        localise()
        self.map = folium.Map(location=list(center), zoom_start=zoom, tiles=None, control_scale=True,
                              prefer_canvas=False, max_zoom=19)
        if tiles is not None:
            extra = {"max_native_zoom": tiles.max_native_zoom} if tiles.max_native_zoom else {}
            folium.TileLayer(tiles=tiles.url, attr=tiles.attribution, max_zoom=tiles.max_zoom, **extra).add_to(self.map)
        self.map.get_root().header.add_child(Element(_page_style()))
        self.points: list[tuple[float, float]] = []
        self._markers: list[tuple[str, str]] = []
        self._lines: list[str] = []

    def marker(self, key: str, element) -> None:
        self._markers.append((key, element.get_name()))

    def line(self, element) -> None:
        self._lines.append(element.get_name())

    def add(self, layer: Callable[["MapBuilder"], Iterable[tuple[float, float]]]) -> "MapBuilder":
        self.points.extend(layer(self))
        return self

    def render(self) -> str:
        bounds = None
        if self.points:
            lats = [p[0] for p in self.points]
            lons = [p[1] for p in self.points]
            if len(set(self.points)) == 1:
                self.map.location = [lats[0], lons[0]]
                self.map.options["zoom"] = 15
            else:
                bounds = [[min(lats), min(lons)], [max(lats), max(lons)]]
                self.map.fit_bounds(bounds, padding=(28, 28), max_zoom=15)
        self.map.add_child(_Bridge(self.map.get_name(), self._markers, self._lines, bounds))
        html = self.map.get_root().render()
        remote = remote_references(html)
        if remote:
            raise AssetsMissing(f"the map page would load files from the network ({remote[0]}…): "
                                "a folium upgrade added one; add it to emdesk.ui.maps.page._LOCAL")
        return html


def write_page(html: str, folder: Path, name: str = "map.html") -> Path:
    """Write the page beside nothing else (the folder is private to one view)."""
    path = folder / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
