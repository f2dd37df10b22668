"""The agencies' inbox, RADU and outcomes, least privilege and the 5-day prompts, on a real store."""
from __future__ import annotations

from datetime import timedelta

import pytest
from response_kit import NOW, agency_users, make_pack

from emdesk.domain.monitoring import BreachOutcome, BreachOutcomeCode as C, BreachPack, BreachPackStatus, RaduStep
from emdesk.services.errors import AccessDenied, ServiceError
from emdesk.services.packs import PackService
from emdesk.services.responses import ResponseService, outcome_id

NW, YK, LDN = "North West", "Yorkshire and the Humber", "London"
R, A, D, U = RaduStep.RECEIVE, RaduStep.ASSESS, RaduStep.DECIDE, RaduStep.UPDATE
SUP = BreachPackStatus.SUPERSEDED


def days(n: float):
    return timedelta(days=n)


# pack id, agency, region, issued (days ago; None: draft), version, status
PACKS = [
    ("BP-NWOLD", "police", NW, 6, 1, None),
    ("BP-NWNEW", "police", NW, 1, 1, None),
    ("BP-YK", "police", YK, 2, 1, None),
    ("BP-DRAFT", "police", NW, None, 1, None),
    ("BP-PRNW", "probation", NW, 5, 1, None),
    ("BP-HOLDN", "home_office", LDN, 3, 1, None),
    ("BP-AMD", "police", NW, 4, 1, SUP),          # amended and issued again: one row, v2
    ("BP-AMD", "police", NW, 2, 2, None),
    ("BP-PEND", "police", NW, 3, 1, SUP),         # amendment being prepared: v1 stays the agency's
    ("BP-PEND", "police", NW, None, 2, None),
]


# Each series' breach, in these tables, at its first issue: the 5-day clock (from the breach)
# then reads as days since issue; test_the_prompt_runs_from_the_breach_not_the_issue shows the rule.
FIRST_ISSUED = {pid: max(ago for p, _, _, ago, _, _ in PACKS if p == pid and ago is not None)
                for pid, _, _, ago, _, _ in PACKS if ago is not None}


@pytest.fixture
def users(store):
    people = agency_users()
    store.put_many(people.values())
    packs = [make_pack(pack_id=pid, responder=agency, region=region, version=version, status=status,
                       sent_at=None if ago is None else NOW - days(ago), breach_at=NOW - days(FIRST_ISSUED.get(pid, 8)),
                       incident_id=f"inc-{pid}", order_id=f"ord-{pid}", subject_id=f"sub-{pid}")
             for pid, agency, region, ago, version, status in PACKS]
    store.put_many(packs)
    return people


def service(store, clock, users, username):
    return ResponseService(store, users[username], clock)


ALL_ISSUED = {"BP-NWOLD", "BP-NWNEW", "BP-YK", "BP-PRNW", "BP-HOLDN", "BP-AMD", "BP-PEND"}
VISIBLE = [
    ("police.northwest", {"BP-NWOLD", "BP-NWNEW", "BP-AMD", "BP-PEND"}),
    ("police.yorkshire", {"BP-YK"}),
    ("probation.northwest", {"BP-PRNW"}),
    ("homeoffice", {"BP-HOLDN"}),                 # the Home Office: every region, its own packs
    ("police.national", set()),                   # no region: none (never every region)
    ("monitor.northwest", {"BP-NWOLD", "BP-NWNEW", "BP-AMD", "BP-PEND", "BP-PRNW"}),
    ("monitor.london", {"BP-HOLDN"}),
    ("supervisor", ALL_ISSUED),
]


@pytest.mark.parametrize(("username", "expected"), VISIBLE, ids=[v[0] for v in VISIBLE])
def test_each_account_sees_only_the_packs_issued_to_its_agency_and_region(store, clock, users, username, expected):
    rows = service(store, clock, users, username).inbox()
    assert {r.pack_id for r in rows} == expected
    assert len(rows) == len(expected)           # one row per series, never one per version


@pytest.mark.parametrize(("username", "expected"), VISIBLE[:5], ids=[v[0] for v in VISIBLE[:5]])
def test_the_pack_service_reads_what_the_inbox_shows_an_agency(store, clock, users, username, expected):
    packs = PackService(store, users[username], clock)
    assert {pid for pid, *_ in PACKS if packs.versions(pid)} == expected


