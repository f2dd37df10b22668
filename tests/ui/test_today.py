"""The officer's day on screen: route order, the map beside it, the selected visit's
details, the appointment text, the outcome dialog and the checklist."""
from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from emdesk.domain.clock import at_local, local_date
from emdesk.domain.users import Role
from emdesk.domain.visits import OutcomeCode, Visit
from emdesk.ui.workspaces import TodayWorkspace

from ui_fakes import FakeContext, user


def loaded(qtbot, ctx, size=(1366, 728)) -> TodayWorkspace:
    ws = TodayWorkspace(ctx)
    qtbot.addWidget(ws)
    ws.resize(*size)
    ws.show()
    with qtbot.waitSignal(ws.loaded, timeout=20_000):
        ws.refresh()
    return ws


def map_loaded(qtbot, ws):
    if ws.map.loading:
        with qtbot.waitSignal(ws.map.page_loaded, timeout=20_000):
            pass
    qtbot.waitUntil(lambda: js(qtbot, ws, "window.emdesk !== undefined"), timeout=5_000)


def js(qtbot, ws, script):
    with qtbot.waitCallback(timeout=10_000) as callback:
        ws.map.run_js(f"JSON.stringify({script})", callback)
    return json.loads(callback.args[0])


def rows(ws):
    return [ws.table.proxy.row_at(i) for i in range(ws.table.proxy.rowCount())]


def own_visits_today(store, officer, now) -> list[Visit]:
    day = local_date(now)
    start, end = at_local(day, time(0)), at_local(day + timedelta(days=1), time(0))
    return [v for v in store.find(Visit, where={"officer_id": officer.id})
            if (v.planned_arrival or v.window_start) and start <= (v.planned_arrival or v.window_start) < end]


# -- on the demo world ---------------------------------------------------------------

def test_the_demo_officers_day_in_order_with_every_stop_on_the_map(qtbot, ctx_for, demo_store, demo_users):
    store, _ = demo_store
    officer = demo_users[Role.FIELD_OFFICER]
    ctx = ctx_for(Role.FIELD_OFFICER)
    ws = loaded(qtbot, ctx)
    shown = rows(ws)
    expected = own_visits_today(store, officer, ctx.clock.now())
    assert shown and len(shown) == len(expected)
    planned = sorted((v for v in expected if v.planned_arrival), key=lambda v: v.planned_arrival)
    unplanned = sorted((v for v in expected if not v.planned_arrival), key=lambda v: v.window_start)
    assert [r.visit_id for r in shown] == [v.id for v in planned + unplanned]
    assert [r.number for r in shown] == list(range(1, len(shown) + 1))
    # The map: the base and every located stop, numbered as in the list, one route line.
    map_loaded(qtbot, ws)
    located = [r for r in shown if r.located]
    keys = js(qtbot, ws, "Object.keys(emdesk.markers)")
    assert keys == ["base", *[r.visit_id for r in located]]
    labels = js(qtbot, ws, "Array.from(document.querySelectorAll('.emdesk-pin')).map(e => e.textContent)")
    assert labels == ["B", *[str(r.number) for r in located]]
    assert js(qtbot, ws, "emdesk.lines.length") == 1


def test_a_click_on_the_map_selects_the_visit_and_the_list_selects_on_the_map(qtbot, ctx_for):
    ws = loaded(qtbot, ctx_for(Role.FIELD_OFFICER))
    map_loaded(qtbot, ws)
    located = [r for r in rows(ws) if r.located]
    last = located[-1]
    ws.map.run_js(f"emdesk.markers[{json.dumps(last.visit_id)}].fire('click')", lambda _: None)
    qtbot.waitUntil(lambda: ws.selected_id() == last.visit_id, timeout=5_000)
    assert ws.detail.title.text().endswith(last.subject_name)
    qtbot.waitUntil(lambda: js(qtbot, ws, "Array.from(document.querySelectorAll('.emdesk-pin.selected'))"
                                          ".map(e => e.textContent)") == [str(last.number)], timeout=5_000)


def test_the_detail_shows_what_the_door_needs(qtbot, ctx_for):
    ws = loaded(qtbot, ctx_for(Role.FIELD_OFFICER))
    cards = rows(ws)
    risky = next((i for i, c in enumerate(cards) if c.risk_flags), None)
    assert risky is not None, "the demo officer has a visit with risk flags today"
    ws.table.view.selectRow(risky)
    card = cards[risky]
    assert ws.detail.risk.isVisibleTo(ws) and all(f in ws.detail.risk.text() for f in card.risk_flags)
    body = ws.detail.body.text()
    for expected in (card.address.split(",")[0], card.conditions[0] if card.conditions else "None recorded",
                     "Single-crewed" if card.crew_size == 1 else "Double-crewed"):
        assert expected.replace("'", "&#x27;") in body or expected in body, expected
    # No more than the visit needs: no identifiers, no date of birth.
    assert "PNC" not in body and "Date of birth" not in body
    plain = next((i for i, c in enumerate(cards) if not c.risk_flags), None)
    if plain is not None:
        ws.table.view.selectRow(plain)
        assert not ws.detail.risk.isVisibleTo(ws)


