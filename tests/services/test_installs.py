"""Installs recorded after a confirmed pairing: allocation checks, one transaction, idempotent."""
from __future__ import annotations

from datetime import time, timedelta

import pytest

from emdesk.domain.conditions import Conditions, Curfew, CurfewWindow
from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.orders import Cohort, Order, OrderStatus
from emdesk.domain.people import Address, Subject
from emdesk.domain.users import Role, User
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.services.errors import AccessDenied
from emdesk.services.installs import InstallError, InstallService

CURFEW = Conditions(curfew=Curfew(windows=(CurfewWindow(weekday=0, start=time(19), end=time(7)),)))


def install_world(store, now):
    """Officer Ann's install visit for order W-1 (an RF tag allocated, a home unit on the shelf)."""
    ann = User(username="ann", display_name="Ann Officer", role=Role.FIELD_OFFICER, region="Wales")
    bea = User(username="bea", display_name="Bea Officer", role=Role.FIELD_OFFICER, region="Wales")
    tech = User(username="tech", display_name="Tech", role=Role.TECHNICIAN, region="Wales")
    monitor = User(username="mon", display_name="Mon", role=Role.MONITORING_OPERATOR, region="Wales")
    home = Address(lines=("1 Castle St",), town="Cardiff", postcode="CF10 1BH")
    sam = Subject(given_name="Sam", family_name="Jones", addresses=(home,))
    order = Order(reference="W-1", subject_id=sam.id, cohort=Cohort.COURT_BAIL, status=OrderStatus.SUBMITTED,
                  region="Wales", assigned_officer_id=ann.id, conditions=CURFEW,
                  device_kinds=(DeviceKind.RF_TAG, DeviceKind.HMU))
    other = Order(reference="W-2", subject_id=sam.id, cohort=Cohort.COURT_BAIL, status=OrderStatus.ACTIVE,
                  region="Wales", assigned_officer_id=bea.id)
    visit = Visit(order_id=order.id, subject_id=sam.id, kind=VisitKind.INSTALL, officer_id=ann.id,
                  window_start=now, window_end=now + timedelta(hours=2))
    devices = [
        Device(kind=DeviceKind.RF_TAG, serial="RF-104233", state=DeviceState.ALLOCATED, order_id=order.id,
               subject_id=sam.id, region="Wales"),
        Device(kind=DeviceKind.HMU, serial="HMU-000123", region="Wales"),
        Device(kind=DeviceKind.HMU, serial="HMU-LONDON", region="London"),
        Device(kind=DeviceKind.RF_TAG, serial="RF-OTHER", state=DeviceState.ALLOCATED, order_id=other.id,
               region="Wales"),
        Device(kind=DeviceKind.RF_TAG, serial="RF-FAULTY", state=DeviceState.FAULTY, region="Wales"),
        Device(kind=DeviceKind.HMU, serial="HMU-PAIRED", region="Wales", paired_with="RF-999"),
        Device(kind=DeviceKind.GPS_TAG, serial="GPS-1", region="Wales"),
    ]
    store.put_many([ann, bea, tech, monitor])
    store.put(sam)
    store.put_many([order, other])
    store.put(visit)
    store.put_many(devices)
    return {"ann": ann, "bea": bea, "tech": tech, "mon": monitor, "order": order, "visit": visit}


@pytest.fixture
def world(store, clock, finish_checklist):
    w = install_world(store, clock.now())
    finish_checklist(store, w["ann"], clock, w["visit"].id)      # the door steps done; the pairing's next
    return w


def svc(store, clock, user):
    return InstallService(store, user, clock)


def device(store, serial) -> Device:
    return store.find(Device, where={"serial": serial})[0]


@pytest.mark.parametrize("serial, kind, partner, reason", [
    ("RF-104233", "rf_tag", "HMU-000123", None),                      # allocated to this order
    ("HMU-000123", "hmu", "RF-104233", None),                         # on the shelf in the region
    ("HMU-000123", "rf_tag", None, "is recorded as a home monitoring unit but the device says it is an RF tag"),
    ("RF-NOPE", "rf_tag", None, "is not in emdesk's stock records"),
    ("HMU-LONDON", "hmu", None, "is stock of London, not Wales"),
    ("RF-OTHER", "rf_tag", None, "is allocated to another order"),
    ("RF-FAULTY", "rf_tag", None, "is recorded as faulty"),
    ("HMU-PAIRED", "hmu", "RF-104233", "is recorded as paired with RF-999"),
    ("GPS-1", "gps_tag", None, "is a GPS tag, but this order needs an RF tag and a home monitoring unit"),
])
def test_allocation_check_answers_in_plain_words(store, clock, world, serial, kind, partner, reason):
    got = svc(store, clock, world["ann"]).check_allocation(world["order"].id, world["visit"].id, serial, kind, partner)
    if reason is None:
        assert got is None
    else:
        assert got is not None and reason.lower() in got.lower(), got


def test_job_tells_the_wizard_what_to_fit(store, clock, world):
    job = svc(store, clock, world["ann"]).job(world["visit"].id)
    assert (job.reference, job.subject_name, job.region) == ("W-1", "Sam Jones", "Wales")
    assert job.needs_home_unit and job.conditions == CURFEW
    assert job.allocated == (("RF-104233", DeviceKind.RF_TAG),)