@pytest.mark.parametrize("username", ["officer", "tech", "admin"])
def test_other_roles_have_no_breach_inbox(store, clock, users, username):
    with pytest.raises(AccessDenied, match="do not see breach responses"):
        service(store, clock, users, username)


def test_the_inbox_is_ordered_by_the_5_day_deadline_and_shows_the_latest_issued_version(store, clock, users):
    rows = service(store, clock, users, "police.northwest").inbox()
    assert [r.pack_id for r in rows] == ["BP-NWOLD", "BP-AMD", "BP-PEND", "BP-NWNEW"]
    by_id = {r.pack_id: r for r in rows}
    assert (by_id["BP-AMD"].version, by_id["BP-AMD"].first_sent_at, by_id["BP-AMD"].sent_at) == \
        (2, NOW - days(4), NOW - days(2))
    assert by_id["BP-AMD"].prompt_at == NOW + days(1)
    assert (by_id["BP-PEND"].version, by_id["BP-PEND"].version_id) == (1, "BP-PEND-v1")
    assert by_id["BP-NWOLD"].next_step is R and by_id["BP-NWOLD"].state == "No outcome yet"


PROMPTS = [
    ("police.northwest", {"BP-NWOLD"}),
    ("probation.northwest", {"BP-PRNW"}),         # exactly 5 days
    ("homeoffice", set()),
    ("monitor.northwest", {"BP-NWOLD", "BP-PRNW"}),
    ("supervisor", {"BP-NWOLD", "BP-PRNW"}),
]


@pytest.mark.parametrize(("username", "expected"), PROMPTS, ids=[p[0] for p in PROMPTS])
def test_5_day_prompts_agencies_see_theirs_the_centre_all_in_scope(store, clock, users, username, expected):
    assert {r.pack_id for r in service(store, clock, users, username).prompts()} == expected


def test_an_outcome_stops_the_prompt_and_the_clock_moving_on_raises_one(store, clock, users):
    probation = service(store, clock, users, "probation.northwest")
    probation.record_outcome("BP-PRNW", C.RECALL)
    assert probation.prompts() == []
    police = service(store, clock, users, "police.northwest")
    assert {r.pack_id for r in police.prompts()} == {"BP-NWOLD"}
    clock.advance(days(1))
    assert {r.pack_id for r in police.prompts()} == {"BP-NWOLD", "BP-AMD"}


def test_a_police_officer_records_radu_in_order_each_at_its_time(store, clock, users):
    police = service(store, clock, users, "police.northwest")
    times = {}
    for step, kwargs in [(R, {}), (A, {"note": "Known to us; address checked"}), (D, {"code": C.ARREST}), (U, {})]:
        clock.advance(timedelta(minutes=20))
        times[step] = clock.now()
        out = police.record_step("BP-NWOLD", step, **kwargs)
    user = users["police.northwest"]
    assert [(s.step, s.at, s.by) for s in out.steps] == [(s, times[s], user.id) for s in (R, A, D, U)]
    assert (out.code, out.decided_at, out.decided_by, out.id) == (C.ARREST, times[D], user.id, outcome_id("BP-NWOLD"))
    assert (out.incident_id, out.order_id, out.subject_id, out.region) == \
        ("inc-BP-NWOLD", "ord-BP-NWOLD", "sub-BP-NWOLD", NW)
    assert out.steps[1].note == "Known to us; address checked"
    row = police.row("BP-NWOLD")
    assert row.closed and not row.prompt and row.next_step is None and row.state == "Arrest"
    assert row.step_at(A) == times[A]
    assert store.count(BreachOutcome) == 1
    audit = [(e.actor, e.action) for e in store.audit_entries() if e.entity == "outcomes"]
    assert audit == [(user.id, "radu_receive"), (user.id, "radu_assess"), (user.id, "radu_decide"),
                     (user.id, "radu_update")]


