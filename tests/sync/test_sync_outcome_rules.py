"""The hub keeps an agency's outcome to the rules its desktop keeps: a hostile desktop gets no further.

On both hub back ends (SQLite and a real PostgreSQL): one outcome per pack series
(``OUT-<pack>``), never deleted by an agency; only the codes the agency records; RADU steps
in order, only ever appended, none dated before the pack's first issue, before the step
before it, or after the hub's clock; the decision is the signed-in officer's and, once
taken, stands.  Then the same rules, pure (``outcome_change_refusal``).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import pytest
from response_kit import make_pack
from synckit import NOW, Desk, hub_row
from test_sync_responses import NW, POLICE, PROBATION, _outcome_for, account_desk, issue, issued  # noqa: F401

from emdesk.domain.monitoring import (
    BreachOutcome,
    BreachOutcomeCode as C,
    BreachPack,
    BreachPackStatus,
    Incident,
    RaduStep,
    ResponseStep,
)
from emdesk.domain.users import Role
from emdesk.services.responses import ResponseService, outcome_id
from emdesk.sync.authorship import outcome_change_refusal

R, A, D, U = RaduStep.RECEIVE, RaduStep.ASSESS, RaduStep.DECIDE, RaduStep.UPDATE
SENT = NOW - timedelta(hours=1)        # when ``issue`` sends the pack
OLD = datetime(2001, 1, 1, tzinfo=timezone.utc)


def _steps(by: str, *steps: tuple[RaduStep, timedelta]) -> tuple[ResponseStep, ...]:
    return tuple(ResponseStep(step=s, at=NOW - ago, by=by) for s, ago in steps)


def _hostile(by: str) -> dict[str, tuple[dict, str]]:
    """Outcomes a hostile police desk might send, and why the hub refuses each."""
    m = timedelta(minutes=1)
    radu = _steps(by, (R, 50 * m), (A, 40 * m), (D, 30 * m))
    decided = {"code": C.ARREST, "decided_at": NOW - 30 * m, "decided_by": by, "steps": radu}
    return {
        "a code the police do not record": (
            {**decided, "code": C.RECALL}, "outcomes.code: recall to prison is not an outcome the police records"),
        "Decide before Receive": (
            {**decided, "steps": _steps(by, (D, 30 * m))}, "outcomes.step: Decide comes after Receive"),
        "Assess missing": (
            {**decided, "steps": _steps(by, (R, 50 * m), (D, 30 * m))}, "outcomes.step: Decide comes after Assess"),
        "Update before Decide": (
            {"steps": _steps(by, (R, 50 * m), (A, 40 * m), (U, 30 * m))}, "outcomes.step: Update comes after Decide"),
        "Decide with no code": (
            {"steps": radu}, "outcomes.code: Decide needs an outcome code"),
        "a code with no Decide step": (
            {**decided, "steps": radu[:2]}, "outcomes.code: the police record their decision with the Decide step"),
        "a step before the pack was issued": (
            {"steps": (ResponseStep(step=R, at=OLD, by=by),)},
            "outcomes.steps (Receive): 2001-01-01 00:00 UTC is earlier than the pack was first issued"),
        "a step before the step before it": (
            {"steps": _steps(by, (R, 30 * m), (A, 40 * m))}, "outcomes.steps (Assess): "),
        "a step after the hub's clock": (
            {"steps": (ResponseStep(step=R, at=NOW + timedelta(days=1), by=by),)},
            "outcomes.steps (Receive): 2026-"),
        "decided before the pack was issued": (
            {**decided, "decided_at": OLD}, "outcomes.decided_at: 2001-01-01 00:00 UTC is earlier than the pack"),
        "decided tomorrow": (
            {**decided, "decided_at": NOW + timedelta(days=1)}, "outcomes.decided_at: "),
        "a second outcome for the pack": (
            {"id": "OUT-STRAY"}, "outcomes.id: the outcome of pack BP-SYNC0001 is OUT-BP-SYNC0001, not 'OUT-STRAY'"),
        "a deleted outcome": (
            {"deleted": True}, "outcomes: an agency does not delete an outcome"),
    }


HOSTILE = list(_hostile("x"))


@pytest.mark.parametrize("case", HOSTILE)
def test_the_hub_refuses_an_agency_outcome_that_breaks_the_desktops_rules(kit, issued, case):
    centre, draft = issued
    issue(centre, draft)
    police = kit.desk(POLICE)
    change, reason = _hostile(police.user.id)[case]
    police.store.put(_outcome_for(draft).evolve(**change), actor=police.user.id)
    report = police.sync()
    assert len(report.refused) == 1 and report.refused[0].reason.startswith(reason), report.refused
    assert hub_row(kit, "outcomes", change.get("id", outcome_id(draft.pack_id))) is None


def _colleague(kit) -> Desk:
    """A second North West police officer's desk (the small world has one per region)."""
    return account_desk(kit, "police.northwest.2", Role.POLICE, NW)


