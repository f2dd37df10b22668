"""The responsible agencies' side of a breach: RADU, the outcomes each may record, the prompt.

The police work a breach pack through RADU (NAO note 4): Receive, Assess, Decide, Update,
each step once and in that order; Decide is the decision, so it carries an outcome code;
Update (the centre and the order's holders told) closes the response.  Probation and the
Home Office record their outcome directly: the outcome closes it.

Which outcomes each agency may record follows the NAO report's Figure 1 (what each does
when a wearer breaches).  National guidance (NAO 1.9) wants a breach with no outcome 5
days after it happened raised again: ``needs_prompt``.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from .monitoring import BreachOutcome, BreachOutcomeCode, RaduStep, ResponseStep
from .orders import Responder

C = BreachOutcomeCode
RADU: tuple[RaduStep, ...] = (RaduStep.RECEIVE, RaduStep.ASSESS, RaduStep.DECIDE, RaduStep.UPDATE)

# NAO Figure 1: police (court bail), probation (licence, sentence), Home Office (immigration bail).
OUTCOMES: dict[Responder, tuple[BreachOutcomeCode, ...]] = {
    Responder.POLICE: (C.BAIL_SAME_CONDITIONS, C.BAIL_AMENDED, C.REMAND, C.ARREST, C.NO_FURTHER_ACTION),
    Responder.PROBATION: (C.ENGAGE, C.ADJUST_CONDITIONS, C.FORMAL_WARNING, C.RECALL, C.RETURN_TO_COURT,
                          C.NO_FURTHER_ACTION),
    Responder.HOME_OFFICE: (C.ADJUST_CONDITIONS, C.PRIORITISE_CASEWORK, C.DETENTION, C.ARREST, C.PROSECUTION,
                            C.NO_FURTHER_ACTION),
}

CODE_LABELS: dict[BreachOutcomeCode, str] = {
    C.NO_FURTHER_ACTION: "No further action",
    C.ENGAGE: "Engage with the wearer",
    C.ADJUST_CONDITIONS: "Adjust the conditions",
    C.FORMAL_WARNING: "Formal warning",
    C.RECALL: "Recall to prison",
    C.RETURN_TO_COURT: "Return to court",
    C.BAIL_SAME_CONDITIONS: "Bailed again, same conditions",
    C.BAIL_AMENDED: "Bailed again, conditions amended",
    C.REMAND: "Remanded in custody",
    C.PRIORITISE_CASEWORK: "Prioritise the immigration casework",
    C.DETENTION: "Immigration detention",
    C.ARREST: "Arrest",
    C.PROSECUTION: "Prosecution",
}

STEP_LABELS: dict[RaduStep, str] = {RaduStep.RECEIVE: "Receive", RaduStep.ASSESS: "Assess",
                                    RaduStep.DECIDE: "Decide", RaduStep.UPDATE: "Update"}

PROMPT_AFTER = timedelta(days=5)


def outcome_id(pack_id: str) -> str:
    """One outcome per pack series, with the same id on every desktop (two desks starting the
    same response write one record, never two)."""
    return f"OUT-{pack_id}"


def _responder(value) -> Responder:
    try:
        return Responder(getattr(value, "value", value))
    except ValueError:
        raise ValueError(f"responder: {value!r} is not an agency ({', '.join(r.value for r in Responder)})") from None


def follows_radu(responder) -> bool:
    """Whether this agency works a breach step by step (the police's RADU)."""
    return _responder(responder) is Responder.POLICE


def codes_for(responder) -> tuple[BreachOutcomeCode, ...]:
    return OUTCOMES[_responder(responder)]


def code_refusal(responder, code) -> str | None:
    """Why this agency may not record this outcome, or None."""
    agency = _responder(responder)
    try:
        code = BreachOutcomeCode(getattr(code, "value", code))
    except ValueError:
        return f"code: {code!r} is not an outcome code"
    if code not in OUTCOMES[agency]:
        allowed = ", ".join(CODE_LABELS[c].lower() for c in OUTCOMES[agency])
        return f"code: {CODE_LABELS[code].lower()} is not an outcome the {agency.value.replace('_', ' ')} records " \
               f"(choose: {allowed})"
    return None


def done(steps: Sequence[ResponseStep]) -> dict[RaduStep, ResponseStep]:
    """Each step recorded, by step (the first if a replica ever held two)."""
    out: dict[RaduStep, ResponseStep] = {}
    for s in steps:
        out.setdefault(s.step, s)
    return out


def next_step(steps: Sequence[ResponseStep]) -> RaduStep | None:
    """The step to record next; None once Update has closed the response."""
    recorded = done(steps)
    return next((s for s in RADU if s not in recorded), None)


def step_refusal(steps: Sequence[ResponseStep], step: RaduStep, *, code: BreachOutcomeCode | None = None) -> str | None:
    """Why ``step`` may not be recorded now, or None.  ``code``: the outcome given with it,
    or the one already recorded (Decide needs one)."""
    recorded = done(steps)
    if RaduStep.UPDATE in recorded:
        return f"step: the response was closed by Update at {recorded[RaduStep.UPDATE].at:%Y-%m-%d %H:%M} UTC; " \
               "nothing more can be recorded"
    if step in recorded:
        return f"step: {STEP_LABELS[step]} was recorded already (at {recorded[step].at:%Y-%m-%d %H:%M} UTC)"
    expected = next_step(steps)
    if step is not expected:
        return f"step: {STEP_LABELS[step]} comes after {STEP_LABELS[expected]}; record {STEP_LABELS[expected]} first"
    if step is RaduStep.DECIDE and code is None:
        return "code: Decide needs an outcome code: choose the decision"
    return None


def is_closed(outcome: BreachOutcome | None) -> bool:
    """Closed: Update recorded (police), or the outcome recorded (probation, Home Office)."""
    if outcome is None:
        return False
    if follows_radu(outcome.responder):
        return RaduStep.UPDATE in done(outcome.steps)
    return outcome.code is not None


def prompt_at(breach_at: datetime) -> datetime:
    """When a breach (at ``breach_at``) with no outcome raises the 5-day prompt."""
    return breach_at + PROMPT_AFTER


def needs_prompt(breach_at: datetime | None, outcome: BreachOutcome | None, now: datetime) -> bool:
    """The breach was 5 days ago or more and no outcome code yet (national guidance)."""
    if breach_at is None:
        return False
    return now >= prompt_at(breach_at) and (outcome is None or outcome.code is None)


__all__ = ["CODE_LABELS", "OUTCOMES", "PROMPT_AFTER", "RADU", "STEP_LABELS", "code_refusal", "codes_for", "done",
           "follows_radu", "is_closed", "needs_prompt", "next_step", "outcome_id", "prompt_at", "step_refusal"]
