"""The visit checklist at the door: each tick saved at once and audited, readings only from
the devices, only the visit's crew ticks, and installs and removals wait for the required steps."""
from __future__ import annotations

import pytest

from emdesk.domain.checklists import ChecklistTick
from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.users import Role, User
from emdesk.domain.visits import Visit, VisitKind, VisitStatus
from emdesk.services.checklists import ChecklistError, ChecklistService
from emdesk.services.errors import AccessDenied
from emdesk.services.installs import InstallError, InstallService
from emdesk.services.removals import RemovalError, RemovalService

from .test_installs import install_world
from .test_removals import world as removal_world  # noqa: F401 - fixture


@pytest.fixture
def world(store, clock):
    w = install_world(store, clock.now())
    boss = User(username="boss", display_name="Boss", role=Role.SUPERVISOR)
    store.put(boss)
    return {**w, "boss": boss}


def svc(store, clock, user):
    return ChecklistService(store, user, clock)


def test_a_new_checklist_starts_at_the_first_step(store, clock, world):
    state = svc(store, clock, world["ann"]).open(world["visit"].id)
    assert state.template == "install_rf" and state.title == "Install: RF tag and home unit"
    assert not state.complete and state.resume == "identity_confirmed" and state.editable
    assert len(state.blocking) == 8 and state.blocking[5].startswith("Pairing and range test: readings")
    assert state.devices == (("RF-104233", DeviceKind.RF_TAG),)
    assert all(s.applies for s in state.steps)            # the order has a home unit: its step applies


def test_each_tick_is_saved_at_once_audited_and_kept_when_unticked(store, clock, world):
    s = svc(store, clock, world["ann"])
    before = store.outbox_count()
    state = s.tick(world["visit"].id, "identity_confirmed")
    assert state.resume == "conditions_explained" and state.step("identity_confirmed").done
    with store.reading() as db:
        rows = db.execute("SELECT table_name, action FROM outbox ORDER BY seq").fetchall()[before:]
    assert rows == [("checklist_ticks", None)]            # its own op: not waiting for anything else
    audited = [e for e in store.audit_entries() if e.entity == "checklist_ticks"]
    assert len(audited) == 1 and audited[0].subject_id == world["visit"].subject_id
    state = s.tick(world["visit"].id, "identity_confirmed", done=False)
    assert state.resume == "identity_confirmed" and not state.step("identity_confirmed").done
    history = s.history(world["visit"].id)
    assert [(t.step, t.done) for t in history] == [("identity_confirmed", True), ("identity_confirmed", False)]
    assert {t.by for t in history} == {world["ann"].id}


@pytest.mark.parametrize("step, kwargs, message", [
    ("pairing", {}, "readings come from the devices through the pairing wizard"),
    ("pairing", {"value": {"pairing_id": "typed"}}, "cannot be typed in"),
    ("signature", {}, "has no step 'signature'"),
    ("wearer_acknowledgement", {"value": "nodded"}, "choose one of: signed, verbal, refused to sign"),
    ("wearer_acknowledgement", {}, "choose one of"),
    ("identity_confirmed", {"value": "yes"}, "a tick takes no value"),
    ("leaflet_given", {"skipped": "none left"}, "cannot be marked not possible"),
])
def test_bad_ticks_are_refused_in_words(store, clock, world, step, kwargs, message):
    before = store.outbox_count()
    with pytest.raises(ChecklistError, match=message):
        svc(store, clock, world["ann"]).tick(world["visit"].id, step, **kwargs)
    assert store.outbox_count() == before and not store.find(ChecklistTick)


@pytest.mark.parametrize("who, error", [("bea", AccessDenied), ("tech", AccessDenied), ("mon", AccessDenied),
                                        ("boss", AccessDenied)])
def test_only_the_visits_crew_ticks(store, clock, world, who, error):
    with pytest.raises(error):
        svc(store, clock, world[who]).tick(world["visit"].id, "identity_confirmed")
    assert not store.find(ChecklistTick)


