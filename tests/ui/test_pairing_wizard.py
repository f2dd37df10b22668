"""The pairing wizard driven like a field officer would, against emulated devices on ptys.

Each test starts an emulated RF tag and home unit (sharing one radio) on real pseudo-
terminals, signs in as the officer of an install visit over a fresh store, and clicks
through the wizard.  The devices and the store must end consistent: both paired AND the
install recorded, or neither paired AND nothing recorded.
"""
from __future__ import annotations

import threading
from contextlib import ExitStack

from PySide6.QtCore import Qt

from emdesk.devices.pairing import STEPS, PairingOutcome, PairingStep
from emdesk.domain.devices import DeviceState
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.visits import Visit, VisitStatus
from emdesk.ui.pairing.wizard import RECORD
from hardware.air import Air
from hardware.emulator import EmulatedDevice

from pairing_kit import ctx, device, kit, open_wizard, worker, world  # noqa: F401 - fixtures


def test_a_full_pairing_pairs_the_devices_and_records_the_install(qtbot, store, ctx, world, worker, kit):
    tag, hmu = kit()
    wizard = open_wizard(qtbot, ctx, world, worker, tag, hmu)
    threads = []
    wizard.runner.progress.connect(lambda p: threads.append(threading.current_thread()),
                                   Qt.ConnectionType.DirectConnection)
    assert "curfew 19:00–07:00 (Mon)" in wizard.findChild(type(wizard.key_label), "jobConditions").text()

    with qtbot.waitSignal(wizard.recorded, timeout=30_000) as recorded:
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)

    # The devices: committed to each other with the same pairing id.
    result = wizard.result
    assert result.paired and tag.unit.pairing and hmu.unit.pairing
    assert tag.unit.pairing.pairing_id == hmu.unit.pairing.pairing_id == bytes.fromhex(result.pairing_id)
    assert hmu.unit.config.curfew == world["order"].conditions.curfew.windows
    # All device I/O on the device thread, none on the GUI thread.
    assert threads and set(threads) == {worker.thread}
    # The store: one install, recorded after the pairing.
    assert recorded.args[0].serials == ("RF-104233", "HMU-000123")
    visit = store.get(Visit, world["visit"].id)
    assert visit.status is VisitStatus.COMPLETED and visit.device_serials == ("RF-104233", "HMU-000123")
    assert device(store, "RF-104233").paired_with == "HMU-000123"
    assert device(store, "HMU-000123").state is DeviceState.INSTALLED
    assert store.get(Order, world["order"].id).status is OrderStatus.ACTIVE
    # What the officer sees.
    assert wizard.pages.currentIndex() == 2
    assert all(wizard.rows[s].state == "done" for s in STEPS) and wizard.rows[RECORD].state == "done"
    assert "RF-104233" in wizard.tag_label.text() and "firmware 2.4.1" in wizard.tag_label.text()
    assert "battery 87%" in wizard.hmu_label.text() and "strap closed" in wizard.tag_label.text()
    assert "Recorded RF-104233 and HMU-000123 as installed" in wizard.record_text.text()


def test_cable_pulled_mid_way_leaves_devices_unpaired_and_store_unchanged(qtbot, store, ctx, world, worker, kit):
    # The tag's 7th request is WRITE_CONFIG: the cable goes before it arrives.
    tag, hmu = kit(tag_faults="unplug_at=7,unplug_when=before,unplug_how=vanish")
    wizard = open_wizard(qtbot, ctx, world, worker, tag, hmu)
    outbox = store.outbox_count()

    with qtbot.waitSignal(wizard.not_paired, timeout=30_000) as failed:
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)

    result = failed.args[0]
    assert not tag.plugged
    assert result.outcome is PairingOutcome.NOT_PAIRED and result.failed_step is PairingStep.WRITE_CONFIG
    assert tag.unit.pairing is None and hmu.unit.pairing is None and hmu.unit.pending is None
    # Nothing recorded.
    assert store.outbox_count() == outbox
    assert store.get(Visit, world["visit"].id).status is VisitStatus.SCHEDULED
    assert device(store, "HMU-000123").state is DeviceState.IN_STOCK
    assert device(store, "RF-104233").paired_with is None
    # What the officer sees: where it stopped, the device error's advice, and Retry.
    assert wizard.rows[PairingStep.WRITE_CONFIG].state == "failed"
    assert wizard.rows[PairingStep.SELF_TEST].state == "skipped" and wizard.rows[RECORD].state == "skipped"
    assert wizard.error_box.isVisible() and wizard.retry_button.text() == "Retry"
    assert "check the cable" in wizard.error_text.text() or "plug the cable" in wizard.error_text.text()
    assert "nothing was recorded" in wizard.error_note.text().lower()


