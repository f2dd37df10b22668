"""The officer's day, end to end, as a new user would live it.

The demo world (as ``emdesk hub load-demo`` makes it: today's routes planned) goes on a
real hub (its SQLite storage, its HTTP app in process); a field officer and a
supervisor join it (``emdesk join``: encrypted desktop stores with their own scope).
Then, offline, the officer signs in through the real sign-in dialog, opens the planned
day on Today (route order, the map), completes an install through the checklist's
widgets and the pairing wizard with emulated devices on real ptys, records a failed
attempt with its reason (and sees its rebooking), and a removal through the removal
form with one device not recovered.  Signed out, the desktop syncs; the supervisor's
desktop syncs, and the install KPIs have moved by exactly what was done.
"""
from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from emdesk.app.commands import demo_world_source
from emdesk.app.wiring import sign_in_callable
from emdesk.devices.worker import DeviceWorker
from emdesk.domain.checklists import ChecklistTick
from emdesk.domain.clock import FixedClock, local_date
from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.users import Role, User
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.services.kpis import KpiService
from emdesk.store import Store
from emdesk.sync.client import SyncClient, join
from emdesk.sync.hub import create_app
from emdesk.ui.pairing.actions import last_wizard
from emdesk.ui.shell import Shell
from hardware.air import Air
from hardware.emulator import EmulatedDevice
from hardware.testing import FAST, KEY

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from synckit import ASGIClient, make_hub  # noqa: E402

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)      # the demo day, 08:00: the day ahead
HUB = "http://hub.test"
OPEN = (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS)


def choose_day(users, records):
    """A field officer whose planned day holds an install with its kit allocated (a tag and a
    home unit), another install to fail, and a removal of two devices; and those visits."""
    visits = [r for r in records if isinstance(r, Visit)]
    devices = [r for r in records if isinstance(r, Device)]
    on_order: dict[str, list[Device]] = {}
    for d in devices:
        if d.order_id:
            on_order.setdefault(d.order_id, []).append(d)
    today = local_date(NOW)
    for user, password in sorted(users, key=lambda up: up[0].username):
        if user.role is not Role.FIELD_OFFICER:
            continue
        mine = [v for v in visits if v.officer_id == user.id and v.status in OPEN and v.window_start
                and local_date(v.planned_arrival or v.window_start) == today]
        if not any(v.planned_arrival for v in mine):
            continue

        def kit(v, states):
            return [d for d in on_order.get(v.order_id, []) if d.state in states]
        installs = [v for v in mine if v.kind is VisitKind.INSTALL]
        fit = next((v for v in sorted(installs, key=lambda v: (v.attempt, v.planned_arrival is None, v.id))
                    if {d.kind for d in kit(v, (DeviceState.ALLOCATED,))} >= {DeviceKind.HMU}
                    and len(kit(v, (DeviceState.ALLOCATED,))) == 2), None)
        fail = next((v for v in installs if fit is not None and v.id != fit.id), None)
        removal = next((v for v in mine if v.kind is VisitKind.REMOVAL
                        and {d.kind for d in kit(v, (DeviceState.INSTALLED, DeviceState.AWAITING_COLLECTION))}
                        >= {DeviceKind.HMU} and len(kit(v, (DeviceState.INSTALLED,
                                                            DeviceState.AWAITING_COLLECTION))) == 2), None)
        if fit and fail and removal:
            return user, password, fit, fail, removal, {d.kind: d.serial for d in kit(fit, (DeviceState.ALLOCATED,))}
    raise AssertionError("the demo world has no field officer with an install, a second install and a removal "
                         "on a planned day")


def figures(store, clock) -> dict:
    supervisor = store.find(User, where={"username": "supervisor"})[0]
    return {f.key: f for f in KpiService(store, supervisor, clock).figures()}


def js(qtbot, ws, script):
    with qtbot.waitCallback(timeout=10_000) as callback:
        ws.map.run_js(f"JSON.stringify({script})", callback)
    return json.loads(callback.args[0])


def settled(qtbot, panel) -> None:
    """Every step's widget enabled again: what was asked is saved and shown back."""
    qtbot.waitUntil(lambda: all(r.editor.isEnabled() for r in panel.rows.values()), timeout=10_000)


def tick_door_steps(qtbot, panel, *, conditions=None, not_possible=None) -> None:
    """Do the checklist through its widgets, as the officer would: tick each tick, pick the
    first choice (per device: ``conditions``, else the first), mark ``not_possible`` steps."""
    for key in list(panel.rows):
        row = panel.rows[key]
        if row.done or row.kind.value == "reading":
            continue
        if key in (not_possible or {}):
            qtbot.mouseClick(row.skip_button, Qt.MouseButton.LeftButton)
            row.skip_reason.setText(not_possible[key])
            qtbot.mouseClick(row.skip_save, Qt.MouseButton.LeftButton)
        elif isinstance(row.editor, QCheckBox):
            if not row.step.required:
                continue
            row.editor.click()          # the box itself (a mouse click lands wherever the row's layout put it)
        elif isinstance(row.editor, QComboBox):
            row.editor.setCurrentIndex(1)
            row.editor.activated.emit(1)
        elif isinstance(row.editor, QLineEdit):
            if not row.step.required:
                continue
            row.editor.setText("seen and checked")
            row.editor.editingFinished.emit()
        elif row.per_device:
            for serial, combo in row.per_device.items():
                combo.setCurrentIndex(combo.findData((conditions or {}).get(serial, row.step.choices[0])))
                combo.activated.emit(combo.currentIndex())
        settled(qtbot, panel)


