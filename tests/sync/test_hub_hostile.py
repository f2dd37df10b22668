"""A hostile desktop against the hub, on both storages: crafted clock stamps, forged
authors and desktops, writes that point records at other people's cases, and replays."""
from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from synckit import MONITOR, NOW, OFFICER, OTHER_OFFICER, SUPERVISOR, hub_row, own_open_visit

from emdesk.domain import hlc
from emdesk.domain.devices import Device
from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Order, OrderStatus, StatusChange
from emdesk.domain.people import Subject
from emdesk.domain.visits import Visit, VisitKind
from emdesk.store.migrations import LATEST
from emdesk.sync import protocol as p
from emdesk.sync.ordering import CONFLICTS

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def push(desk, *ops):
    return desk.client._post("/v1/push", p.PushRequest(schema_version=LATEST, device_id=desk.store.desktop_id,
                                                       ops=list(ops)), p.PushResponse).results


_n = [0]


def op(desk, record, *, stamp: str | None = None, changed=None, origin: str | None = None, op_id: str = ""):
    _n[0] += 1
    # A second ahead of the hub's clock (well inside the skew it allows): newer than what it holds.
    stamp = stamp or str(hlc.Stamp(int(desk.store.clock.now().timestamp() * 1000) + 1000, _n[0], "desk"))
    record = record.evolve(hlc=stamp, origin=desk.store.desktop_id if origin is None else origin)
    return p.Op(op_id=op_id or f"hostile-{_n[0]}", device_seq=_n[0], table=type(record).table, row_id=record.id,
                kind="upsert", hlc=stamp, payload=msgspec.json.encode(record).decode(), changed=changed)


def conflicts(kit) -> int:
    with kit.hub.storage.read("all") as tx:
        return int(tx.scalar("SELECT count(*) FROM hub_rows WHERE tbl = ?", [CONFLICTS], default=0))


# -- 2. crafted clock stamps ---------------------------------------------------------------


@pytest.mark.parametrize("crafted", [
    "9-0000-x",                                              # parses with int(), "a time long past"
    "{ms}-0000-desk".translate(FULLWIDTH),                   # today in fullwidth digits
    " {ms}-0000-desk", "+{ms}-0000-desk", "{ms}-00ff-desk".upper(), "{ms}-0_01-desk", "{ms}-0000-",
    "{ms}0-0000-desk", "{ms}-0000-desk\n",
])
def test_a_crafted_stamp_is_refused_and_cannot_freeze_a_record(kit, crafted):
    monitor = kit.desk(MONITOR)
    order = monitor.store.find(Order, order_by="id")[0]
    crafted = crafted.replace("{ms}", f"{kit.hub.now_ms():013d}")
    result = push(monitor, op(monitor, order.evolve(reference="FROZEN"), stamp=crafted, changed=["reference"]))[0]
    assert result.status == "refused" and "not an HLC stamp" in result.reason
    assert hub_row(kit, "orders", order.id)["reference"] == order.reference
    # Honest edits after it are applied as usual, with no conflict rows.
    before = conflicts(kit)
    for text in ("HONEST-1", "HONEST-2"):
        monitor.store.put(monitor.store.get(Order, order.id).evolve(reference=text))
        assert not monitor.sync().refused
        assert hub_row(kit, "orders", order.id)["reference"] == text
    assert conflicts(kit) == before


def test_stamps_order_by_their_numbers():
    early, late = "1764147600000-0009-zz", "1764147600001-0000-aa"
    assert hlc.key(late) > hlc.key(early)
    assert hlc.later(early, late) == late
    with pytest.raises(ValueError, match="not an HLC stamp"):
        hlc.key("1764147600001-0000-aa".translate(FULLWIDTH))


# -- 3. authorship from the token --------------------------------------------------------------


def test_a_note_in_another_users_name_is_refused(kit):
    officer = kit.desk(OFFICER)
    other = kit.user(OTHER_OFFICER)[0]
    case = officer.store.find(Order, where={"assigned_officer_id": officer.user.id})[0]
    forged = Note(subject_id=case.subject_id, order_id=case.id, author_id=other.id, at=NOW, text="not me")
    result = push(officer, op(officer, forged))[0]
    assert result.status == "refused" and "author_id" in result.reason
    assert hub_row(kit, "notes", forged.id) is None
    honest = Note(subject_id=case.subject_id, order_id=case.id, author_id="", at=NOW + timedelta(days=2), text="me")
    assert push(officer, op(officer, honest))[0].status == "applied"
    kept = hub_row(kit, "notes", honest.id)
    assert kept["author_id"] == officer.user.id                       # filled in from the sign-in
    assert kept["at"] <= msgspec.to_builtins(kit.clock.now())         # never later than the hub's clock


def test_a_change_claiming_another_desktop_or_another_users_move_is_refused(kit):
    monitor = kit.desk(MONITOR)
    boss = kit.user(SUPERVISOR)[0]
    order = monitor.store.find(Order, order_by="id")[0]
    moved = order.evolve(status=OrderStatus.REVOKED, history=(*order.history, StatusChange(
        at=NOW, from_status=order.status, to_status=OrderStatus.REVOKED, by=boss.id, reason="forged")))
    result = push(monitor, op(monitor, moved, changed=["status", "history"]))[0]
    assert result.status == "refused" and "history" in result.reason
    result = push(monitor, op(monitor, order.evolve(reference="X"), changed=["reference"], origin="someone-else"))[0]
    assert result.status == "refused" and "another desktop" in result.reason
    assert hub_row(kit, "orders", order.id)["status"] == order.status.value
    assert hub_row(kit, "orders", order.id)["reference"] == order.reference


