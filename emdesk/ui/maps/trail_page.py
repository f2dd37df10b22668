"""The trail page: one wearer's trail as a JSON blob drawn by the page's own script.

A week is thousands of fixes; as folium objects each would be a line of generated
JavaScript and a Leaflet layer made one by one.  Instead the page carries the trail as
one JSON document (parsed once) and ``resources/maps/trail.js`` draws it on a canvas:
the simplified line, a dot per kept fix (its time on hover), doubtful fixes with their
accuracy, the incidents' stretches, stops with their dwell, the curfew address, and the
replay marker.  Zones are the shared ``zone_layer``.  Everything is local (``MapBuilder``
localises folium's files; the script and sheet are inlined), so the page works offline.

``render_trail`` makes no Qt object: it is safe off the GUI thread (the store lane).
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from branca.element import Element, MacroElement
from jinja2 import Template

from emdesk.domain.engine.events import ms
from emdesk.domain.trails import DEFAULT_STOP_RADIUS_M, Fix
from emdesk.services.trails import Trail

from .. import palette
from ..resources import RESOURCES
from .layers import zone_layer
from .page import AssetsMissing, MapBuilder, TileSource, write_page
from .view import RenderedPage

TRAIL_JS = RESOURCES / "maps" / "trail.js"
TRAIL_CSS = RESOURCES / "maps" / "trail.css"
_DATA_ID = "emdesk-trail-data"
_NEEDED = {"leaflet", "leaflet_css"}


def fix_row(f: Fix) -> list:
    """A fix as the page's ``addFixes`` takes it."""
    return [f.at_ms, round(f.lat, 6), round(f.lon, 6), round(f.accuracy_m, 1), f.doubtful]


def trail_data(trail: Trail, highlight: tuple[datetime, datetime | None] | None = None) -> dict[str, Any]:
    """The blob the page draws from: every fix as columns, the kept indices, stops, stretches."""
    stretches = [{"start": i.start_ms, "end": i.end_ms, "label": f"{i.condition}: {', '.join(i.codes)}",
                  "highlight": False} for i in trail.incidents]
    if highlight is not None:
        # An incident still going has no end yet: to the end of the window.
        lo, hi = ms(highlight[0]), ms(highlight[1]) if highlight[1] is not None else trail.end_ms
        for s in stretches:          # the incident being looked at stands out from the others
            s["highlight"] = s["start"] < hi and (s["end"] is None or s["end"] > lo)
        if not any(s["highlight"] for s in stretches):
            stretches.append({"start": lo, "end": hi, "label": "selected period", "highlight": True})
    return {
        "window": [trail.start_ms, trail.end_ms],
        "fixes": {"t": trail.at.tolist(), "lat": np.round(trail.lat, 6).tolist(),
                  "lon": np.round(trail.lon, 6).tolist(), "acc": np.round(trail.accuracy_m, 1).tolist(),
                  "doubtful": np.flatnonzero(trail.doubtful).tolist()},
        "kept": trail.kept.tolist(),
        "stops": [{"start": s.start_ms, "end": s.end_ms, "lat": s.lat, "lon": s.lon} for s in trail.stops],
        "crossings": [{"t": c.at_ms, "zone": c.zone, "entered": c.entered} for c in trail.crossings],
        "stretches": stretches,
        "home": list(trail.home) if trail.home else None,
        "stopRadius": DEFAULT_STOP_RADIUS_M,
        "colours": {"trail": palette.css("map-trail"), "stretch": palette.css("bad")},
    }


def _inline(path: Path, tag: str) -> str:
    return f"<{tag}>\n{path.read_text(encoding='utf-8')}\n</{tag}>"


class _TrailScript(MacroElement):
    _template = Template("""
{% macro script(this, kwargs) %}
emdesk.trail.init({{ this.map_name }}, JSON.parse(document.getElementById({{ this.data_id|tojson }}).textContent));
{% endmacro %}
""")

    def __init__(self, map_name: str):
        super().__init__()
        self._name = "EmdeskTrail"
        self.map_name, self.data_id = map_name, _DATA_ID


def _extent(trail: Trail) -> list[tuple[float, float]]:
    """The corners of what the trail covers (the page fits its view to them)."""
    points = []
    if len(trail):
        points += [(float(trail.lat.min()), float(trail.lon.min())), (float(trail.lat.max()), float(trail.lon.max()))]
    if trail.home:
        points.append(trail.home)
    return points


def trail_layers(trail: Trail, highlight: tuple[datetime, datetime] | None = None):
    """The layers of a trail page, for ``MapBuilder.add``."""
    def trail_layer(builder) -> Iterable[tuple[float, float]]:
        # Leaflet alone: the page has no Bootstrap widgets, no icon fonts, no jQuery, and
        # parsing their files was a third of the time to draw.
        builder.map.default_js = [e for e in type(builder.map).default_js if e[0] in _NEEDED]
        builder.map.default_css = [e for e in type(builder.map).default_css if e[0] in _NEEDED]
        blob = json.dumps(trail_data(trail, highlight), separators=(",", ":")).replace("</", "<\\/")
        header = builder.map.get_root().header
        header.add_child(Element(_inline(TRAIL_CSS, "style")))
        header.add_child(Element(_inline(TRAIL_JS, "script")))
        header.add_child(Element(f'<script type="application/json" id="{_DATA_ID}">{blob}</script>'))
        builder.map.add_child(_TrailScript(builder.map.get_name()))
        return _extent(trail)
    return [zone_layer(trail.zones), trail_layer]


def render_trail(trail: Trail, *, tiles: TileSource | None, folder: Path,
                 highlight: tuple[datetime, datetime] | None = None) -> RenderedPage:
    """Write the trail page to a new file in ``folder``; safe off the GUI thread."""
    try:
        builder = MapBuilder(tiles=tiles)
        for layer in trail_layers(trail, highlight):
            builder.add(layer)
        html = builder.render()
    except AssetsMissing as exc:
        return RenderedPage(None, str(exc))
    return RenderedPage(write_page(html, folder, f"trail-{uuid.uuid4().hex[:12]}.html"))


def fixes_script(fixes: Sequence[Fix]) -> str:
    """The JavaScript that appends ``fixes`` to an open trail page."""
    return f"emdesk.trail.addFixes({json.dumps([fix_row(f) for f in fixes], separators=(',', ':'))})"


__all__ = ["fix_row", "fixes_script", "render_trail", "trail_data", "trail_layers"]
