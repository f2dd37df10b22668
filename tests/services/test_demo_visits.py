"""The demo world's visits follow the visit rules (causes, deadlines, windows, crews, kit),
leave the days ahead for the route planner, and give the KPIs the NAO's picture."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from emdesk.domain.clock import at_local, local, local_date
from emdesk.domain.curfew import in_curfew
from emdesk.domain.install_kpis import all_figures
from emdesk.domain.orders import OrderStatus
from emdesk.domain.visit_rules import CALLING_HOURS, crew_size, equipment_for, install_due_by, rebooking_id
from emdesk.domain.visits import VisitCause, VisitKind, VisitStatus
from emdesk.services.demo_world import generate_world

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def world():
    return generate_world(2026, now=NOW)


def test_every_visit_says_why_it_exists_and_what_it_follows(world):
    by_id = {v.id: v for v in world.visits}
    assert all(v.cause is not None for v in world.visits)
    for v in world.visits:
        if v.cause is VisitCause.FAILED_ATTEMPT:
            before = by_id[v.previous_visit_id]
            assert before.status is VisitStatus.FAILED and before.kind is v.kind and before.order_id == v.order_id
            assert v.attempt == before.attempt + 1 and v.id == rebooking_id(before)
        else:
            assert v.previous_visit_id is None
        if v.kind is VisitKind.INSTALL:
            assert v.cause in (VisitCause.ORDER_ACTIVE, VisitCause.FAILED_ATTEMPT)
        if v.kind is VisitKind.REMOVAL:
            assert v.cause in (VisitCause.ORDER_ENDED, VisitCause.FAILED_ATTEMPT)


def test_installs_carry_the_kpi_deadline_kit_and_crew(world):
    orders = {o.id: o for o in world.orders}
    subjects = {s.id: s for s in world.subjects}
    doubles = 0
    for v in world.visits:
        o, s = orders[v.order_id], subjects[v.subject_id]
        base = crew_size(s, o.installation.address or s.primary_address)
        assert v.crew_size >= base
        doubles += v.crew_size == 2
        if v.kind is VisitKind.INSTALL:
            assert v.due_by == install_due_by(o.received_at), o.reference
            assert v.equipment == equipment_for(o) and v.equipment
        if v.kind is VisitKind.REPAIR:
            assert len(v.equipment) == 1
    assert 0.05 < doubles / len(world.visits) < 0.6


def test_the_days_ahead_are_windowed_for_the_planner(world):
    orders = {o.id: o for o in world.orders}
    ahead = [v for v in world.visits if v.status is VisitStatus.SCHEDULED
             and local_date(v.window_start) in (local_date(NOW), local_date(NOW) + timedelta(days=1))]
    assert len(ahead) > 100
    curfew_based = 0
    for v in ahead:
        assert v.planned_arrival is None and not v.crew and not v.pinned
        assert v.officer_id == orders[v.order_id].assigned_officer_id or v.kind is VisitKind.CHECK
        assert v.window_end - v.window_start >= timedelta(hours=1) and v.window_end > NOW
        if v.appointment:
            assert v.window_start == orders[v.order_id].installation.appointment
            continue
        day = local_date(v.window_start)
        assert at_local(day, CALLING_HOURS[0]) <= v.window_start and v.window_end <= at_local(day, CALLING_HOURS[1])
        if v.kind is VisitKind.CHECK and in_curfew(orders[v.order_id].conditions.curfew, v.window_start):
            curfew_based += 1
            assert in_curfew(orders[v.order_id].conditions.curfew, v.window_end - timedelta(minutes=1))
        if v.kind is VisitKind.REMOVAL:
            assert local(v.window_end).time() == time(20, 0)       # the officer's shift
    assert curfew_based > 20
    assert sum(not v.appointment for v in ahead) > len(ahead) / 2


def test_the_kpis_show_the_naos_picture(world):
    figures = {f.key: f for f in all_figures(world.orders, world.visits, world.devices, NOW)}
    within = figures["installs_within_attempts"]
    assert 0.45 <= within.value <= 0.72 and within.denominator > 100
    assert 0.45 <= figures["device_recovery"].value <= 0.75
    reasons = [k for k in figures if k.startswith("failure_reason:")]
    assert len(reasons) >= 4 and figures["failure_reason:not_at_address"].value > 0.3
    assert 3 <= figures["visits_outstanding"].value <= 60
    assert 10 < figures["time_to_install"].value < 24 * 7
    assert all(o.device_serials for o in world.orders if o.status is OrderStatus.ENDED)


def test_the_demo_world_is_the_same_from_the_same_seed(world):
    again = generate_world(2026, now=NOW)
    assert [v.id for v in again.visits] == [v.id for v in world.visits] and again.visits == world.visits