def test_an_acknowledgement_in_another_users_name_is_refused(kit):
    from emdesk.domain.monitoring import Alert, EventKind
    boss = kit.desk(SUPERVISOR)
    monitor = kit.desk(MONITOR)
    order = monitor.store.find(Order, order_by="id")[0]
    alert = Alert(order_id=order.id, subject_id=order.subject_id, kind=EventKind.STRAP_TAMPER, raised_at=NOW)
    assert push(boss, op(boss, alert))[0].status == "applied"
    forged = alert.evolve(status="acknowledged", acknowledged_by=boss.user.id, acknowledged_at=NOW)
    result = push(monitor, op(monitor, forged))[0]
    assert result.status == "refused" and "acknowledged_by" in result.reason
    assert hub_row(kit, "alerts", alert.id)["acknowledged_by"] is None


# -- 4. scope after the change -------------------------------------------------------------------


def test_an_order_naming_a_person_of_another_region_is_refused_and_leaks_nothing(kit):
    monitor = kit.desk(MONITOR)
    london = next(o for o in kit.world.orders if o.region == "London")
    person = next(s for s in kit.world.subjects if s.id == london.subject_id)
    order = Order(reference="GRAB", subject_id=person.id, region=monitor.user.region, status=OrderStatus.SUBMITTED)
    result = push(monitor, op(monitor, order))[0]
    assert result.status == "refused" and "outside your caseload or region" in result.reason
    monitor.sync()
    assert monitor.store.get(Subject, person.id) is None
    assert hub_row(kit, "orders", order.id) is None


def test_an_officer_cannot_book_herself_onto_another_officers_case(kit):
    officer = kit.desk(OFFICER)
    other = kit.user(OTHER_OFFICER)[0]
    theirs = next(o for o in kit.world.orders if o.assigned_officer_id == other.id)
    visit = Visit(order_id=theirs.id, subject_id=theirs.subject_id, kind=VisitKind.CHECK, officer_id=officer.user.id,
                  window_start=NOW + timedelta(days=1))
    result = push(officer, op(officer, visit))[0]
    assert result.status == "refused" and "outside your caseload" in result.reason
    officer.sync()
    assert officer.store.get(Order, theirs.id) is None and hub_row(kit, "visits", visit.id) is None


def test_moving_a_record_out_of_ones_own_scope_is_refused(kit):
    officer, monitor = kit.desk(OFFICER), kit.desk(MONITOR)
    # An officer moves her visit onto another region's order.
    visit = own_open_visit(officer, officer.user.id)
    london = next(o for o in kit.world.orders if o.region == "London")
    result = push(officer, op(officer, visit.evolve(order_id=london.id, subject_id=london.subject_id),
                              changed=["order_id", "subject_id"]))[0]
    assert result.status == "refused" and "outside your caseload" in result.reason
    # ... or a device of her case onto it.
    device = next(d for d in officer.store.find(Device, order_by="id") if d.order_id)
    result = push(officer, op(officer, device.evolve(order_id=london.id), changed=["order_id"]))[0]
    assert result.status == "refused"
    assert hub_row(kit, "devices", device.id)["order_id"] == device.order_id
    # A monitoring operator moves an order out of her region.
    order = monitor.store.find(Order, order_by="id")[0]
    result = push(monitor, op(monitor, order.evolve(region="London"), changed=["region"]))[0]
    assert result.status == "refused" and "out of your caseload or region" in result.reason
    assert hub_row(kit, "orders", order.id)["region"] == order.region
    # A supervisor may move a case.
    boss = kit.desk(SUPERVISOR)
    held = boss.store.get(Order, order.id)
    assert push(boss, op(boss, held.evolve(region="London"), changed=["region"]))[0].status == "applied"


# -- 8. replays are not conflicts ---------------------------------------------------------------------


def test_replaying_an_old_payload_under_new_op_ids_adds_no_conflicts(kit):
    monitor = kit.desk(MONITOR)
    person = monitor.store.find(Subject, order_by="id")[0]
    monitor.store.put(person.evolve(phone="07000 000001"))
    sent = monitor.store.outbox_batch(10, ["subjects"])[0]
    assert not monitor.sync().refused
    before = conflicts(kit)
    for i in range(3):
        replay = p.Op(op_id=f"replay-{i}", device_seq=100 + i, table="subjects", row_id=person.id, kind="upsert",
                      hlc=sent["hlc"], payload=sent["payload"])
        assert push(monitor, replay)[0].status == "duplicate"
    assert conflicts(kit) == before
    # A stale value replayed three times is one conflict, not three.
    monitor.store.put(monitor.store.get(Subject, person.id).evolve(phone="07000 000002"))
    assert not monitor.sync().refused
    for i in range(3):
        replay = p.Op(op_id=f"stale-{i}", device_seq=200 + i, table="subjects", row_id=person.id, kind="upsert",
                      hlc=sent["hlc"], payload=sent["payload"].replace("07000 000001", "07000 999999"))
        assert push(monitor, replay)[0].status == "merged"
    assert conflicts(kit) == before + 1


def test_a_push_of_too_many_changes_is_refused_before_any_is_read(kit):
    from emdesk.sync.errors import HubRefused
    from emdesk.sync.hub.engine import MAX_PUSH_OPS
    monitor = kit.desk(MONITOR)
    order = monitor.store.find(Order, order_by="id")[0]
    one = op(monitor, order, changed=["reference"])
    flood = [msgspec.structs.replace(one, op_id=f"flood-{i}") for i in range(MAX_PUSH_OPS + 1)]
    head = kit.hub.head()
    with pytest.raises(HubRefused, match="at most"):
        push(monitor, *flood)
    assert kit.hub.head() == head
