"""Checklist ticks travel like every field record: made offline, kept in the outbox, taken by
the hub (append-only), and handed to the case's audience only -- on both hub storages."""
from __future__ import annotations

import pytest
from synckit import MONITOR, OFFICER, OTHER_OFFICER, SUPERVISOR, hub_row, own_open_visit

from emdesk.domain.checklists import ChecklistTick
from emdesk.services.checklists import ChecklistService
from emdesk.sync.errors import HubUnreachable


def ticks_on(desk, visit_id):
    return desk.store.find(ChecklistTick, where={"visit_id": visit_id})


def test_ticks_made_offline_reach_the_hub_and_the_cases_audience(kit):
    officer = kit.desk(OFFICER)
    visit = own_open_visit(officer, officer.user.id)
    service = ChecklistService(officer.store, officer.user, officer.store.clock)
    kit.http.fail = lambda path, phase: True
    service.tick(visit.id, "identity_confirmed")
    service.tick(visit.id, "identity_confirmed", done=False)
    service.tick(visit.id, "identity_confirmed")
    with pytest.raises(HubUnreachable):
        officer.sync()
    made = ticks_on(officer, visit.id)
    assert len(made) == 3 and officer.store.outbox_count() >= 3          # waiting, nothing lost
    kit.http.fail = None
    report = officer.sync()
    assert not report.refused, report.refused
    assert officer.store.outbox_count() == 0
    for t in made:
        held = hub_row(kit, "checklist_ticks", t.id)
        assert held is not None and held["by"] == officer.user.id and held["done"] == t.done
    # Her case's audience gets them (a supervisor, the region's monitoring centre); another
    # officer, and the technicians, do not.
    boss, monitor, other, tech = (kit.desk(u) for u in (SUPERVISOR, MONITOR, OTHER_OFFICER, "tech.london"))
    assert len(ticks_on(boss, visit.id)) == len(ticks_on(monitor, visit.id)) == 3
    assert ticks_on(other, visit.id) == [] and ticks_on(tech, visit.id) == []
    seen = ChecklistService(boss.store, boss.user, boss.store.clock).open(visit.id)
    assert seen.step("identity_confirmed").done and not seen.editable
    # Her second laptop resumes where the first one stopped.
    again = kit.desk(OFFICER)
    state = ChecklistService(again.store, again.user, again.store.clock).open(visit.id)
    assert state.step("identity_confirmed").done and state.resume != "identity_confirmed"


def test_a_tick_in_someone_elses_name_is_refused(kit):
    officer, other = kit.desk(OFFICER), kit.desk(OTHER_OFFICER)
    visit = own_open_visit(officer, officer.user.id)
    state = ChecklistService(officer.store, officer.user, officer.store.clock).tick(visit.id, "identity_confirmed")
    mine = ticks_on(officer, visit.id)[0]
    # A doctored desktop writes a tick that says the other officer made it.
    officer.store.put(ChecklistTick(visit_id=visit.id, order_id=visit.order_id, subject_id=visit.subject_id,
                                    template=mine.template, step=state.resume, at=mine.at, by=other.user.id))
    report = officer.sync()
    assert len(report.refused) == 1 and report.refused[0].table == "checklist_ticks"
    assert "another officer" in report.refused[0].reason or "another user" in report.refused[0].reason
    assert hub_row(kit, "checklist_ticks", mine.id) is not None           # the honest one went through
