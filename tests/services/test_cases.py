"""Least privilege: each role sees exactly its share of cases, stock and visits."""
from __future__ import annotations

import pytest

from emdesk.services.cases import CaseService
from emdesk.services.errors import AccessDenied

from .world import heard_from, small_world


@pytest.fixture
def users(store, clock):
    return small_world(store, clock.now())


def svc(store, users, clock, name):
    return CaseService(store, users[name], clock)


@pytest.mark.parametrize("who, refs", [
    ("officer.a", ["A-1"]),               # her own caseload only
    ("officer.b", ["B-1"]),
    ("monitor.wales", ["A-1", "B-1"]),    # the region
    ("monitor.london", []),
    ("boss", ["A-1", "B-1"]),             # everything active
])
def test_caseload_is_scoped_by_role(store, users, clock, who, refs):
    assert sorted(r.reference for r in svc(store, users, clock, who).caseload()) == refs


def test_technician_cannot_see_cases_or_personal_details(store, users, clock):
    tech = svc(store, users, clock, "tech")
    with pytest.raises(AccessDenied):
        tech.caseload()
    with pytest.raises(AccessDenied):
        tech.subject(users["officer.a"].id)


def test_technician_sees_only_the_name_on_an_allocation(store, users, clock):
    rows = {r.serial: r for r in svc(store, users, clock, "tech").stock()}
    assert rows["RF-000001"].allocated_to == "Ann Evans" and rows["HMU-000002"].allocated_to == ""
    from emdesk.services.rows import DeviceRow
    personal = {"date_of_birth", "address", "postcode", "risk_flags", "phone"}
    assert not personal & set(DeviceRow.__dataclass_fields__)


def test_stock_filters(store, users, clock):
    tech = svc(store, users, clock, "tech")
    assert [r.serial for r in tech.stock(state="in_stock")] == ["HMU-000002"]
    assert tech.stock(region="London") == []


def test_officer_sees_her_visits_for_today_with_risk_flags(store, users, clock):
    rows = svc(store, users, clock, "officer.a").visits()
    assert [(r.subject_name, r.kind, r.risk_flags) for r in rows] == [("Ann Evans", "check", ("Dangerous dog",))]
    assert svc(store, users, clock, "officer.b").visits() == []


def test_viewing_a_person_is_audited_and_scoped(store, users, clock):
    officer = svc(store, users, clock, "officer.a")
    ann_id = officer.caseload()[0].subject_id
    assert officer.subject(ann_id).family_name == "Evans"
    assert ("view", users["officer.a"].id) in [(e.action, e.actor) for e in store.audit_entries(subject_id=ann_id)]
    bob_id = svc(store, users, clock, "officer.b").caseload()[0].subject_id
    with pytest.raises(AccessDenied, match="not on your caseload"):
        officer.subject(bob_id)


def test_order_list_shows_validation_state(store, users, clock):
    rows = svc(store, users, clock, "boss").orders()
    assert rows[0].reference == "C-1" and rows[0].problem_count == 1
    assert "subject.date_of_birth" in rows[0].problems[0]
    with pytest.raises(AccessDenied):
        svc(store, users, clock, "officer.a").orders()


def test_counts_for_supervisors(store, users, clock):
    c = svc(store, users, clock, "boss").counts()
    assert (c.active_orders, c.draft_orders, c.orders_with_problems) == (2, 1, 1)
    assert c.unmonitored_active == 1          # B-1 has no fitted device
    assert (c.never_fitted, c.disconnected_14_days) == (1, 0)   # A-1's tag has no telemetry: not judged
    assert c.visits_overdue_3_days == 1       # the install five days late
    assert c.by_cohort == {"Court bail": 1, "Post-release": 1}
    with pytest.raises(AccessDenied):
        svc(store, users, clock, "monitor.wales").counts()


@pytest.mark.parametrize("days_silent, disconnected", [(13, 0), (14, 1), (20, 1)])
def test_unmonitored_counts_kit_silent_for_14_days(store, users, clock, days_silent, disconnected):
    """NAO 2.13: unmonitored = no fitted tag (B-1), or kit disconnected 14 days or more (A-1)."""
    from datetime import timedelta

    from emdesk.domain.monitoring import EventKind

    now = clock.now()
    heard_from(store, "RF-000001", now - timedelta(days=30), EventKind.HMU_RANGE_IN)
    heard_from(store, "RF-000001", now - timedelta(days=days_silent), EventKind.HMU_RANGE_OUT)
    # The centre's own "comms lost" a day later is not contact from the device.
    heard_from(store, "RF-000001", now - timedelta(days=days_silent - 1), EventKind.COMMS_LOST)
    c = svc(store, users, clock, "boss").counts()
    assert c.never_fitted == 1                          # B-1: active, no tag on
    assert c.disconnected_14_days == disconnected       # tag on, silent for days_silent days
    assert c.unmonitored_active == 1 + disconnected


def test_unmonitored_needs_a_tag_not_just_a_home_unit(store, users, clock):
    from emdesk.domain.devices import Device, DeviceKind, DeviceState

    b1 = next(r for r in svc(store, users, clock, "boss").caseload() if r.reference == "B-1")
    store.put(Device(kind=DeviceKind.HMU, serial="HMU-000009", state=DeviceState.INSTALLED, order_id=b1.order_id,
                     subject_id=b1.subject_id, region="Wales"))
    c = svc(store, users, clock, "boss").counts()
    assert (c.never_fitted, c.disconnected_14_days, c.unmonitored_active) == (1, 0, 1)


def test_orders_with_problems_are_counted_by_what_they_are(store, users, clock):
    """The intake tile counts drafts and submitted orders with problems, and says which."""
    from emdesk.domain.orders import Order, OrderStatus
    from emdesk.domain.validation import Problem
    before = svc(store, users, clock, "boss").counts()
    problem = Problem(code="ADDR-NOT-LOCATED", field="subject.addresses[0]", message="check on the map")
    store.put(Order(reference="S-9", status=OrderStatus.SUBMITTED, problems=(problem,)))
    after = svc(store, users, clock, "boss").counts()
    assert after.orders_with_problems == before.orders_with_problems + 1
    assert after.submitted_with_problems == before.submitted_with_problems + 1
    assert after.draft_orders == before.draft_orders                  # a submitted order is not a draft
