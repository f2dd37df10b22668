"""Breach packs reach their agency through the hub, and the agency's response comes back.

On both hub back ends (SQLite and a real PostgreSQL with row-level security): an agency's
desk holds only the packs issued to its agency in its region and their outcomes, nothing
of people, orders, incidents or telemetry; it writes only the outcome of a pack issued to
it; the hub records who took each RADU step from the sign-in.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from response_kit import make_pack
from synckit import MONITOR, NOW, Desk, assert_converged, hub_row

from emdesk.domain.monitoring import (
    BreachOutcome,
    BreachOutcomeCode as C,
    BreachPack,
    BreachPackStatus,
    Incident,
    RaduStep,
    ResponseStep,
)
from emdesk.domain.orders import Order
from emdesk.domain.clock import FixedClock
from emdesk.domain.users import Role, User
from emdesk.services.responses import ResponseService, outcome_id
from emdesk.store import Store
from emdesk.sync.authorship import outcome_refusal
from emdesk.sync.client import SyncClient
from emdesk.sync.scope import CaseLink, audience, principal_of, shared_with

NW = "North West"
POLICE, OTHER_POLICE, PROBATION, HOME_OFFICE = "police.northwest", "police.yorkshire", "probation.northwest", "homeoffice"


@pytest.fixture
def issued(kit):
    """A North West breach, escalated and its pack issued to the police by the region's operator."""
    centre = kit.desk(MONITOR)
    order = next(o for o in centre.store.find(Order, order_by="id") if o.region == NW and o.subject_id)
    start = NOW - timedelta(hours=20)
    incident = centre.store.put(Incident(
        order_id=order.id, subject_id=order.subject_id, reference=order.reference, region=NW, condition="curfew",
        period_start=start, started_at=start, ended_at=start + timedelta(hours=2), seconds=7200.0,
        priority=80), actor="engine")
    draft = make_pack(pack_id="BP-SYNC0001", responder="police", region=NW, sent_at=None, breach_at=start,
                      order_id=order.id, incident_id=incident.id, subject_id=order.subject_id,
                      reference=order.reference)
    centre.store.put(draft, actor=centre.user.id)
    centre.sync()
    return centre, draft


def account_desk(kit, username: str, role: Role, region: str) -> Desk:
    """The desk of an account the small world lacks, loaded onto the hub as an administrator would."""
    user, password = User(username=username, display_name=username, role=role, region=region, created_at=NOW,
                          updated_at=NOW), f"{username}-password-1"
    kit.hub.load([(user, password)], [])
    store, _ = Store.create(kit.tmp / f"{username}.db", plain=True, clock=FixedClock(NOW))
    desk = Desk(store, SyncClient(store, "http://hub.test", http=kit.http), user, password)
    kit.desks.append(desk)
    desk.client.register(user.username, password, f"{username}'s laptop")
    desk.sync()
    return desk


def issue(centre, pack: BreachPack) -> BreachPack:
    sent = centre.store.put(pack.evolve(status=BreachPackStatus.SENT, sent_at=NOW - timedelta(hours=1),
                                        issued_to="Duty inspector", issued_by=centre.user.id), actor=centre.user.id)
    report = centre.sync()
    assert report.refused == []
    return sent


def test_agency_principals_by_agency_and_region(kit):
    principals = {u.username: principal_of(u.role, u.id, u.region) for u, _ in kit.world.users}
    assert principals[POLICE] == "agency:police:North West"
    assert principals[PROBATION] == "agency:probation:North West"
    assert principals[HOME_OFFICE] == "agency:home_office"


def test_an_agency_holds_only_the_packs_issued_to_it_and_their_outcomes(kit, issued):
    centre, draft = issued
    police = kit.desk(POLICE)
    # A draft is the centre's alone: an agency desk holds no people, orders, incidents or packs.
    assert set(police.counts()) <= {"users"}
    assert police.sync().events == 0                   # and no telemetry
    sent = issue(centre, draft)
    police.sync()
    assert set(police.counts()) == {"users", "breach_packs"}
    assert police.store.get(BreachPack, sent.id).sent_at == sent.sent_at
    for other in (OTHER_POLICE, PROBATION, HOME_OFFICE):
        desk = kit.desk(other)
        assert "breach_packs" not in desk.counts(), other
    assert_converged(kit, centre, police)


@pytest.mark.parametrize("who", [POLICE, PROBATION, HOME_OFFICE])
def test_an_agency_desk_holds_only_its_own_accounts_and_staff_every_account(kit, issued, who):
    centre, draft = issued
    issue(centre, draft)
    desk = kit.desk(who)
    principal = principal_of(desk.user.role, desk.user.id, desk.user.region)
    mine = {u.id for u, _ in kit.world.users if principal_of(u.role, u.id, u.region) == principal}
    assert desk.user.id in mine and {u.id for u in desk.store.find(User)} == mine
    # The monitoring centre still holds every account, the agencies' too.
    assert {u.id for u in centre.store.find(User)} == {u.id for u, _ in kit.world.users}


