"""Where a wearer is: a home-centred map in metres, zones on it, and the day's track.

The track is piecewise linear in (t, x, y): a stay is two knots at one place, a trip is
a polyline of knots whose times follow the trip's speeds, so the position at any instant
is one ``np.interp`` and nobody teleports.  Trips bend about the straight line as roads
do; walking is 1.2-1.6 m/s, driving 7-15 m/s a leg.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry import Polygon as ShapelyPolygon

from emdesk.domain.conditions import Circle, Zone, ZoneKind
from emdesk.domain.geography import in_england_and_wales

M_PER_DEG = 111_320.0
WALK = (1.2, 1.6)
DRIVE = (7.0, 15.0)
AVOID_M = 150.0           # normal trips keep this far from an exclusion zone
HOME_EPS_M = 1.0


class Frame:
    """Flat metres about the home (east x, north y): within 0.1 % over the few km a day covers."""

    def __init__(self, lat: float, lon: float):
        self.lat, self.lon = lat, lon
        self.kx = M_PER_DEG * math.cos(math.radians(lat))

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon) * self.kx, (lat - self.lat) * M_PER_DEG

    def latlon(self, x, y):
        return self.lat + np.asarray(y) / M_PER_DEG, self.lon + np.asarray(x) / self.kx


@dataclass
class ZoneArea:
    """A zone drawn on the wearer's frame."""

    zone: Zone
    shape: ShapelyPolygon

    @classmethod
    def of(cls, zone: Zone, frame: Frame) -> "ZoneArea":
        if isinstance(zone.shape, Circle):
            shape = Point(*frame.xy(zone.shape.lat, zone.shape.lon)).buffer(zone.shape.radius_m, quad_segs=16)
        else:
            shape = ShapelyPolygon([frame.xy(lat, lon) for lat, lon in zone.shape.points])
            if not shape.is_valid:
                shape = shapely.make_valid(shape)
        shapely.prepare(shape)
        return cls(zone, shape)

    @property
    def exclusion(self) -> bool:
        return self.zone.kind is ZoneKind.EXCLUSION

    def contains(self, x, y) -> np.ndarray:
        return shapely.contains_xy(self.shape, np.asarray(x, float), np.asarray(y, float))

    def entry(self, toward: tuple[float, float], depth: float, outside: float = 60.0):
        """(E, P): a point ``outside`` metres out on the side facing ``toward`` and one
        ``depth`` metres in along the same line, so walking E->P goes deep inside."""
        c = self.shape.centroid
        dx, dy = toward[0] - c.x, toward[1] - c.y
        n = math.hypot(dx, dy) or 1.0
        ux, uy = dx / n, dy / n
        ray = LineString([(c.x, c.y), (c.x + ux * 50_000, c.y + uy * 50_000)])
        hit = ray.intersection(self.shape.boundary)
        pts = [hit] if hit.geom_type == "Point" else list(getattr(hit, "geoms", []))
        b = min(pts, key=lambda p: p.distance(Point(c.x, c.y))) if pts else c
        reach = math.hypot(b.x - c.x, b.y - c.y)
        depth = min(depth, 0.6 * reach)
        e = (b.x + ux * outside, b.y + uy * outside)
        p = (b.x - ux * depth, b.y - uy * depth)
        return e, p


@dataclass
class Track:
    t: list[float] = field(default_factory=lambda: [0.0])
    x: list[float] = field(default_factory=lambda: [0.0])
    y: list[float] = field(default_factory=lambda: [0.0])

    @property
    def now(self) -> float:
        return self.t[-1]

    @property
    def here(self) -> tuple[float, float]:
        return self.x[-1], self.y[-1]

    def stay_until(self, t: float) -> None:
        if t > self.now:
            self.t.append(t)
            self.x.append(self.x[-1])
            self.y.append(self.y[-1])

    def follow(self, trip: "Trip") -> None:
        t = self.now
        for (x, y), dt in zip(trip.points[1:], trip.durations):
            t += dt
            self.t.append(t)
            self.x.append(x)
            self.y.append(y)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.array(self.t), np.array(self.x), np.array(self.y)

    def home_spans(self, end: float) -> list[tuple[float, float]]:
        """Intervals at home, merged; the day starts at home."""
        spans: list[list[float]] = []
        for i in range(len(self.t)):
            at_home = math.hypot(self.x[i], self.y[i]) < HOME_EPS_M
            nxt_home = i + 1 < len(self.t) and math.hypot(self.x[i + 1], self.y[i + 1]) < HOME_EPS_M
            if at_home and nxt_home:
                if spans and spans[-1][1] >= self.t[i]:
                    spans[-1][1] = self.t[i + 1]
                else:
                    spans.append([self.t[i], self.t[i + 1]])
            elif at_home and i + 1 == len(self.t):
                if spans and spans[-1][1] >= self.t[i]:
                    spans[-1][1] = end
                else:
                    spans.append([self.t[i], end])
        return [(a, min(b, end)) for a, b in spans if a < end]


