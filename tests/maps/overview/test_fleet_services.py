"""The overview's statuses and trail matching, from a real store holding a small fleet."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from emdesk.domain.clock import FixedClock
from emdesk.services.context import AppContext
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.services.errors import AccessDenied
from emdesk.services.fleet_map import FleetMapService
from emdesk.services.trail_match import TrailMatchError, TrailMatchService

from .fleetworld import CASES, NOW, PLACE, RADIUS, USERS, VISITS, WINDOW, build


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    store, orders = build(tmp_path_factory.mktemp("fleet") / "fleet.db")
    yield store, orders
    store.close()


def positions(world, who):
    store, _ = world
    return {p.reference: p for p in FleetMapService(store, USERS[who], FixedClock(NOW)).positions()}


@pytest.mark.parametrize("case", [c for c in CASES if c.region == "West Midlands" and c.status],
                         ids=lambda c: c.reference)
def test_each_wearer_shows_the_status_its_case_calls_for(world, case):
    p = positions(world, "operator")[case.reference]
    assert (p.status, (p.lat, p.lon), p.at) == (case.status, case.where, NOW - case.last_fix)
    assert p.name == f"Wearer {case.reference}"
    assert p.reasons or p.status == "ok"


@pytest.mark.parametrize("who, sees_north, sees_names", [("supervisor", True, True), ("operator", False, True)])
def test_the_map_is_scoped_by_role_and_ended_orders_are_off_it(world, who, sees_north, sees_names):
    shown = positions(world, who)
    assert ("F-NORTH" in shown) is sees_north
    assert "F-ENDED" not in shown
    assert all(bool(p.name) is sees_names for p in shown.values())


def test_an_account_without_case_lists_is_refused_the_map(world):
    store, _ = world
    with pytest.raises(AccessDenied):
        FleetMapService(store, USERS["officer"], FixedClock(NOW))


def test_silent_names_how_long_and_a_violation_names_its_condition(world):
    shown = positions(world, "supervisor")
    assert shown["F-SILENT"].reasons == ("no contact for 3 h",)
    assert shown["F-VIOLATION"].reasons == ("curfew (open)",)
    assert shown["F-BATTERY"].reasons == ("battery low",)


# -- trail matching ----------------------------------------------------------------

def matcher(world, who="supervisor"):
    store, _ = world
    return TrailMatchService(store, USERS[who], FixedClock(NOW))


@pytest.mark.parametrize("visit", VISITS, ids=lambda v: v.reference)
def test_trail_matching_finds_exactly_the_wearers_the_fixture_put_there(world, visit):
    found = {m.reference: m for m in matcher(world).match(*PLACE, RADIUS, *WINDOW, "burglary at 12 High St")}
    got = found.get(visit.reference)
    expected = "" if got is None else ("certain" if got.certain else "possible")
    assert expected == visit.expect
    if got is not None:
        counted = [f for f in visit.fixes if WINDOW[0] <= f[1] < WINDOW[1]
                   and (f[0] <= RADIUS or f[0] - 5 * f[2] <= RADIUS)]
        nearest = min(f[0] for f in visit.fixes if WINDOW[0] <= f[1] < WINDOW[1])
        assert got.fixes == len(counted)
        assert (got.first_at, got.last_at) == (min(f[1] for f in counted), max(f[1] for f in counted))
        assert got.closest_m == pytest.approx(nearest, abs=0.2)


def test_the_certain_come_first_and_the_question_is_audited_with_its_reason(world):
    store, _ = world
    found = matcher(world).match(*PLACE, RADIUS, *WINDOW, "burglary at 12 High St")
    assert [m.reference for m in found] == ["T-WALKED-PAST", "T-FUZZY-EDGE"]
    entries = [e for e in store.audit_entries(limit=None) if e.action == "trail_match"]
    detail = json.loads(entries[-1].detail)
    assert entries[-1].actor == USERS["supervisor"].id
    assert detail["reason"] == "burglary at 12 High St" and detail["radius_m"] == RADIUS
    assert detail["orders"] == [m.order_id for m in found]


@pytest.mark.parametrize("who", ["operator", "officer"])
def test_a_user_without_the_permission_is_refused_and_the_refusal_is_audited(world, who):
    store, _ = world
    with pytest.raises(AccessDenied, match="cannot match trails"):
        matcher(world, who).match(*PLACE, RADIUS, *WINDOW, "curious")
    refused = [e for e in store.audit_entries(limit=None) if e.action == "trail_match_refused"]
    assert refused and refused[-1].actor == USERS[who].id
    assert json.loads(refused[-1].detail)["reason"] == "curious"


@pytest.mark.parametrize("change, field", [
    ({"reason": "  "}, "reason"),
    ({"radius_m": 5_001}, "radius"),
    ({"radius_m": 0}, "radius"),
    ({"lat": 91}, "latitude"),
    ({"lon": -181}, "longitude"),
    ({"end": WINDOW[0]}, "to"),
    ({"end": WINDOW[0] + timedelta(days=31, seconds=1)}, "to"),
    ({"start": WINDOW[0].replace(tzinfo=None)}, "from"),
])
def test_bad_questions_name_the_field(world, change, field):
    args = {"lat": PLACE[0], "lon": PLACE[1], "radius_m": RADIUS, "start": WINDOW[0], "end": WINDOW[1],
            "reason": "burglary", **change}
    with pytest.raises(TrailMatchError, match=rf"^{field}:"):
        matcher(world).match(**args)


@pytest.mark.parametrize("who, fleet, match", [("supervisor", True, True), ("operator", True, False),
                                                ("officer", False, False)])
def test_the_session_offers_each_service_only_to_the_roles_that_may_use_it(world, who, fleet, match):
    store, _ = world
    ctx = AppContext.for_user(store, USERS[who], FixedClock(NOW), GazetteerGeocoder())
    assert (ctx.fleet_map is not None, ctx.trail_match is not None) == (fleet, match)


def test_an_incident_the_engine_raised_from_ingested_fixes_turns_the_wearer_red(tmp_path):
    """Through the real pipeline: a late evening ingested, the engine's curfew incident."""
    import io
    from datetime import datetime, timezone

    from monitoring import watchworld

    from emdesk.services.ingest import IngestService
    from emdesk.services.telemetry_port import StoreTelemetry

    store = watchworld.build(tmp_path / "w.db")
    try:
        IngestService(StoreTelemetry(store)).ingest(io.BytesIO("\n".join(watchworld.evening(47)).encode()))
        supervisor = store.put(USERS["supervisor"])
        out_late = datetime(2026, 12, 1, 19, 30, tzinfo=timezone.utc)
        shown = {p.reference: p for p in FleetMapService(store, supervisor, FixedClock(out_late)).positions()}
        assert shown["W-CURFEW"].status == "violation" and shown["W-CURFEW"].reasons[0].startswith("curfew")
        assert (shown["W-CURFEW"].lat, shown["W-CURFEW"].lon) == (watchworld.HOME[0] + 0.01, watchworld.HOME[1])
        # Next day: the period has turned and the tag has said nothing since midnight.
        later = {p.reference: p for p in FleetMapService(store, supervisor, FixedClock(watchworld.NOW)).positions()}
        assert later["W-CURFEW"].status == "silent" and later["W-CURFEW"].lat == watchworld.HOME[0]
    finally:
        store.close()
