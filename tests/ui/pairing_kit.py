"""An install visit over a fresh store, and emulated devices on real ptys, for the pairing tests.

Officer Ann's install visit for order W-1: its tag (RF-104233) allocated, a home unit
(HMU-000123) on the shelf, and a tag allocated to another order (RF-OTHER).
"""
from __future__ import annotations

from contextlib import ExitStack
from datetime import time, timedelta

import pytest

from emdesk.devices.worker import DeviceWorker
from emdesk.domain.conditions import Conditions, Curfew, CurfewWindow
from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.orders import Cohort, Order, OrderStatus
from emdesk.domain.people import Address, Subject
from emdesk.domain.users import Role, User
from emdesk.domain.visits import Visit, VisitKind
from emdesk.services.context import AppContext
from emdesk.ui.pairing.wizard import PairingWizard
from hardware.air import Air
from hardware.emulator import EmulatedDevice
from hardware.testing import FAST, KEY

CURFEW = Conditions(curfew=Curfew(windows=(CurfewWindow(weekday=0, start=time(19), end=time(7)),)))


@pytest.fixture
def world(store, clock, finish_checklist):
    """Officer Ann's install visit for order W-1: its tag allocated, a home unit on the shelf;
    its checklist's door steps ticked (the pairing is what these tests are about)."""
    ann = User(username="ann", display_name="Ann Officer", role=Role.FIELD_OFFICER, region="Wales")
    sam = Subject(given_name="Sam", family_name="Jones",
                  addresses=(Address(lines=("1 Castle St",), town="Cardiff", postcode="CF10 1BH"),))
    order = Order(reference="W-1", subject_id=sam.id, cohort=Cohort.COURT_BAIL, status=OrderStatus.SUBMITTED,
                  region="Wales", assigned_officer_id=ann.id, conditions=CURFEW,
                  device_kinds=(DeviceKind.RF_TAG, DeviceKind.HMU))
    other = Order(reference="W-2", subject_id=sam.id, status=OrderStatus.ACTIVE, region="Wales")
    now = clock.now()
    visit = Visit(order_id=order.id, subject_id=sam.id, kind=VisitKind.INSTALL, officer_id=ann.id,
                  window_start=now, window_end=now + timedelta(hours=2))
    store.put(ann)
    store.put(sam)
    store.put_many([order, other])
    store.put(visit)
    store.put_many([
        Device(kind=DeviceKind.RF_TAG, serial="RF-104233", state=DeviceState.ALLOCATED, order_id=order.id,
               subject_id=sam.id, region="Wales"),
        Device(kind=DeviceKind.HMU, serial="HMU-000123", region="Wales"),
        Device(kind=DeviceKind.RF_TAG, serial="RF-OTHER", state=DeviceState.ALLOCATED, order_id=other.id,
               region="Wales"),
    ])
    finish_checklist(store, ann, clock, visit.id)
    return {"ann": ann, "order": order, "visit": visit}


@pytest.fixture
def ctx(store, clock, world):
    return AppContext.for_user(store, world["ann"], clock, GazetteerGeocoder())


@pytest.fixture
def worker():
    w = DeviceWorker(name="test-devices", idle_poll=0.02)
    yield w
    w.shutdown()


@pytest.fixture
def kit():
    """kit(tag_faults=None, hmu_faults=None) -> (tag, hmu) emulated devices, stopped after the test."""
    with ExitStack() as stack:
        def start(tag_faults=None, hmu_faults=None):
            air = Air()
            tag = stack.enter_context(EmulatedDevice.start("rf_tag", "RF-104233", tag_faults, air=air))
            hmu = stack.enter_context(EmulatedDevice.start("hmu", "HMU-000123", hmu_faults, air=air))
            return tag, hmu
        yield start


def open_wizard(qtbot, ctx, world, worker, tag, hmu) -> PairingWizard:
    job = ctx.installs.job(world["visit"].id)
    wizard = PairingWizard(ctx, job, worker=worker, key=KEY, policy=FAST)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.tag_ports.add(tag.port)
    wizard.hmu_ports.add(hmu.port)
    assert wizard.with_hmu.isChecked() and wizard.next_button.isEnabled()
    return wizard


def device(store, serial) -> Device:
    return store.find(Device, where={"serial": serial})[0]
