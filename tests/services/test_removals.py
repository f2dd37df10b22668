"""Removals recorded at the door: every device of the order accounted for, in one field action."""
from __future__ import annotations

from datetime import timedelta

import pytest

from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.users import Role, User
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.services.errors import AccessDenied
from emdesk.services.removals import RemovalError, RemovalService


@pytest.fixture
def world(store, clock):
    ann = User(username="ann", display_name="Ann", role=Role.FIELD_OFFICER, region="Wales")
    bea = User(username="bea", display_name="Bea", role=Role.FIELD_OFFICER, region="Wales")
    sam = Subject(given_name="Sam", family_name="Jones")
    order = Order(reference="W-9", subject_id=sam.id, status=OrderStatus.ENDED, region="Wales",
                  assigned_officer_id=ann.id)
    visit = Visit(order_id=order.id, subject_id=sam.id, kind=VisitKind.REMOVAL, officer_id=ann.id,
                  window_start=clock.now() + timedelta(hours=1))
    tag = Device(kind=DeviceKind.RF_TAG, serial="RF-1", state=DeviceState.INSTALLED, order_id=order.id,
                 subject_id=sam.id, paired_with="HMU-1", region="Wales")
    hmu = Device(kind=DeviceKind.HMU, serial="HMU-1", state=DeviceState.AWAITING_COLLECTION, order_id=order.id,
                 subject_id=sam.id, paired_with="RF-1", region="Wales")
    store.put_many([ann, bea, sam, order, visit, tag, hmu])
    return {"ann": ann, "bea": bea, "visit": visit, "tag": tag, "hmu": hmu}


@pytest.mark.parametrize("recovered, outcome, states", [
    (["RF-1", "HMU-1"], OutcomeCode.REMOVED, {"RF-1": DeviceState.RECOVERED, "HMU-1": DeviceState.RECOVERED}),
    (["HMU-1"], OutcomeCode.EQUIPMENT_NOT_RECOVERED, {"RF-1": DeviceState.LOST, "HMU-1": DeviceState.RECOVERED}),
    ([], OutcomeCode.EQUIPMENT_NOT_RECOVERED, {"RF-1": DeviceState.LOST, "HMU-1": DeviceState.LOST}),
])
def test_every_device_is_recovered_or_lost_in_one_action(store, clock, world, finish_checklist, recovered, outcome,
                                                         states):
    left = {s: "wearer absconded" for s in ("RF-1", "HMU-1") if s not in recovered}
    finish_checklist(store, world["ann"], clock, world["visit"].id, conditions=dict.fromkeys(left, "not recovered"),
                     skipped={step: "wearer absconded" for step, serial in (("tag_removed", "RF-1"),
                                                                           ("unit_recovered", "HMU-1"))
                              if serial in left})
    with store.reading() as db:
        last = db.execute("SELECT max(seq) FROM outbox").fetchone()[0]
    record = RemovalService(store, world["ann"], clock).record_removal(world["visit"].id, recovered, reasons=left)
    visit = store.get(Visit, world["visit"].id)
    assert visit.status is VisitStatus.COMPLETED and visit.outcome is outcome
    assert set(visit.device_serials) == set(recovered) == set(record.recovered)
    assert visit.not_recovered == left == record.reasons
    for serial, state in states.items():
        d = store.find(Device, where={"serial": serial})[0]
        assert d.state is state and d.order_id is None and d.paired_with is None
    with store.reading() as db:
        written = db.execute("SELECT row_id, action, action_id FROM outbox WHERE seq > ?", [last]).fetchall()
    assert {r[0] for r in written} == {visit.id, world["tag"].id, world["hmu"].id}
    assert {r[1] for r in written} == {"removal"} and len({r[2] for r in written}) == 1


@pytest.mark.parametrize("who, recovered, error", [
    ("bea", ["RF-1"], AccessDenied),
    ("ann", ["RF-404"], RemovalError),
])
def test_nothing_is_written_when_the_removal_cannot_be_recorded(store, clock, world, finish_checklist, who,
                                                               recovered, error):
    finish_checklist(store, world["ann"], clock, world["visit"].id)
    before = store.outbox_count()
    with pytest.raises(error):
        RemovalService(store, world[who], clock).record_removal(world["visit"].id, recovered)
    assert store.outbox_count() == before
    assert store.find(Device, where={"serial": "RF-1"})[0].state is DeviceState.INSTALLED
