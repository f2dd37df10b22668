"""An officer holding an open visit on a colleague's case (cover, a second officer for
double crewing) gets what the door needs of that case -- the visit, the order, the person,
the kit on the order and the visit's checklist -- for as long as the visit is open, and
nothing of it otherwise; a field officer cannot book herself (or anyone) into a case.
Real hub, real desktops, on both hub storages."""
from __future__ import annotations

from checklist_kit import finish_checklist
from synckit import OFFICER, OTHER_OFFICER, SUPERVISOR, assert_converged, hub_row
from test_hub_field_actions import op_for, push

from emdesk.domain.checklists import ChecklistTick
from emdesk.domain.devices import Device
from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.services.installs import InstallService
from emdesk.services.officer_day import OfficerDayService
from emdesk.services.visit_outcomes import VisitOutcomeService

SECOND = "officer.sheffield"         # another region's officer, for a second crew member


def own_check(desk, other, boss):
    """A scheduled check visit booked to ``desk``'s officer on her own case with kit on it; the
    visits ``other`` covers on that case are given back to ``desk`` first (the supervisor),
    so ``other`` starts with nothing of the case."""
    me, them = desk.user.id, other.user.id
    for visit in desk.store.find(Visit, order_by="id"):
        order = desk.store.get(Order, visit.order_id)
        if (visit.kind is VisitKind.CHECK and visit.status is VisitStatus.SCHEDULED and visit.officer_id == me
                and order.assigned_officer_id == me and desk.store.find(Device, where={"order_id": order.id})):
            break
    else:
        raise AssertionError("the demo world has no check visit for this officer")
    boss.sync()
    for v in boss.store.find(Visit, where={"order_id": order.id}, order_by="id"):
        if v.status in (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS) and them in (v.officer_id, *v.crew):
            assign(boss, v, me)
    other.sync()
    return visit, order


def case_on(desk, order) -> dict[str, int]:
    """How many rows of the case the desktop holds, per table."""
    s = desk.store
    return {"orders": len(s.find(Order, where={"id": order.id})),
            "subjects": len(s.find(Subject, where={"id": order.subject_id})),
            "devices": len(s.find(Device, where={"order_id": order.id})),
            "visits": len(s.find(Visit, where={"order_id": order.id})),
            "notes": len(s.find(Note, where={"subject_id": order.subject_id})),
            "ticks": len(s.find(ChecklistTick, where={"order_id": order.id}))}


def assign(boss, visit, officer_id, crew=()):
    """The supervisor books the visit (as the day plan does), and the hub has it."""
    boss.sync()
    held = boss.store.get(Visit, visit.id)
    boss.store.put(held.evolve(officer_id=officer_id, crew=tuple(crew)))
    assert not boss.sync().refused


def test_a_cover_visit_brings_its_case_and_completing_it_takes_it_away(kit):
    owner, cover, boss = kit.desk(OFFICER), kit.desk(OTHER_OFFICER), kit.desk(SUPERVISOR)
    visit, order = own_check(owner, cover, boss)
    assert case_on(cover, order) == dict.fromkeys(("orders", "subjects", "devices", "visits", "notes", "ticks"), 0)
    assign(boss, visit, cover.user.id)
    cover.sync()
    held = case_on(cover, order)
    assert held["orders"] == held["subjects"] == held["visits"] == 1
    assert held["devices"] == len(owner.store.find(Device, where={"order_id": order.id})) > 0
    assert held["notes"] == 0                            # the case's history stays with the case
    assert_converged(kit, cover, owner)
    # At the door, offline: the whole checklist ticked and the visit completed, one push.
    kit.http.fail = lambda path, phase: True
    try:
        finish_checklist(cover.store, cover.user, cover.store.clock, visit.id)
        VisitOutcomeService(cover.store, cover.user, cover.store.clock).record_outcome(
            visit.id, OutcomeCode.CHECKED_OK, "strap fine")
    finally:
        kit.http.fail = None
    ticks = cover.store.find(ChecklistTick, where={"visit_id": visit.id})
    assert ticks
    report = cover.sync()
    assert not report.refused, report.refused
    assert hub_row(kit, "visits", visit.id)["status"] == "completed"
    assert all(hub_row(kit, "checklist_ticks", t.id) is not None for t in ticks)
    # Done: the covering officer holds nothing of the case any more; its officer has it all.
    assert case_on(cover, order) == dict.fromkeys(("orders", "subjects", "devices", "visits", "notes", "ticks"), 0)
    owner.sync()
    assert owner.store.get(Visit, visit.id).status is VisitStatus.COMPLETED
    assert len(owner.store.find(ChecklistTick, where={"visit_id": visit.id})) == len(ticks)
    assert_converged(kit, cover, owner)