def _decided(kit, centre, draft):
    """The pack issued, and the police officer's RADU to Decide (arrest) on the hub."""
    issue(centre, draft)
    police = kit.desk(POLICE)
    svc = ResponseService(police.store, police.user, police.store.clock)
    for step in (R, A):
        svc.record_step(draft.pack_id, step)
    svc.record_step(draft.pack_id, D, code=C.ARREST)
    assert police.sync().refused == []
    return police


def _rewrite(held: BreachOutcome, by: str) -> dict[str, dict]:
    later = held.decided_at + timedelta(minutes=5)
    return {
        "another code": {"code": C.NO_FURTHER_ACTION},
        "another time": {"decided_at": later},
        "another code, the colleague as decider": {"code": C.REMAND, "decided_at": later},
        "a step removed": {"steps": held.steps[:2]},
        "a step's note changed": {"steps": (msgspec.structs.replace(held.steps[0], note="edited"), *held.steps[1:])},
        "a step's author changed": {"steps": (msgspec.structs.replace(held.steps[0], by=by), *held.steps[1:])},
    }


REWRITES = {
    "another code": "outcomes.code: the outcome was recorded already",
    "another time": "outcomes.decided_at: the outcome was recorded already",
    "another code, the colleague as decider": "outcomes.code: the outcome was recorded already",
    "a step removed": "outcomes.steps: a recorded RADU step cannot be removed or changed",
    "a step's note changed": "outcomes.steps: a new entry says another user",   # (the edit reads as a forged entry)
    "a step's author changed": "outcomes.steps: a recorded RADU step cannot be removed or changed",
}


@pytest.mark.parametrize("case", list(REWRITES))
def test_a_colleague_cannot_rewrite_an_officers_decision_or_steps(kit, issued, case):
    centre, draft = issued
    _decided(kit, centre, draft)
    colleague = _colleague(kit)
    held = colleague.store.get(BreachOutcome, outcome_id(draft.pack_id))
    assert held.code is C.ARREST
    colleague.store.put(held.evolve(**_rewrite(held, colleague.user.id)[case]), actor=colleague.user.id)
    report = colleague.sync()
    assert len(report.refused) == 1 and report.refused[0].reason.startswith(REWRITES[case]), report.refused
    row = hub_row(kit, "outcomes", outcome_id(draft.pack_id))
    assert (row["code"], [s["step"] for s in row["steps"]]) == ("arrest", ["receive", "assess", "decide"])


def test_a_colleague_may_add_the_next_step_to_the_response(kit, issued):
    centre, draft = issued
    police = _decided(kit, centre, draft)
    colleague = _colleague(kit)
    ResponseService(colleague.store, colleague.user, colleague.store.clock).record_step(draft.pack_id, U)
    assert colleague.sync().refused == []
    row = hub_row(kit, "outcomes", outcome_id(draft.pack_id))
    assert [(s["step"], s["by"]) for s in row["steps"]][-1] == ("update", colleague.user.id)
    assert row["decided_by"] == police.user.id


def test_an_agency_cannot_delete_an_outcome_the_centre_recorded(kit, issued):
    centre, draft = issued
    issue(centre, draft)
    ResponseService(centre.store, centre.user, centre.store.clock).record_outcome(
        draft.pack_id, C.ARREST, "DI Jones by phone")
    assert centre.sync().refused == []
    police = kit.desk(POLICE)
    held = police.store.get(BreachOutcome, outcome_id(draft.pack_id))
    police.store.put(held.evolve(deleted=True), actor=police.user.id)
    report = police.sync()
    assert [r.reason for r in report.refused] == [
        "outcomes: an agency does not delete an outcome; it stands as recorded (ask the monitoring centre)"]
    assert not hub_row(kit, "outcomes", outcome_id(draft.pack_id)).get("deleted")


