"""emdesk orders list: what is being watched, as scripts read it."""
from __future__ import annotations

import json

from emdesk.domain.conditions import Polygon, Zone, ZoneKind
from emdesk.domain.curfew import parse_windows
from emdesk.domain.orders import Order
from emdesk.domain.users import Role, User
from emdesk.services.errors import AccessDenied
from emdesk.services.watch_lists import WatchLists, curfew_json, zone_feature

from .test_ingest import _cli
from .watchworld import HOME, build

import pytest


def test_the_json_lists_each_order_with_home_curfew_zones_and_fitted_kit(tmp_path):
    build(tmp_path / "w.db").close()
    out = _cli("orders", "list", "--json", "--db", str(tmp_path / "w.db"))
    assert out.returncode == 0, out.stderr
    rows = {r["reference"]: r for r in json.loads(out.stdout)}
    assert set(rows) == {"W-CURFEW", "W-ZONE", "W-ENDED", "W-CHECKIN"}
    c = rows["W-CURFEW"]
    assert set(c) == {"order_id", "reference", "subject_id", "subject_name", "cohort", "status", "region", "start",
                      "end", "home", "curfew", "zones", "devices"}
    assert c["home"] == {"lat": HOME[0], "lon": HOME[1]} and c["status"] == "active"
    assert c["curfew"] == [{"days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "start": "19:00", "end": "07:00"}]
    assert [(d["serial"], d["kind"], d["fitted_at"]) for d in c["devices"]] == [
        ("GPS-CURFEW", "gps_tag", "2026-11-20T10:00:00.000Z"), ("HMU-CURFEW", "hmu", "2026-11-20T10:00:00.000Z")]
    z = rows["W-ZONE"]["zones"]
    assert z["type"] == "FeatureCollection"
    (f,) = z["features"]
    assert f["geometry"]["type"] == "Point" and f["geometry"]["coordinates"] == [HOME[1] + 0.0104, HOME[0] + 0.0064]
    assert f["properties"]["radius_m"] == 200 and f["properties"]["kind"] == "exclusion"
    assert rows["W-ENDED"]["devices"] == []                       # taken off: not fitted now
    active = json.loads(_cli("orders", "list", "--json", "--status", "active", "--db", str(tmp_path / "w.db")).stdout)
    assert {r["reference"] for r in active} == {"W-CURFEW", "W-ZONE", "W-CHECKIN"}
    text = _cli("orders", "list", "--db", str(tmp_path / "w.db")).stdout
    assert "W-CURFEW" in text and "4 orders" in text


CURFEWS = [
    ("Mon-Fri 19:00-07:00; Sat-Sun 21:00-08:00",
     [{"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "start": "19:00", "end": "07:00"},
      {"days": ["Sat", "Sun"], "start": "21:00", "end": "08:00"}]),
    ("Sun 20:00-06:00; Wed 20:00-06:00", [{"days": ["Wed", "Sun"], "start": "20:00", "end": "06:00"}]),
]


@pytest.mark.parametrize(("text", "expected"), CURFEWS)
def test_curfew_windows_group_by_hours_in_week_order(text, expected):
    from emdesk.domain.conditions import Conditions, Curfew
    order = Order(conditions=Conditions(curfew=Curfew(windows=parse_windows(text))))
    assert curfew_json(order) == expected


def test_a_polygon_zone_is_a_closed_lon_lat_ring():
    z = Zone(name="centre", kind=ZoneKind.INCLUSION, shape=Polygon(points=((52.0, -1.0), (52.0, -0.9), (52.1, -0.9))),
             active_windows=parse_windows("Mon 08:00-18:00"))
    f = zone_feature(z)
    assert f["geometry"] == {"type": "Polygon", "coordinates": [[[-1.0, 52.0], [-0.9, 52.0], [-0.9, 52.1], [-1.0, 52.0]]]}
    assert f["properties"]["hours"] == [{"days": ["Mon"], "start": "08:00", "end": "18:00"}]


def test_officers_and_technicians_are_refused_and_operators_see_their_region(tmp_path):
    store = build(tmp_path / "w.db")
    try:
        for role in (Role.FIELD_OFFICER, Role.TECHNICIAN):
            with pytest.raises(AccessDenied):
                WatchLists(store, User(username="x", display_name="X", role=role, region="West Midlands"))
        here = WatchLists(store, User(username="m", display_name="M", role=Role.MONITORING_OPERATOR,
                                      region="West Midlands")).orders()
        away = WatchLists(store, User(username="w", display_name="W", role=Role.MONITORING_OPERATOR,
                                      region="Wales")).orders()
        assert len(here) == 4 and away == []
    finally:
        store.close()