def test_a_cover_visit_reassigned_takes_the_case_away(kit):
    owner, cover, boss = kit.desk(OFFICER), kit.desk(OTHER_OFFICER), kit.desk(SUPERVISOR)
    visit, order = own_check(owner, cover, boss)
    assign(boss, visit, cover.user.id)
    cover.sync()
    assert case_on(cover, order)["subjects"] == 1
    assign(boss, visit, owner.user.id)
    cover.sync()
    assert case_on(cover, order) == dict.fromkeys(("orders", "subjects", "devices", "visits", "notes", "ticks"), 0)
    owner.sync()
    assert case_on(owner, order)["subjects"] == 1 and owner.store.get(Visit, visit.id).officer_id == owner.user.id
    assert_converged(kit, cover, owner)


def test_a_double_crewed_visit_reaches_both_officers_with_its_case(kit):
    owner, lead, second, boss = kit.desk(OFFICER), kit.desk(OTHER_OFFICER), kit.desk(SECOND), kit.desk(SUPERVISOR)
    visit, order = own_check(owner, lead, boss)
    assign(boss, visit, lead.user.id, crew=(lead.user.id, second.user.id))
    for desk in (lead, second):
        desk.sync()
        held = case_on(desk, order)
        assert (held["orders"], held["subjects"], held["visits"]) == (1, 1, 1), desk.user.username
        assert held["devices"] > 0 and held["notes"] == 0
        # The stop is whole on her laptop: a name, an address, the kit.
        card = next(c for c in OfficerDayService(desk.store, desk.user, desk.store.clock).day(
            visit.window_start.date()).stops if c.visit_id == visit.id)
        assert card.subject_name != "(missing subject)" and card.address
    # The second officer ticks the checklist: it reaches the lead and the case's officer.
    finish_checklist(second.store, second.user, second.store.clock, visit.id)
    assert not second.sync().refused
    ticks = {t.id for t in second.store.find(ChecklistTick, where={"visit_id": visit.id})}
    lead.sync()
    owner.sync()
    assert {t.id for t in lead.store.find(ChecklistTick, where={"visit_id": visit.id})} == ticks
    assert {t.id for t in owner.store.find(ChecklistTick, where={"visit_id": visit.id})} == ticks
    # The second officer taken off the crew: she loses the case, the lead keeps it.
    assign(boss, visit, lead.user.id, crew=(lead.user.id,))
    second.sync()
    lead.sync()
    assert case_on(second, order) == dict.fromkeys(("orders", "subjects", "devices", "visits", "notes", "ticks"), 0)
    assert case_on(lead, order)["subjects"] == 1 and case_on(lead, order)["ticks"] == len(ticks)
    assert_converged(kit, owner, lead, second)


def test_an_officer_cannot_book_herself_into_a_colleagues_case(kit):
    owner, cover, boss = kit.desk(OFFICER), kit.desk(OTHER_OFFICER), kit.desk(SUPERVISOR)
    visit, order = own_check(owner, cover, boss)
    before = kit.hub.visible_counts(cover.principal)
    # 1. A visit of her own making on the case, booked to herself: refused, nothing of it reaches her.
    forged = visit.evolve(id="forged-visit-1", officer_id=cover.user.id, crew=())
    results = push(cover, [op_for(cover, forged)])
    assert results[0].status == "refused", results
    # 2. The case's visit taken over (she does not hold it): refused.
    results = push(cover, [op_for(cover, visit.evolve(officer_id=cover.user.id), changed=["officer_id"])])
    assert results[0].status == "refused", results
    # 3. The case's officer crews a colleague onto her case herself: refused (planners crew visits).
    results = push(owner, [op_for(owner, visit.evolve(crew=(owner.user.id, cover.user.id)), changed=["crew"])])
    assert results[0].status == "refused" and "crew" in results[0].reason, results
    assert hub_row(kit, "visits", "forged-visit-1") is None
    cover.sync()
    assert case_on(cover, order)["subjects"] == 0
    assert kit.hub.visible_counts(cover.principal) == before
    # 4. Holding a cover visit, she books herself a second visit on the case, or crews in a
    #    colleague: both refused (the case would outlive the visit she was given).
    assign(boss, visit, cover.user.id)
    cover.sync()
    extra = visit.evolve(id="forged-visit-2", officer_id=cover.user.id, crew=())
    results = push(cover, [op_for(cover, extra)])
    assert results[0].status == "refused" and "another officer's case" in results[0].reason, results
    results = push(cover, [op_for(cover, visit.evolve(officer_id=cover.user.id, crew=(cover.user.id, owner.user.id)),
                                  changed=["crew"])])
    assert results[0].status == "refused" and "crew" in results[0].reason, results
    assert hub_row(kit, "visits", "forged-visit-2") is None
    # 5. Her visit done, she cannot reopen it to get the case back.
    VisitOutcomeService(cover.store, cover.user, cover.store.clock).record_outcome(visit.id, OutcomeCode.CHECKED_OK)
    assert not cover.sync().refused
    assert case_on(cover, order)["subjects"] == 0
    done = hub_row(kit, "visits", visit.id)
    reopened = visit.evolve(status=VisitStatus.SCHEDULED, officer_id=cover.user.id)
    results = push(cover, [op_for(cover, reopened, changed=["status"])])
    assert results[0].status == "refused", results
    assert hub_row(kit, "visits", visit.id)["status"] == done["status"] == "completed"
    cover.sync()
    assert case_on(cover, order)["subjects"] == 0
    assert_converged(kit, cover, owner)