def test_a_crew_member_ticks_and_a_supervisor_reads(store, clock, world):
    visit = store.put(store.get(Visit, world["visit"].id).evolve(crew=(world["ann"].id, world["bea"].id)))
    svc(store, clock, world["bea"]).tick(visit.id, "identity_confirmed")
    seen = svc(store, clock, world["boss"]).open(visit.id)
    assert seen.step("identity_confirmed").done and seen.step("identity_confirmed").by == world["bea"].id
    assert not seen.editable
    with pytest.raises(AccessDenied):
        svc(store, clock, world["tech"]).open(visit.id)


def test_readings_come_only_as_readings(store, clock, world):
    s = svc(store, clock, world["ann"])
    with pytest.raises(ChecklistError, match="rssi: not a reading from the devices"):
        s.record_readings(world["visit"].id, {"rssi": -50})
    with pytest.raises(ChecklistError, match="range_rssi_dbm: expected int, got str"):
        s.record_readings(world["visit"].id, {"range_rssi_dbm": "-50"})
    state = s.record_readings(world["visit"].id, {"range_rssi_dbm": -58, "hmu_battery_pct": 90})
    assert not state.step("pairing").done and "pairing id" in state.step("pairing").problem
    state = s.record_readings(world["visit"].id, {"pairing_id": "0a0b0c"})
    assert state.step("pairing").done
    assert state.step("pairing").value == {"range_rssi_dbm": -58, "hmu_battery_pct": 90, "pairing_id": "0a0b0c"}
    count = len(store.find(ChecklistTick))
    s.record_readings(world["visit"].id, {"pairing_id": "0a0b0c"})       # the same again: nothing new
    assert len(store.find(ChecklistTick)) == count


def test_an_install_waits_for_the_required_steps_and_says_which(store, clock, world, finish_checklist):
    s = svc(store, clock, world["ann"])
    for key in ("identity_confirmed", "conditions_explained", "leaflet_given", "tag_fitted"):
        s.tick(world["visit"].id, key)
    install = InstallService(store, world["ann"], clock)
    args = (world["order"].id, world["visit"].id, "RF-104233", "HMU-000123", "0a0b")
    with pytest.raises(InstallError) as refused:
        install.record_installation(*args, readings={"range_rssi_dbm": -58})
    message = str(refused.value)
    assert message.startswith("the checklist is not finished: Home unit installed and powered: not done; "
                              "Curfew hours confirmed: not done; Wearer's acknowledgement: not done")
    assert message.endswith("nothing was recorded") and "Pairing" not in message
    assert store.get(Visit, world["visit"].id).status is VisitStatus.SCHEDULED
    assert store.find(Device, where={"serial": "RF-104233"})[0].state is DeviceState.ALLOCATED
    # The pairing's readings were kept all the same: they are facts from the devices.
    pairing = s.open(world["visit"].id).step("pairing")
    assert pairing.done and pairing.value["pairing_id"] == "0a0b" and pairing.value["range_rssi_dbm"] == -58
    finish_checklist(store, world["ann"], clock, world["visit"].id)
    assert install.record_installation(*args).order_status is OrderStatus.ACTIVE
    closed = s.open(world["visit"].id)
    assert closed.complete and closed.resume is None and not closed.editable
    with pytest.raises(ChecklistError, match="already completed: its checklist is closed"):
        s.tick(world["visit"].id, "leaflet_given", done=False)


def test_an_install_with_a_bad_reading_records_nothing(store, clock, world):
    with pytest.raises(InstallError, match="gps_ttff_s: expected int, got float.*nothing was recorded"):
        InstallService(store, world["ann"], clock).record_installation(
            world["order"].id, world["visit"].id, "RF-104233", "HMU-000123", "0a0b", readings={"gps_ttff_s": 2.5})
    assert not store.find(ChecklistTick)


