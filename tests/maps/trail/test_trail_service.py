"""The trail service: real ingested telemetry, the order's zones and home, incidents with
their stretches kept, live fixes after a point, and role scoping."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from emdesk.domain.clock import FixedClock
from emdesk.domain.monitoring import Incident
from emdesk.domain.orders import Order
from emdesk.services.errors import AccessDenied
from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import StoreTelemetry
from emdesk.services.trails import TrailService
from monitoring.watchworld import HOME, NOW, fix

DAY_START = datetime(2026, 12, 1, 7, tzinfo=timezone.utc)
DAY_END = DAY_START + timedelta(days=1)


def _order(store, ref):
    return next(o for o in store.find(Order) if o.reference == ref)


def test_the_curfew_trail_has_its_fixes_home_and_incident_stretch(world, users):
    order = _order(world, "W-CURFEW")
    t = TrailService(world, users["operator"], FixedClock(NOW)).trail(order.id, DAY_START, DAY_END)
    assert len(t) == 7 * 60                           # a fix a minute, 17:00 to midnight
    assert np.all(np.diff(t.at) > 0)
    assert t.home == HOME
    curfew = [i for i in t.incidents if i.condition == "curfew"]
    assert curfew, "the late return is an incident in the window"
    inc = curfew[0]
    in_stretch = (t.at >= inc.start_ms) & (t.at <= (inc.end_ms or t.at[-1]))
    assert np.flatnonzero(in_stretch).size > 10
    assert set(np.flatnonzero(in_stretch).tolist()) <= set(t.kept.tolist())
    assert len(t.kept) < len(t)                       # the rest simplified away
    assert t.stops and t.stops[-1].dwell_ms > 3 * 3_600_000     # home for the night


def test_the_zone_trail_keeps_both_crossings_and_the_doubtful_fix(world, users):
    order = _order(world, "W-ZONE")
    t = TrailService(world, users["supervisor"], FixedClock(NOW)).trail(order.id, DAY_START, DAY_END)
    assert [z.name for z in t.zones] == ["victim's street"]
    assert [c.entered for c in t.crossings] == [True, False]
    kept = set(t.kept.tolist())
    for c in t.crossings:
        assert {c.index - 1, c.index} <= kept
    assert t.doubtful.tolist().count(True) == 1 and int(np.flatnonzero(t.doubtful)[0]) in kept
    assert t.accuracy_m[t.doubtful][0] == pytest.approx(40.0)
    assert any(i.condition.startswith("zone:") for i in t.incidents)
    assert t.stops and t.stops[-1].dwell_ms >= 9 * 60_000


def test_since_gives_only_the_newer_fixes_as_they_arrive(world, users):
    order = _order(world, "W-ZONE")
    svc = TrailService(world, users["operator"], FixedClock(NOW))
    last = svc.trail(order.id, DAY_START, DAY_END).last_ms
    assert svc.since(order.id, last) == []
    t = datetime.fromtimestamp(last / 1000, timezone.utc)
    new = [fix("GPS-ZONE", t + timedelta(minutes=k), lat=HOME[0], lon=HOME[1] + 0.001 * k) for k in (1, 2)]
    IngestService(StoreTelemetry(world)).ingest(io.BytesIO("\n".join(new).encode()))
    got = svc.since(order.id, last)
    assert [f.at_ms - last for f in got] == [60_000, 120_000]
    assert got[-1].lon == pytest.approx(HOME[1] + 0.002)


@pytest.mark.parametrize(("who", "allowed"), [
    ("operator", True), ("supervisor", True), ("elsewhere", False), ("officer", False),
])
def test_trails_are_scoped_by_role_and_region(world, users, who, allowed):
    order = _order(world, "W-ZONE")
    if who == "officer":
        with pytest.raises(AccessDenied):
            TrailService(world, users[who], FixedClock(NOW))
        return
    svc = TrailService(world, users[who], FixedClock(NOW))
    if allowed:
        assert len(svc.trail(order.id, DAY_START, DAY_END)) > 0
    else:
        with pytest.raises(AccessDenied, match="West Midlands"):
            svc.trail(order.id, DAY_START, DAY_END)
        with pytest.raises(AccessDenied):
            svc.since(order.id, 0)


def test_the_context_has_trails_only_for_the_monitoring_roles(world, users):
    from emdesk.domain.geocoding import GazetteerGeocoder
    from emdesk.services.context import AppContext

    got = {who: AppContext.for_user(world, u, FixedClock(NOW), GazetteerGeocoder()).trails is not None
           for who, u in users.items()}
    assert got == {"operator": True, "elsewhere": True, "supervisor": True, "officer": False}


def test_incidents_outside_the_window_are_left_out(world, users):
    order = _order(world, "W-CURFEW")
    assert any(i.order_id == order.id for i in world.find(Incident))
    t = TrailService(world, users["operator"], FixedClock(NOW)).trail(
        order.id, DAY_START - timedelta(days=3), DAY_START - timedelta(days=2))
    assert len(t) == 0 and t.incidents == () and len(t.kept) == 0


def test_the_protected_person_s_phone_is_never_part_of_the_trail(world, users):
    from emdesk.domain.conditions import Conditions, Proximity
    from emdesk.domain.orders import Cohort, OrderStatus

    zone = _order(world, "W-ZONE")
    order = world.put(Order(reference="W-PROX", subject_id=zone.subject_id, cohort=Cohort.COURT_SENTENCE,
                            status=OrderStatus.ACTIVE, region="West Midlands",
                            conditions=Conditions(proximity=Proximity(device_serial="VICTIM-PHONE"))))
    t0 = int(DAY_START.timestamp() * 1000) + 3_600_000
    rows = [(order.id, serial, t0 + k * 60_000 + (i * 1000), "position", lat, -1.9, 1.0, 0.0, None, None, t0, 0)
            for k in range(5) for i, (serial, lat) in enumerate((("GPS-PROX", 52.48), ("VICTIM-PHONE", 52.61)))]
    world.telemetry.append(rows, [])
    svc = TrailService(world, users["supervisor"], FixedClock(NOW))
    t = svc.trail(order.id, DAY_START, DAY_END)
    assert len(t) == 5 and set(t.lat.tolist()) == {52.48}
    assert {f.lat for f in svc.since(order.id, 0)} == {52.48}
