"""Where things are: England and Wales, postcodes, and zones measured in metres.

EM in this service covers England and Wales only, so an address or zone outside them
is an error at intake.  Distances and areas are measured on the British National Grid
(EPSG:27700), where a metre is a metre to within 0.04 %, never in degrees.
"""
from __future__ import annotations

import math
import re
from functools import cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point
from shapely.geometry import Polygon as ShapelyPolygon
from shapely.geometry.base import BaseGeometry

from .conditions import Circle, Polygon, Shape

# --- England and Wales -------------------------------------------------------------

# The outline below was derived from Natural Earth's 1:10m admin-0 coastline (public
# domain): Great Britain minus Northern Ireland, cut along a hand-traced Anglo-Scottish
# border (Solway Firth, Liddel Water, the Cheviot watershed, the Tweed, Marshall
# Meadows), simplified to about 700 m on the British National Grid and pushed 2 km out
# to sea, so that homes on the shore and on small inhabited islands that the
# simplification loses (Walney, Mersea; Holy Island, traced by hand) are not refused.
# Anglesey and the Isle of Wight join the mainland through that margin; Lundy and the
# Isles of Scilly are rings of their own.  The Isle of Man and the Channel Islands are
# not part of England and Wales and are left out.
# Points are (lat, lon) WGS84, rings not closed.


def _rings_polygon(rings: tuple[tuple[tuple[float, float], ...], ...]) -> BaseGeometry:
    return shapely.MultiPolygon([ShapelyPolygon([(lon, lat) for lat, lon in ring]) for ring in rings])


@cache
def england_and_wales() -> BaseGeometry:
    """England and Wales as a shapely MultiPolygon in (lon, lat) degrees."""
    shape = _rings_polygon(_EW_RINGS)
    shapely.prepare(shape)
    return shape


def in_england_and_wales(lat: float, lon: float) -> bool:
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    return england_and_wales().covers(Point(lon, lat))


# --- Postcodes ---------------------------------------------------------------------

# Royal Mail's format: outward code (area letters, district) + inward code (sector
# digit, two unit letters that never use C I K M O V).
_POSTCODE = re.compile(
    r"^(?:GIR 0AA|(?P<out>[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]"
    r"|[A-HK-Y][0-9][ABEHMNPRVWXY])) [0-9][ABD-HJLNP-UW-Z]{2})$"
)
_OUTWARD = re.compile(r"^[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])$")

ENGLAND_OR_WALES = "England or Wales"
SCOTLAND = "Scotland"
NORTHERN_IRELAND = "Northern Ireland"
GUERNSEY = "Guernsey"
JERSEY = "Jersey"
ISLE_OF_MAN = "Isle of Man"
# Postcode districts that straddle the Anglo-Scottish border (Cornhill / Coldstream,
# Berwick / Foulden): the postcode alone cannot say which side a home is on.
ENGLAND_OR_SCOTLAND = "England or Scotland"