def test_an_agency_cannot_write_another_packs_outcome_under_its_id(kit, issued):
    """The shared id is the pack's: a police desk cannot overwrite a probation pack's outcome with its own."""
    centre, draft = issued
    issue(centre, draft)
    police = kit.desk(POLICE)
    police.store.put(_outcome_for(draft).evolve(id="OUT-BP-OTHER001", code=None), actor=police.user.id)
    report = police.sync()
    assert [r.reason for r in report.refused] == [
        "outcomes.id: the outcome of pack BP-SYNC0001 is OUT-BP-SYNC0001, not 'OUT-BP-OTHER001'; a pack has one "
        "outcome, so this one was not accepted"]
    assert hub_row(kit, "outcomes", "OUT-BP-OTHER001") is None
    assert kit.desk(PROBATION).store.get(BreachOutcome, "OUT-BP-OTHER001") is None


def test_an_amendment_adding_an_earlier_incident_keeps_the_agency_writing_its_outcome(kit, issued):
    centre, draft = issued
    v1 = issue(centre, draft)
    police = kit.desk(POLICE)
    svc = ResponseService(police.store, police.user, police.store.clock)
    svc.record_step(v1.pack_id, R)
    assert police.sync().refused == []
    # The centre finds an earlier incident of the same breach and amends the pack: v2's first
    # incident is the earlier one.
    first = centre.store.get(Incident, v1.incident_id)
    earlier = centre.store.put(first.evolve(id="inc-earlier", started_at=first.started_at - timedelta(hours=3),
                                            history=()), actor="engine")
    v2 = make_pack(pack_id=v1.pack_id, version=2, responder="police", region=NW, sent_at=None,
                   breach_at=earlier.started_at, order_id=v1.order_id, incident_id=earlier.id,
                   subject_id=v1.subject_id, reference=v1.reference, amends=v1.id, amend_reason="an earlier incident")
    centre.store.put_many([centre.store.get(BreachPack, v1.id).evolve(status=BreachPackStatus.SUPERSEDED),
                           v2.evolve(incident_ids=(earlier.id, v1.incident_id))], actor=centre.user.id)
    assert centre.sync().refused == []
    issue(centre, v2)
    police.sync()
    svc.record_step(v1.pack_id, A)
    assert police.sync().refused == []
    row = hub_row(kit, "outcomes", outcome_id(v1.pack_id))
    assert (row["incident_id"], [s["step"] for s in row["steps"]]) == (v1.incident_id, ["receive", "assess"])


# -- the pure rule ----------------------------------------------------------------------------

ISSUED_AT = "2026-11-26T08:00:00Z"
HUB_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
PACKS = [{"pack_id": "BP-1", "responder": "police", "region": NW, "status": "sent", "sent_at": ISSUED_AT,
          "version": 1}]
PROBATION_PACKS = [{**PACKS[0], "responder": "probation"}]
ROW = {"id": "OUT-BP-1", "pack_id": "BP-1", "responder": "police", "code": None, "decided_at": None,
       "decided_by": "", "steps": [], "deleted": False}


def step(name: str, at: str, by: str = "u1", note: str = "") -> dict:
    return {"step": name, "at": f"2026-11-26T{at}:00Z", "by": by, "note": note}


RADU = [step("receive", "09:00"), step("assess", "09:10"), step("decide", "09:20")]
DECIDED = {**ROW, "code": "arrest", "decided_at": "2026-11-26T09:20:00Z", "decided_by": "u1", "steps": RADU}


