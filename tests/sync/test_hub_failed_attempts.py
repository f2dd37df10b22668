"""A failed attempt recorded offline, and the next attempt it books, reach the centre whole --
on both hub storages; a forged or stale rebooking is refused with the failure, as one unit."""
from __future__ import annotations

import pytest
from synckit import SUPERVISOR, hub_row
from test_hub_field_actions import LEWISHAM, LONDON_CENTRE, op_for, push

from emdesk.domain.orders import Order, OrderStatus, transition
from emdesk.domain.visit_rules import EventKind, OrderEvent, OrderState, rebooking_id, visits_for
from emdesk.domain.visits import OutcomeCode, Visit, VisitCause, VisitKind, VisitStatus
from emdesk.services.visit_outcomes import VisitOutcomeService
from emdesk.sync.errors import HubUnreachable

OUTCOME_FIELDS = ["status", "outcome", "outcome_at", "notes"]


def open_install(desk):
    """The officer's next scheduled install on a live order."""
    for visit in desk.store.find(Visit, order_by="id"):
        order = desk.store.get(Order, visit.order_id)
        if (visit.kind is VisitKind.INSTALL and visit.status is VisitStatus.SCHEDULED
                and visit.officer_id == desk.user.id and order.status in (OrderStatus.SUBMITTED, OrderStatus.ACTIVE)):
            return visit, order
    raise AssertionError("the demo world has no open install for this officer")


def fail_offline(kit, desk, outcome=OutcomeCode.NOT_AT_ADDRESS):
    visit, order = open_install(desk)
    kit.http.fail = lambda path, phase: True
    with pytest.raises(HubUnreachable):
        desk.sync()
    kit.http.fail = None
    result = VisitOutcomeService(desk.store, desk.user, desk.store.clock).record_outcome(
        visit.id, outcome, "no answer; card left")
    return visit, order, result


@pytest.mark.parametrize("outcome", [OutcomeCode.NOT_AT_ADDRESS, OutcomeCode.UNSAFE])
def test_an_offline_failed_attempt_and_its_rebooking_reach_the_centre_whole(kit, outcome):
    officer, boss = kit.desk(LEWISHAM), kit.desk(SUPERVISOR)
    visit, order, result = fail_offline(kit, officer, outcome)
    nxt = result.next_visit
    assert nxt is not None and nxt.previous_visit_id == visit.id
    report = officer.sync()
    assert not report.refused, report.refused
    held = hub_row(kit, "visits", visit.id)
    assert (held["status"], held["outcome"]) == ("failed", outcome.value) and "card left" in held["notes"]
    booked = hub_row(kit, "visits", nxt.id)
    assert booked["previous_visit_id"] == visit.id and booked["attempt"] == visit.attempt + 1
    assert booked["cause"] == "failed_attempt" and booked["status"] == "scheduled"
    assert booked["crew_size"] == (2 if outcome is OutcomeCode.UNSAFE else 1)
    boss.sync()
    assert boss.store.get(Visit, nxt.id).window_start == nxt.window_start
    assert boss.store.get(Visit, visit.id).outcome is outcome
    # Syncing again sends nothing more and the laptop keeps the hub's versions.
    assert not officer.sync().refused
    assert officer.store.get(Visit, nxt.id).previous_visit_id == visit.id


def test_a_failed_attempt_on_an_order_revoked_meanwhile_is_refused_whole(kit):
    officer, centre = kit.desk(LEWISHAM), kit.desk(LONDON_CENTRE)
    visit, order, result = fail_offline(kit, officer)
    held = centre.store.get(Order, order.id)
    centre.store.put(transition(held, OrderStatus.REVOKED, at=held.received_at, by=centre.user.id,
                                reason="bail withdrawn"))
    assert not centre.sync().refused
    report = officer.sync()
    assert len(report.refused) == 2, report.refused
    assert all("revoked" in r.reason and "refused as a whole" in r.reason for r in report.refused)
    assert hub_row(kit, "visits", visit.id)["status"] == "scheduled"
    assert hub_row(kit, "visits", result.next_visit.id) is None


def test_a_failed_attempt_may_only_book_the_attempt_it_makes(kit):
    officer = kit.desk(LEWISHAM)
    visit, order = open_install(officer)
    now = officer.store.clock.now()
    failed = visit.evolve(status=VisitStatus.FAILED, outcome=OutcomeCode.REFUSED, outcome_at=now, notes="refused")
    state = OrderState(order=order, visits=(failed,))
    (honest,) = visits_for(OrderEvent(EventKind.ATTEMPT_FAILED, now, visit_id=failed.id), state).make

    def attempt(rebook, *, changed=OUTCOME_FIELDS, n=[0]):
        n[0] += 1
        ops = [op_for(officer, failed, changed=changed, action="attempt_failed", action_id=f"f{n[0]}")]
        if rebook is not None:
            ops.append(op_for(officer, rebook, action="attempt_failed", action_id=f"f{n[0]}"))
        return push(officer, ops)

    cases = [
        (honest.evolve(id="01900000-0000-7000-8000-000000000abc"), None, "not the one this failure books"),
        (honest.evolve(attempt=5), None, "attempt"),
        (honest.evolve(order_id=next(o.id for o in officer.store.find(Order) if o.id != order.id)), None,
         "same order"),
        (honest.evolve(status=VisitStatus.COMPLETED, outcome=OutcomeCode.INSTALLED), None, "booked, not done"),
        (honest, ["status", "outcome", "outcome_at", "notes", "window_start"], "only the visit's outcome"),
        (honest.evolve(window_end=honest.window_start), None, "window that ends after it starts"),
    ]
    for rebook, changed, why in cases:
        results = attempt(rebook, changed=changed or OUTCOME_FIELDS)
        assert {r.status for r in results} == {"refused"}, (why, results)
        assert all(why in r.reason and "refused as a whole" in r.reason for r in results), (why, results)
        assert hub_row(kit, "visits", visit.id)["status"] == "scheduled"
    assert honest.id == rebooking_id(failed)
    results = attempt(honest)
    assert {r.status for r in results} == {"applied"}, [r.reason for r in results]
    assert hub_row(kit, "visits", honest.id)["cause"] == VisitCause.FAILED_ATTEMPT.value
    # The same failure pushed again (a retry after a lost answer) is taken as it stands.
    again = attempt(honest)
    assert {r.status for r in again} <= {"applied", "duplicate", "merged"}, [r.reason for r in again]
    assert hub_row(kit, "visits", visit.id)["outcome"] == "refused"


def test_two_failures_in_a_row_offline_reach_the_centre_in_order(kit):
    officer = kit.desk(LEWISHAM)
    visit, order, first = fail_offline(kit, officer)
    service = VisitOutcomeService(officer.store, officer.user, officer.store.clock)
    second = service.record_outcome(first.next_visit.id, OutcomeCode.REFUSED, "wearer shut the door")
    assert second.next_visit.attempt == visit.attempt + 2
    report = officer.sync()
    assert not report.refused, report.refused
    assert hub_row(kit, "visits", first.next_visit.id)["outcome"] == "refused"
    third = hub_row(kit, "visits", second.next_visit.id)
    assert third["previous_visit_id"] == first.next_visit.id and third["status"] == "scheduled"
