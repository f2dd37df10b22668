"""The overview's page: every wearer's last position, clustered, coloured by status.

Plain data in (``WearerPosition``), no Qt: the page renders off the GUI thread.  Each
wearer is a marker in ``emdesk.markers`` keyed by order id (clicks come back through the
bridge), and the page keeps ``emdesk.overview.update(rows)``: live refreshes move and
recolour markers in place, add the new and drop the gone, without reloading the page.
The first load goes through the same function, from one JSON list in the page.
A cluster takes the colour of the worst status inside it.
"""
from __future__ import annotations

import html
import json
from typing import Any, Iterable, Sequence

from branca.element import Element, MacroElement
from folium.plugins import MarkerCluster
from jinja2 import Template

from emdesk.services.fleet_map import WearerPosition

from .. import palette
from ..formatting import fmt_when

# status -> (colour, words); the worst first (the service's own order).
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "violation": ("bad", "In violation"),
    "silent": ("faint", "Silent"),
    "technical": ("map-technical", "Technical fault"),
    "ok": ("good", "OK"),
}
WORST_FIRST = list(STATUS_STYLE)
UNCLUSTER_AT_ZOOM = 16           # close in, every wearer is their own marker


def _style() -> str:
    rules = []      # the marker's shape is in the map's style sheet; its colour is the palette's
    for status, (name, _) in STATUS_STYLE.items():
        colour = palette.css(name)
        rules.append(f".emdesk-wearer.{status} {{ background: {colour}; }}")
        rules.append(f".marker-cluster.emdesk-cluster.{status} {{ background: {colour}66; }}")
        rules.append(f".marker-cluster.emdesk-cluster.{status} div {{ background: {colour}; }}")
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def tooltip_html(p: WearerPosition) -> str:
    """What hovering a wearer shows: reference, name, status and why, last fix and contact."""
    lines = [f"<b>{html.escape(p.reference)}</b>" + (f" {html.escape(p.name)}" if p.name else ""),
             html.escape(STATUS_STYLE.get(p.status, ("", p.status))[1])
             + (": " + html.escape("; ".join(p.reasons)) if p.reasons else ""),
             f"Last fix {html.escape(fmt_when(p.at))}",
             f"Last contact {html.escape(fmt_when(p.last_contact)) if p.last_contact else 'never'}"]
    return "<br>".join(lines)


def marker_rows(positions: Sequence[WearerPosition]) -> list[dict[str, Any]]:
    """What the page's ``update`` takes: one plain row per wearer."""
    return [{"key": p.order_id, "lat": p.lat, "lon": p.lon, "status": p.status, "tip": tooltip_html(p)}
            for p in positions]


def update_script(positions: Sequence[WearerPosition]) -> str:
    """JavaScript that brings the open page up to ``positions``; it returns how many
    markers changed."""
    return f"window.emdesk && emdesk.overview ? emdesk.overview.update({json.dumps(marker_rows(positions))}) : -1"


_CLUSTER_ICON = """
function (cluster) {
  var worst = emdeskWorst(cluster.getAllChildMarkers());
  return L.divIcon({html: '<div><span>' + cluster.getChildCount() + '</span></div>',
                    className: 'marker-cluster emdesk-cluster ' + worst, iconSize: new L.Point(40, 40)});
}
"""


class _Live(MacroElement):
    """``emdesk.overview``: the cluster, and ``update(rows)`` for live refreshes."""

    _template = Template("""
{% macro header(this, kwargs) %}
<script>
var EMDESK_WORST = {{ this.worst|tojson }};
function emdeskWorst(markers) {
  var best = EMDESK_WORST.length - 1;
  markers.forEach(function (m) {
    var i = EMDESK_WORST.indexOf(m.options.status);
    if (i >= 0 && i < best) { best = i; }
  });
  return EMDESK_WORST[best];
}
</script>
{% endmacro %}
{% macro script(this, kwargs) %}
window.emdesk = window.emdesk || {markers: {}, lines: [], map: null, clicks: 0};
emdesk.overview = (function (cluster) {
  function icon(status) {
    return L.divIcon({html: '<div class="emdesk-wearer ' + status + '"></div>', className: 'emdesk-wearer-icon',
                      iconSize: [18, 18], iconAnchor: [9, 9]});
  }
  function make(r) {
    var m = L.marker([r.lat, r.lon], {icon: icon(r.status), status: r.status});
    m.bindTooltip(r.tip);
    m.on('click', function () { emdesk.tell(r.key); });
    emdesk.markers[r.key] = m;
    return m;
  }
  return {
    cluster: cluster,
    updates: 0,
    update: function (rows) {
      var seen = {}, changed = 0, fresh = [];
      rows.forEach(function (r) {
        seen[r.key] = true;
        var m = emdesk.markers[r.key];
        if (!m) { fresh.push(make(r)); changed += 1; return; }
        var at = m.getLatLng(), moved = at.lat !== r.lat || at.lng !== r.lon;
        var recoloured = m.options.status !== r.status;
        if (moved || recoloured) {
          // A clustered marker is taken out, changed and put back: the cluster recounts.
          cluster.removeLayer(m);
          m.setLatLng([r.lat, r.lon]);
          m.options.status = r.status;
          m.setIcon(icon(r.status));
          cluster.addLayer(m);
          changed += 1;
        }
        m.setTooltipContent(r.tip);
      });
      if (fresh.length) { cluster.addLayers(fresh); }     // in bulk: thousands at once
      Object.keys(emdesk.markers).forEach(function (k) {
        if (!seen[k]) { cluster.removeLayer(emdesk.markers[k]); delete emdesk.markers[k]; changed += 1; }
      });
      this.updates += 1;
      return changed;
    },
    statuses: function () {
      var out = {};
      Object.keys(emdesk.markers).forEach(function (k) { out[k] = emdesk.markers[k].options.status; });
      return out;
    }
  };
})({{ this.cluster }});
emdesk.overview.update({{ this.rows|tojson }});
{% endmacro %}
""")

    def __init__(self, cluster_name: str, rows: list[dict[str, Any]]):
        super().__init__()
        self._name = "EmdeskOverview"
        self.cluster = cluster_name
        self.worst = WORST_FIRST
        self.rows = rows


def overview_layer(positions: Sequence[WearerPosition]):
    """All wearers' last positions in one cluster layer, with a legend-matching style."""
    def add(builder) -> Iterable[tuple[float, float]]:
        builder.map.get_root().header.add_child(Element(_style()))
        builder.map.options.setdefault("maxZoom", 19)      # clustering needs the map's own
        cluster = MarkerCluster(name="Wearers", icon_create_function=_CLUSTER_ICON,
                                disable_clustering_at_zoom=UNCLUSTER_AT_ZOOM, show_coverage_on_hover=False)
        cluster.add_to(builder.map)
        # The markers are made in the page from one JSON list (the same ``update`` the live
        # refreshes call): a folium element each measured 1.5 ms and 1 KiB a wearer.
        builder.map.add_child(_Live(cluster.get_name(), marker_rows(positions)))
        return [(p.lat, p.lon) for p in positions]
    return add


__all__ = ["STATUS_STYLE", "UNCLUSTER_AT_ZOOM", "marker_rows", "overview_layer", "tooltip_html", "update_script"]
