"""The breach pack's map: what the pack asks the map code for, and the part it keeps.

The pack service knows nothing of Qt: it is handed a ``MapImage`` (the UI's headless
snapshot of the same map as the trail view) or none, and records why there is no map
when it gets nothing back.
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from emdesk.domain.clock import local
from emdesk.domain.packs import PackMap


@dataclass(frozen=True)
class MapRequest:
    """The trail and zones of ``order_id`` over [start, end], the violation
    [highlight_start, highlight_end] drawn out."""

    order_id: str
    start: datetime
    end: datetime
    highlight_start: datetime
    highlight_end: datetime


# A PNG of the request, or None when the map could not be drawn (no display, timed out).
MapImage = Callable[[MapRequest], "bytes | None"]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _hm(at: datetime) -> str:
    return f"{local(at):%H:%M}"


def caption(request: MapRequest) -> str:
    zone = local(request.start).tzname()
    return (f"Trail and zones {local(request.start):%a %d %b %Y} {_hm(request.start)} to {_hm(request.end)} {zone}; "
            f"the violation {_hm(request.highlight_start)}–{_hm(request.highlight_end)} highlighted")


def map_part(map_image: MapImage | None, request: MapRequest) -> PackMap:
    """The pack's map: the PNG when ``map_image`` draws one, else a note saying why not."""
    base = {"start": request.start, "end": request.end, "caption": caption(request)}
    if map_image is None:
        return PackMap(**base, note="no map: this pack was built where the map cannot be drawn (no display); "
                                    "rebuild it in the desktop app to add one")
    try:
        png = map_image(request)
    except Exception as exc:       # the map is evidence beside the rest: its failure must not lose the pack
        return PackMap(**base, note=f"no map: drawing it failed ({type(exc).__name__}: {exc})")
    if not png:
        return PackMap(**base, note="no map: the map did not draw in time; rebuild the pack to try again")
    if not png.startswith(PNG_MAGIC):
        return PackMap(**base, note="no map: the map drawn was not a PNG image")
    return PackMap(**base, png_base64=base64.b64encode(png).decode("ascii"))


__all__ = ["MapImage", "MapRequest", "caption", "map_part"]
