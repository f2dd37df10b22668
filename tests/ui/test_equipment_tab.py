"""Outstanding kit: a removal that left a device behind puts it on the supervisors' and
technicians' list, with what they need to chase it, until it is closed from the screen."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.users import Role, User
from emdesk.domain.visits import Visit, VisitKind
from emdesk.services.context import AppContext
from emdesk.services.equipment import OutstandingEquipmentService
from emdesk.services.removals import RemovalService
from emdesk.ui.main_window import MainWindow
from emdesk.ui.workspaces import EquipmentWorkspace, workspaces_for
from emdesk.ui.workspaces.equipment_close import CloseOutstandingDialog

from test_accessibility import check


@pytest.fixture
def world(store, clock, finish_checklist):
    """Ann's removal got the home unit back; the wearer had absconded with the tag."""
    ann = User(username="ann", display_name="Ann Officer", role=Role.FIELD_OFFICER, region="Wales")
    staff = {role: User(username=role.value, display_name=role.label, role=role, region="Wales")
             for role in Role if role is not Role.FIELD_OFFICER}
    sam = Subject(given_name="Sam", family_name="Jones")
    order = Order(reference="W-9", subject_id=sam.id, status=OrderStatus.ENDED, region="Wales",
                  assigned_officer_id=ann.id)
    visit = Visit(order_id=order.id, subject_id=sam.id, kind=VisitKind.REMOVAL, officer_id=ann.id,
                  window_start=clock.now() - timedelta(hours=2))
    store.put_many([ann, *staff.values(), sam, order, visit,
                    Device(kind=DeviceKind.RF_TAG, serial="RF-1", state=DeviceState.INSTALLED, order_id=order.id,
                           subject_id=sam.id, paired_with="HMU-1", region="Wales"),
                    Device(kind=DeviceKind.HMU, serial="HMU-1", state=DeviceState.INSTALLED, order_id=order.id,
                           subject_id=sam.id, paired_with="RF-1", region="Wales")])
    finish_checklist(store, ann, clock, visit.id, conditions={"RF-1": "not recovered"},
                     skipped={"tag_removed": "wearer absconded"})
    RemovalService(store, ann, clock).record_removal(visit.id, ["HMU-1"], reasons={"RF-1": "wearer absconded"})
    clock.advance(timedelta(days=40))
    return {"ann": ann, **staff}


def ctx_as(store, clock, user):
    return AppContext.for_user(store, user, clock, GazetteerGeocoder())


def loaded(qtbot, ctx) -> EquipmentWorkspace:
    ws = EquipmentWorkspace(ctx)
    qtbot.addWidget(ws)
    ws.resize(1300, 600)
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        ws.refresh()
    return ws


def cells(ws, row=0) -> dict[str, str]:
    proxy = ws.table.proxy
    return {proxy.headerData(c, Qt.Orientation.Horizontal): proxy.index(row, c).data()
            for c in range(proxy.columnCount())}


def select_first(ws) -> None:
    ws.table.view.selectRow(0)
    assert ws.table.selected_row() is not None


def device_state(store, serial):
    return store.find(Device, where={"serial": serial})[0].state


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.TECHNICIAN])
def test_the_list_shows_what_a_supervisor_needs_to_chase_the_kit(qtbot, store, clock, world, role):
    ws = loaded(qtbot, ctx_as(store, clock, world[role]))
    assert ws.row_count() == 1 and ws.last_error == ""
    shown = cells(ws)
    assert shown == {
        "Serial": "RF-1", "Kind": "RF tag", "Wearer": "Sam Jones", "Order": "W-9", "Region": "Wales",
        "Officer": "Ann Officer", "Out since": f"{clock.now() - timedelta(days=40):%d %b %Y}",
        "Out for": "40 days", "Why not recovered": "wearer absconded",
        "Last visit": f"removal on {clock.now() - timedelta(days=40):%Y-%m-%d}: equipment not recovered"}
    assert ws.count_label.text() == "1 device outstanding"
    # Long out: the figure a supervisor chases first stands out.
    days = ws.table.proxy.index(0, [c.header for c in ws.table.model.columns].index("Out for"))
    assert days.data(Qt.ItemDataRole.ForegroundRole) is not None
    # Nothing chosen yet: Close… waits for a row, and says so.
    assert not ws.close_button.isEnabled() and "Choose a device" in ws.close_button.toolTip()
    assert not ws.detail_text.isVisibleTo(ws)
    # Chosen: the whole story under the table, even where the table elides it.
    select_first(ws)
    assert ws.close_button.isEnabled() and ws.detail_text.isVisibleTo(ws)
    assert ws.detail_text.text() == (
        "RF-1 (RF tag) · Sam Jones, order W-9 · officer Ann Officer. Not recovered: wearer absconded. "
        f"Last visit: removal on {clock.now() - timedelta(days=40):%Y-%m-%d}: equipment not recovered.")


@pytest.mark.parametrize("role, how, notes, state", [
    (Role.TECHNICIAN, "recovered", "", DeviceState.RECOVERED),
    (Role.SUPERVISOR, "recovered", "handed in at the police station", DeviceState.RECOVERED),
    (Role.SUPERVISOR, "written_off", "police report 44/2026", DeviceState.WRITTEN_OFF),
    (Role.TECHNICIAN, "written_off", "wearer abroad", DeviceState.WRITTEN_OFF),
])
def test_closing_takes_the_device_off_the_list(qtbot, store, clock, world, role, how, notes, state):
    ws = loaded(qtbot, ctx_as(store, clock, world[role]))
    asked = []
    ws.ask = lambda parent, row, refusals: (asked.append((row.serial, refusals)), (how, notes))[1]
    select_first(ws)
    assert ws.close_button.isEnabled()
    with qtbot.waitSignals([ws.closed, ws.loaded], timeout=10_000):
        qtbot.mouseClick(ws.close_button, Qt.MouseButton.LeftButton)
    assert asked == [("RF-1", {"recovered": "", "written_off": ""})]
    assert ws.row_count() == 0 and ws.count_label.text() == "0 devices outstanding"
    device = store.find(Device, where={"serial": "RF-1"})[0]
    assert device.state is state and device.history[-1].by == world[role].id
    assert notes in device.history[-1].reason
    assert "RF-1" in ws.status_text.text() and ("written off" if how == "written_off" else "bench") in \
        ws.status_text.text()


