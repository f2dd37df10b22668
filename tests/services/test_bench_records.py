"""The technician's bench in the records: batch check-in (all or nothing), unpair, queue."""
from __future__ import annotations

import pytest

from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.users import Role, User
from emdesk.services.bench_records import BenchService, CheckInOutcome, parse_serials
from emdesk.services.errors import AccessDenied, ServiceError


@pytest.fixture
def people(store):
    tech = User(username="tech", display_name="Tech", role=Role.TECHNICIAN, region="Wales")
    officer = User(username="ann", display_name="Ann", role=Role.FIELD_OFFICER, region="Wales")
    store.put_many([tech, officer])
    store.put_many([
        Device(kind=DeviceKind.RF_TAG, serial="RF-1", state=DeviceState.INSTALLED, order_id="o1", region="Wales",
               paired_with="HMU-1"),
        Device(kind=DeviceKind.HMU, serial="HMU-1", state=DeviceState.INSTALLED, order_id="o1", region="Wales",
               paired_with="RF-1"),
        Device(kind=DeviceKind.RF_TAG, serial="RF-2", state=DeviceState.AWAITING_COLLECTION, order_id="o2",
               region="Wales"),
        Device(kind=DeviceKind.RF_TAG, serial="RF-3", state=DeviceState.ALLOCATED, order_id="o3", region="Wales"),
        Device(kind=DeviceKind.GPS_TAG, serial="GPS-9", state=DeviceState.FAULTY, region="Wales"),
    ])
    return {"tech": tech, "officer": officer}


def bench(store, clock, user) -> BenchService:
    return BenchService(store, user, clock)


def state(store, serial) -> DeviceState:
    return store.find(Device, where={"serial": serial})[0].state


def test_serials_can_be_pasted_or_scanned_any_way():
    assert parse_serials(" rf-1\nHMU-1, RF-2;RF-3\t GPS-9 \n") == ["RF-1", "HMU-1", "RF-2", "RF-3", "GPS-9"]


def test_a_batch_of_returned_kit_is_checked_in(store, clock, people):
    result = bench(store, clock, people["tech"]).check_in_returned("RF-1\nHMU-1\nRF-2", "recovered",
                                                                   "returned after order ended")
    assert result.applied and result.summary == "3 devices checked in as recovered"
    assert [(line.serial, line.ok) for line in result.lines] == [("RF-1", True), ("HMU-1", True), ("RF-2", True)]
    assert result.lines[0].message == "installed → recovered"
    for serial in ("RF-1", "HMU-1", "RF-2"):
        d = store.find(Device, where={"serial": serial})[0]
        assert d.state is DeviceState.RECOVERED and d.order_id is None and d.paired_with is None
        assert d.history[-1].reason == "returned after order ended" and d.history[-1].by == people["tech"].id
    assert any(e.action == "check_in" for e in store.audit_entries())


def test_one_bad_serial_and_nothing_is_checked_in(store, clock, people):
    result = bench(store, clock, people["tech"]).check_in_returned(
        ["RF-1", "RF-NOPE", "RF-3", "RF-1"], CheckInOutcome.RECOVERED, "returned")
    assert not result.applied and result.summary.startswith("nothing was checked in: 3 of 4 serials need attention")
    by_serial = [(line.serial, line.ok, line.message) for line in result.lines]
    assert by_serial[0] == ("RF-1", True, "installed → recovered")                    # would have been fine
    assert by_serial[1][:2] == ("RF-NOPE", False) and "no device with this serial" in by_serial[1][2]
    assert by_serial[2][:2] == ("RF-3", False) and "is allocated: it cannot be checked in as recovered" in by_serial[2][2]
    assert by_serial[3] == ("RF-1", False, "listed twice: remove the repeat")
    assert state(store, "RF-1") is DeviceState.INSTALLED                               # untouched


def test_returned_to_supplier_goes_via_recovered_when_it_must(store, clock, people):
    result = bench(store, clock, people["tech"]).check_in_returned(["RF-2", "GPS-9"], "returned_to_supplier", "RMA 77")
    assert result.applied
    assert result.lines[0].message == "awaiting collection → returned to supplier (via recovered)"
    rf2 = store.find(Device, where={"serial": "RF-2"})[0]
    assert [c.to_state for c in rf2.history] == [DeviceState.RECOVERED, DeviceState.RETURNED_TO_SUPPLIER]
    assert state(store, "GPS-9") is DeviceState.RETURNED_TO_SUPPLIER


def test_a_reason_and_serials_are_required(store, clock, people):
    b = bench(store, clock, people["tech"])
    with pytest.raises(ServiceError, match="give a reason"):
        b.check_in_returned(["RF-1"], "recovered", "  ")
    with pytest.raises(ServiceError, match="no serials"):
        b.check_in_returned("  \n ", "recovered", "x")


def test_unpairing_on_the_bench_unpairs_both_records(store, clock, people):
    b = bench(store, clock, people["tech"])
    b.record_unpaired("RF-1")
    assert store.find(Device, where={"serial": "RF-1"})[0].paired_with is None
    assert store.find(Device, where={"serial": "HMU-1"})[0].paired_with is None
    assert b.record_unpaired("RF-UNKNOWN") is None
    assert [e.entity_id for e in store.audit_entries() if e.action == "unpaired"][-1] == "RF-UNKNOWN"


def test_the_bench_queue_is_returned_and_faulty_kit_in_the_region(store, clock, people):
    rows = bench(store, clock, people["tech"]).bench_queue()
    assert {(r.serial, r.state) for r in rows} == {("RF-2", "Awaiting collection"), ("GPS-9", "Faulty")}


def test_field_officers_cannot_use_the_bench(store, clock, people):
    b = bench(store, clock, people["officer"])
    with pytest.raises(AccessDenied):
        b.check_in_returned(["RF-1"], "recovered", "x")
    with pytest.raises(AccessDenied):
        b.record_unpaired("RF-1")
    with pytest.raises(AccessDenied):
        b.bench_queue()
