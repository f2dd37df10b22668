"""The technician's bench over emulated devices on real ptys, and the records it keeps."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.users import Role, User
from emdesk.services.context import AppContext
from emdesk.ui.tasks import end_session, runner_for
from emdesk.ui.workspaces.bench import BenchWorkspace
from hardware.emulator import EmulatedDevice
from hardware.testing import FAST, KEY


@pytest.fixture
def ctx(store, clock):
    tech = User(username="tech", display_name="Tess Tech", role=Role.TECHNICIAN, region="Wales")
    store.put(tech)
    store.put_many([
        Device(kind=DeviceKind.RF_TAG, serial="RF-104233", state=DeviceState.INSTALLED, order_id="o1",
               region="Wales", paired_with="HMU-999999"),
        Device(kind=DeviceKind.HMU, serial="HMU-999999", state=DeviceState.INSTALLED, order_id="o1",
               region="Wales", paired_with="RF-104233"),
        Device(kind=DeviceKind.RF_TAG, serial="RF-200001", state=DeviceState.AWAITING_COLLECTION, region="Wales"),
        Device(kind=DeviceKind.GPS_TAG, serial="GPS-300001", state=DeviceState.FAULTY, region="Wales"),
        Device(kind=DeviceKind.HMU, serial="HMU-400001", state=DeviceState.IN_STOCK, region="Wales"),
        Device(kind=DeviceKind.RF_TAG, serial="RF-500001", state=DeviceState.IN_STOCK, region="Wales"),
    ])
    return AppContext.for_user(store, tech, clock, GazetteerGeocoder())


@pytest.fixture
def bench(qtbot, ctx, monkeypatch):
    monkeypatch.setattr("emdesk.ui.workspaces.bench.manufacturer_key", lambda ctx: KEY)
    ws = BenchWorkspace(ctx, policy=FAST)
    qtbot.addWidget(ws)
    ws.resize(1400, 800)
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        ws.refresh()
    yield ws
    ws.end_session()
    assert end_session(ctx, close=False), "the bench's device work did not stop in time"


def connect(qtbot, ws, dev):
    ws.ports.add(dev.port)
    assert ws.connect_button.isEnabled()
    with qtbot.waitSignal(ws.device_done, timeout=20_000, check_params_cb=lambda name: name == "connect"):
        qtbot.mouseClick(ws.connect_button, Qt.MouseButton.LeftButton)
    assert ws.connected


def test_the_bench_queue_is_the_returned_and_faulty_kit(bench):
    assert {bench.table.proxy.row_at(i).serial for i in range(bench.row_count())} == {"RF-200001", "GPS-300001"}
    assert bench.count_label.text() == "2 devices waiting"


def test_diagnostics_of_a_genuine_device_on_approved_firmware(qtbot, bench):
    with EmulatedDevice.start("hmu", "HMU-400001") as dev:
        connect(qtbot, bench, dev)
        text = bench.device_label.text()
        assert "Home monitoring unit HMU-400001" in text and "Firmware 3.2.1 (approved)" in text
        assert "genuine" in text and "Battery 87%" in text
        assert "Fit to issue" in bench.findings.text()
        assert runner_for(bench.ctx).device_worker().thread.is_alive()


def test_unapproved_firmware_is_a_finding(qtbot, bench):
    with EmulatedDevice.start("rf_tag", "RF-200001", "unapproved_firmware") as dev:
        connect(qtbot, bench, dev)
        assert "NOT approved" in bench.device_label.text()
        assert "Not fit to issue" in bench.findings.text()
        assert "not on the approved list" in bench.findings.text()


def test_event_log_downloads_page_by_page_into_the_table(qtbot, bench):
    with EmulatedDevice.start("rf_tag", "RF-200001") as dev:
        for _ in range(30):
            dev.open_strap()
            dev.close_strap()
        connect(qtbot, bench, dev)
        totals = []
        bench.download_progress.connect(lambda done, total: totals.append((done, total)))
        with qtbot.waitSignal(bench.device_done, timeout=20_000, check_params_cb=lambda n: n == "events"):
            qtbot.mouseClick(bench.download_button, Qt.MouseButton.LeftButton)
        expected = len(dev.unit.events)
        assert expected > 60
        assert bench.events_table.model.rowCount() == expected
        assert len(totals) > 1 and totals[-1] == (expected, expected)          # paged, with progress
        assert bench.events_label.text() == f"{expected} events from RF-200001"
        assert bench.tabs.currentIndex() == 1


def test_unpair_needs_the_serial_typed_and_updates_both_records(qtbot, bench, store):
    with EmulatedDevice.start("rf_tag", "RF-104233", "paired_elsewhere=HMU-999999") as dev:
        connect(qtbot, bench, dev)
        assert "paired with HMU-999999" in bench.device_label.text()
        bench.confirm = lambda *args: None                    # cancelled: nothing happens
        qtbot.mouseClick(bench.unpair_button, Qt.MouseButton.LeftButton)
        assert dev.unit.pairing is not None
        bench.confirm = lambda *args: "rf-104233"             # typed (case does not matter)
        with qtbot.waitSignal(bench.recorded, timeout=20_000):
            qtbot.mouseClick(bench.unpair_button, Qt.MouseButton.LeftButton)
        assert dev.unit.pairing is None
        for serial in ("RF-104233", "HMU-999999"):
            assert store.find(Device, where={"serial": serial})[0].paired_with is None
        assert "unpaired and recorded" in bench.last_message


def test_factory_reset_with_the_wrong_serial_is_refused_by_the_device(qtbot, bench):
    with EmulatedDevice.start("rf_tag", "RF-200001") as dev:
        connect(qtbot, bench, dev)
        bench.confirm = lambda *args: "RF-000000"
        with qtbot.waitSignal(bench.device_failed, timeout=20_000):
            qtbot.mouseClick(bench.reset_button, Qt.MouseButton.LeftButton)
        assert "confirmation did not match" in bench.last_message
        bench.confirm = lambda *args: "RF-200001"
        with qtbot.waitSignal(bench.recorded, timeout=20_000):
            qtbot.mouseClick(bench.reset_button, Qt.MouseButton.LeftButton)
        assert "reset to factory state and recorded" in bench.last_message


def test_batch_check_in_shows_every_serial_and_is_all_or_nothing(qtbot, bench, store):
    bench.tabs.setCurrentIndex(2)
    bench.serials_edit.setPlainText("RF-200001\nRF-NOPE, GPS-300001")
    bench.outcome_combo.setCurrentIndex(bench.outcome_combo.findData("returned_to_supplier"))
    bench.reason_edit.setText("RMA 4411")
    with qtbot.waitSignal(bench.checked_in, timeout=10_000) as answer:
        qtbot.mouseClick(bench.checkin_button, Qt.MouseButton.LeftButton)
    assert not answer.args[0].applied
    rows = [bench.checkin_table.model.row_at(i) for i in range(bench.checkin_table.model.rowCount())]
    assert [(r.serial, r.ok) for r in rows] == [("RF-200001", True), ("RF-NOPE", False), ("GPS-300001", True)]
    assert "Nothing was checked in" in bench.checkin_summary.text()
    assert store.find(Device, where={"serial": "RF-200001"})[0].state is DeviceState.AWAITING_COLLECTION

    bench.serials_edit.setPlainText("RF-200001\nGPS-300001")
    with qtbot.waitSignal(bench.checked_in, timeout=10_000) as answer:
        qtbot.mouseClick(bench.checkin_button, Qt.MouseButton.LeftButton)
    assert answer.args[0].applied and "2 devices checked in as returned to supplier" in bench.checkin_summary.text()
    assert store.find(Device, where={"serial": "GPS-300001"})[0].state is DeviceState.RETURNED_TO_SUPPLIER
    qtbot.waitUntil(lambda: not bench.is_loading, timeout=10_000)
    assert bench.row_count() == 0                                            # the queue is empty now


def test_missing_reason_is_a_clear_refusal(qtbot, bench):
    bench.serials_edit.setPlainText("RF-200001")
    with qtbot.waitSignal(bench.checked_in, timeout=10_000):
        qtbot.mouseClick(bench.checkin_button, Qt.MouseButton.LeftButton)
    assert "Give a reason" in bench.checkin_summary.text()


def test_pairing_on_the_bench_records_both_devices_as_a_pair(qtbot, bench, store):
    from hardware.air import Air

    air = Air()
    with EmulatedDevice.start("rf_tag", "RF-500001", air=air) as tag, \
            EmulatedDevice.start("hmu", "HMU-400001", air=air) as hmu:
        wizard = bench.open_pairing()
        qtbot.addWidget(wizard)
        wizard.tag_ports.add(tag.port)
        wizard.hmu_ports.add(hmu.port)
        with qtbot.waitSignal(wizard.recorded, timeout=30_000):
            qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
        assert tag.unit.pairing.partner_serial == "HMU-400001"
        assert store.find(Device, where={"serial": "RF-500001"})[0].paired_with == "HMU-400001"
        assert store.find(Device, where={"serial": "HMU-400001"})[0].paired_with == "RF-500001"
        assert store.find(Device, where={"serial": "RF-500001"})[0].state is DeviceState.IN_STOCK   # not installed


def test_a_long_download_can_be_stopped(qtbot, bench):
    with EmulatedDevice.start("rf_tag", "RF-200001", "delay=0.05") as dev:
        for _ in range(30):
            dev.open_strap()
            dev.close_strap()
        connect(qtbot, bench, dev)
        pages = []
        bench.download_progress.connect(lambda done, total: pages.append(done))
        qtbot.mouseClick(bench.download_button, Qt.MouseButton.LeftButton)
        assert bench.download_button.text() == "Stop download" and bench.download_button.isEnabled()
        qtbot.waitUntil(lambda: bool(pages), timeout=10_000)
        with qtbot.waitSignal(bench.device_failed, timeout=10_000, check_params_cb=lambda n, t: n == "events"):
            qtbot.mouseClick(bench.download_button, Qt.MouseButton.LeftButton)
        assert bench.last_message == "Stopped." and pages[-1] < len(dev.unit.events)
        assert bench.download_button.text() == "Download event log" and bench.connected
