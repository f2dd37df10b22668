"""Keyboard triage on one workstation reaches the hub and the next workstation.

An operator acknowledges an incident with the A key in the queue; the desk's next sync
round carries it to the hub (SQLite and PostgreSQL), where a colleague's desk pulls it,
and the acting desk's audit log names who did it.
"""
from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from synckit import NOW

from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.monitoring import Incident, IncidentStatus
from emdesk.domain.orders import Order
from emdesk.domain.users import Role
from emdesk.services.context import AppContext
from emdesk.ui.queue.panel import QueuePanel
from emdesk.ui.tasks import end_session


def _operators(kit):
    """Two monitoring operators' accounts: one region, so both hold its incidents."""
    ops = [u for u, _ in kit.world.users if u.role is Role.MONITORING_OPERATOR]
    by_region: dict[str, list] = {}
    for u in ops:
        by_region.setdefault(u.region, []).append(u)
    both = next((us for us in by_region.values() if len(us) > 1), None)
    return both[:2] if both else [ops[0], ops[0]]


def test_an_incident_acknowledged_by_key_syncs_to_the_hub_and_the_next_desk(kit, qtbot):
    first, second = _operators(kit)
    desk_a = kit.desk(first.username)
    order = next(o for o in desk_a.store.find(Order) if o.region == first.region and o.subject_id)
    start = NOW - timedelta(hours=2)
    incident = desk_a.store.put(Incident(
        order_id=order.id, subject_id=order.subject_id, reference=order.reference, region=order.region,
        condition="curfew", codes=("AL10",), period_start=NOW.replace(hour=7) - timedelta(days=1),
        started_at=start, ended_at=start + timedelta(minutes=40), seconds=2400.0, priority=72,
        reasons=("left home during curfew (AL10)",)), actor="engine")
    desk_a.client.sync_once()
    desk_b = kit.desk(second.username)
    assert desk_b.store.get(Incident, incident.id) is not None, "the incident did not reach the second desk"

    ctx = AppContext.for_user(desk_b.store, second, desk_b.store.clock, GazetteerGeocoder())
    panel = QueuePanel(ctx)
    qtbot.addWidget(panel)
    try:
        panel.show()
        qtbot.waitUntil(lambda: panel.select_incident(incident.id), timeout=10_000)
        panel.view.setFocus()
        with qtbot.waitSignal(panel.triaged, timeout=10_000):
            qtbot.keyClick(panel.view, Qt.Key.Key_A)
        qtbot.waitUntil(lambda: panel.selected() is not None and panel.selected().status == "acknowledged",
                        timeout=10_000)
    finally:
        end_session(ctx, close=False)

    audit = [e for e in desk_b.store.audit_entries() if e.entity_id == incident.id]
    assert audit and audit[-1].actor == second.id and audit[-1].action == "acknowledge"
    desk_b.client.sync_once()
    desk_a.client.sync_once()       # only through the hub can the first desk learn of it
    back = desk_a.store.get(Incident, incident.id)
    assert back.status is IncidentStatus.ACKNOWLEDGED
    assert back.history[-1].by == second.id