def test_an_open_strap_is_asked_about_and_retried(qtbot, store, ctx, world, worker, kit):
    tag, hmu = kit(tag_faults="strap_open")
    wizard = open_wizard(qtbot, ctx, world, worker, tag, hmu)

    with qtbot.waitSignal(wizard.runner.prompt, timeout=30_000) as asked:
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert asked.args[0].text == "strap open on RF-104233: close the strap and press Retry"
    assert wizard.prompt_box.isVisible() and wizard.rows[PairingStep.SELF_TEST].state == "running"

    tag.close_strap()
    with qtbot.waitSignal(wizard.recorded, timeout=30_000):
        qtbot.mouseClick(wizard.prompt_retry, Qt.MouseButton.LeftButton)
    assert tag.unit.pairing is not None and device(store, "RF-104233").state is DeviceState.INSTALLED


def test_a_counterfeit_tag_is_refused_and_set_aside(qtbot, store, ctx, world, worker, kit):
    tag, hmu = kit(tag_faults="counterfeit")
    wizard = open_wizard(qtbot, ctx, world, worker, tag, hmu)

    with qtbot.waitSignal(wizard.refused_recorded, timeout=30_000):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)

    assert wizard.result.failed_step is PairingStep.AUTHENTICATE
    assert tag.unit.pairing is None and hmu.unit.pairing is None
    faulty = device(store, "RF-104233")
    assert faulty.state is DeviceState.FAULTY and faulty.history[-1].reason == "failed authenticity check"
    assert store.get(Visit, world["visit"].id).status is VisitStatus.SCHEDULED
    assert "marked faulty" in wizard.error_note.text()


def test_a_device_allocated_elsewhere_is_refused_before_anything_changes(qtbot, store, ctx, world, worker, kit):
    with ExitStack() as stack:
        air = Air()
        tag = stack.enter_context(EmulatedDevice.start("rf_tag", "RF-OTHER", air=air))
        hmu = stack.enter_context(EmulatedDevice.start("hmu", "HMU-000123", air=air))
        wizard = open_wizard(qtbot, ctx, world, worker, tag, hmu)
        with qtbot.waitSignal(wizard.not_paired, timeout=30_000) as failed:
            qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
        assert failed.args[0].failed_step is PairingStep.CHECK_ALLOCATION
        assert "RF-OTHER: is allocated to another order" in wizard.error_text.text()
        assert tag.unit.pending is None and hmu.unit.pending is None
        assert device(store, "HMU-000123").state is DeviceState.IN_STOCK


def test_today_opens_the_wizard_for_the_selected_install_visit(qtbot, ctx_for, finish_checklist):
    from emdesk.domain.users import Role
    from emdesk.ui.main_window import MainWindow
    from emdesk.ui.pairing.actions import last_wizard

    ctx = ctx_for(Role.FIELD_OFFICER)
    window = MainWindow(ctx, load=False, remember=False)
    qtbot.addWidget(window)
    today = window.workspace("today")
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.refresh_all()
    assert window.menu_titles()[-2:] == ["Devices", "Help"]
    rows = [today.table.proxy.row_at(i) for i in range(today.table.proxy.rowCount())]
    installs = [i for i, r in enumerate(rows) if r.kind == "install"]
    checks = [i for i, r in enumerate(rows) if r.kind != "install"]
    if checks:
        today.table.view.selectRow(checks[0])
        assert not window.pair_devices_action.isEnabled()          # only for install visits
    assert installs, "the demo officer has an install visit today"
    today.table.view.selectRow(installs[0])
    assert window.pair_devices_action.isEnabled()
    # The door steps first: the wizard does not open, the checklist says what is left.
    window.pair_devices_action.trigger()
    qtbot.waitUntil(lambda: today.side.currentWidget() is today.checklist, timeout=10_000)
    assert last_wizard() is None
    assert "Before pairing, finish: Identity confirmed" in today.checklist.error.text()
    assert "Pairing and range test" not in today.checklist.error.text().split(". (")[0]
    store = ctx._store
    finish_checklist(store, ctx.user, ctx.clock, rows[installs[0]].visit_id)
    window.pair_devices_action.trigger()
    qtbot.waitUntil(lambda: last_wizard() is not None and last_wizard().isVisible(), timeout=10_000)
    wizard = last_wizard()
    assert wizard.job.visit_id == rows[installs[0]].visit_id
    assert rows[installs[0]].subject_name in wizard.windowTitle()
    wizard.close()


def test_stop_rolls_back_and_closes(qtbot, store, ctx, world, worker, kit):
    tag, hmu = kit(tag_faults="delay=0.05")
    wizard = open_wizard(qtbot, ctx, world, worker, tag, hmu)
    with qtbot.waitSignal(wizard.runner.progress, timeout=10_000,
                          check_params_cb=lambda p: p.step is PairingStep.AUTHENTICATE):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.close_button.text() == "Stop"
    with qtbot.waitSignal(wizard.rejected, timeout=20_000):
        qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    assert wizard.result is not None and not wizard.result.paired
    assert tag.unit.pairing is None and hmu.unit.pairing is None
    assert store.get(Visit, world["visit"].id).status is VisitStatus.SCHEDULED
