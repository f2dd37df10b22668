"""On a copy of the demo world: an operator issues a pack from the queue, and a supervisor
sees an overdue pack above the queue, chooses it, builds and issues it, and the notice goes.

The demo's incidents come from the fleet simulator's telemetry fed through ingest, as the
live demo feeds it; nothing here is made up for the test but the escalation decisions.
"""
from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt

from emdesk.domain.clock import FixedClock
from emdesk.domain.monitoring import BreachPack, BreachPackStatus, Incident, IncidentStatus
from emdesk.domain.users import Role, User
from emdesk.services.incidents import IncidentService
from emdesk.ui.workspaces.monitoring import MonitoringWorkspace

from packui_kit import DEMO_NOW, open_panel, signed_in
from packui_kit import demo_desk, desk, world_store  # noqa: F401  (fixtures; no conftest: its name would clash)


def _open_incident(store, regions: set[str] | None = None) -> Incident:
    """The demo's first open incident of a wearer (not the kit), in one of ``regions`` if given."""
    found = [i for i in store.find(Incident, where={"status": IncidentStatus.OPEN.value}, order_by="started_at")
             if not i.technical and (regions is None or i.region in regions)]
    assert found, "the demo day raised no open incident to escalate"
    return found[0]


def test_an_operator_escalates_presses_p_and_issues_the_pack(qtbot, demo_desk):
    store, users = demo_desk
    operators = {u.region: u for u in store.find(User, order_by="username") if u.role is Role.MONITORING_OPERATOR}
    incident = _open_incident(store, set(operators))
    operator = operators[incident.region]
    clock = FixedClock(DEMO_NOW + timedelta(minutes=100))
    ctx = signed_in(store, operator, clock)
    panel = open_panel(qtbot, ctx)
    IncidentService(store, operator, clock).escalate(incident.id, "seen out by the police at 23:40")
    panel.poll()
    qtbot.waitUntil(lambda: (it := panel.model.item(incident.id)) is not None and it.status == "escalated",
                    timeout=10_000)
    assert panel.select_incident(incident.id)
    with qtbot.waitSignal(panel.pack_opened, timeout=5_000) as opened:
        qtbot.keyClick(panel.view, Qt.Key.Key_P)
    dialog = opened.args[0]
    with qtbot.waitSignal(dialog.shown, timeout=60_000):
        pass
    assert dialog.last_error == "" and dialog.preview.pages >= 2
    with qtbot.waitSignal(dialog.issued, timeout=20_000):
        qtbot.mouseClick(dialog.issue_button, Qt.MouseButton.LeftButton)
    stored = store.get(BreachPack, dialog.pack.id)
    assert stored.status is BreachPackStatus.SENT and stored.issued_to == dialog.recipient.text()
    assert stored.sent_at == clock.now() and stored.sent_at < stored.pack_due      # well inside the deadline
    assert incident.id in stored.incident_ids


def test_a_supervisor_sees_an_overdue_pack_chooses_it_and_issuing_clears_the_notice(qtbot, demo_desk):
    store, users = demo_desk
    supervisor = users[Role.SUPERVISOR]
    incident = _open_incident(store)
    clock = FixedClock(DEMO_NOW + timedelta(minutes=100))
    IncidentService(store, supervisor, clock).escalate(incident.id, "no answer at the door; out all night")
    ctx = signed_in(store, supervisor, clock)
    due = ctx.packs.due_soon(timedelta(days=5)) + ctx.packs.overdue()
    mine = next(o for o in due if o.incident_id == incident.id)
    clock.at = mine.pack_due + timedelta(minutes=25)
    ws = MonitoringWorkspace(ctx)
    qtbot.addWidget(ws)
    ws.resize(1350, 720)
    ws.show()
    assert ws.overdue is not None
    with qtbot.waitSignal(ws.overdue.refreshed, timeout=60_000) as refreshed:
        ws.refresh()
    assert refreshed.args[0] >= 1 and ws.overdue.isVisible()
    assert "overdue" in ws.overdue.heading.text()
    button = next(b for b in ws.overdue.buttons if b.text().startswith(f"{mine.reference} · overdue 25m"))
    ws.queue.filters.status_box.setCurrentIndex(ws.queue.filters.status_box.findText("All"))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert ws.queue.selected().id == incident.id
    # P from there: built and issued (late), the notice no longer lists it.
    ws.queue.view.setFocus()
    with qtbot.waitSignal(ws.queue.pack_opened, timeout=5_000) as opened:
        ws.queue.pack_desk.open()
    dialog = opened.args[0]
    with qtbot.waitSignal(dialog.shown, timeout=60_000):
        pass
    assert "overdue 25m" in dialog.deadline.text()
    with qtbot.waitSignal(dialog.issued, timeout=20_000):
        qtbot.mouseClick(dialog.issue_button, Qt.MouseButton.LeftButton)
    assert "after the deadline" in dialog.deadline.text()
    dialog.close()
    with qtbot.waitSignal(ws.overdue.refreshed, timeout=20_000):
        ws.overdue.refresh()
    assert incident.id not in {o.incident_id for o in ws.overdue.overdue}
    ws.end_session()