def test_a_failed_cover_visit_books_its_next_attempt_and_keeps_the_case_for_it(kit):
    owner, cover, boss = kit.desk(OFFICER), kit.desk(OTHER_OFFICER), kit.desk(SUPERVISOR)
    visit, order = own_check(owner, cover, boss)
    assign(boss, visit, cover.user.id)
    cover.sync()
    result = VisitOutcomeService(cover.store, cover.user, cover.store.clock).record_outcome(
        visit.id, OutcomeCode.NOT_AT_ADDRESS, "no answer")
    follow = result.next_visit
    assert follow is not None and follow.officer_id == cover.user.id
    report = cover.sync()
    assert not report.refused, report.refused          # the failure and its rebooking, whole
    assert hub_row(kit, "visits", follow.id)["officer_id"] == cover.user.id
    held = case_on(cover, order)
    assert (held["orders"], held["subjects"]) == (1, 1) and held["devices"] > 0   # for the next attempt
    assert cover.store.get(Visit, visit.id) is None    # the failed visit is the case's, not hers
    # The centre gives the next attempt back to the case's officer: the cover ends.
    assign(boss, follow, owner.user.id)
    cover.sync()
    owner.sync()
    assert case_on(cover, order) == dict.fromkeys(("orders", "subjects", "devices", "visits", "notes", "ticks"), 0)
    assert owner.store.get(Visit, follow.id).officer_id == owner.user.id
    assert_converged(kit, cover, owner)


def test_a_hub_made_before_visitors_were_kept_gives_cover_its_cases_when_it_starts(kit):
    cover = kit.desk(OTHER_OFFICER)
    covered = kit.hub.visible_counts(cover.principal)
    mine = f"officer:{cover.user.id}"
    # As an older hub left it: no visitors kept, the covering officer in no case's door rows.
    with kit.hub.storage.write() as tx:
        orders = [oid for (oid,) in tx.all("SELECT id FROM hub_rows WHERE tbl = 'orders' AND case_visitors LIKE ?",
                                           [f'%"{cover.user.id}"%'])]
        assert orders                               # the demo world has her covering a colleague's case
        tx.execute("UPDATE hub_rows SET case_visitors = NULL")
        for oid in orders:
            tx.execute("DELETE FROM row_audience WHERE principal = ? AND (row_id = ? OR row_id IN (SELECT id FROM "
                       "hub_rows WHERE order_id = ? AND tbl <> 'visits') OR row_id IN (SELECT subject_id FROM "
                       "hub_rows WHERE tbl = 'orders' AND id = ?))", [mine, oid, oid, oid])
    assert kit.hub.visible_counts(cover.principal) != covered
    assert kit.hub.rescope_visitors() >= len(orders)
    assert kit.hub.visible_counts(cover.principal) == covered
    assert kit.hub.rescope_visitors() == 0          # once is enough
    cover.sync()
    assert_converged(kit, cover)


def test_a_covering_officer_installs_the_kit_offline_and_hands_the_case_back(kit):
    owner, cover, boss = kit.desk(OFFICER), kit.desk(OTHER_OFFICER), kit.desk(SUPERVISOR)
    visit = next(v for v in owner.store.find(Visit, order_by="id") if v.kind is VisitKind.INSTALL
                 and v.status is VisitStatus.SCHEDULED and v.officer_id == owner.user.id)
    order = owner.store.get(Order, visit.order_id)
    assign(boss, visit, cover.user.id)
    cover.sync()
    devices = cover.store.find(Device, where={"order_id": order.id}, order_by="serial")
    tag = next(d for d in devices if d.kind.worn)
    hmu = next((d for d in devices if not d.kind.worn), None)
    kit.http.fail = lambda path, phase: True
    try:
        finish_checklist(cover.store, cover.user, cover.store.clock, visit.id)
        InstallService(cover.store, cover.user, cover.store.clock).record_installation(
            order.id, visit.id, tag.serial, hmu.serial if hmu else None, "PAIR-C", readings={"gps_ttff_s": 30})
    finally:
        kit.http.fail = None
    report = cover.sync()
    assert not report.refused, report.refused
    assert hub_row(kit, "orders", order.id)["status"] == "active"
    assert hub_row(kit, "visits", visit.id)["outcome"] == "installed"
    assert case_on(cover, order) == dict.fromkeys(("orders", "subjects", "devices", "visits", "notes", "ticks"), 0)
    owner.sync()
    assert owner.store.get(Order, order.id).status.value == "active"
    assert_converged(kit, cover, owner)