# steps first recorded, then the call, and what it says (None: accepted)
REFUSALS = [
    ([], ("step", A, {}), "step: Assess comes after Receive"),
    ([R], ("step", R, {}), "step: Receive was recorded already"),
    ([R, A], ("step", D, {}), "code: Decide needs an outcome code"),
    ([R, A], ("step", D, {"code": C.RECALL}), "code: recall to prison is not an outcome the police records"),
    ([R], ("step", A, {"code": C.ARREST}), "code: an outcome is recorded with Decide, not Assess"),
    ([R], ("outcome", C.ARREST, {}), "step: Decide comes after Assess"),
    ([R, A], ("outcome", C.REMAND, {}), None),
    ([R, A, (D, C.ARREST)], ("outcome", C.REMAND, {}), "code: an outcome was recorded already (arrest"),
    ([R, A, (D, C.ARREST), U], ("step", U, {}), "step: the response was closed by Update"),
    ([], ("step", R, {"note": "x" * 5001}), "note: at most 5,000 characters"),
]


@pytest.mark.parametrize(("before", "call", "refusal"), REFUSALS)
def test_police_steps_refused_out_of_order_twice_or_with_a_wrong_code(store, clock, users, before, call, refusal):
    police = service(store, clock, users, "police.northwest")
    for step in before:
        step, code = step if isinstance(step, tuple) else (step, None)
        police.record_step("BP-NWNEW", step, code=code)
    kind, what, kwargs = call
    act = police.record_step if kind == "step" else police.record_outcome
    if refusal is None:
        out = act("BP-NWNEW", what, **kwargs)
        assert out.code is C.REMAND and out.steps[-1].step is D
        return
    held = store.get(BreachOutcome, outcome_id("BP-NWNEW"))
    with pytest.raises(ServiceError, match=refusal.replace("(", r"\(")):
        act("BP-NWNEW", what, **kwargs)
    assert store.get(BreachOutcome, outcome_id("BP-NWNEW")) == held      # nothing written


# who, pack, code, notes -> the refusal's start (None: recorded)
OUTCOMES = [
    ("probation.northwest", "BP-PRNW", C.RECALL, "", None),
    ("probation.northwest", "BP-PRNW", C.ARREST, "", "code: arrest is not an outcome the probation records"),
    ("homeoffice", "BP-HOLDN", C.DETENTION, "", None),
    ("homeoffice", "BP-HOLDN", C.RECALL, "", "code: recall to prison is not an outcome the home office records"),
    ("police.northwest", "BP-YK", C.ARREST, "", "pack_id: no breach pack BP-YK has been issued to the police"),
    ("police.northwest", "BP-PRNW", C.ENGAGE, "", "pack_id: no breach pack BP-PRNW"),
    ("police.northwest", "BP-DRAFT", C.ARREST, "", "pack_id: no breach pack BP-DRAFT"),
    ("probation.northwest", "BP-NOPE", C.RECALL, "", "pack_id: no breach pack BP-NOPE"),
    ("monitor.northwest", "BP-PRNW", C.ENGAGE, "DS Jones, probation, 0161 496 0000, 10:40", None),
    ("monitor.northwest", "BP-NWOLD", C.ARREST, "PC Patel by phone", None),
    ("monitor.northwest", "BP-PRNW", C.ENGAGE, "  ", "notes: say who reported the outcome by phone"),
    ("monitor.northwest", "BP-HOLDN", C.DETENTION, "HO", "pack_id: no breach pack BP-HOLDN has been issued to your"),
    ("supervisor", "BP-HOLDN", C.DETENTION, "HO caseworker Ms Ali", None),
]


@pytest.mark.parametrize(("username", "pack_id", "code", "notes", "refusal"), OUTCOMES)
def test_who_may_record_which_outcome(store, clock, users, username, pack_id, code, notes, refusal):
    svc = service(store, clock, users, username)
    if refusal is not None:
        with pytest.raises(ServiceError, match=refusal):
            svc.record_outcome(pack_id, code, notes)
        assert store.count(BreachOutcome) == 0
        return
    out = svc.record_outcome(pack_id, code, notes)
    assert (out.code, out.decided_at, out.decided_by, out.pack_id) == (code, NOW, users[username].id, pack_id)
    if svc.is_agency:
        assert out.notes == notes and out.steps == ()
    else:
        assert out.notes == f"Reported by phone: {notes.strip()}" and out.steps == ()
    entry = [e for e in store.audit_entries() if e.entity == "outcomes"][-1]
    assert (entry.actor, entry.action, entry.subject_id) == \
        (users[username].id, "outcome" if svc.is_agency else "outcome_by_phone", f"sub-{pack_id}")
    assert svc.row(pack_id).closed is (not svc.row(pack_id).radu)