_AREA_COUNTRY = {
    **{area: SCOTLAND for area in (
        "AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "TD", "ZE")},
    "BT": NORTHERN_IRELAND,
    "GY": GUERNSEY,
    "JE": JERSEY,
    "IM": ISLE_OF_MAN,
}
_CROSS_BORDER_DISTRICTS = frozenset({"TD12", "TD15"})


def normalise_postcode(text: str) -> str:
    """Upper case with one space before the inward code: ``"ls11ab"`` -> ``"LS1 1AB"``.

    Text that cannot be a postcode comes back upper-cased and trimmed, unchanged
    otherwise, so the person who typed it recognises it in an error message.
    """
    compact = re.sub(r"\s+", "", text or "").upper()
    if 5 <= len(compact) <= 7:
        return f"{compact[:-3]} {compact[-3:]}"
    return " ".join((text or "").upper().split())


def is_valid_postcode(text: str) -> bool:
    return bool(_POSTCODE.match(normalise_postcode(text)))


def is_outward_code(text: str) -> bool:
    """A postcode district on its own, e.g. ``"LS1"`` or ``"CF10"``."""
    return bool(_OUTWARD.match((text or "").strip().upper()))


def postcode_district(text: str) -> str | None:
    """The outward code (``"LS1 1AB"`` -> ``"LS1"``), or None if not a postcode."""
    match = _POSTCODE.match(normalise_postcode(text))
    if not match:
        return None
    return match["out"] or "GIR"


def postcode_area(text: str) -> str | None:
    """The leading letters (``"LS1 1AB"`` -> ``"LS"``), or None if not a postcode."""
    district = postcode_district(text)
    return re.match(r"[A-Z]+", district)[0] if district else None


def postcode_country(text: str) -> str | None:
    """Which country a postcode serves; one of the constants above, or None if invalid."""
    district = postcode_district(text)
    if district is None:
        return None
    if district in _CROSS_BORDER_DISTRICTS:
        return ENGLAND_OR_SCOTLAND
    return _AREA_COUNTRY.get(postcode_area(text), ENGLAND_OR_WALES)


# --- Projection and measurement ----------------------------------------------------


@cache
def _to_bng() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


@cache
def _from_bng() -> Transformer:
    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def to_bng(lat: float, lon: float) -> tuple[float, float]:
    """(easting, northing) in metres on the British National Grid."""
    return _to_bng().transform(lon, lat)


def from_bng(easting: float, northing: float) -> tuple[float, float]:
    """(lat, lon) WGS84 of a British National Grid point."""
    lon, lat = _from_bng().transform(easting, northing)
    return lat, lon


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    x1, y1 = to_bng(lat1, lon1)
    x2, y2 = to_bng(lat2, lon2)
    return math.hypot(x2 - x1, y2 - y1)


def lonlat_to_bng(geometry: BaseGeometry) -> BaseGeometry:
    """A shapely geometry in (lon, lat) degrees moved onto the grid, in metres."""
    return shapely.transform(geometry, lambda xy: _stack(_to_bng().transform(xy[:, 0], xy[:, 1])))


def bng_to_lonlat(geometry: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geometry, lambda xy: _stack(_from_bng().transform(xy[:, 0], xy[:, 1])))


def _stack(xs_ys: tuple) -> np.ndarray:
    return np.column_stack(xs_ys)


# --- Zones -------------------------------------------------------------------------

# 16 segments a quarter (64 round) draws a circle within 0.2 % of its true area.
_CIRCLE_SEGMENTS = 16


def _finite(*values: object) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)


def _plausible(lat: object, lon: object) -> bool:
    return _finite(lat, lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def zone_defect(shape: Shape | None) -> str | None:
    """Why a zone shape cannot be drawn, in plain words; None if it is sound."""
    if isinstance(shape, Circle):
        if not _plausible(shape.lat, shape.lon):
            return f"its centre ({shape.lat}, {shape.lon}) is not a latitude and longitude"
        if not _finite(shape.radius_m) or shape.radius_m <= 0:
            return f"its radius ({shape.radius_m}) is not a positive number of metres"
        return None
    if isinstance(shape, Polygon):
        points = tuple(shape.points or ())
        for i, point in enumerate(points):
            if not isinstance(point, (tuple, list)) or len(point) != 2 or not _plausible(*point):
                return f"point {i + 1} {point!r} is not a (latitude, longitude) pair"
        if len({tuple(p) for p in points}) < 3:
            return "it has fewer than 3 distinct corners"
        geometry = zone_geometry(shape)
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            if reason.startswith("Self-intersection"):
                return "its edges cross each other; list the corners in order around the boundary"
            return f"it is not a simple closed shape ({reason})"
        return None
    return "it has no shape; give a circle or a polygon"


def zone_geometry(shape: Shape) -> BaseGeometry:
    """The zone on the British National Grid, in metres (not checked for validity)."""
    if isinstance(shape, Circle):
        x, y = to_bng(shape.lat, shape.lon)
        return Point(x, y).buffer(shape.radius_m, quad_segs=_CIRCLE_SEGMENTS)
    if isinstance(shape, Polygon):
        return ShapelyPolygon([to_bng(lat, lon) for lat, lon in shape.points])
    raise TypeError(f"not a zone shape: {shape!r}")


def zone_area_m2(shape: Shape) -> float:
    if isinstance(shape, Circle):
        return math.pi * shape.radius_m**2
    return zone_geometry(shape).area


def zone_contains(shape: Shape, lat: float, lon: float) -> bool:
    """Whether a point is inside (or on the edge of) a zone."""
    if isinstance(shape, Circle):
        return distance_m(shape.lat, shape.lon, lat, lon) <= shape.radius_m
    geometry = zone_geometry(shape)
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    return geometry.covers(Point(*to_bng(lat, lon)))


# --- Data --------------------------------------------------------------------------

_EW_RINGS: tuple[tuple[tuple[float, float], ...], ...] = (
    # Great Britain south of the Scottish border, with Anglesey, the Isle of Wight and Holy Island
    (
        (50.105, -5.049), (50.058, -5.026), (49.998, -5.081), (49.994, -5.129), (49.93, -5.185), (49.985, -5.272),
        (50.021, -5.279), (50.066, -5.324), (50.111, -5.476), (50.102, -5.51), (50.077, -5.505), (50.044, -5.548),
        (50.024, -5.669), (50.039, -5.729), (50.089, -5.746), (50.101, -5.726), (50.135, -5.739), (50.175, -5.705),
        (50.237, -5.518), (50.238, -5.48), (50.22, -5.444), (50.256, -5.405), (50.27, -5.33), (50.345, -5.218),
        (50.36, -5.179), (50.411, -5.183), (50.441, -5.075), (50.55, -5.041), (50.582, -4.949), (50.606, -4.948),
        (50.612, -4.81), (50.649, -4.778), (50.685, -4.782), (50.689, -4.74), (50.722, -4.681), (50.752, -4.661),
        (50.786, -4.6), (50.813, -4.579), (50.9, -4.583), (50.975, -4.551), (51.033, -4.557), (51.033, -4.43),
        (51.018, -4.387), (51.015, -4.343), (51.022, -4.32), (51.08, -4.241), (51.169, -4.298), (51.169, -4.24),
        (51.201, -4.27), (51.229, -4.159), (51.251, -3.847), (51.266, -3.77), (51.244, -3.637), (51.246, -3.557),
        (51.226, -3.422), (51.205, -3.377), (51.226, -3.068), (51.242, -3.031), (51.342, -3.056), (51.341, -3.018),
        (51.353, -3.016), (51.372, -2.996), (51.384, -3.014), (51.418, -2.963), (51.414, -2.932), (51.498, -2.815),
        (51.515, -2.732), (51.524, -2.719), (51.619, -2.63), (51.572, -2.695), (51.528, -2.852), (51.524, -2.955),
        (51.536, -2.973), (51.518, -2.996), (51.484, -3.085), (51.445, -3.126), (51.443, -3.136), (51.431, -3.129),
        (51.377, -3.168), (51.384, -3.216), (51.366, -3.285), (51.381, -3.552), (51.456, -3.672), (51.452, -3.702),
        (51.48, -3.763), (51.555, -3.796), (51.603, -3.855), (51.595, -3.96), (51.59, -3.966), (51.545, -3.925),
        (51.545, -4.001), (51.525, -4.024), (51.543, -4.049), (51.535, -4.064), (51.546, -4.115), (51.522, -4.161),
        (51.526, -4.176), (51.516, -4.179), (51.541, -4.312), (51.576, -4.331), (51.586, -4.31), (51.629, -4.323),
        (51.639, -4.275), (51.66, -4.254), (51.653, -4.296), (51.662, -4.333), (51.729, -4.419), (51.717, -4.454),
        (51.723, -4.572), (51.715, -4.633), (51.706, -4.654), (51.622, -4.696), (51.636, -4.732), (51.627, -4.748),
        (51.626, -4.852), (51.576, -4.934), (51.6, -5.035), (51.622, -5.083), (51.638, -5.069), (51.642, -5.072),
        (51.65, -5.122), (51.682, -5.142), (51.66, -5.216), (51.697, -5.211), (51.736, -5.308), (51.749, -5.303),
        (51.753, -5.227), (51.775, -5.194), (51.789, -5.142), (51.843, -5.152), (51.859, -5.223), (51.839, -5.356),
        (51.859, -5.371), (51.88, -5.325), (51.932, -5.315), (51.94, -5.249), (51.958, -5.22), (51.975, -5.134),
        (51.986, -5.114), (52.044, -5.094), (52.046, -5.02), (52.027, -4.958), (52.028, -4.951), (52.054, -4.961),
        (52.038, -4.868), (52.061, -4.866), (52.079, -4.796), (52.137, -4.729), (52.129, -4.705), (52.138, -4.706),
        (52.156, -4.644), (52.156, -4.514), (52.219, -4.4), (52.232, -4.33), (52.291, -4.22), (52.373, -4.137),
        (52.49, -4.086), (52.54, -4.086), (52.6, -4.157), (52.661, -4.134), (52.714, -4.077), (52.769, -4.151),
        (52.816, -4.184), (52.837, -4.149), (52.898, -4.161), (52.901, -4.224), (52.874, -4.332), (52.874, -4.395),
        (52.847, -4.444), (52.842, -4.439), (52.822, -4.468), (52.797, -4.455), (52.768, -4.513), (52.796, -4.595),
        (52.781, -4.643), (52.785, -4.696), (52.761, -4.746), (52.783, -4.8), (52.84, -4.761), (52.944, -4.614),
        (52.96, -4.539), (53.038, -4.386), (53.114, -4.371), (53.119, -4.39), (53.102, -4.444), (53.137, -4.443),
        (53.17, -4.524), (53.205, -4.529), (53.215, -4.54), (53.239, -4.623), (53.265, -4.649), (53.265, -4.688),
        (53.314, -4.731), (53.343, -4.677), (53.338, -4.612), (53.326, -4.594), (53.362, -4.589), (53.404, -4.607),
        (53.445, -4.429), (53.437, -4.314), (53.412, -4.249), (53.38, -4.24), (53.37, -4.21), (53.318, -4.182),
        (53.32, -4.158), (53.338, -4.132), (53.313, -3.997), (53.252, -4.06), (53.278, -3.987), (53.299, -3.876),
        (53.356, -3.931), (53.368, -3.913), (53.335, -3.804), (53.338, -3.757), (53.305, -3.704), (53.307, -3.609),
        (53.369, -3.379), (53.37, -3.321), (53.289, -3.133), (53.372, -3.215), (53.403, -3.217), (53.453, -3.065),
        (53.453, -3.058), (53.559, -3.135), (53.663, -3.047), (53.718, -2.965), (53.718, -2.992), (53.731, -3.042),
        (53.764, -3.079), (53.913, -3.087), (53.947, -3.035), (53.972, -2.927), (53.967, -2.899), (53.969, -2.895),
        (53.981, -2.907), (53.98, -2.912), (54.037, -2.953), (54.096, -2.878), (54.103, -2.849), (54.125, -2.83),
        (54.178, -2.875), (54.136, -2.924), (54.143, -3.023), (54.163, -3.03), (54.156, -3.031), (54.095, -3.096),
        (54.089, -3.115), (54.032, -3.115), (54.028, -3.137), (54.084, -3.21), (54.101, -3.273), (54.155, -3.265),
        (54.176, -3.287), (54.171, -3.32), (54.272, -3.438), (54.332, -3.443), (54.339, -3.464), (54.384, -3.501),
        (54.511, -3.67), (54.57, -3.62), (54.648, -3.594), (54.734, -3.534), (54.749, -3.49), (54.767, -3.471),
        (54.801, -3.471), (54.896, -3.401), (54.92, -3.32), (54.96, -3.14), (54.99, -3.05), (55.04, -2.99),
        (55.08, -2.9), (55.13, -2.82), (55.19, -2.72), (55.28, -2.59), (55.36, -2.47), (55.4, -2.35),
        (55.42, -2.23), (55.46, -2.19), (55.52, -2.24), (55.59, -2.28), (55.635, -2.33), (55.643, -2.28),
        (55.649, -2.245), (55.68, -2.19), (55.72, -2.16), (55.745, -2.11), (55.765, -2.09), (55.79, -2.06),
        (55.811, -2.035), (55.813, -1.991), (55.694, -1.851), (55.711, -1.822), (55.707, -1.742), (55.659, -1.73),
        (55.654, -1.752), (55.631, -1.723), (55.631, -1.689), (55.594, -1.597), (55.569, -1.602), (55.551, -1.579),
        (55.541, -1.59), (55.53, -1.567), (55.511, -1.577), (55.489, -1.553), (55.379, -1.558), (55.312, -1.523),
        (55.281, -1.535), (55.197, -1.476), (55.159, -1.486), (55.009, -1.386), (54.972, -1.332), (54.907, -1.325),
        (54.757, -1.247), (54.736, -1.22), (54.706, -1.121), (54.685, -1.156), (54.64, -1.086), (54.577, -0.774),
        (54.491, -0.542), (54.454, -0.493), (54.427, -0.49), (54.382, -0.42), (54.307, -0.387), (54.289, -0.356),
        (54.273, -0.364), (54.262, -0.35), (54.23, -0.25), (54.186, -0.232), (54.176, -0.216), (54.147, -0.095),
        (54.108, -0.024), (54.07, -0.141), (54.021, -0.186), (53.907, -0.123), (53.65, 0.161), (53.609, 0.181),
        (53.563, 0.157), (53.529, 0.087), (53.538, 0.064), (53.604, 0.101), (53.626, 0.033), (53.607, -0.042),
        (53.615, -0.108), (53.684, -0.22), (53.633, -0.166), (53.594, -0.083), (53.587, -0.032), (53.504, 0.112),
        (53.49, 0.175), (53.449, 0.201), (53.424, 0.261), (53.413, 0.248), (53.383, 0.283), (53.23, 0.372),
        (53.144, 0.387), (53.073, 0.355), (53.059, 0.299), (52.997, 0.183), (52.926, 0.104), (52.906, 0.058),
        (52.908, 0.114), (52.875, 0.192), (52.815, 0.261), (52.822, 0.336), (52.807, 0.362), (52.849, 0.411),
        (52.924, 0.445), (52.97, 0.501), (52.987, 0.562), (52.99, 0.621), (53.005, 0.684), (52.992, 0.755),
        (52.992, 0.841), (52.979, 0.906), (53.0, 0.918), (52.946, 1.285), (52.907, 1.412), (52.788, 1.666),
        (52.739, 1.724), (52.628, 1.777), (52.535, 1.777), (52.486, 1.802), (52.317, 1.71), (52.265, 1.66),
        (52.198, 1.66), (52.07, 1.607), (52.029, 1.481), (51.991, 1.449), (51.912, 1.33), (51.93, 1.308),
        (51.917, 1.302), (51.911, 1.324), (51.835, 1.303), (51.774, 1.181), (51.757, 1.063), (51.768, 1.017),
        (51.802, 0.985), (51.771, 0.913), (51.757, 0.907), (51.765, 0.937), (51.74, 0.977), (51.708, 0.968),
        (51.679, 0.982), (51.634, 0.964), (51.628, 0.996), (51.577, 0.947), (51.544, 0.89), (51.51, 0.777),
        (51.517, 0.656), (51.503, 0.613), (51.494, 0.713), (51.46, 0.744), (51.468, 0.763), (51.433, 0.916),
        (51.406, 0.96), (51.368, 0.966), (51.391, 1.095), (51.411, 1.431), (51.392, 1.48), (51.336, 1.462),
        (51.313, 1.434), (51.311, 1.412), (51.222, 1.442), (51.178, 1.432), (51.117, 1.378), (51.086, 1.27),
        (51.084, 1.229), (51.06, 1.183), (51.056, 1.099), (51.03, 1.049), (50.978, 0.996), (50.907, 1.011),
        (50.89, 0.946), (50.92, 0.802), (50.915, 0.778), (50.855, 0.681), (50.842, 0.633), (50.803, 0.381),
        (50.728, 0.283), (50.744, 0.11), (50.759, 0.082), (50.811, -0.175), (50.803, -0.236), (50.812, -0.27),
        (50.784, -0.393), (50.784, -0.564), (50.748, -0.736), (50.75, -0.744), (50.727, -0.742), (50.709, -0.79),
        (50.762, -0.931), (50.771, -1.033), (50.767, -1.036), (50.762, -1.094), (50.773, -1.11), (50.761, -1.154),
        (50.819, -1.293), (50.79, -1.286), (50.752, -1.138), (50.75, -1.089), (50.731, -1.078), (50.731, -1.065),
        (50.678, -1.026), (50.635, -1.135), (50.59, -1.142), (50.564, -1.279), (50.573, -1.328), (50.651, -1.495),
        (50.651, -1.528), (50.627, -1.602), (50.644, -1.624), (50.699, -1.553), (50.721, -1.691), (50.702, -1.768),
        (50.708, -1.85), (50.676, -1.924), (50.662, -1.925), (50.65, -1.89), (50.611, -1.938), (50.586, -1.935),
        (50.577, -2.07), (50.603, -2.165), (50.627, -2.396), (50.623, -2.416), (50.594, -2.435), (50.581, -2.405),
        (50.554, -2.4), (50.491, -2.452), (50.494, -2.475), (50.56, -2.488), (50.578, -2.505), (50.677, -2.707),
        (50.715, -2.868), (50.706, -2.952), (50.69, -2.991), (50.695, -3.053), (50.666, -3.121), (50.674, -3.166),
        (50.659, -3.241), (50.623, -3.276), (50.598, -3.367), (50.606, -3.403), (50.56, -3.456), (50.52, -3.477),
        (50.445, -3.454), (50.438, -3.516), (50.432, -3.522), (50.428, -3.459), (50.402, -3.459), (50.372, -3.475),
        (50.364, -3.495), (50.339, -3.501), (50.323, -3.538), (50.328, -3.551), (50.323, -3.553), (50.301, -3.607),
        (50.251, -3.625), (50.216, -3.614), (50.204, -3.651), (50.194, -3.719), (50.203, -3.765), (50.186, -3.788),
        (50.3, -3.965), (50.275, -4.03), (50.285, -4.069), (50.303, -4.102), (50.313, -4.098), (50.323, -4.13),
        (50.352, -4.149), (50.337, -4.169), (50.303, -4.161), (50.306, -4.23), (50.341, -4.269), (50.352, -4.34),
        (50.35, -4.375), (50.311, -4.487), (50.296, -4.69), (50.319, -4.708), (50.312, -4.731), (50.297, -4.725),
        (50.278, -4.751), (50.257, -4.748), (50.21, -4.784), (50.216, -4.844), (50.186, -4.927), (50.108, -5.005),
        (50.109, -5.018), (50.13, -5.026), (50.121, -5.055), (50.106, -5.058),
    ),
    # Lundy
    (
        (51.153, -4.711), (51.23, -4.691), (51.232, -4.66), (51.187, -4.637), (51.142, -4.632),
    ),
    # Isles of Scilly, drawn round all the inhabited islands (St Agnes and St Martin's too,
    # whose postcodes TR22 and TR25 Code-Point Open places there)
    (
        (50.005, -6.43), (50.0, -6.24), (49.93, -6.21), (49.865, -6.28), (49.865, -6.4), (49.92, -6.46),
    ),
)
