"""The outstanding-equipment list: kit not recovered at a removal stays on it, with its reason,
until it is recovered or written off; supervisors and technicians see it, nobody else."""
from __future__ import annotations

from datetime import timedelta

import pytest

from emdesk.domain.clock import FixedClock
from emdesk.domain.devices import Device, DeviceState
from emdesk.domain.users import Role, User
from emdesk.services.equipment import EquipmentError, OutstandingEquipmentService, close_refusal
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
    # Who to ask and where: the officer who made the removal, the order's region.
    assert (row.officer, row.region, row.days) == ("Ann", "Wales", 0)
    later = OutstandingEquipmentService(store, staff[who], FixedClock(clock.now() + timedelta(days=9, hours=23)))
    assert later.rows()[0].days == 9
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


def test_kit_lost_without_a_removal_still_names_its_order_and_officer(store, clock, world, staff):
    """Chased after the order ended and given up on: the device still holds its allocation."""
    from emdesk.domain.devices import move_device
    tag = store.find(Device, where={"serial": "RF-1"})[0]
    store.put(move_device(tag, DeviceState.LOST, at=clock.now() - timedelta(days=40), by="x",
                          reason="not recovered after repeated visits"))
    row = OutstandingEquipmentService(store, staff["boss"], clock).rows()[0]
    assert (row.order_reference, row.wearer, row.officer, row.region, row.days, row.visit_id) == (
        "W-9", "Sam Jones", "Ann", "Wales", 40, None)
    assert row.reason == "not recovered after repeated visits"


@pytest.mark.parametrize("role, how, refused", [
    (Role.SUPERVISOR, "recovered", ""),
    (Role.SUPERVISOR, "written_off", ""),
    (Role.TECHNICIAN, "recovered", ""),
    (Role.TECHNICIAN, "written_off", ""),
    (Role.MONITORING_OPERATOR, "recovered", "Monitoring operator accounts do not see the outstanding-equipment list"),
    (Role.FIELD_OFFICER, "written_off", "Field officer accounts do not see the outstanding-equipment list"),
    (Role.ADMIN, "recovered", "Admin accounts do not see the outstanding-equipment list"),
])
def test_who_may_close_it(role, how, refused):
    assert close_refusal(User(username="u", display_name="U", role=role), how) == refused
