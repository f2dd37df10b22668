"""What goes on a map, each layer a function of plain data: a route, a trail, zones.

A layer is ``layer(builder) -> points``: it adds its folium elements to
``builder.map``, registers clickable markers with ``builder.marker(key, element)`` (the
Qt side hears their clicks and can select them), and returns the points it covers so
the page can fit the view to everything shown.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Iterable, Sequence

import folium

from emdesk.domain.conditions import Circle, Polygon, Zone, ZoneKind

from .. import palette


def _safe(text: str) -> str:
    """Text for a folium tooltip, which lands inside a JavaScript template literal."""
    return html.escape(text).replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


@dataclass(frozen=True)
class Pin:
    key: str                 # what a click reports (a visit id)
    lat: float
    lon: float
    label: str               # the few characters inside the pin ("3")
    tooltip: str = ""
    style: str = ""          # "", "danger", "done", "failed", "unplanned", "base"


@dataclass(frozen=True)
class RouteData:
    base: tuple[float, float] | None
    stops: Sequence[Pin]     # in route order; "unplanned" stops are shown but not joined
    colour: str = ""         # the palette's map-route when empty
    back_to_base: bool = True


def _pin(builder, pin: Pin):
    icon = folium.DivIcon(html=f'<div class="emdesk-pin {pin.style}">{_safe(pin.label)}</div>',
                          icon_size=(26, 26), icon_anchor=(13, 13), class_name="emdesk-stop")
    marker = folium.Marker([pin.lat, pin.lon], icon=icon,
                           tooltip=folium.Tooltip(_safe(pin.tooltip)) if pin.tooltip else None)
    marker.add_to(builder.map)
    builder.marker(pin.key, marker)
    return marker


def route_layer(route: RouteData):
    def add(builder) -> Iterable[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        path: list[tuple[float, float]] = []
        if route.base is not None:
            path.append(route.base)
            points.append(route.base)
        for stop in route.stops:
            points.append((stop.lat, stop.lon))
            if stop.style != "unplanned":
                path.append((stop.lat, stop.lon))
        if route.base is not None and route.back_to_base and len(path) > 1:
            path.append(route.base)
        if len(path) > 1:
            line = folium.PolyLine(path, color=route.colour or palette.css("map-route"), weight=4, opacity=0.75,
                                   class_name="emdesk-route")
            line.add_to(builder.map)
            builder.line(line)
        if route.base is not None:
            _pin(builder, Pin(key="base", lat=route.base[0], lon=route.base[1], label="B",
                              tooltip="Base: start and end of the day", style="base"))
        for stop in route.stops:
            _pin(builder, stop)
        return points
    return add


def trail_layer(points: Sequence[tuple[float, float]], *, colour: str = "", key: str = "trail"):
    """A GPS trail: a line through the fixes, oldest first, with its last fix marked."""
    def add(builder) -> Iterable[tuple[float, float]]:
        if len(points) > 1:
            line = folium.PolyLine(list(points), color=colour or palette.css("map-trail"), weight=3, opacity=0.8, class_name="emdesk-trail")
            line.add_to(builder.map)
            builder.line(line)
        if points:
            _pin(builder, Pin(key=key, lat=points[-1][0], lon=points[-1][1], label="●", tooltip="Last fix"))
        return list(points)
    return add


_ZONE_COLOURS = {ZoneKind.EXCLUSION: "zone-exclusion", ZoneKind.INCLUSION: "zone-inclusion"}


def zone_layer(zones: Sequence[Zone]):
    """An order's zones: exclusion red, inclusion green, named in a tooltip."""
    def add(builder) -> Iterable[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        for zone in zones:
            colour = palette.css(_ZONE_COLOURS.get(zone.kind, "muted"))
            tip = _safe(f"{zone.name} ({zone.kind.value})")
            shape = zone.shape
            if isinstance(shape, Circle):
                folium.Circle([shape.lat, shape.lon], radius=shape.radius_m, color=colour, fill=True,
                              fill_opacity=0.15, tooltip=tip, class_name="emdesk-zone").add_to(builder.map)
                points.append((shape.lat, shape.lon))
            elif isinstance(shape, Polygon):
                folium.Polygon(list(shape.points), color=colour, fill=True, fill_opacity=0.15, tooltip=tip,
                               class_name="emdesk-zone").add_to(builder.map)
                points.extend(shape.points)
        return points
    return add
