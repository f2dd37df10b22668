"""Failed attempts keep their reason and book the next; checks and repairs; visits made from
order changes (intake, ending an order, a device fault) -- on real SQLite stores."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emdesk.domain.clock import FixedClock
from emdesk.domain.conditions import Conditions, Curfew
from emdesk.domain.curfew import parse_windows
from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Address, RiskFlag, Subject
from emdesk.domain.users import Role, User
from emdesk.domain.validation.intake_record import parse_intake
from emdesk.domain.visit_rules import install_due_by, rebooking_id
from emdesk.domain.visits import OutcomeCode, Visit, VisitCause, VisitKind, VisitStatus
from emdesk.services.errors import AccessDenied, ServiceError
from emdesk.services.intake import IntakeService
from emdesk.services.removals import RemovalService
from emdesk.services.visit_making import VisitMakingService
from emdesk.services.visit_outcomes import VisitOutcomeError, VisitOutcomeService

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)       # a Thursday, GMT
CORPUS = Path(__file__).parents[1] / "corpus" / "orders"


@pytest.fixture
def world(store):
    ann = User(username="ann", display_name="Ann", role=Role.FIELD_OFFICER, region="Wales")
    bea = User(username="bea", display_name="Bea", role=Role.FIELD_OFFICER, region="Wales")
    boss = User(username="boss", display_name="Boss", role=Role.SUPERVISOR)
    monitor = User(username="mon", display_name="Mon", role=Role.MONITORING_OPERATOR, region="Wales")
    home = Address(lines=("12 City Road",), town="Cardiff", postcode="CF24 3BJ", lat=51.49, lon=-3.17)
    sam = Subject(given_name="Sam", family_name="Jones", addresses=(home,))
    order = Order(reference="W-9", subject_id=sam.id, status=OrderStatus.SUBMITTED, region="Wales",
                  assigned_officer_id=ann.id, received_at=NOW - timedelta(hours=2),
                  conditions=Conditions(curfew=Curfew(windows=parse_windows("Daily 19:00-07:00"))),
                  device_kinds=(DeviceKind.RF_TAG, DeviceKind.HMU))
    visit = Visit(order_id=order.id, subject_id=sam.id, kind=VisitKind.INSTALL, officer_id=ann.id,
                  window_start=NOW - timedelta(hours=1), window_end=NOW, cause=VisitCause.ORDER_ACTIVE,
                  due_by=install_due_by(order.received_at), equipment=order.device_kinds)
    check = Visit(order_id=order.id, subject_id=sam.id, kind=VisitKind.CHECK, officer_id=ann.id,
                  window_start=NOW, window_end=NOW + timedelta(hours=1))
    store.put_many([ann, bea, boss, monitor, sam, order, visit, check])
    return {"ann": ann, "bea": bea, "boss": boss, "mon": monitor, "order": order, "visit": visit, "check": check,
            "sam": sam}


def service(store, clock, user):
    return VisitOutcomeService(store, user, clock)


@pytest.mark.parametrize(("outcome", "crew"), [
    (OutcomeCode.NOT_AT_ADDRESS, 1), (OutcomeCode.REFUSED, 1), (OutcomeCode.WRONG_ADDRESS, 1),
    (OutcomeCode.LATE_ORDER, 1), (OutcomeCode.EQUIPMENT_FAULT, 1), (OutcomeCode.UNSAFE, 2),
])
def test_a_failed_attempt_keeps_its_reason_and_books_the_next_in_one_action(store, clock, world, outcome, crew):
    result = service(store, clock, world["ann"]).record_outcome(world["visit"].id, outcome, "  dog loose, no answer ")
    failed, nxt = result.visit, result.next_visit
    assert failed.status is VisitStatus.FAILED and failed.outcome is outcome and failed.outcome_at == NOW
    assert failed.notes.endswith(f"{outcome.label}: dog loose, no answer")
    assert nxt is not None and nxt.id == rebooking_id(failed)
    assert (nxt.attempt, nxt.previous_visit_id, nxt.cause, nxt.crew_size) == (2, failed.id,
                                                                              VisitCause.FAILED_ATTEMPT, crew)
    assert nxt.window_start == datetime(2026, 11, 26, 19, 0, tzinfo=UTC)     # tonight's curfew, GMT
    assert nxt.due_by == failed.due_by and nxt.officer_id == world["ann"].id
    assert "attempt 2 booked for Thu 26 Nov 19:00-22:00" in result.message
    assert store.get(Visit, nxt.id) == nxt and store.get(Visit, failed.id) == failed
    # Both rows went into the outbox as one field action.
    with store.reading() as db:
        actions = db.execute("SELECT action, action_id, row_id FROM outbox WHERE action IS NOT NULL").fetchall()
    assert {a[2] for a in actions} == {failed.id, nxt.id} and len(actions) == 2
    assert {(a[0], a[1]) for a in actions} == {("attempt_failed", actions[0][1])}


def test_recording_the_same_failure_again_changes_nothing(store, clock, world):
    svc = service(store, clock, world["ann"])
    first = svc.record_outcome(world["visit"].id, "not_at_address")
    before = store.outbox_count()
    clock.advance(timedelta(minutes=5))
    again = svc.record_outcome(world["visit"].id, OutcomeCode.NOT_AT_ADDRESS)
    assert again.already_recorded and again.next_visit == first.next_visit and again.visit == first.visit
    assert store.outbox_count() == before
    assert store.count(Visit, where={"order_id": world["order"].id}) == 3
    with pytest.raises(VisitOutcomeError, match="already failed"):
        svc.record_outcome(world["visit"].id, OutcomeCode.REFUSED)


def test_a_cancelled_order_books_nothing_more(store, clock, world):
    result = service(store, clock, world["ann"]).record_outcome(world["visit"].id, OutcomeCode.ORDER_CANCELLED)
    assert result.next_visit is None and "no further attempt" in result.message
    assert store.count(Visit, where={"order_id": world["order"].id}) == 2


def test_checks_and_repairs_and_what_goes_elsewhere(store, clock, world):
    svc = service(store, clock, world["ann"])
    ok = svc.record_outcome(world["check"].id, OutcomeCode.CHECKED_OK, "strap fine")
    assert ok.visit.status is VisitStatus.COMPLETED and ok.next_visit is None and "strap fine" in ok.visit.notes
    with pytest.raises(VisitOutcomeError, match="pairing wizard"):
        svc.record_outcome(world["visit"].id, OutcomeCode.INSTALLED)
    with pytest.raises(VisitOutcomeError, match="does not finish an? install"):
        svc.record_outcome(world["visit"].id, OutcomeCode.CHECKED_OK)
    with pytest.raises(VisitOutcomeError, match="outcome: 'gone fishing' is not an outcome"):
        svc.record_outcome(world["visit"].id, "gone fishing")
    assert store.get(Visit, world["visit"].id).status is VisitStatus.SCHEDULED
    assert OutcomeCode.CHECKED_OK in svc.outcomes_for(VisitKind.CHECK)
    assert OutcomeCode.CHECKED_OK not in svc.outcomes_for(VisitKind.INSTALL)


@pytest.mark.parametrize("who", ["bea", "mon"])
def test_only_the_visits_own_officer_records_it(store, clock, world, who):
    with pytest.raises(AccessDenied):
        service(store, clock, world[who]).record_outcome(world["visit"].id, OutcomeCode.REFUSED)
    assert store.get(Visit, world["visit"].id).status is VisitStatus.SCHEDULED


def test_a_crash_mid_action_leaves_neither_half(store, clock, world, monkeypatch):
    from emdesk.services import visit_outcomes

    def broken(self, *a, **k):
        raise RuntimeError("power cut")
    monkeypatch.setattr(visit_outcomes.VisitOutcomeService, "_audit", broken)
    with pytest.raises(RuntimeError):
        service(store, clock, world["ann"]).record_outcome(world["visit"].id, OutcomeCode.REFUSED)
    assert store.get(Visit, world["visit"].id).status is VisitStatus.SCHEDULED
    assert store.count(Visit, where={"order_id": world["order"].id}) == 2


def test_installs_and_removals_keep_their_notes(store, clock, world, finish_checklist):
    ended = world["order"].evolve(status=OrderStatus.ENDED)
    removal = Visit(order_id=ended.id, subject_id=ended.subject_id, kind=VisitKind.REMOVAL,
                    officer_id=world["ann"].id, window_start=NOW)
    tag = Device(kind=DeviceKind.RF_TAG, serial="RF-1", state=DeviceState.INSTALLED, order_id=ended.id,
                 subject_id=ended.subject_id, region="Wales")
    store.put_many([ended, removal, tag])
    finish_checklist(store, world["ann"], clock, removal.id)
    RemovalService(store, world["ann"], clock).record_removal(removal.id, ["RF-1"], notes="left with neighbour")
    assert "left with neighbour" in store.get(Visit, removal.id).notes


# -- visits made where orders change --------------------------------------------------------


def test_an_order_accepted_at_intake_gets_its_install(store, clock, world):
    intake = IntakeService(store, world["boss"], clock, GazetteerGeocoder())
    parsed = parse_intake(json.loads((CORPUS / "valid" / "court_bail_youth_interpreter.json").read_text())["intake"])
    result = intake.submit(parsed.order, parsed.subject)
    assert result.accepted
    (install,) = store.find(Visit, where={"order_id": result.order.id})
    assert (install.kind, install.cause, install.attempt) == (VisitKind.INSTALL, VisitCause.ORDER_ACTIVE, 1)
    assert install.due_by == install_due_by(result.order.received_at)
    assert install.window_start < install.due_by and install.window_end > install.window_start
    # Submitting it again (a retried import) books nothing more.
    from emdesk.services.visit_making import VisitMaker
    assert not VisitMaker(store, clock, "x").accepted(store.get(Order, result.order.id)).make


def test_an_invalid_order_gets_no_install(store, clock, world):
    intake = IntakeService(store, world["boss"], clock, GazetteerGeocoder())
    parsed = parse_intake(json.loads((CORPUS / "invalid" / "SUBJ-DOB-MISSING.json").read_text())["intake"])
    result = intake.submit(parsed.order, parsed.subject)
    assert not result.accepted and not store.find(Visit, where={"order_id": result.order.id})


def test_ending_an_order_books_one_removal_of_every_device_and_cancels_the_install(store, clock, world):
    active = world["order"].evolve(status=OrderStatus.ACTIVE)
    kit = [Device(kind=DeviceKind.RF_TAG, serial="RF-7", state=DeviceState.INSTALLED, order_id=active.id,
                  region="Wales"),
           Device(kind=DeviceKind.HMU, serial="HMU-7", state=DeviceState.INSTALLED, order_id=active.id,
                  region="Wales")]
    store.put_many([active, *kit])
    svc = VisitMakingService(store, world["boss"], clock)
    result = svc.end_order(active.id, reason="sentence served")
    assert result.order.status is OrderStatus.ENDED
    assert result.removal.device_serials == ("HMU-7", "RF-7") and result.removal.cause is VisitCause.ORDER_ENDED
    assert set(result.cancelled) == {world["visit"].id, world["check"].id}
    assert store.get(Visit, world["visit"].id).status is VisitStatus.CANCELLED
    again = svc.end_order(active.id)
    assert again.removal.id == result.removal.id
    assert store.count(Visit, where={"order_id": active.id, "kind": "removal"}) == 1
    with pytest.raises(AccessDenied):
        VisitMakingService(store, world["ann"], clock).end_order(active.id)
    with pytest.raises(ServiceError, match="order_id"):
        svc.end_order("nope")


def test_a_device_fault_books_one_repair(store, clock, world):
    active = world["order"].evolve(status=OrderStatus.ACTIVE)
    hmu = Device(kind=DeviceKind.HMU, serial="HMU-8", state=DeviceState.INSTALLED, order_id=active.id,
                 region="Wales")
    store.put_many([active, hmu])
    svc = VisitMakingService(store, world["mon"], clock)
    repair = svc.device_fault("HMU-8", key="alert-9")
    assert (repair.kind, repair.equipment, repair.device_serials) == (VisitKind.REPAIR, (DeviceKind.HMU,),
                                                                      ("HMU-8",))
    assert svc.device_fault("HMU-8", key="alert-9") is None
    with pytest.raises(ServiceError, match="serial"):
        svc.device_fault("NOPE-1")


def test_risk_flags_double_crew_the_install(store, clock, world):
    sam = world["sam"].evolve(risk_flags=(RiskFlag.WEAPONS,))
    fresh = world["order"].evolve(id="0190a000-0000-7000-8000-00000000a001", reference="W-10")
    store.put_many([sam, fresh])
    from emdesk.services.visit_making import VisitMaker
    (v,) = VisitMaker(store, FixedClock(NOW), "x").accepted(fresh).make
    assert v.crew_size == 2


def _existing(store):
    for entry in json.loads((CORPUS / "existing.json").read_text()):
        e = parse_intake(entry["intake"])
        store.put(e.subject)
        store.put(e.order.evolve(id=entry["id"], status=OrderStatus(entry["status"])))


@pytest.mark.parametrize(("moves", "kind", "cause"), [
    (False, VisitKind.CHECK, VisitCause.VARIATION),
    (True, VisitKind.INSTALL, VisitCause.ADDRESS_CHANGE),
])
def test_a_variation_checks_and_a_new_address_reinstalls(store, clock, world, moves, kind, cause):
    import msgspec

    from emdesk.domain.orders import Installation
    _existing(store)
    intake = IntakeService(store, world["boss"], clock, GazetteerGeocoder())
    raw = json.loads((CORPUS / "valid" / "variation_of_active_order.json").read_text())["intake"]
    parsed = parse_intake(raw)
    order = parsed.order
    if moves:
        new_home = Address(lines=("3 New Street",), town="Leeds", postcode="LS2 7EY")
        order = order.evolve(installation=Installation(address=new_home))
    result = intake.submit(order, parsed.subject)
    assert result.accepted, result.problems
    varied = store.get(Order, order.varies_order_id)
    (made,) = store.find(Visit, where={"order_id": varied.id})
    assert (made.kind, made.cause) == (kind, cause)
    if moves:
        assert varied.installation.address.postcode == "LS2 7EY"
        assert made.due_by == install_due_by(clock.now()) and made.equipment
    assert not store.find(Visit, where={"order_id": result.order.id})      # the notification has no visit
    assert msgspec.to_builtins(varied.variations[-1]) == msgspec.to_builtins(order.variation)


def test_backfill_books_the_installs_an_older_store_lacks_once(store, clock, world):
    bare = world["order"].evolve(id="0190a000-0000-7000-8000-00000000b001", reference="W-11")
    store.put(bare)
    svc = VisitMakingService(store, world["boss"], clock)
    made = svc.backfill()
    assert [(v.order_id, v.kind) for v in made] == [(bare.id, VisitKind.INSTALL)]   # W-9 has its install already
    assert svc.backfill() == []
    with pytest.raises(AccessDenied):
        VisitMakingService(store, world["ann"], clock).backfill()