def test_radu_recorded_at_the_agency_reaches_the_centre_with_the_officer_as_author(kit, issued):
    centre, draft = issued
    sent = issue(centre, draft)
    police = kit.desk(POLICE)
    svc = ResponseService(police.store, police.user, police.store.clock)
    assert [r.pack_id for r in svc.inbox()] == [sent.pack_id]
    svc.record_step(sent.pack_id, RaduStep.RECEIVE)
    svc.record_step(sent.pack_id, RaduStep.ASSESS, "Known address; officers nearby")
    svc.record_outcome(sent.pack_id, C.ARREST, "Arrest planned for this evening")
    report = police.sync()
    assert report.refused == [], report.refused
    held = hub_row(kit, "outcomes", outcome_id(sent.pack_id))
    assert [s["step"] for s in held["steps"]] == ["receive", "assess", "decide"]
    assert {s["by"] for s in held["steps"]} == {police.user.id} and held["decided_by"] == police.user.id
    centre.sync()
    back = centre.store.get(BreachOutcome, outcome_id(sent.pack_id))
    assert back.code is C.ARREST and back.steps[-1].step is RaduStep.DECIDE
    # The centre's view: the 5-day prompt is answered.
    assert ResponseService(centre.store, centre.user, centre.store.clock).prompts() == []
    assert_converged(kit, centre, police)


def _outcome_for(pack: BreachPack, **fields) -> BreachOutcome:
    return BreachOutcome(id=outcome_id(pack.pack_id), incident_id=pack.incident_id, order_id=pack.order_id,
                         pack_id=pack.pack_id, subject_id=pack.subject_id, region=pack.region,
                         responder=pack.responder, **fields)


def test_an_outcome_for_a_pack_not_yet_issued_is_refused_then_accepted_once_issued(kit, issued):
    centre, draft = issued
    police = kit.desk(POLICE)
    step = ResponseStep(step=RaduStep.RECEIVE, at=NOW, by=police.user.id)
    police.store.put(_outcome_for(draft, steps=(step,)), actor=police.user.id)
    report = police.sync()
    assert [r.reason for r in report.refused] == [
        "outcomes: breach pack BP-SYNC0001 has not been issued to you, so the outcome was not accepted"]
    assert hub_row(kit, "outcomes", outcome_id(draft.pack_id)) is None
    issue(centre, draft)
    police.sync()
    police.store.put(_outcome_for(draft, steps=(step,)), actor=police.user.id)
    assert police.sync().refused == []
    assert hub_row(kit, "outcomes", outcome_id(draft.pack_id))["steps"][0]["by"] == police.user.id


@pytest.mark.parametrize(("who", "change", "reason"), [
    (OTHER_POLICE, {}, "outcomes: breach pack BP-SYNC0001 has not been issued to you"),
    (PROBATION, {}, "outcomes: breach pack BP-SYNC0001 has not been issued to you"),
    (HOME_OFFICE, {}, "outcomes: breach pack BP-SYNC0001 has not been issued to you"),
    # (the hub finds a pack through its order: pointed at another order, there is none issued to you)
    (POLICE, {"order_id": "someone-else"}, "outcomes: breach pack BP-SYNC0001 has not been issued to you"),
    (POLICE, {"incident_id": "another-incident"}, "outcomes.incident_id: the outcome says 'another-incident'"),
    (POLICE, {"region": "London"}, "outcomes.region: the outcome says 'London' where its pack says 'North West'"),
    (POLICE, {"subject_id": "another-person"}, "outcomes.subject_id: the outcome says 'another-person'"),
    (POLICE, {"steps": "forged"}, "outcomes.steps: a new entry says another user (u-someone) made the move"),
    (POLICE, {"decided_by": "u-someone", "code": C.ARREST}, "outcomes.decided_by: the change says another user"),
])
def test_the_hub_refuses_an_agency_outcome_that_is_not_its_own(kit, issued, who, change, reason):
    centre, draft = issued
    issue(centre, draft)
    desk = kit.desk(who)
    if change.get("steps") == "forged":
        change = {"steps": (ResponseStep(step=RaduStep.RECEIVE, at=NOW, by="u-someone"),)}
    desk.store.put(_outcome_for(draft).evolve(**change), actor=desk.user.id)
    report = desk.sync()
    assert len(report.refused) == 1 and report.refused[0].reason.startswith(reason), report.refused
    assert hub_row(kit, "outcomes", outcome_id(draft.pack_id)) is None


