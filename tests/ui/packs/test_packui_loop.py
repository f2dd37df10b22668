"""The whole loop on a copy of the demo world, through the screens each person uses: an
operator escalates from the queue (E) and issues the pack (P, Issue) well inside its
deadline; the police officer of that region records Receive, Assess, Decide and Update in
the Breaches workspace; the supervisor's management figures move by exactly that breach.
"""
from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt

from emdesk.domain.clock import FixedClock, LONDON
from emdesk.domain.monitoring import BreachOutcome, BreachOutcomeCode, BreachPack, BreachPackStatus, Incident, \
    IncidentStatus, RaduStep
from emdesk.domain.orders import Cohort, Order
from emdesk.domain.users import Role, User
from emdesk.services.mi import ManagementService
from emdesk.services.responses import outcome_id
from emdesk.ui.workspaces.management import ManagementWorkspace
from emdesk.ui.workspaces.responses import ResponsesWorkspace

from packui_kit import DEMO_NOW, open_panel, signed_in
from packui_kit import demo_desk, desk, world_store  # noqa: F401  (fixtures; no conftest: its name would clash)

# The figures a breach, its pack and its response move, and by how much (numerator, denominator).
MOVES = {
    "time_to_notify": (None, 1),
    "time_to_pack": (None, 1),
    "breaches_responded": (1, 1),
    "response_time": (None, 1),
    "outcome:arrest": (1, 1),
}


def _bail_breach(store) -> tuple[Incident, User, User]:
    """An open curfew or zone incident of a court-bail wearer whose region has an operator
    and a police account."""
    people = store.find(User, order_by="username")
    police = {u.region: u for u in people if u.role is Role.POLICE}
    operators = {u.region: u for u in people if u.role is Role.MONITORING_OPERATOR}
    bail = {o.id for o in store.find(Order) if o.cohort is Cohort.COURT_BAIL}
    found = [i for i in store.find(Incident, where={"status": IncidentStatus.OPEN.value}, order_by="started_at")
             if not i.technical and i.order_id in bail and i.region in police and i.region in operators]
    assert found, "the demo day raised no open incident of a bail wearer in a region with police"
    return found[0], operators[found[0].region], police[found[0].region]


def _figures(service, start, end) -> dict:
    return {m.key: m for m in service.figures(start, end)}


def test_queue_to_issued_pack_to_radu_to_the_figures_that_move(qtbot, demo_desk, tmp_path):
    store, users = demo_desk
    incident, operator, police = _bail_breach(store)
    clock = FixedClock(DEMO_NOW + timedelta(minutes=100))
    supervisor = users[Role.SUPERVISOR]
    start = (DEMO_NOW.astimezone(LONDON) - timedelta(days=3)).date()
    end = DEMO_NOW.astimezone(LONDON).date()
    before = _figures(ManagementService(store, supervisor, clock), start, end)

    # 1. The operator escalates from the queue with E and a reason, presses P and issues.
    panel = open_panel(qtbot, signed_in(store, operator, clock))
    assert panel.select_incident(incident.id)
    with qtbot.waitSignal(panel.triaged, timeout=10_000):
        qtbot.keyClick(panel.view, Qt.Key.Key_E)
        qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible(), timeout=3000)
        qtbot.keyClicks(panel.dialog.reason, "out after curfew; no answer at the door")
        qtbot.keyClick(panel.dialog.reason, Qt.Key.Key_Return)
    assert store.get(Incident, incident.id).status is IncidentStatus.ESCALATED
    assert panel.select_incident(incident.id)
    # The reason dialog has gone; the desk's window is active again, as on a desktop.
    panel.activateWindow()
    qtbot.waitUntil(lambda: panel.isActiveWindow(), timeout=3000)
    panel.view.setFocus()
    with qtbot.waitSignal(panel.pack_opened, timeout=5_000) as opened:
        qtbot.keyClick(panel.view, Qt.Key.Key_P)
    dialog = opened.args[0]
    with qtbot.waitSignal(dialog.shown, timeout=60_000):
        pass
    assert dialog.last_error == ""
    clock.advance(timedelta(minutes=20))            # reading it through before it goes
    with qtbot.waitSignal(dialog.issued, timeout=20_000):
        qtbot.mouseClick(dialog.issue_button, Qt.MouseButton.LeftButton)
    pack = store.get(BreachPack, dialog.pack.id)
    assert pack.status is BreachPackStatus.SENT and pack.sent_at == clock.now()
    assert pack.pack_due - pack.sent_at > timedelta(hours=12)       # well inside its deadline
    dialog.close()

    # 2. The police officer of that region receives it and records RADU, each step timed.
    ws = ResponsesWorkspace(signed_in(store, police, clock))
    qtbot.addWidget(ws)
    ws.resize(1300, 640)
    ws.show()
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        ws.refresh()
    assert ws.select_pack(pack.pack_id)
    ws.ask = lambda parent, row, by_phone: (BreachOutcomeCode.ARREST, "Officers attend tonight")
    for step in RaduStep:
        clock.advance(timedelta(minutes=30))
        with qtbot.waitSignal(ws.recorded, timeout=10_000):
            qtbot.mouseClick(ws.step_buttons[step], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda s=step: ws.selected() is not None and ws.selected().step_at(s) is not None,
                        timeout=10_000)
    outcome = store.get(BreachOutcome, outcome_id(pack.pack_id))
    assert [(s.step, s.by) for s in outcome.steps] == [(s, police.id) for s in RaduStep]
    assert outcome.code is BreachOutcomeCode.ARREST and outcome.decided_at == outcome.steps[2].at

    # 3. The supervisor's figures move by exactly this breach, on screen too.
    after = _figures(ManagementService(store, supervisor, clock), start, end)
    # An outcome no breach had before is absent from ``before``: its base is the outcomes decided
    # then (the demo's casework decided some), none of them of that kind.
    decided = next((m.denominator for k, m in before.items() if k.startswith("outcome:")), 0)
    for key, (num, den) in MOVES.items():
        b, a = before.get(key), after[key]
        assert a.denominator - (b.denominator if b else decided if key.startswith("outcome:") else 0) == den, key
        if num is not None:
            assert a.numerator - (b.numerator if b else 0) == num, key
    assert after["wearers_breaching"].numerator >= 1
    assert after["response_time"].value is not None and after["response_time"].value > 0
    board = ManagementWorkspace(signed_in(store, supervisor, clock))
    qtbot.addWidget(board)
    board.resize(1350, 688)
    board.show()
    with qtbot.waitSignal(board.loaded, timeout=20_000):
        board.refresh()
    with qtbot.waitSignal(board.loaded, timeout=20_000):
        board.from_edit.setDate(board.from_edit.date().fromString(start.isoformat(), "yyyy-MM-dd"))
    tile = board.tiles.tiles["breaches_responded"]
    responded = after["breaches_responded"]
    assert tile.value.text() != "" and f"{responded.numerator:,.0f} of {responded.denominator:,.0f}" in tile.note.text()
    with qtbot.waitSignal(board.cases_loaded, timeout=20_000):
        board.open_figure("breaches_responded")
    assert incident.id in {board.cases.proxy.row_at(i).id for i in range(board.cases.proxy.rowCount())}
    board.grab().save(str(tmp_path / "management.png"))
