"""Stops and simplification on real receivers' fixes: gpsd's decoded captures
(``tests/data/gpsd-nmea``, BSD-2-Clause), moved to Birmingham with their noise intact."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import shapely

from emdesk.domain.geography import to_bng
from emdesk.domain.trails import plan

CAPTURES = Path(__file__).parents[2] / "data" / "gpsd-nmea"
BIRMINGHAM = (52.48, -1.89)


def capture(name: str):
    """(at_ms, lat, lon) of the capture's timed 2D/3D fixes, first fix moved to Birmingham."""
    fixes = {}
    for line in (CAPTURES / name).read_text(errors="replace").splitlines():
        if not line.startswith('{"class":"TPV"'):
            continue
        d = json.loads(line)
        if d.get("mode", 0) >= 2 and "lat" in d and "time" in d:
            at = int(datetime.fromisoformat(d["time"].replace("Z", "+00:00")).timestamp() * 1000)
            fixes.setdefault(at, (d["lat"], d["lon"]))
    at = np.array(sorted(fixes), np.int64)
    lat = np.array([fixes[t][0] for t in at.tolist()])
    lon = np.array([fixes[t][1] for t in at.tolist()])
    return at, lat - lat[0] + BIRMINGHAM[0], lon - lon[0] + BIRMINGHAM[1]


@pytest.mark.parametrize(("name", "dwell_min", "stops"), [
    ("nmea-rtk.log.chk", 5, 1),        # an RTK base standing still for ten minutes
    ("nmea-rtk.log.chk", 15, 0),       # ... not long enough for a 15-minute stop
    ("bundg_zeus_9.log.chk", 1, 0),    # a receiver on the move for two and a half minutes
])
def test_a_receiver_standing_still_is_a_stop(name, dwell_min, stops):
    at, lat, lon = capture(name)
    p = plan(at, lat, lon, np.ones(len(at)), min_dwell_ms=dwell_min * 60_000)
    assert len(p.stops) == stops
    if stops:
        assert (p.stops[0].first, p.stops[0].last) == (0, len(at) - 1)


@pytest.mark.parametrize(("name", "tolerance"), [("bundg_zeus_9.log.chk", 8.0), ("bundg_zeus_9.log.chk", 2.0),
                                                 ("quectel-eg25-g.log.chk", 8.0)])
def test_every_dropped_fix_is_within_the_tolerance_of_the_drawn_line(name, tolerance):
    at, lat, lon = capture(name)
    p = plan(at, lat, lon, np.ones(len(at)), tolerance_m=tolerance)
    assert 2 <= len(p.kept) < len(at)
    x, y = (np.asarray(v) for v in to_bng(lat, lon))
    drawn = shapely.linestrings(np.column_stack([x[p.kept], y[p.kept]]))
    dropped = np.setdiff1d(np.arange(len(at)), p.kept)
    assert shapely.distance(drawn, shapely.points(x[dropped], y[dropped])).max() <= tolerance + 1e-6