def test_a_gps_install_needs_the_first_fix_from_the_devices(store, clock, world, finish_checklist):
    order = store.put(store.get(Order, world["order"].id).evolve(device_kinds=(DeviceKind.GPS_TAG,)))
    store.put(store.find(Device, where={"serial": "RF-104233"})[0].evolve(state=DeviceState.IN_STOCK,
                                                                           order_id=None, subject_id=None))
    state = finish_checklist(store, world["ann"], clock, world["visit"].id)
    assert state.template == "install_gps" and not state.step("home_unit_installed").applies
    install = InstallService(store, world["ann"], clock)
    with pytest.raises(InstallError, match="First GPS fix obtained: readings from the devices missing"):
        install.record_installation(order.id, world["visit"].id, "GPS-1", None, "0c0d")
    record = install.record_installation(order.id, world["visit"].id, "GPS-1", None, "0c0d",
                                         readings={"gps_ttff_s": 28})
    assert record.serials == ("GPS-1",)
    assert svc(store, clock, world["ann"]).open(world["visit"].id).step("first_fix").value == {"gps_ttff_s": 28}


def test_a_removal_waits_for_its_checklist_and_the_conditions_must_agree(store, clock, removal_world,
                                                                       finish_checklist):
    w = removal_world
    removals = RemovalService(store, w["ann"], clock)
    with pytest.raises(RemovalError, match="the checklist is not finished: Identity confirmed: not done"):
        removals.record_removal(w["visit"].id, ["RF-1", "HMU-1"])
    finish_checklist(store, w["ann"], clock, w["visit"].id, conditions={"RF-1": "not recovered"})
    with pytest.raises(RemovalError, match="RF-1 is marked not recovered but is being recorded as recovered"):
        removals.record_removal(w["visit"].id, ["RF-1", "HMU-1"])
    with pytest.raises(RemovalError, match="say why RF-1 was not recovered"):
        removals.record_removal(w["visit"].id, ["HMU-1"])
    with pytest.raises(RemovalError, match="a reason was given for HMU-1"):
        removals.record_removal(w["visit"].id, ["HMU-1"], reasons={"RF-1": "absconded", "HMU-1": "x"})
    assert store.get(Visit, w["visit"].id).status is VisitStatus.SCHEDULED
    record = removals.record_removal(w["visit"].id, ["HMU-1"], reasons={"RF-1": "wearer absconded"})
    assert record.not_recovered == ("RF-1",) and "RF-1 (wearer absconded)" in record.message
    lost = store.find(Device, where={"serial": "RF-1"})[0]
    assert lost.state is DeviceState.LOST and lost.history[-1].reason == "not recovered at removal: wearer absconded"
    # The finished removal's checklist still knows its devices (they are off the order now).
    assert svc(store, clock, w["ann"]).open(w["visit"].id).complete


def test_a_visit_of_each_kind_has_its_checklist(store, clock, world):
    for kind, name in ((VisitKind.CHECK, "check"), (VisitKind.REPAIR, "repair"), (VisitKind.REMOVAL, "removal")):
        v = store.put(Visit(order_id=world["order"].id, subject_id=world["visit"].subject_id, kind=kind,
                            officer_id=world["ann"].id))
        assert svc(store, clock, world["ann"]).open(v.id).template == name


def test_a_check_visit_is_gated_through_the_service(store, clock, world, finish_checklist):
    v = store.put(Visit(order_id=world["order"].id, subject_id=world["visit"].subject_id, kind=VisitKind.CHECK,
                        officer_id=world["ann"].id))
    s = svc(store, clock, world["ann"])
    with pytest.raises(ChecklistError, match="^the checklist is not finished: Identity confirmed: not done; "
                                             "Battery: not done; Strap intact"):
        s.require_complete(v.id)
    finish_checklist(store, world["ann"], clock, v.id)
    s.require_complete(v.id)
    assert "notes" not in {r.split(":")[0] for r in s.open(v.id).blocking}       # optional: never blocks
