"""The officer's field work on Today over the real services and a real SQLite store:
the checklist panel (ticked through its widgets), the pairing gate, the removal form,
the outcome choices by visit kind, and looking at another day."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from emdesk.domain.checklists import ChecklistTick, StepKind
from emdesk.domain.clock import at_local, local_date
from emdesk.domain.conditions import Conditions, Curfew, CurfewWindow
from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.orders import Cohort, Order, OrderStatus
from emdesk.domain.people import Address, Subject
from emdesk.domain.users import Role, User
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.services.checklists import ChecklistService
from emdesk.services.context import AppContext
from emdesk.ui.workspaces import TodayWorkspace

CURFEW = Conditions(curfew=Curfew(windows=tuple(CurfewWindow(weekday=d, start=time(19), end=time(7))
                                                for d in range(7))))


@pytest.fixture
def world(store, clock):
    """Officer Ann's day in Cardiff: an install (tag and unit allocated), a removal (tag and
    unit on the wearer), a check; and an install tomorrow."""
    day = local_date(clock.now())
    at = lambda h, d=0: at_local(day + timedelta(days=d), time(h))  # noqa: E731
    ann = User(username="ann", display_name="Ann Officer", role=Role.FIELD_OFFICER, region="Wales",
               base=Address(town="Cardiff", lat=51.48, lon=-3.18))
    out = {"ann": ann}
    records: list = [ann]

    def case(name, kind, start, status=OrderStatus.ACTIVE, d=0, lat=51.49):
        s = Subject(given_name=name, family_name="Jones", addresses=(
            Address(lines=(f"{start} Castle St",), town="Cardiff", postcode="CF10 1BH", lat=lat, lon=-3.17),))
        o = Order(reference=f"W-{name}", subject_id=s.id, cohort=Cohort.COURT_BAIL, status=status, region="Wales",
                  assigned_officer_id=ann.id, conditions=CURFEW, device_kinds=(DeviceKind.RF_TAG, DeviceKind.HMU))
        v = Visit(order_id=o.id, subject_id=s.id, kind=kind, officer_id=ann.id, window_start=at(start, d),
                  window_end=at(start + 2, d))
        records.extend([s, o, v])
        return o, v

    order, out["install"] = case("Ivy", VisitKind.INSTALL, 10, OrderStatus.SUBMITTED)
    records += [Device(kind=DeviceKind.RF_TAG, serial="RF-104233", state=DeviceState.ALLOCATED, order_id=order.id,
                       region="Wales"),
                Device(kind=DeviceKind.HMU, serial="HMU-000123", state=DeviceState.ALLOCATED, order_id=order.id,
                       region="Wales")]
    order, out["removal"] = case("Rex", VisitKind.REMOVAL, 13, OrderStatus.ENDED, lat=51.50)
    records += [Device(kind=DeviceKind.RF_TAG, serial="RF-1", state=DeviceState.INSTALLED, order_id=order.id,
                       subject_id=order.subject_id, paired_with="HMU-1", region="Wales"),
                Device(kind=DeviceKind.HMU, serial="HMU-1", state=DeviceState.AWAITING_COLLECTION, order_id=order.id,
                       subject_id=order.subject_id, paired_with="RF-1", region="Wales")]
    _, out["check"] = case("Cy", VisitKind.CHECK, 15, lat=51.47)
    _, out["tomorrow"] = case("Tom", VisitKind.INSTALL, 11, OrderStatus.SUBMITTED, d=1)
    store.put_many(records)
    return out


@pytest.fixture
def ctx(store, clock, world):
    return AppContext.for_user(store, world["ann"], clock, GazetteerGeocoder())


def loaded(qtbot, ctx) -> TodayWorkspace:
    ws = TodayWorkspace(ctx)
    qtbot.addWidget(ws)
    ws.resize(1366, 728)
    ws.show()
    with qtbot.waitSignal(ws.loaded, timeout=20_000):
        ws.refresh()
    return ws


def open_checklist(qtbot, ws, visit_id):
    assert ws.select_visit(visit_id)
    qtbot.mouseClick(ws.detail.checklist_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ws.side.currentWidget() is ws.checklist and ws.checklist.visit_id == visit_id,
                    timeout=10_000)
    return ws.checklist


def saved(qtbot, store, visit_id, step, n=1):
    """Wait until the store holds ``n`` ticks of ``step`` (each tick is written at once)."""
    qtbot.waitUntil(lambda: len(store.find(ChecklistTick, where={"visit_id": visit_id, "step": step})) >= n,
                    timeout=10_000)
    return store.find(ChecklistTick, where={"visit_id": visit_id, "step": step}, order_by="at")[-1]


def settle(qtbot, panel, key):
    qtbot.waitUntil(lambda: panel.rows[key].editor.isEnabled(), timeout=10_000)


def test_the_checklist_is_the_templates_steps_ticked_through_the_widgets(qtbot, store, ctx, world):
    ws = loaded(qtbot, ctx)
    visit = world["install"]
    panel = open_checklist(qtbot, ws, visit.id)
    state = ctx.checklists.open(visit.id)
    # Every step that applies to this kit, in the template's order, labelled from it.
    assert list(panel.rows) == [s.key for s in state.steps if s.applies]
    for s in state.steps:
        row = panel.rows[s.key]
        shown = row.editor.text() if s.step.kind is StepKind.TICK else row.title.text()
        assert shown == s.step.label + (" *" if s.step.required else "")
        assert row.editor.toolTip() == s.step.help
    assert panel.rows["identity_confirmed"].resume.text()
    # A tick: saved at once, by this officer; the resume mark moves on.
    panel.rows["identity_confirmed"].editor.click()
    tick = saved(qtbot, store, visit.id, "identity_confirmed")
    assert tick.done and tick.by == world["ann"].id
    qtbot.waitUntil(lambda: bool(panel.rows["conditions_explained"].resume.text()), timeout=10_000)
    # A choice: the template's choices, the chosen one saved.
    combo = panel.rows["wearer_acknowledgement"].editor
    assert isinstance(combo, QComboBox)
    assert [combo.itemText(i) for i in range(1, combo.count())] == list(
        state.step("wearer_acknowledgement").step.choices)
    combo.setCurrentIndex(2)
    combo.activated.emit(2)
    assert saved(qtbot, store, visit.id, "wearer_acknowledgement").value == combo.itemData(2)
    # The reading is shown, never typed: no editor takes keys, it says where it comes from.
    reading = panel.rows["pairing"]
    assert reading.editor.metaObject().className() == "QLabel" and "pairing wizard" in reading.editor.text()
    # Unticking is a tick too (the history is kept).
    settle(qtbot, panel, "identity_confirmed")
    panel.rows["identity_confirmed"].editor.click()
    assert not saved(qtbot, store, visit.id, "identity_confirmed", n=2).done
    qtbot.waitUntil(lambda: bool(panel.rows["identity_confirmed"].resume.text()), timeout=10_000)
    assert "7 required steps (marked *) still to do" in panel.status.text()


def test_readings_from_the_devices_show_in_their_step(qtbot, store, clock, ctx, world):
    ws = loaded(qtbot, ctx)
    visit = world["install"]
    ChecklistService(store, world["ann"], clock).record_readings(
        visit.id, {"pairing_id": "PAIR-7", "range_rssi_dbm": -51, "strap_closed": True})
    panel = open_checklist(qtbot, ws, visit.id)
    text = panel.rows["pairing"].editor.text()
    assert "Pairing id: PAIR-7" in text and "(dBm): -51" in text and "Strap closed: yes" in text
    assert panel.rows["pairing"].mark.text() == "\u2713"


def test_pairing_waits_for_the_door_steps_and_says_which(qtbot, store, clock, ctx, world, finish_checklist):
    ws = loaded(qtbot, ctx)
    visit = world["install"]
    asked: list[str] = []
    ws.pair_requested.connect(asked.append)
    ws.pairing_available = True
    panel = open_checklist(qtbot, ws, visit.id)
    panel.rows["identity_confirmed"].editor.click()
    saved(qtbot, store, visit.id, "identity_confirmed")
    settle(qtbot, panel, "identity_confirmed")
    assert panel.finish_button.text() == "Pair devices…"
    qtbot.mouseClick(panel.finish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.error.isVisible(), timeout=10_000)
    message = panel.error.text()
    assert message.startswith("Before pairing, finish: Conditions explained, Leaflet given")
    assert "Identity confirmed" not in message and "Pairing and range test," not in message
    assert asked == []
    finish_checklist(store, world["ann"], clock, visit.id)
    qtbot.mouseClick(panel.finish_button, Qt.MouseButton.LeftButton)          # "Pair devices…"
    qtbot.waitUntil(lambda: asked == [visit.id], timeout=10_000)


def test_a_removal_checklist_asks_each_device_and_takes_not_possible_with_a_reason(qtbot, store, ctx, world):
    ws = loaded(qtbot, ctx)
    visit = world["removal"]
    panel = open_checklist(qtbot, ws, visit.id)
    assert "charger_recovered" not in panel.rows          # a GPS step: not for this kit
    row = panel.rows["device_condition"]
    assert set(row.per_device) == {"RF-1", "HMU-1"}
    # One answer is not enough: the step is saved once each device has its answer.
    rf = row.per_device["RF-1"]
    rf.setCurrentIndex(rf.findData("not recovered"))
    rf.activated.emit(rf.currentIndex())
    assert "HMU-1" in row.problem.text()
    assert store.find(ChecklistTick, where={"visit_id": visit.id, "step": "device_condition"}) == []
    hmu = row.per_device["HMU-1"]
    hmu.setCurrentIndex(hmu.findData("good"))
    hmu.activated.emit(hmu.currentIndex())
    assert saved(qtbot, store, visit.id, "device_condition").value == {"RF-1": "not recovered", "HMU-1": "good"}
    # "Not possible…" asks why, and the reason is kept.
    tag = panel.rows["tag_removed"]
    qtbot.mouseClick(tag.skip_button, Qt.MouseButton.LeftButton)
    assert tag.skip_line.isVisible()
    qtbot.mouseClick(tag.skip_save, Qt.MouseButton.LeftButton)
    assert "Say why" in tag.problem.text()                     # no reason, nothing saved
    tag.skip_reason.setText("wearer absconded")
    qtbot.mouseClick(tag.skip_save, Qt.MouseButton.LeftButton)
    assert saved(qtbot, store, visit.id, "tag_removed").skipped == "wearer absconded"
    qtbot.waitUntil(lambda: tag.skipped_label.text() == "Not possible: wearer absconded", timeout=10_000)
    assert tag.mark.text() == "\u2713" and tag.skip_button.text() == "Undo"
    assert panel.status.text().endswith("Still required: Identity confirmed, Home unit recovered, "
                                        "Recovered kit bagged and labelled for stock.")


def test_the_removal_form_accounts_for_every_device_and_says_why_not(qtbot, store, clock, ctx, world,
                                                                       finish_checklist):
    ws = loaded(qtbot, ctx)
    visit = world["removal"]
    assert ws.select_visit(visit.id)
    assert ws.detail.removal_button.isVisible() and ws.detail.removal_button.isEnabled()
    # The checklist not finished: the removal is refused, in words, and the form keeps what was entered.
    qtbot.mouseClick(ws.detail.removal_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ws.removal_dialog is not None and ws.removal_dialog.isVisible(), timeout=10_000)
    dialog = ws.removal_dialog
    assert set(dialog.rows) == {"RF-1", "HMU-1"}
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "Say whether HMU-1, RF-1 were recovered" in dialog.problem.text()
    dialog.mark("RF-1", recovered=False)
    dialog.mark("HMU-1", recovered=True)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "Say why RF-1 was not recovered" in dialog.problem.text()
    dialog.mark("RF-1", recovered=False, reason="wearer absconded")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=10_000)
    assert dialog.problem.text().startswith("Not recorded.") and "checklist is not finished" in dialog.problem.text()
    assert store.get(Visit, visit.id).status is VisitStatus.SCHEDULED
    dialog.reject()
    # The checklist done (the tag marked not recovered there): the form starts from it.
    finish_checklist(store, world["ann"], clock, visit.id, conditions={"RF-1": "not recovered"},
                     skipped={"tag_removed": "wearer absconded"})
    qtbot.mouseClick(ws.detail.removal_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ws.removal_dialog is not None and ws.removal_dialog is not dialog
                    and ws.removal_dialog.isVisible(), timeout=10_000)
    dialog = ws.removal_dialog
    assert dialog.rows["RF-1"].lost.isChecked() and dialog.rows["HMU-1"].recovered.isChecked()
    assert not dialog.rows["HMU-1"].reason.isEnabled()
    assert dialog.rows["RF-1"].reason_text == "wearer absconded"        # the checklist's reason, to keep or change
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    done = store.get(Visit, visit.id)
    assert done.status is VisitStatus.COMPLETED and done.outcome is OutcomeCode.EQUIPMENT_NOT_RECOVERED
    assert done.not_recovered == {"RF-1": "wearer absconded"}
    states = {d.serial: d.state for d in store.find(Device, where={"serial": ["RF-1", "HMU-1"]})}
    assert states == {"RF-1": DeviceState.LOST, "HMU-1": DeviceState.RECOVERED}
    assert "RF-1 (wearer absconded)" in ws.detail.message.text()
    assert not ws.detail.removal_button.isEnabled()            # closed now


def test_the_outcome_dialog_offers_what_this_visit_can_take(qtbot, ctx, world):
    ws = loaded(qtbot, ctx)
    offered = {}
    for name in ("install", "removal", "check"):
        ws.ask_outcome(world[name].id)
        offered[name] = list(ws.outcome_dialog.buttons)
        ws.outcome_dialog.reject()
        qtbot.waitUntil(lambda: ws.outcome_dialog is None, timeout=5_000)
    for name in ("install", "removal"):
        assert not {OutcomeCode.INSTALLED, OutcomeCode.REMOVED, OutcomeCode.EQUIPMENT_NOT_RECOVERED} & set(
            offered[name])
        assert OutcomeCode.NOT_AT_ADDRESS in offered[name]
    assert offered["check"][0] is OutcomeCode.CHECKED_OK


def test_a_failed_attempt_shows_its_rebooking(qtbot, store, ctx, world):
    ws = loaded(qtbot, ctx)
    visit = world["install"]
    assert ws.select_visit(visit.id)
    qtbot.mouseClick(ws.detail.outcome_button, Qt.MouseButton.LeftButton)
    dialog = ws.outcome_dialog
    dialog.choose(OutcomeCode.NOT_AT_ADDRESS)
    dialog.notes.setPlainText("No answer; card left.")
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    failed = store.get(Visit, visit.id)
    assert failed.status is VisitStatus.FAILED and failed.outcome is OutcomeCode.NOT_AT_ADDRESS
    follow = next(v for v in store.find(Visit, where={"order_id": visit.order_id}) if v.previous_visit_id == visit.id)
    assert "attempt 2 booked" in ws.detail.message.text()
    assert ws.select_visit(visit.id)
    assert "Rebooked" in ws.detail.body.text() and "2nd attempt" in ws.detail.body.text()
    assert follow.attempt == 2


def test_previous_and_next_day(qtbot, ctx, world, clock):
    ws = loaded(qtbot, ctx)
    today = local_date(clock.now())
    assert ws.subtitle_label.text().startswith(f"Today, {today:%A %d %B %Y}")
    assert not ws.today_button.isEnabled()
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        qtbot.mouseClick(ws.next_button, Qt.MouseButton.LeftButton)
    tomorrow = today + timedelta(days=1)
    assert ws.subtitle_label.text().startswith(f"Tomorrow, {tomorrow:%A %d %B %Y} · 1 visit")
    assert [ws.table.proxy.row_at(i).visit_id for i in range(ws.row_count())] == [world["tomorrow"].id]
    assert ws.today_button.isEnabled()
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        qtbot.mouseClick(ws.prev_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        qtbot.mouseClick(ws.prev_button, Qt.MouseButton.LeftButton)
    assert ws.subtitle_label.text().startswith("Yesterday") and ws.row_count() == 0
    assert ws.count_label.text() == "No visits booked that day"
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        qtbot.mouseClick(ws.today_button, Qt.MouseButton.LeftButton)
    assert ws.row_count() == 3


def test_a_closed_visits_checklist_is_read_only(qtbot, store, clock, ctx, world, finish_checklist):
    from emdesk.services.visit_outcomes import VisitOutcomeService

    visit = world["check"]
    finish_checklist(store, world["ann"], clock, visit.id)
    VisitOutcomeService(store, world["ann"], clock).record_outcome(visit.id, OutcomeCode.CHECKED_OK)
    ws = loaded(qtbot, ctx)
    ws.open_checklist(visit.id)
    qtbot.waitUntil(lambda: ws.side.currentWidget() is ws.checklist, timeout=10_000)
    panel = ws.checklist
    assert panel.status.text().startswith("Read only")
    assert all(not row.editor.isEnabled() for row in panel.rows.values())
    assert not panel.finish_button.isEnabled()


def test_a_gps_install_takes_its_first_fix_from_the_devices(qtbot, store, clock, ctx, world, finish_checklist):
    """Paired from Today: the wizard records the install with the self-test's readings, the
    GPS tag's time to first fix among them, and the checklist shows them."""
    from emdesk.devices.worker import DeviceWorker
    from emdesk.domain.conditions import LocationMonitoring
    from emdesk.ui.pairing.actions import last_wizard, open_pairing_for_visit
    from hardware.air import Air
    from hardware.emulator import EmulatedDevice
    from hardware.testing import FAST, KEY

    visit = world["install"]
    order = store.get(Order, visit.order_id)
    store.put(order.evolve(conditions=Conditions(curfew=CURFEW.curfew, location=LocationMonitoring()),
                           device_kinds=(DeviceKind.GPS_TAG, DeviceKind.HMU)))
    tag = store.find(Device, where={"serial": "RF-104233"})[0]
    store.put(tag.evolve(kind=DeviceKind.GPS_TAG, serial="GPS-000042"))
    ws = loaded(qtbot, ctx)
    worker = DeviceWorker(name="gps-devices", idle_poll=0.02)
    ws.pair_requested.connect(lambda visit_id: open_pairing_for_visit(
        ws, ctx, visit_id, on_recorded=lambda *_: ws.installed(visit_id), worker=worker, key=KEY, policy=FAST))
    ws.pairing_available = True
    try:
        panel = open_checklist(qtbot, ws, visit.id)
        assert {"first_fix", "charger_given"} <= set(panel.rows)          # the GPS template
        finish_checklist(store, world["ann"], clock, visit.id)
        air = Air()
        with EmulatedDevice.start("gps_tag", "GPS-000042", None, air=air) as gps, \
                EmulatedDevice.start("hmu", "HMU-000123", None, air=air) as hmu:
            qtbot.mouseClick(panel.finish_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: last_wizard() is not None and last_wizard().isVisible(), timeout=10_000)
            wizard = last_wizard()
            wizard.tag_ports.add(gps.port)
            wizard.hmu_ports.add(hmu.port)
            with qtbot.waitSignal(wizard.recorded, timeout=40_000):
                qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
            wizard.close()
        qtbot.waitUntil(lambda: "Time to first GPS fix (s): " in panel.rows["first_fix"].editor.text(), timeout=10_000)
    finally:
        worker.shutdown()
    first_fix = saved(qtbot, store, visit.id, "first_fix")
    assert first_fix.source == "devices" and first_fix.value["gps_ttff_s"] > 0
    assert store.get(Visit, visit.id).status is VisitStatus.COMPLETED


def test_a_step_the_devices_failed_shows_why(qtbot, store, clock, ctx, world):
    ChecklistService(store, world["ann"], clock).record_readings(world["install"].id,
                                                                  {"pairing_id": "PAIR-8", "strap_closed": False})
    ws = loaded(qtbot, ctx)
    panel = open_checklist(qtbot, ws, world["install"].id)
    row = panel.rows["pairing"]
    assert row.problem.isVisibleTo(panel) and row.problem.text() == "failed on the device: strap closed"
    assert row.mark.text() == "!" and "Strap closed: NO" in row.editor.text()