@pytest.mark.parametrize(("role", "region", "holds"), [
    (Role.POLICE, "", False),            # no region: nothing, never every region
    (Role.PROBATION, "", False),
    (Role.POLICE, NW, True),
])
def test_a_police_or_probation_account_with_no_region_holds_no_pack(kit, issued, role, region, holds):
    centre, draft = issued
    issue(centre, draft.evolve(responder=role.value))
    desk = account_desk(kit, f"{role.value}.nowhere", role, region)
    assert ("breach_packs" in desk.counts()) is holds
    assert [r.pack_id for r in ResponseService(desk.store, desk.user, desk.store.clock).inbox()] == \
        ([draft.pack_id] if holds else [])


@pytest.mark.parametrize(("role", "region", "refusal"), [
    (Role.POLICE, "", "users.region: a police account works one region's breach packs: give its region"),
    (Role.PROBATION, " ", "users.region: a probation account works one region's breach packs"),
    (Role.POLICE, NW, None),
    (Role.HOME_OFFICE, "", None),        # the Home Office is national
])
def test_the_hub_makes_police_and_probation_accounts_only_with_a_region(kit, role, region, refusal):
    admin = kit.desk(next(u.username for u, _ in kit.world.users if u.role is Role.ADMIN))
    account = admin.store.put(User(username="new.account", display_name="New", role=role, region=region),
                              actor=admin.user.id)
    reasons = [r.reason for r in admin.sync().refused]
    assert len(reasons) == (refusal is not None) and all(r.startswith(refusal) for r in reasons), reasons
    assert (hub_row(kit, "users", account.id) is None) is (refusal is not None)


def test_an_agency_cannot_change_a_pack_or_write_anything_else(kit, issued):
    centre, draft = issued
    sent = issue(centre, draft)
    police = kit.desk(POLICE)
    police.store.put(police.store.get(BreachPack, sent.id).evolve(issued_to="nobody"), actor=police.user.id)
    report = police.sync()
    assert [r.reason for r in report.refused] == ["breach_packs: breach packs are built by the monitoring centre"]
    assert hub_row(kit, "breach_packs", sent.id)["issued_to"] == "Duty inspector"
    assert police.store.get(BreachPack, sent.id).issued_to == "Duty inspector"     # the hub's version came back


def test_an_amended_pack_keeps_its_issued_version_at_the_agency_and_adds_the_new_one_once_issued(kit, issued):
    centre, draft = issued
    v1 = issue(centre, draft)
    police = kit.desk(POLICE)
    ResponseService(police.store, police.user, police.store.clock).record_step(v1.pack_id, RaduStep.RECEIVE)
    police.sync()
    v2 = make_pack(pack_id=v1.pack_id, version=2, responder="police", region=NW, sent_at=None,
                   breach_at=v1.breach_at, order_id=v1.order_id, incident_id=v1.incident_id,
                   subject_id=v1.subject_id, reference=v1.reference, amends=v1.id, amend_reason="late fixes")
    centre.store.put_many([centre.store.get(BreachPack, v1.id).evolve(status=BreachPackStatus.SUPERSEDED), v2],
                          actor=centre.user.id)
    centre.sync()
    police.sync()
    assert {p.id: p.status for p in police.store.find(BreachPack)} == {v1.id: BreachPackStatus.SUPERSEDED}
    assert police.store.get(BreachOutcome, outcome_id(v1.pack_id)) is not None     # the outcome stays
    issue(centre, v2)
    police.sync()
    assert {p.id for p in police.store.find(BreachPack)} == {v1.id, v2.id}
    row = ResponseService(police.store, police.user, police.store.clock).row(v1.pack_id)
    assert (row.version, row.first_sent_at, row.next_step) == (2, NOW - timedelta(hours=1), RaduStep.ASSESS)
    assert_converged(kit, centre, police)


def test_an_outcome_the_centre_made_before_issue_reaches_the_agency_when_the_pack_is_issued(kit, issued):
    centre, draft = issued
    centre.store.put(_outcome_for(draft, notes="prepared"), actor=centre.user.id)
    assert centre.sync().refused == []
    police = kit.desk(POLICE)
    assert police.store.get(BreachOutcome, outcome_id(draft.pack_id)) is None
    issue(centre, draft)
    police.sync()
    assert police.store.get(BreachOutcome, outcome_id(draft.pack_id)).notes == "prepared"
    assert_converged(kit, centre, police)


# -- the pure rules behind it ---------------------------------------------------------------

CASE = [CaseLink(region=NW, officer_id="o1")]
CENTRE = {"all", "region:North West"}
SENT = "2026-11-26T08:00:00Z"
PACK_TO_POLICE = {"pack_id": "BP-1", "responder": "police", "region": NW, "status": "sent", "sent_at": SENT}
NW_POLICE = {"agency:police:North West"}


