"""The outstanding-equipment list: kit not recovered at a removal stays on it, with its reason,
until it is recovered or written off; supervisors and technicians see it, nobody else."""
from __future__ import annotations

from datetime import timedelta

import pytest

from emdesk.domain.devices import Device, DeviceState
from emdesk.domain.users import Role, User
from emdesk.services.equipment import EquipmentError, OutstandingEquipmentService
from emdesk.services.errors import AccessDenied
from emdesk.services.removals import RemovalService

from .test_removals import world  # noqa: F401 - fixture


@pytest.fixture
def staff(store):
    people = {
        "boss": User(username="boss", display_name="Boss", role=Role.SUPERVISOR),
        "tech": User(username="tech", display_name="Tech", role=Role.TECHNICIAN, region="Wales"),
        "mon": User(username="mon", display_name="Mon", role=Role.MONITORING_OPERATOR, region="Wales"),
        "admin": User(username="admin", display_name="Admin", role=Role.ADMIN),
    }
    store.put_many(people.values())
    return people


@pytest.fixture
def left_behind(store, clock, world, finish_checklist):
    """The removal recovered the home unit; the wearer had absconded with the tag."""
    finish_checklist(store, world["ann"], clock, world["visit"].id, conditions={"RF-1": "not recovered"},
                     skipped={"tag_removed": "wearer absconded"})
    RemovalService(store, world["ann"], clock).record_removal(world["visit"].id, ["HMU-1"],
                                                              reasons={"RF-1": "wearer absconded"})
    return world


@pytest.mark.parametrize("who", ["boss", "tech"])
def test_unrecovered_kit_is_listed_with_its_reason(store, clock, left_behind, staff, who):
    rows = OutstandingEquipmentService(store, staff[who], clock).rows()
    assert len(rows) == 1
    row = rows[0]
    assert (row.serial, row.kind, row.order_reference, row.wearer, row.reason) == (
        "RF-1", "RF tag", "W-9", "Sam Jones", "wearer absconded")
    assert row.since == clock.now() and row.visit_id == left_behind["visit"].id
    assert row.last_visit == f"removal on {clock.now():%Y-%m-%d}: equipment not recovered"
    # The wearer's name, nothing more of them.
    assert not {"address", "date_of_birth", "subject_id"} & set(row.__slots__)


@pytest.mark.parametrize("who", ["mon", "admin"])
def test_others_do_not_see_it(store, clock, left_behind, staff, who):
    with pytest.raises(AccessDenied):
        OutstandingEquipmentService(store, staff[who], clock).rows()


def test_an_officer_does_not_see_it(store, clock, left_behind):
    with pytest.raises(AccessDenied):
        OutstandingEquipmentService(store, left_behind["ann"], clock).rows()


def test_without_the_case_on_this_desktop_the_device_still_says_why(store, clock, world, staff):
    lost = store.find(Device, where={"serial": "RF-1"})[0]
    from emdesk.domain.devices import move_device
    store.put(move_device(lost, DeviceState.LOST, at=clock.now() - timedelta(days=3), by="x",
                          reason="not recovered at removal: device destroyed", order_id=None, subject_id=None))
    row = OutstandingEquipmentService(store, staff["tech"], clock).rows()[0]
    assert (row.serial, row.reason, row.order_reference, row.wearer) == ("RF-1", "device destroyed", "", "")
    assert row.since == clock.now() - timedelta(days=3)


@pytest.mark.parametrize("how, notes, state", [
    ("recovered", "", DeviceState.RECOVERED),
    ("written_off", "police report 44/2026", DeviceState.WRITTEN_OFF),
])
def test_closing_takes_it_off_the_list(store, clock, left_behind, staff, how, notes, state):
    svc = OutstandingEquipmentService(store, staff["tech"], clock)
    device = svc.close("RF-1", how, notes)
    assert device.state is state and device.history[-1].by == staff["tech"].id
    assert notes in device.history[-1].reason
    assert svc.rows() == []
    with pytest.raises(EquipmentError, match="not on the outstanding-equipment list"):
        svc.close("RF-1", how, notes)


@pytest.mark.parametrize("serial, how, notes, message", [
    ("RF-1", "found", "", "how: 'found' is not a way to close it; use one of: recovered, written_off"),
    ("RF-1", "written_off", "  ", "notes: say why the device is written off"),
    ("RF-404", "recovered", "", "RF-404 is not in emdesk's stock records"),
    ("HMU-1", "recovered", "", "HMU-1 is not on the outstanding-equipment list \\(it is recovered\\)"),
])
def test_closing_refuses_in_words(store, clock, left_behind, staff, serial, how, notes, message):
    with pytest.raises(EquipmentError, match=message):
        OutstandingEquipmentService(store, staff["boss"], clock).close(serial, how, notes)
    assert [r.serial for r in OutstandingEquipmentService(store, staff["boss"], clock).rows()] == ["RF-1"]