def test_the_appointment_text_is_copied_for_the_wearer(qtbot, ctx_for):
    ws = loaded(qtbot, ctx_for(Role.FIELD_OFFICER))
    card = ws.table.selected_row()
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(ws.detail.copy_button, Qt.MouseButton.LeftButton)
    text = QGuiApplication.clipboard().text()
    assert text == card.appointment_text == ws.detail.appointment.toPlainText()
    assert card.subject_name.split()[0] in text and "visit you" in text
    assert ws.detail.copied.text() == "Copied"


def test_the_demo_day_looks_right_at_laptop_size(qtbot, ctx_for, tmp_path):
    from emdesk.ui.screenshot import render_workspace

    out = render_workspace(ctx_for(Role.FIELD_OFFICER), tmp_path / "today.png", workspace="today")
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1350, 688)
    # The map drew something other than its grey background where the route runs.
    colours = {image.pixelColor(x, y).name() for x in range(20, 860, 7) for y in range(380, 640, 7)}
    from emdesk.ui import palette
    assert palette.css("map-route") in colours or len(colours) > 20


# -- over fakes, for exact control ---------------------------------------------------

def test_a_failed_attempt_is_recorded_with_its_reason_and_shows_the_rebooking(qtbot):
    ctx = FakeContext(user(Role.FIELD_OFFICER))
    ws = loaded(qtbot, ctx, size=(1366, 728))
    assert ws.detail.outcome_button.isEnabled()
    qtbot.mouseClick(ws.detail.outcome_button, Qt.MouseButton.LeftButton)
    dialog = ws.outcome_dialog
    assert dialog is not None and dialog.isVisible()
    labels = [b.text() for b in dialog.buttons.values()]
    assert labels == ["Not at address", "Refused", "Wrong or incomplete address", "Unsafe", "Equipment fault",
                      "Order cancelled", "Late order"]
    # A refusal needs notes: refused without them, nothing recorded.
    dialog.choose(OutcomeCode.REFUSED)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "needs them" in dialog.problem.text()
    assert ctx.outcomes.recorded == []
    dialog.choose(OutcomeCode.NOT_AT_ADDRESS)
    dialog.notes.setPlainText("No answer; card left.")
    with qtbot.waitSignal(ws.loaded, timeout=10_000):       # recorded, then the day reloaded
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert ctx.outcomes.recorded == [("v1", OutcomeCode.NOT_AT_ADDRESS, "No answer; card left.")]
    assert "Recorded: Not at address." in ws.detail.message.text()
    assert "Next attempt booked for Fri 27 Nov 18:00" in ws.detail.message.text()


def test_the_rebooking_of_a_failed_visit_is_in_its_detail(qtbot):
    from dataclasses import replace

    from emdesk.services.officer_day import Attempt
    from ui_fakes import NOW

    ctx = FakeContext(user(Role.FIELD_OFFICER))
    first = ctx.officer_day.cards[0]
    ctx.officer_day.cards[0] = replace(first, status="failed", outcome="Not at address", rebooking=Attempt(
        visit_id="v9", attempt=2, window_start=NOW.replace(day=27, hour=18), window_end=NOW.replace(day=27, hour=20),
        planned_arrival=None, status="scheduled", officer="Sam Example"))
    ws = loaded(qtbot, ctx)
    body = ws.detail.body.text()
    assert "Rebooked" in body and "Next: 2nd attempt, Fri 27 Nov 18:00–20:00" in body
    assert not ws.detail.outcome_button.isEnabled()          # a failed visit is closed


