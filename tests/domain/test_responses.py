"""RADU's order, the outcomes each agency may record, and the 5-day prompt, from case tables."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emdesk.domain.monitoring import BreachOutcome, BreachOutcomeCode as C, RaduStep, ResponseStep
from emdesk.domain.orders import Responder
from emdesk.domain.responses import (
    CODE_LABELS,
    OUTCOMES,
    code_refusal,
    codes_for,
    follows_radu,
    is_closed,
    needs_prompt,
    next_step,
    step_refusal,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
R, A, D, U = RaduStep.RECEIVE, RaduStep.ASSESS, RaduStep.DECIDE, RaduStep.UPDATE


def steps(*names: RaduStep) -> tuple[ResponseStep, ...]:
    return tuple(ResponseStep(step=s, at=T0 + timedelta(hours=i), by="u1") for i, s in enumerate(names))


# recorded so far, step asked for, code with it, the refusal's start (None: allowed)
STEP_CASES = [
    ((), R, None, None),
    ((), A, None, "step: Assess comes after Receive; record Receive first"),
    ((), D, C.ARREST, "step: Decide comes after Receive"),
    ((), U, None, "step: Update comes after Receive"),
    ((R,), A, None, None),
    ((R,), R, None, "step: Receive was recorded already (at 2026-12-01 09:00 UTC)"),
    ((R,), D, C.ARREST, "step: Decide comes after Assess; record Assess first"),
    ((R, A), D, None, "code: Decide needs an outcome code"),
    ((R, A), D, C.REMAND, None),
    ((R, A), U, None, "step: Update comes after Decide; record Decide first"),
    ((R, A, D), U, None, None),
    ((R, A, D), D, C.ARREST, "step: Decide was recorded already (at 2026-12-01 11:00 UTC)"),
    ((R, A, D, U), U, None, "step: the response was closed by Update at 2026-12-01 12:00 UTC"),
    ((R, A, D, U), R, None, "step: the response was closed by Update"),
]


@pytest.mark.parametrize(("before", "step", "code", "refusal"), STEP_CASES,
                         ids=[f"{''.join(s.value[0].upper() for s in c[0]) or '-'}+{c[1].value}" for c in STEP_CASES])
def test_radu_steps_go_in_order_once_each_decide_with_a_code(before, step, code, refusal):
    said = step_refusal(steps(*before), step, code=code)
    if refusal is None:
        assert said is None
    else:
        assert said is not None and said.startswith(refusal)


@pytest.mark.parametrize(("before", "expected"), [
    ((), R), ((R,), A), ((R, A), D), ((R, A, D), U), ((R, A, D, U), None),
])
def test_the_next_step_is_the_first_not_recorded(before, expected):
    assert next_step(steps(*before)) is expected


# Figure 1: what each agency does about a breach.
ALLOWED = {
    Responder.POLICE: {C.BAIL_SAME_CONDITIONS, C.BAIL_AMENDED, C.REMAND, C.ARREST, C.NO_FURTHER_ACTION},
    Responder.PROBATION: {C.ENGAGE, C.ADJUST_CONDITIONS, C.FORMAL_WARNING, C.RECALL, C.RETURN_TO_COURT,
                          C.NO_FURTHER_ACTION},
    Responder.HOME_OFFICE: {C.ADJUST_CONDITIONS, C.PRIORITISE_CASEWORK, C.DETENTION, C.ARREST, C.PROSECUTION,
                            C.NO_FURTHER_ACTION},
}


@pytest.mark.parametrize("responder", list(Responder))
@pytest.mark.parametrize("code", list(C))
def test_each_agency_records_only_its_own_outcomes(responder, code):
    refusal = code_refusal(responder, code)
    if code in ALLOWED[responder]:
        assert refusal is None
    else:
        assert refusal is not None and refusal.startswith("code: ") and CODE_LABELS[code].lower() in refusal
        assert responder.value.replace("_", " ") in refusal


@pytest.mark.parametrize(("responder", "code", "refusal"), [
    ("police", "remand", None),
    ("probation", "remand", "code: remanded in custody is not an outcome the probation records"),
    ("home_office", "recall", "code: recall to prison is not an outcome the home office records"),
    ("police", "hanging", "code: 'hanging' is not an outcome code"),
])
def test_outcome_codes_and_agencies_are_taken_as_values_too(responder, code, refusal):
    said = code_refusal(responder, code)
    assert (said is None) if refusal is None else said.startswith(refusal)


def test_an_unknown_agency_is_refused_naming_it():
    with pytest.raises(ValueError, match="responder: 'army'"):
        codes_for("army")


def test_every_code_is_somebodys_and_labelled():
    assert set().union(*OUTCOMES.values()) == set(C)
    assert set(CODE_LABELS) == set(C)
    assert {r: set(codes_for(r)) for r in Responder} == ALLOWED


@pytest.mark.parametrize(("responder", "radu"), [("police", True), (Responder.PROBATION, False), ("home_office", False)])
def test_only_the_police_work_radu(responder, radu):
    assert follows_radu(responder) is radu


def outcome(responder: Responder, code: C | None = None, *done: RaduStep) -> BreachOutcome:
    return BreachOutcome(incident_id="i1", order_id="o1", pack_id="BP-1", responder=responder, code=code,
                         steps=steps(*done))


@pytest.mark.parametrize(("record", "closed"), [
    (None, False),
    (outcome(Responder.POLICE), False),
    (outcome(Responder.POLICE, C.ARREST, R, A, D), False),
    (outcome(Responder.POLICE, C.ARREST, R, A, D, U), True),
    (outcome(Responder.PROBATION), False),
    (outcome(Responder.PROBATION, C.RECALL), True),
    (outcome(Responder.HOME_OFFICE, C.DETENTION), True),
])
def test_update_closes_a_police_response_an_outcome_closes_the_others(record, closed):
    assert is_closed(record) is closed


SENT = datetime(2026, 11, 20, 14, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(("sent_at", "record", "now", "prompt"), [
    (SENT, None, SENT + timedelta(days=5), True),
    (SENT, None, SENT + timedelta(days=5) - timedelta(seconds=1), False),
    (SENT, None, SENT + timedelta(days=9), True),
    (SENT, outcome(Responder.POLICE, None, R, A), SENT + timedelta(days=6), True),
    (SENT, outcome(Responder.POLICE, C.ARREST, R, A, D), SENT + timedelta(days=6), False),
    (SENT, outcome(Responder.PROBATION, C.ENGAGE), SENT + timedelta(days=30), False),
    (SENT, None, SENT, False),
    (None, None, SENT + timedelta(days=30), False),       # never issued: no prompt
    # 5 days are 120 real hours, across the autumn clock change too.
    (datetime(2026, 10, 22, 12, tzinfo=timezone.utc), None, datetime(2026, 10, 27, 12, tzinfo=timezone.utc), True),
    (datetime(2026, 10, 22, 12, tzinfo=timezone.utc), None, datetime(2026, 10, 27, 11, 59, tzinfo=timezone.utc),
     False),
])
def test_a_breach_with_no_outcome_5_days_after_its_pack_raises_a_prompt(sent_at, record, now, prompt):
    assert needs_prompt(sent_at, record, now) is prompt