@dataclass
class Trip:
    points: list[tuple[float, float]]
    durations: list[float]

    @property
    def duration(self) -> float:
        return sum(self.durations)


def _bent_line(rng: random.Random, a, b) -> list[tuple[float, float]]:
    """A road-like line from a to b: waypoints pushed off the straight line by a random walk."""
    d = math.hypot(b[0] - a[0], b[1] - a[1])
    if d < 1:
        return [a, b]
    n = min(8, 1 + int(d / 400))
    ux, uy = (b[0] - a[0]) / d, (b[1] - a[1]) / d
    off, pts = 0.0, [a]
    for i in range(1, n + 1):
        f = i / (n + 1)
        off = 0.6 * off + rng.gauss(0, 0.06 * d)
        off = max(-0.2 * d, min(0.2 * d, off))
        pts.append((a[0] + ux * d * f - uy * off, a[1] + uy * d * f + ux * off))
    pts.append(b)
    return pts


def trip(rng: random.Random, a, b, *, walk: bool | None = None, straight: bool = False) -> Trip:
    pts = [a, b] if straight else _bent_line(rng, a, b)
    d = math.hypot(b[0] - a[0], b[1] - a[1])
    if walk is None:
        walk = d < 1200 or (d < 2500 and rng.random() < 0.5)
    pace = rng.uniform(*WALK)
    durations = []
    for p, q in zip(pts, pts[1:]):
        seg = math.hypot(q[0] - p[0], q[1] - p[1])
        v = pace if walk else rng.uniform(*DRIVE)
        durations.append(seg / v if seg > 0 else 0.0)
    return Trip(list(pts), durations)


def samples(points: list[tuple[float, float]], step: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for p, q in zip(points, points[1:]):
        n = max(1, int(math.hypot(q[0] - p[0], q[1] - p[1]) / step))
        f = np.arange(n) / n
        xs.append(p[0] + (q[0] - p[0]) * f)
        ys.append(p[1] + (q[1] - p[1]) * f)
    xs.append(np.array([points[-1][0]]))
    ys.append(np.array([points[-1][1]]))
    return np.concatenate(xs), np.concatenate(ys)


class Map:
    """The wearer's places and the zones that bound where a clean day may go."""

    def __init__(self, frame: Frame, zones: list[ZoneArea]):
        self.frame = frame
        self.exclusions = [z for z in zones if z.exclusion]
        self.inclusions = [z for z in zones if not z.exclusion]
        self._avoid = [z.shape.buffer(AVOID_M) for z in self.exclusions]
        self._keep = [z.shape.buffer(-AVOID_M) for z in self.inclusions]
        for g in (*self._avoid, *self._keep):
            shapely.prepare(g)

    def allowed(self, points, *, ignore: ZoneArea | None = None) -> bool:
        xs, ys = samples(points)
        for z, g in zip(self.exclusions, self._avoid):
            if z is not ignore and shapely.contains_xy(g, xs, ys).any():
                return False
        for z, g in zip(self.inclusions, self._keep):
            if z is not ignore and g.area > 0 and not shapely.contains_xy(g, xs, ys).all():
                return False
        return True

    def on_land(self, p) -> bool:
        lat, lon = self.frame.latlon(p[0], p[1])
        return in_england_and_wales(float(lat), float(lon))

    def place(self, rng: random.Random, reach: tuple[float, float]) -> tuple[float, float] | None:
        """A place some way from home, clear of zones and on land; None if none found."""
        for _ in range(12):
            r, b = rng.uniform(*reach), rng.uniform(0, 2 * math.pi)
            p = (r * math.sin(b), r * math.cos(b))
            if self.allowed([p]) and self.on_land(p):
                return p
        return None

    def trip(self, rng: random.Random, a, b, *, ignore: ZoneArea | None = None) -> Trip | None:
        for _ in range(6):
            t = trip(rng, a, b)
            if self.allowed(t.points, ignore=ignore):
                return t
        t = trip(rng, a, b, straight=True)
        return t if self.allowed(t.points, ignore=ignore) else None


def position(track: tuple[np.ndarray, np.ndarray, np.ndarray], times: np.ndarray):
    """(x, y, speed) of the track at ``times`` (seconds)."""
    t, x, y = track
    px, py = np.interp(times, t, x), np.interp(times, t, y)
    seg = np.clip(np.searchsorted(t, times, side="right") - 1, 0, len(t) - 2) if len(t) > 1 else np.zeros(len(times), int)
    if len(t) > 1:
        dt = np.diff(t)
        dist = np.hypot(np.diff(x), np.diff(y))
        v = np.divide(dist, dt, out=np.zeros_like(dist), where=dt > 0)
        speed = v[seg]
    else:
        speed = np.zeros(len(times))
    return px, py, speed