@pytest.mark.parametrize(("user", "held", "incoming", "packs", "refusal"), [
    # The desktop's own changes pass.
    ("u1", None, {**ROW, "steps": RADU[:1]}, PACKS, None),
    ("u1", {**ROW, "steps": RADU[:2]}, DECIDED, PACKS, None),
    ("u1", None, {**DECIDED, "decided_by": ""}, PACKS, None),             # the hub fills in the decider
    ("u2", DECIDED, {**DECIDED, "steps": [*RADU, step("update", "09:30", "u2")]}, PACKS, None),
    ("u1", None, {**ROW, "responder": "probation", "code": "recall", "decided_at": "2026-11-26T09:00:00Z",
                  "decided_by": "u1"}, PROBATION_PACKS, None),
    ("u1", None, {**ROW, "steps": [step("receive", "12:04")]}, PACKS, None),  # a desktop a little fast
    # One outcome per pack, never deleted by an agency.
    ("u1", None, {**ROW, "id": "OUT-BP-2"}, PACKS, "outcomes.id: the outcome of pack BP-1 is OUT-BP-1"),
    ("u1", ROW, {**ROW, "deleted": True}, PACKS, "outcomes: an agency does not delete an outcome"),
    # The agency's own codes, by the Decide step for the police.
    ("u1", None, {**DECIDED, "code": "recall"}, PACKS, "outcomes.code: recall to prison is not an outcome"),
    ("u1", None, {**ROW, "responder": "probation", "code": "remand", "decided_at": "2026-11-26T09:00:00Z"},
     PROBATION_PACKS, "outcomes.code: remanded in custody is not an outcome the probation records"),
    ("u1", None, {**DECIDED, "steps": RADU[:2]}, PACKS, "outcomes.code: the police record their decision"),
    ("u1", None, {**DECIDED, "decided_at": None}, PACKS, "outcomes.decided_at: a decision needs both"),
    ("u1", None, {**ROW, "responder": "probation", "steps": RADU[:1]}, PROBATION_PACKS,
     "outcomes.steps: RADU steps are the police's; the probation records the outcome"),
    # RADU in order, each once.
    ("u1", None, {**ROW, "steps": [step("assess", "09:00")]}, PACKS, "outcomes.step: Assess comes after Receive"),
    ("u1", None, {**ROW, "steps": [RADU[0], RADU[0]]}, PACKS, "outcomes.step: Receive was recorded already"),
    ("u1", {**DECIDED, "steps": [*RADU, step("update", "09:30")]},
     {**DECIDED, "steps": [*RADU, step("update", "09:30"), step("receive", "09:40")]}, PACKS,
     "outcomes.step: the response was closed by Update"),
    # Times: not before the first issue, the step before, or the hub's clock.
    ("u1", None, {**ROW, "steps": [step("receive", "07:59")]}, PACKS,
     "outcomes.steps (Receive): 2026-11-26 07:59 UTC is earlier than the pack was first issued (2026-11-26 08:00 UTC)"),
    ("u1", {**ROW, "steps": RADU[:1]}, {**ROW, "steps": [RADU[0], step("assess", "08:59")]}, PACKS,
     "outcomes.steps (Assess): 2026-11-26 08:59 UTC is earlier than the step before it (2026-11-26 09:00 UTC)"),
    ("u1", None, {**ROW, "steps": [step("receive", "12:06")]}, PACKS,
     "outcomes.steps (Receive): 2026-11-26 12:06 UTC is later than the hub's clock (2026-11-26 12:00 UTC)"),
    ("u1", {**ROW, "steps": RADU[:2]}, {**DECIDED, "decided_at": "2026-11-26T07:00:00Z"}, PACKS,
     "outcomes.decided_at: 2026-11-26 07:00 UTC is earlier than the pack was first issued"),
    # The first issue of the series counts, not the amendment's.
    ("u1", None, {**ROW, "steps": [step("receive", "08:30")]},
     [{**PACKS[0], "status": "superseded"}, {**PACKS[0], "version": 2, "sent_at": "2026-11-26T10:00:00Z"}], None),
    # Steps only appended; the decision the signed-in user's, and fixed once taken.
    ("u2", DECIDED, {**DECIDED, "steps": RADU[:2]}, PACKS, "outcomes.steps: a recorded RADU step cannot be removed"),
    ("u2", DECIDED, {**DECIDED, "steps": [step("receive", "09:00", note="x"), *RADU[1:]]}, PACKS,
     "outcomes.steps: a recorded RADU step cannot be removed"),
    ("u2", DECIDED, {**DECIDED, "code": "remand"}, PACKS, "outcomes.code: the outcome was recorded already (arrest"),
    ("u2", DECIDED, {**DECIDED, "decided_at": "2026-11-26T09:25:00Z"}, PACKS, "outcomes.decided_at: the outcome"),
    ("u2", DECIDED, {**DECIDED, "decided_by": "u2"}, PACKS, "outcomes.decided_by: the outcome was recorded already"),
    ("u2", {**ROW, "steps": RADU[:2]}, {**DECIDED, "decided_by": "u1"}, PACKS,
     "outcomes.decided_by: the decision is recorded as taken by the signed-in user, not u1"),
])
def test_an_agency_outcome_change_keeps_the_desktops_rules(user, held, incoming, packs, refusal):
    said = outcome_change_refusal(user, held, incoming, packs, HUB_NOW)
    assert said is None if refusal is None else (said or "").startswith(refusal), said
