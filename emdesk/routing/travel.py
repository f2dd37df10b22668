"""Travel between addresses: distance and time.

Without a road network, the road distance is the great-circle distance times a winding
factor, and the time comes from road-speed estimates: slow for the first kilometres
(town streets), faster beyond (main roads).  The speed curve is concave, so times still
obey the triangle inequality.  A configured road network replaces this by implementing
:class:`TravelModel`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(_haversine_km(np.array([a[0]]), np.array([a[1]]), np.array([b[0]]), np.array([b[1]]))[0])


def path_km(points: Sequence[tuple[float, float]]) -> float:
    """Great-circle length of a path through (lat, lon) points: what a route's ``km`` is,
    whatever travel-time model planned it."""
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(p) < 2:
        return 0.0
    return float(_haversine_km(p[:-1, 0], p[:-1, 1], p[1:, 0], p[1:, 1]).sum())


def _haversine_km(lat1, lon1, lat2, lon2):
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def great_circle_matrix_km(points: Sequence[tuple[float, float]]) -> np.ndarray:
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    return _haversine_km(p[:, None, 0], p[:, None, 1], p[None, :, 0], p[None, :, 1])


class TravelModel(Protocol):
    def matrices(self, points: Sequence[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
        """(road metres, seconds) between every pair of (lat, lon) points, as int64 arrays."""
        ...


@dataclass(frozen=True)
class RoadSpeedModel:
    winding: float = 1.3          # road distance over great-circle distance, typical for England
    town_kmh: float = 30.0        # the first ``town_km`` of a trip
    town_km: float = 8.0
    open_kmh: float = 65.0        # the rest, on A roads and motorways

    def seconds_for_km(self, road_km):
        town = np.minimum(road_km, self.town_km)
        rest = np.maximum(road_km - self.town_km, 0.0)
        return (town / self.town_kmh + rest / self.open_kmh) * 3600.0

    def matrices(self, points: Sequence[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
        road_km = great_circle_matrix_km(points) * self.winding
        metres = np.rint(road_km * 1000).astype(np.int64)
        seconds = np.rint(self.seconds_for_km(road_km)).astype(np.int64)
        return metres, seconds