def test_the_checklist_saves_each_tick_at_once_and_resumes_where_it_stopped(qtbot):
    ctx = FakeContext(user(Role.FIELD_OFFICER))
    ws = loaded(qtbot, ctx)
    qtbot.mouseClick(ws.detail.checklist_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ws.side.currentWidget() is ws.checklist, timeout=10_000)
    panel = ws.checklist
    assert list(panel.rows) == ["identity", "leaflet", "strap", "range", "ack"]     # "base" is not for this kit
    assert panel.rows["identity"].resume.text()                       # nothing done: start at the top
    assert "4 required steps (marked *) still to do" in panel.status.text()
    assert panel.rows["identity"].editor.text().endswith("*") and not panel.rows["leaflet"].editor.text().endswith("*")
    panel.rows["identity"].editor.setChecked(True)                   # one click, saved at once
    qtbot.waitUntil(lambda: ("v1", "identity", True, None) in ctx.checklists.ticks, timeout=10_000)
    qtbot.waitUntil(lambda: bool(panel.rows["leaflet"].resume.text()), timeout=10_000)
    assert not panel.rows["identity"].resume.text()
    # A reading is never typed: it is shown, from the devices.
    assert "pairing wizard" in panel.rows["range"].editor.text()
    # Gone and back (a new screen over what was saved): it carries on at the same step.
    again = loaded(qtbot, ctx)
    qtbot.mouseClick(again.detail.checklist_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: again.side.currentWidget() is again.checklist, timeout=10_000)
    assert again.checklist.rows["identity"].editor.isChecked()
    assert again.checklist.rows["leaflet"].resume.text()


def test_without_the_services_the_buttons_say_why(qtbot):
    ctx = FakeContext(user(Role.FIELD_OFFICER), outcomes=None, checklists=None)
    ws = loaded(qtbot, ctx)
    assert not ws.detail.outcome_button.isEnabled() and not ws.detail.checklist_button.isEnabled()
    assert "not part of this build" in ws.detail.outcome_button.toolTip()


@pytest.fixture(autouse=True)
def _clipboard_left_clean():
    yield
    QGuiApplication.clipboard().clear()


def test_a_planned_day_in_route_order_with_unplanned_visits_after_and_marked(qtbot, store, clock):
    """Over the real service and a real store: the plan's order, not the slots'."""
    from datetime import date

    from emdesk.domain.geocoding import GazetteerGeocoder
    from emdesk.domain.orders import Order, OrderStatus
    from emdesk.domain.people import Address, Subject
    from emdesk.domain.users import User
    from emdesk.domain.visits import VisitKind
    from emdesk.services.context import AppContext

    day = local_date(clock.now())
    at = lambda h, m=0: at_local(day, time(h, m))  # noqa: E731
    officer = store.put(User(username="ann", display_name="Ann Officer", role=Role.FIELD_OFFICER,
                             base=Address(town="Leeds", lat=53.80, lon=-1.55)))
    places = [(53.82, -1.58), (53.76, -1.47), (53.85, -1.65)]
    visits = []
    for i, (lat, lon) in enumerate(places):
        s = store.put(Subject(given_name=f"W{i}", family_name="Test", date_of_birth=date(1990, 1, 1),
                              addresses=(Address(lines=(f"{i} Road",), town="Leeds", lat=lat, lon=lon),)))
        o = store.put(Order(reference=f"R{i}", subject_id=s.id, status=OrderStatus.ACTIVE))
        visits.append(store.put(Visit(order_id=o.id, subject_id=s.id, kind=VisitKind.CHECK, officer_id=officer.id,
                                      window_start=at(9 + i), window_end=at(17),
                                      planned_arrival=(at(15), at(10, 30), None)[i])))
    ctx = AppContext.for_user(store, officer, clock, GazetteerGeocoder())
    ws = loaded(qtbot, ctx)
    assert [r.visit_id for r in rows(ws)] == [visits[1].id, visits[0].id, visits[2].id]
    assert not ws.table.view.isColumnHidden(1)
    assert [ws.table.proxy.index(r, 1).data() for r in range(3)] == ["10:30", "15:00", "not planned"]
    assert "in route order" in ws.subtitle_label.text()
    map_loaded(qtbot, ws)
    marks = js(qtbot, ws, "Array.from(document.querySelectorAll('.emdesk-pin'))"
                          ".map(e => [e.textContent, e.classList.contains('unplanned')])")
    assert marks == [["B", False], ["1", False], ["2", False], ["3", True]]
    # The unplanned stop is shown but not on the line: base, two stops, base.
    assert js(qtbot, ws, "emdesk.lines.map(l => l.getLatLngs().length)") == [4]


def test_without_the_map_files_the_day_still_loads_and_says_how_to_get_them(qtbot, tmp_path, monkeypatch):
    from emdesk.ui.maps.assets import FETCH_COMMAND

    monkeypatch.setenv("EMDESK_WEB_ASSETS", str(tmp_path / "empty"))
    ws = loaded(qtbot, FakeContext(user(Role.FIELD_OFFICER)))
    assert ws.row_count() == 2
    assert ws.map.showing_message and FETCH_COMMAND in ws.map.message.text()