def open_checklist(qtbot, today, visit_id):
    assert today.select_visit(visit_id)
    qtbot.mouseClick(today.detail.checklist_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: today.side.currentWidget() is today.checklist
                    and today.checklist.visit_id == visit_id, timeout=10_000)
    return today.checklist


@pytest.fixture
def worker():
    w = DeviceWorker(name="e2e-devices", idle_poll=0.02)
    yield w
    w.shutdown()


def test_an_officers_day_offline_then_the_supervisors_kpis_after_sync(qtbot, tmp_path, worker):
    clock = FixedClock(NOW)
    users, records, _hint = demo_world_source(2026, 120, NOW)
    officer, password, fit, fail, removal, serials = choose_day(users, records)
    hub = make_hub(str(tmp_path / "hub.db"), clock)
    hub.load(users, records)
    http = ASGIClient(create_app(hub))
    stack = ExitStack()
    stack.callback(hub.storage.close)
    stack.callback(http.close)
    with stack:
        # Both desktops join the hub (each an encrypted store of what its account may see).
        officer_db, supervisor_db = tmp_path / "officer.db", tmp_path / "supervisor.db"
        store, _ = join(HUB, officer.username, password, officer_db, http=http, clock=clock)
        store.close()
        store, _ = join(HUB, "supervisor", "demo-supervisor", supervisor_db, http=http, clock=clock)
        before = figures(store, clock)
        store.close()

        # -- at the doors, offline: the UI's sync has no route to the hub ----------------------
        shell = Shell(sign_in_callable(officer_db, clock))
        shell.start(officer.username)
        dialog = shell.dialog
        qtbot.addWidget(dialog)
        dialog.password.setText(password)
        with qtbot.waitSignal(dialog.signed_in, timeout=20_000):
            dialog.submit()
        window = shell.window
        qtbot.addWidget(window)
        stack.callback(shell.quit)
        today = window.workspace("today")
        window.show_workspace("today")
        if today.is_loading or today.data is None:
            with qtbot.waitSignal(today.loaded, timeout=20_000):
                pass
        window.pairing_options = {"worker": worker, "key": KEY, "policy": FAST}

        # The planned day: in route order, numbered, on the map with its route.
        cards = [today.table.proxy.row_at(i) for i in range(today.row_count())]
        planned = [c for c in cards if c.planned]
        assert planned and cards[:len(planned)] == planned
        assert [c.planned_arrival for c in planned] == sorted(c.planned_arrival for c in planned)
        assert [c.number for c in cards] == list(range(1, len(cards) + 1))
        assert "in route order" in today.subtitle_label.text()
        assert {fit.id, fail.id, removal.id} <= {c.visit_id for c in cards}
        if today.map.loading:
            with qtbot.waitSignal(today.map.page_loaded, timeout=20_000):
                pass
        qtbot.waitUntil(lambda: js(qtbot, today, "window.emdesk !== undefined"), timeout=10_000)
        assert js(qtbot, today, "emdesk.lines.length") == 1
        assert set(js(qtbot, today, "Object.keys(emdesk.markers)")) >= {"base", *(c.visit_id for c in planned
                                                                              if c.located)}

        # 1. The install: the checklist's door steps through its widgets, then the pairing.
        panel = open_checklist(qtbot, today, fit.id)
        qtbot.mouseClick(panel.finish_button, Qt.MouseButton.LeftButton)       # "Pair devices…" too early
        qtbot.waitUntil(lambda: panel.error.isVisible(), timeout=10_000)
        assert panel.error.text().startswith("Before pairing, finish: Identity confirmed") and last_wizard() is None
        tick_door_steps(qtbot, panel)
        with ExitStack() as kit:
            air = Air()
            tag_kind = next(k for k in serials if k is not DeviceKind.HMU)
            tag = kit.enter_context(EmulatedDevice.start(tag_kind.value, serials[tag_kind], None, air=air))
            hmu = kit.enter_context(EmulatedDevice.start("hmu", serials[DeviceKind.HMU], None, air=air))
            qtbot.mouseClick(panel.finish_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: last_wizard() is not None and last_wizard().isVisible(), timeout=10_000)
            wizard = last_wizard()
            assert wizard.job.visit_id == fit.id
            wizard.tag_ports.add(tag.port)
            wizard.hmu_ports.add(hmu.port)
            with qtbot.waitSignal(wizard.recorded, timeout=40_000):
                qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
            pairing_id = wizard.result.pairing_id
            wizard.close()
        # Today reloads, the checklist shows what the devices read, closed now.
        qtbot.waitUntil(lambda: f"Pairing id: {pairing_id}" in panel.rows["pairing"].editor.text(), timeout=10_000)
        if "first_fix" in panel.rows:
            assert "first GPS fix" in panel.rows["first_fix"].editor.text()
        qtbot.waitUntil(lambda: panel.status.text().startswith("Read only"), timeout=10_000)
        qtbot.waitUntil(lambda: today.table.selected_row().status == "completed", timeout=10_000)

        # 2. A failed attempt, with its reason; its rebooking is shown.
        assert today.select_visit(fail.id)
        qtbot.mouseClick(today.detail.outcome_button, Qt.MouseButton.LeftButton)
        outcome = today.outcome_dialog
        assert OutcomeCode.INSTALLED not in outcome.buttons
        outcome.choose(OutcomeCode.NOT_AT_ADDRESS)
        outcome.notes.setPlainText("No answer at the door; card left.")
        with qtbot.waitSignal(today.loaded, timeout=10_000):
            qtbot.mouseClick(outcome.save_button, Qt.MouseButton.LeftButton)
        assert f"attempt {fail.attempt + 1} booked" in today.detail.message.text()
        assert today.select_visit(fail.id)
        assert "Rebooked" in today.detail.body.text()

        # 3. The removal: the checklist (the home unit could not be recovered), then the form.
        fitted = [d for d in records if isinstance(d, Device) and d.order_id == removal.order_id
                  and d.state in (DeviceState.INSTALLED, DeviceState.AWAITING_COLLECTION)]
        unit = next(d.serial for d in fitted if d.kind is DeviceKind.HMU)
        worn = next(d.serial for d in fitted if d.kind is not DeviceKind.HMU)
        panel = open_checklist(qtbot, today, removal.id)
        tick_door_steps(qtbot, panel, conditions={unit: "not recovered"},
                        not_possible={"unit_recovered": "refused to hand back"})
        assert panel.status.text().startswith("Complete")
        qtbot.mouseClick(panel.finish_button, Qt.MouseButton.LeftButton)       # "Record removal…"
        qtbot.waitUntil(lambda: today.removal_dialog is not None and today.removal_dialog.isVisible(), timeout=10_000)
        form = today.removal_dialog
        assert form.rows[unit].lost.isChecked() and form.rows[worn].recovered.isChecked()
        assert form.rows[unit].reason_text == "refused to hand back"      # from the checklist's "not possible"
        with qtbot.waitSignal(today.loaded, timeout=10_000):
            qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
        assert f"{unit} (refused to hand back)" in today.detail.message.text()

        # Nothing has reached the hub: it was all done offline, and waits in the outbox.
        with hub.storage.read("all") as tx:
            row = tx.one("SELECT data FROM hub_rows WHERE tbl = 'visits' AND id = ?", [fit.id])
        assert json.loads(row[0])["status"] == "scheduled"
        shell.quit()                              # signed out: the store is closed

        # -- back in range: the officer's desktop syncs, then the supervisor's -------------------
        store = Store.unlock(officer_db, officer.username, password, clock=clock)
        try:
            assert store.outbox_count() > 0
            client = SyncClient(store, HUB, http=http)
            report = client.sync_once()
            client.close()
            assert report.refused == [] and store.outbox_count() == 0, report.summary()
            ticks = store.find(ChecklistTick, where={"visit_id": fit.id})
            assert any(t.source == "devices" for t in ticks)
        finally:
            store.close()
        store = Store.unlock(supervisor_db, "supervisor", "demo-supervisor", clock=clock)
        try:
            client = SyncClient(store, HUB, http=http)
            client.sync_once()
            client.close()
            assert store.get(Visit, fit.id).status is VisitStatus.COMPLETED
            after = figures(store, clock)
        finally:
            store.close()

    # The KPIs moved by what was done, and the drill-down holds those visits and devices.
    within_b, within_a = before["installs_within_attempts"], after["installs_within_attempts"]
    assert within_a.numerator == within_b.numerator + 1 and fit.id in within_a.visit_ids
    assert after["time_to_install"].denominator == before["time_to_install"].denominator + 1
    reason = "failure_reason:not_at_address"
    assert after[reason].numerator == before[reason].numerator + 1 and fail.id in after[reason].visit_ids
    rec_b, rec_a = before["device_recovery"], after["device_recovery"]
    assert rec_a.numerator == rec_b.numerator + 1                      # the worn device came back
    assert len(rec_a.parts["lost"]) == len(rec_b.parts["lost"]) + 1     # the unit did not
    assert len(rec_a.parts["outstanding"]) == len(rec_b.parts["outstanding"]) - 2
    assert rec_a.denominator == rec_b.denominator