def test_record_installation_writes_everything_in_one_go(store, clock, world):
    before = store.outbox_count()
    record = svc(store, clock, world["ann"]).record_installation(
        world["order"].id, world["visit"].id, "RF-104233", "HMU-000123", "0102030405060708")
    assert record.serials == ("RF-104233", "HMU-000123") and not record.already_recorded
    tag, hmu = device(store, "RF-104233"), device(store, "HMU-000123")
    assert (tag.state, hmu.state) == (DeviceState.INSTALLED, DeviceState.INSTALLED)
    assert (tag.paired_with, hmu.paired_with) == ("HMU-000123", "RF-104233")
    assert hmu.order_id == tag.order_id == world["order"].id and hmu.subject_id == world["order"].subject_id
    assert [c.to_state for c in hmu.history] == [DeviceState.ALLOCATED, DeviceState.INSTALLED]
    assert "0102030405060708" in tag.history[-1].reason and tag.history[-1].by == world["ann"].id
    visit = store.get(Visit, world["visit"].id)
    assert (visit.status, visit.outcome, visit.device_serials) == (
        VisitStatus.COMPLETED, OutcomeCode.INSTALLED, ("RF-104233", "HMU-000123"))
    order = store.get(Order, world["order"].id)
    assert order.status is OrderStatus.ACTIVE and order.history[-1].to_status is OrderStatus.ACTIVE
    assert set(order.device_kinds) == {DeviceKind.RF_TAG, DeviceKind.HMU}
    assert order.device_serials == ("RF-104233", "HMU-000123")
    assert store.outbox_count() > before
    install = [e for e in store.audit_entries() if e.action == "install"]
    assert len(install) == 1 and "0102030405060708" in install[0].detail


def test_recording_twice_changes_nothing(store, clock, world):
    s = svc(store, clock, world["ann"])
    args = (world["order"].id, world["visit"].id, "RF-104233", "HMU-000123", "0102030405060708")
    s.record_installation(*args)
    outbox, audit = store.outbox_count(), len(store.audit_entries())
    again = s.record_installation(*args)
    assert again.already_recorded and "already recorded" in again.message
    assert store.outbox_count() == outbox and len(store.audit_entries()) == audit


def test_a_bad_device_records_nothing_at_all(store, clock, world):
    with pytest.raises(InstallError, match="RF-FAULTY is recorded as faulty.*nothing was recorded"):
        svc(store, clock, world["ann"]).record_installation(
            world["order"].id, world["visit"].id, "RF-FAULTY", "HMU-000123", "aa")
    assert device(store, "HMU-000123").state is DeviceState.IN_STOCK       # not half-written
    assert store.get(Visit, world["visit"].id).status is VisitStatus.SCHEDULED
    assert store.get(Order, world["order"].id).status is OrderStatus.SUBMITTED


def test_another_completed_install_is_refused(store, clock, world):
    s = svc(store, clock, world["ann"])
    s.record_installation(world["order"].id, world["visit"].id, "RF-104233", "HMU-000123", "aa")
    with pytest.raises(InstallError, match="already completed with RF-104233, HMU-000123"):
        s.record_installation(world["order"].id, world["visit"].id, "RF-104233", None, "bb")


@pytest.mark.parametrize("who", ["bea", "tech", "mon"])
def test_only_the_officer_of_the_visit_records_it(store, clock, world, who):
    s = svc(store, clock, world[who])
    with pytest.raises(AccessDenied):
        s.record_installation(world["order"].id, world["visit"].id, "RF-104233", "HMU-000123", "aa")
    with pytest.raises(AccessDenied):
        s.check_allocation(world["order"].id, world["visit"].id, "RF-104233")
    assert device(store, "RF-104233").state is DeviceState.ALLOCATED


def test_a_counterfeit_in_stock_is_set_aside_as_faulty(store, clock, world):
    refused = svc(store, clock, world["ann"]).record_refused_device("RF-104233", visit_id=world["visit"].id)
    assert refused.known and refused.marked_faulty
    tag = device(store, "RF-104233")
    assert tag.state is DeviceState.FAULTY and tag.history[-1].reason == "failed authenticity check"
    assert tag.order_id is None                                   # no longer allocated
    entry = [e for e in store.audit_entries() if e.action == "device_refused"][-1]
    assert entry.entity_id == tag.id and "RF-104233" in entry.detail


def test_an_unknown_counterfeit_is_audited_by_serial(store, clock, world):
    refused = svc(store, clock, world["ann"]).record_refused_device("RF-FAKE-1")
    assert not refused.known and "audit" in refused.message
    entry = [e for e in store.audit_entries() if e.action == "device_refused"][-1]
    assert entry.entity == "devices" and entry.entity_id == "RF-FAKE-1"


def test_kit_already_paired_within_the_order_may_be_paired_again(store, clock, world):
    tag = device(store, "RF-104233")
    hmu = device(store, "HMU-000123")
    store.put_many([tag.evolve(paired_with="HMU-000123"),
                    hmu.evolve(paired_with="RF-104233", state=DeviceState.ALLOCATED, order_id=world["order"].id)])
    s = svc(store, clock, world["ann"])
    order, visit = world["order"].id, world["visit"].id
    assert s.check_allocation(order, visit, "RF-104233", "rf_tag", None) is None        # partner not known yet
    assert s.check_allocation(order, visit, "HMU-000123", "hmu", "RF-104233") is None
    assert "paired with HMU-000123" in s.check_allocation(order, visit, "RF-104233", "rf_tag", "HMU-OTHER")