def test_police_finish_radu_after_an_outcome_reported_by_phone(store, clock, users):
    service(store, clock, users, "monitor.northwest").record_outcome("BP-NWOLD", C.NO_FURTHER_ACTION, "PC Patel")
    police = service(store, clock, users, "police.northwest")
    for step in (R, A, D, U):
        out = police.record_step("BP-NWOLD", step)
    assert out.code is C.NO_FURTHER_ACTION and [s.step for s in out.steps] == [R, A, D, U]


@pytest.mark.parametrize(("username", "pack_id", "refusal"), [
    ("monitor.northwest", "BP-NWOLD", "step: RADU steps are recorded by the police themselves"),
    ("probation.northwest", "BP-PRNW", "step: RADU steps are the police's; the probation records the outcome"),
    ("homeoffice", "BP-HOLDN", "step: RADU steps are the police's; the home office records the outcome"),
])
def test_only_the_police_record_radu_steps(store, clock, users, username, pack_id, refusal):
    with pytest.raises(ServiceError, match=refusal):
        service(store, clock, users, username).record_step(pack_id, R)


def test_the_document_of_the_issued_version_is_read_and_the_view_audited(store, clock, users):
    svc = service(store, clock, users, "police.northwest")
    doc = svc.document("BP-AMD")
    assert (doc.pack_id, doc.version, doc.summary.who) == ("BP-AMD", 2, "Dafydd Llŷr")
    entry = store.audit_entries()[-1]
    assert (entry.action, entry.entity_id, entry.subject_id) == ("view_pack", "BP-AMD-v2", "sub-BP-AMD")
    with pytest.raises(ServiceError, match="pack_id: no breach pack BP-YK"):
        svc.document("BP-YK")


def test_an_unreadable_stored_document_is_reported_naming_the_pack(store, clock, users):
    pack = store.get(BreachPack, "BP-NWNEW-v1")
    store.put(pack.evolve(document="{not json"))
    with pytest.raises(ServiceError, match="document: pack BP-NWNEW v1 holds no readable document"):
        service(store, clock, users, "police.northwest").document("BP-NWNEW")


def test_an_amendment_adding_an_earlier_incident_keeps_the_recorded_outcome(store, clock, users):
    police = service(store, clock, users, "police.northwest")
    for step in (R, A):
        police.record_step("BP-NWNEW", step)
    police.record_step("BP-NWNEW", D, code=C.ARREST)
    v1 = next(p for p in store.find(BreachPack) if p.pack_id == "BP-NWNEW")
    # The centre amends: an earlier incident joins, so the new version's first incident differs.
    v2 = make_pack(pack_id="BP-NWNEW", responder="police", region=NW, version=2, sent_at=NOW,
                   breach_at=NOW - days(4), incident_id="inc-EARLIER", order_id=v1.order_id, subject_id=v1.subject_id)
    store.put_many([v1.evolve(status=SUP), v2.evolve(incident_ids=("inc-EARLIER", v1.incident_id))])
    row = police.row("BP-NWNEW")
    assert (row.version, row.code, [s.step for s in row.steps]) == (2, C.ARREST, [R, A, D])
    police.record_step("BP-NWNEW", U)
    held = store.get(BreachOutcome, outcome_id("BP-NWNEW"))
    assert (held.code, [s.step for s in held.steps]) == (C.ARREST, [R, A, D, U])


def test_the_prompt_runs_from_the_breach_not_the_issue(store, clock, users):
    """NAO 1.9: five days after the breach with no outcome, not five days after the pack went."""
    late = make_pack(pack_id="BP-LATE", responder="police", region=NW, sent_at=NOW - days(3), breach_at=NOW - days(5),
                     incident_id="inc-LATE", order_id="ord-LATE", subject_id="sub-LATE")
    store.put_many([late])
    row = service(store, clock, users, "police.northwest").row("BP-LATE")
    assert row.prompt_at == NOW and row.prompt
    assert "BP-LATE" in {r.pack_id for r in service(store, clock, users, "police.northwest").prompts()}