def test_cancelling_the_dialog_changes_nothing(qtbot, store, clock, world):
    ws = loaded(qtbot, ctx_as(store, clock, world[Role.SUPERVISOR]))
    ws.ask = lambda *args: None
    select_first(ws)
    qtbot.mouseClick(ws.close_button, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    assert ws.row_count() == 1 and device_state(store, "RF-1") is DeviceState.LOST


def test_a_refusal_is_shown_in_words_and_the_list_reloaded(qtbot, store, clock, world):
    """Someone else closed it (another desktop, a sync) after this list was loaded."""
    ws = loaded(qtbot, ctx_as(store, clock, world[Role.SUPERVISOR]))
    OutstandingEquipmentService(store, world[Role.TECHNICIAN], clock).close("RF-1", "recovered")
    ws.ask = lambda *args: ("written_off", "police report 44/2026")
    select_first(ws)
    with qtbot.waitSignal(ws.close_failed, timeout=10_000) as failed, qtbot.waitSignal(ws.loaded, timeout=10_000):
        qtbot.mouseClick(ws.close_button, Qt.MouseButton.LeftButton)
    text = failed.args[0]
    assert text == ("RF-1 was not closed. RF-1 is not on the outstanding-equipment list (it is recovered): "
                    "check the details and try again.")
    # The words stay after the reload, which shows the list as it now is.
    assert ws.status_text.text() == text and ws.status_text.property("tone") == "bad"
    assert ws.row_count() == 0
    assert device_state(store, "RF-1") is DeviceState.RECOVERED       # not written off after all


def test_a_write_off_needs_notes_before_it_is_sent(qtbot, store, clock, world):
    row = OutstandingEquipmentService(store, world[Role.SUPERVISOR], clock).rows()[0]
    dialog = CloseOutstandingDialog(row, {"recovered": "", "written_off": ""})
    qtbot.addWidget(dialog)
    check(dialog)
    save = dialog.box.button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert dialog.problem.text() == "Choose whether the device was recovered or is written off."
    dialog.choose("written_off")
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert "why the device is written off" in dialog.problem.text() and dialog.result() == 0
    dialog.notes.setPlainText("  police report 44/2026 ")
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert dialog.result() == 1 and dialog.answer() == ("written_off", "police report 44/2026")


def test_what_the_service_refuses_is_disabled_with_its_reason(qtbot, store, clock, world):
    row = OutstandingEquipmentService(store, world[Role.SUPERVISOR], clock).rows()[0]
    reason = "Technician accounts cannot write kit off"
    dialog = CloseOutstandingDialog(row, {"recovered": "", "written_off": reason})
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.buttons["recovered"].isEnabled()
    assert not dialog.buttons["written_off"].isEnabled() and dialog.buttons["written_off"].toolTip() == reason
    assert dialog.findChild(type(dialog.problem), "refused-written_off").text() == reason
    dialog.choose("written_off")
    assert dialog.how is None               # a disabled way is never handed back


def test_an_account_refused_every_way_sees_why(qtbot, store, clock, world):
    ws = loaded(qtbot, ctx_as(store, clock, world[Role.SUPERVISOR]))
    ws.refusals = {"recovered": "Not yours to close", "written_off": "Not yours to close"}
    select_first(ws)
    ws._update()
    assert not ws.close_button.isEnabled() and ws.close_button.toolTip() == "Not yours to close"


@pytest.mark.parametrize("role", list(Role))
def test_only_supervisors_and_technicians_have_the_tab(qtbot, store, clock, world, role):
    user = world["ann"] if role is Role.FIELD_OFFICER else world[role]
    ctx = ctx_as(store, clock, user)
    sees = role in (Role.SUPERVISOR, Role.TECHNICIAN)
    assert (EquipmentWorkspace in workspaces_for(user)) == sees == (ctx.equipment is not None)
    window = MainWindow(ctx, load=False, remember=False)
    qtbot.addWidget(window)
    assert (window.workspace("equipment") is not None) == sees
    assert ("Outstanding kit" in [window.tabs.tabText(i) for i in range(window.tabs.count())]) == sees


def test_an_empty_list_says_everything_is_accounted_for(qtbot, store, clock, world):
    OutstandingEquipmentService(store, world[Role.SUPERVISOR], clock).close("RF-1", "recovered")
    ws = loaded(qtbot, ctx_as(store, clock, world[Role.SUPERVISOR]))
    assert ws.row_count() == 0 and ws.status_text.text() == "Nothing outstanding: every device is accounted for."


@pytest.mark.parametrize("reason, shown", [
    ("wearer absconded", "Not recovered: wearer absconded."),
    ("not recovered after repeated visits", "Not recovered after repeated visits."),
    ("Not recovered: house empty.", "Not recovered: house empty."),
    ("", "Not recovered: no reason recorded."),
])
def test_the_reason_reads_once(reason, shown):
    from emdesk.ui.workspaces.equipment_close import why_text
    assert why_text(reason) == shown