@pytest.mark.parametrize(("role", "region", "principal"), [
    (Role.POLICE, NW, "agency:police:North West"),
    (Role.POLICE, "", "agency:police:(no region)"),    # no region: no pack is issued to it
    (Role.PROBATION, "", "agency:probation:(no region)"),
    (Role.PROBATION, "Wales", "agency:probation:Wales"),
    (Role.HOME_OFFICE, "London", "agency:home_office"),          # the Home Office: always national
    (Role.HOME_OFFICE, "", "agency:home_office"),
])
def test_an_agency_signs_in_as_its_agency_desk(role, region, principal):
    assert principal_of(role, "u1", region) == principal


@pytest.mark.parametrize(("table", "record", "packs", "expected"), [
    ("breach_packs", {**PACK_TO_POLICE, "status": "draft", "sent_at": None}, (), CENTRE),
    ("breach_packs", PACK_TO_POLICE, (), CENTRE | NW_POLICE),
    ("breach_packs", {**PACK_TO_POLICE, "status": "acknowledged"}, (), CENTRE | NW_POLICE),
    ("breach_packs", {**PACK_TO_POLICE, "status": "superseded"}, (), CENTRE | NW_POLICE),      # superseded after issue
    ("breach_packs", {**PACK_TO_POLICE, "status": "superseded", "sent_at": None}, (), CENTRE),  # amended before issue
    ("breach_packs", {**PACK_TO_POLICE, "responder": "home_office"}, (),
     CENTRE | {"agency:home_office"}),
    ("outcomes", {"pack_id": "BP-1"}, (), CENTRE),
    ("outcomes", {"pack_id": "BP-1"}, ({**PACK_TO_POLICE, "status": "draft", "sent_at": None},), CENTRE),
    ("outcomes", {"pack_id": "BP-1"}, (PACK_TO_POLICE,), CENTRE | NW_POLICE),
    ("outcomes", {"pack_id": "BP-2"}, (PACK_TO_POLICE,), CENTRE),     # another pack's issue is not this one's
    ("incidents", {}, (PACK_TO_POLICE,), CENTRE),                       # agencies get no incidents
    ("orders", {}, (), {"all", "region:North West", "officer:o1"}),
    ("users", {"id": "u1", "role": "monitoring_operator", "region": NW}, (), {"*"}),
    ("users", {"id": "u2", "role": "police", "region": NW}, (), {"*", "agency:police:North West"}),
    ("users", {"id": "u3", "role": "home_office", "region": ""}, (), {"*", "agency:home_office"}),
])
def test_what_reaches_an_agency(table, record, packs, expected):
    assert audience(table, record, CASE, packs=packs) == expected


@pytest.mark.parametrize(("principal", "shared"), [
    ("region:North West", "*"), ("officer:o1", "*"), ("all", "*"), ("tech", "*"),
    ("agency:police:North West", "agency:police:North West"),      # an agency holds no '*' rows
    ("agency:home_office", "agency:home_office"),
])
def test_rows_for_everyone_reach_staff_not_agencies(principal, shared):
    assert shared_with(principal) == shared


OUTCOME = {"pack_id": "BP-1", "incident_id": "i1", "order_id": "o1", "subject_id": "s1", "region": NW,
           "responder": "police"}
PACK = {**PACK_TO_POLICE, "incident_id": "i1", "order_id": "o1", "subject_id": "s1", "version": 1}


@pytest.mark.parametrize(("principal", "incoming", "packs", "refusal"), [
    ("agency:police:North West", OUTCOME, [PACK], None),
    ("agency:police:(no region)", OUTCOME, [PACK], "outcomes: breach pack BP-1 has not been issued to you"),
    ("agency:police:Wales", OUTCOME, [PACK], "outcomes: breach pack BP-1 has not been issued to you"),
    ("agency:probation:North West", OUTCOME, [PACK], "outcomes: breach pack BP-1 has not been issued to you"),
    ("agency:police:North West", OUTCOME, [{**PACK, "status": "draft", "sent_at": None}],
     "outcomes: breach pack BP-1 has not been issued to you"),
    ("agency:police:North West", OUTCOME, [], "outcomes: breach pack BP-1 has not been issued to you"),
    ("agency:police:North West", {**OUTCOME, "pack_id": ""}, [PACK], "outcomes: breach pack (none named)"),
    ("agency:police:North West", {**OUTCOME, "responder": "probation"}, [PACK],
     "outcomes.responder: the outcome says 'probation' where its pack says 'police'"),
    ("agency:police:North West", {**OUTCOME, "subject_id": "s2"}, [PACK], "outcomes.subject_id"),
])
def test_an_agency_writes_only_the_outcome_of_a_pack_issued_to_it(principal, incoming, packs, refusal):
    said = outcome_refusal(principal, incoming, packs)
    assert said is None if refusal is None else said.startswith(refusal)
