"""The breach pack's first page in words: who, which condition, when, for how long, how sure
we are that it is not technical and why, the risk, what the responsible agency must decide
and by when; and the parts of the document about the agency, the wearer and the order.

The decision follows the agency's own process (NAO Figure 1): the police work a bail breach
through RADU (Receive, Assess, Decide, Update) and decide on arrest; probation decides on
engagement, a warning, a variation, recall (licence) or a return to court (court orders);
the Home Office on its casework, a variation, detention or prosecution.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from emdesk.domain.clock import local
from emdesk.domain.deadlines import Deadlines
from emdesk.domain.monitoring import BreachOutcomeCode as C, Incident, PackTemplate
from emdesk.domain.orders import Cohort, Order, Responder
from emdesk.domain.packs import Agency, Fact, PackOrder, PackSubject, PastBreach, Summary
from emdesk.domain.people import Subject

from emdesk.domain.responses import prompt_at

from .pack_evidence import Health, code_words, day_hm, duration_words, hm
from .subject_words import ConditionLine, conditions_words

# National guidance (NAO 1.9): a breach with no recorded outcome 5 days after it is prompted
# for; the pack asks for the outcome by then (the same clock as the agencies' inbox).
RESPONSE_DAYS = 5

AGENCY_NAMES = {Responder.POLICE: "Police", Responder.PROBATION: "Probation Service",
                Responder.HOME_OFFICE: "Home Office"}


def template_for(responder: Responder) -> PackTemplate:
    """Bail template for the police (RADU); the non-bail one for probation and the Home Office."""
    return PackTemplate.BAIL if responder is Responder.POLICE else PackTemplate.NON_BAIL


def decision_options(responder: Responder, cohort: Cohort | None) -> tuple[C, ...]:
    """The outcomes the agency chooses between for this order (BreachOutcomeCode)."""
    if responder is Responder.POLICE:
        return (C.ARREST, C.NO_FURTHER_ACTION)
    if responder is Responder.HOME_OFFICE:
        return (C.PRIORITISE_CASEWORK, C.ADJUST_CONDITIONS, C.DETENTION, C.PROSECUTION, C.NO_FURTHER_ACTION)
    enforce = C.RECALL if cohort is Cohort.POST_RELEASE else C.RETURN_TO_COURT
    return (C.ENGAGE, C.FORMAL_WARNING, C.ADJUST_CONDITIONS, enforce, C.NO_FURTHER_ACTION)


def _option(code: C) -> str:
    return code.value.replace("_", " ")


def decision_words(responder: Responder, cohort: Cohort | None, respond_by: datetime) -> str:
    by = f"{local(respond_by):%a %d %b %Y}"
    if responder is Responder.POLICE:
        return ("Police (RADU): receive this pack, assess the breach, decide whether to arrest for breach of bail "
                "(the court then remands or re-bails, on the same or amended conditions) or to take no further "
                f"action, and update the monitoring centre with the decision, by {by}.")
    options = ", ".join(_option(c) for c in decision_options(responder, cohort)[:-1])
    return (f"{AGENCY_NAMES[responder]}: decide the response ({options}, or no further action) and record it "
            f"with the monitoring centre by {by}.")


def agency(order: Order) -> Agency:
    responder = order.responder or Responder.PROBATION
    officer = order.responsible_officer
    return Agency(responder=responder.value, name=AGENCY_NAMES[responder],
                  organisation=officer.organisation or order.notifying_organisation, contact=officer.name,
                  phone=officer.phone, email=officer.email)


def contact_line(a: Agency) -> str:
    """Whom a pack is issued to by default: the order's responsible officer, else the agency."""
    who = ", ".join(p for p in (a.contact, a.organisation) if p)
    return who or a.name


def pack_subject(subject: Subject | None, order: Order) -> PackSubject:
    if subject is None:
        return PackSubject(subject_id=order.subject_id, name="(no person on record)",
                           risk_level=_risk_level(order))
    address = order.installation.address or subject.primary_address
    home = address.one_line() if address else ("no fixed abode" if subject.no_fixed_abode else "")
    return PackSubject(subject_id=subject.id, name=subject.full_name or "(no name on record)",
                       date_of_birth=subject.date_of_birth, address=home, aliases=subject.aliases,
                       risk_level=_risk_level(order),
                       risk_notes="; ".join(p for p in (", ".join(f.label for f in subject.risk_flags),
                                                        subject.risk_notes) if p))


def _risk_level(order: Order) -> str:
    return order.risk_level.value.replace("_", " ") if order.risk_level else ""


def pack_order(order: Order, kit_lines: Sequence[str]) -> PackOrder:
    return PackOrder(
        order_id=order.id, reference=order.reference or order.id, cohort=order.cohort.label if order.cohort else "",
        order_type=order.order_type.value.replace("_", " ") if order.order_type else "",
        issuing_body=order.issuing_body, start=order.start, end=order.end,
        conditions=tuple(f"{c.title}: {c.text}" for c in conditions_words(order.conditions)),
        devices=tuple(kit_lines))


def condition_words(order: Order, incidents: Sequence[Incident]) -> str:
    """The condition breached, as the order says it, and what the wearer did."""
    lines = conditions_words(order.conditions)
    said = []
    for i in incidents:
        line = _line_for(i, lines)
        text = f"{line.title}: {line.text}" if line else i.condition.replace("_", " ").capitalize()
        if text not in said:
            said.append(text)
    did = code_words(sorted({c for i in incidents for c in i.codes}), incidents[0].condition)
    return f"{'; '.join(said)} ({did})"


def _line_for(incident: Incident, lines: list[ConditionLine]) -> ConditionLine | None:
    kind, _, zone = incident.condition.partition(":")       # the engine says "zone:<name>"
    same = [c for c in lines if c.kind == kind]
    if zone:
        same = [c for c in same if c.title.split(": ", 1)[-1] == zone] or same
    elif len(same) > 1:       # several of a kind: the one the engine named
        named = [c for c in same if c.title.split(": ", 1)[-1] in incident.detail]
        same = named or same
    return same[0] if same else None


def _zone_name(incident: Incident) -> str:
    kind, _, zone = incident.condition.partition(":")
    return zone if kind == "zone" else ""


def confidence(incidents: Sequence[Incident], health: Health, engine_technical: int) -> str:
    sure = min(i.confidence for i in incidents)
    certain = all(i.certain for i in incidents)
    if not health.doubts and certain and sure >= 0.8 and not engine_technical:
        return "high"
    if health.doubts and (not certain or sure < 0.6):
        return "low"
    return "medium"


def not_technical_words(incidents: Sequence[Incident], health: Health, engine_technical: int, level: str,
                        escalated_by: str) -> str:
    sure = min(i.confidence for i in incidents)
    parts = [f"{level.capitalize()} confidence that the wearer did this, not the equipment."]
    parts.append(f"The monitoring engine's confidence in the violation: {sure:.0%}"
                 + ("" if all(i.certain for i in incidents) else " (a possible violation: the fix straddles a boundary)")
                 + ".")
    if engine_technical:
        parts.append(f"The engine read {engine_technical} of its alerts as possibly technical.")
    closed = [c for i in incidents for c in i.history if c.status.value == "auto_closed"]
    if closed:
        parts.append(f"The engine had closed it as technical ({closed[-1].reason or 'no reason given'}); "
                     "a person reopened it and escalated it.")
    if health.doubts:
        parts.append("Device health leaves a technical cause possible: " + "; ".join(health.doubts) + ".")
    elif health.readings:
        parts.append("Device health rules a technical cause out: " + "; ".join(
            f"{r.kind} {r.serial} {_health_brief(r)}" for r in health.readings) + ".")
    else:
        parts.append("No device on the order to read health from.")
    if escalated_by:
        parts.append(f"Escalated as a breach by {escalated_by}.")
    return " ".join(parts)


def _health_brief(r) -> str:
    if r.home_unit:
        return f"({r.home_unit})"
    return f"(battery {r.battery.split(';')[0] or 'unknown'}; {r.tamper})"


def risk_words(order: Order, subject: Subject | None, incidents: Sequence[Incident], past: Sequence[PastBreach]) -> str:
    parts = []
    if order.risk_level:
        parts.append(f"{order.risk_level.value.replace('_', ' ').capitalize()} risk of serious harm")
    else:
        parts.append("Risk of serious harm not assessed on the order")
    if subject is not None and subject.risk_flags:
        parts.append("flags: " + ", ".join(f.label.lower() for f in subject.risk_flags))
    top = max(incidents, key=lambda i: i.priority)
    parts.append(f"priority {top.priority} of 100" + (" (serious)" if any(i.serious for i in incidents) else ""))
    if past:
        last = past[0]
        parts.append(f"{len(past)} previous breach{'es' if len(past) != 1 else ''} "
                     f"(last {local(last.started_at):%d %b %Y}: {last.outcome or 'no outcome recorded'})")
    else:
        parts.append("no previous breach on record")
    return "; ".join(parts) + "."


def summary(*, who_name: str, subject: Subject | None, order: Order, incidents: Sequence[Incident],
            health: Health, past: Sequence[PastBreach], due: Deadlines, special: bool, escalated_by: str,
            engine_technical: int) -> Summary:
    first = incidents[0]
    ended = None if any(i.ended_at is None for i in incidents) else max(i.ended_at for i in incidents)
    seconds = int(round(sum(i.seconds for i in incidents)))
    per_period: dict[datetime, float] = {}
    for i in incidents:
        per_period[i.period_start] = max(per_period.get(i.period_start, 0.0), i.period_seconds)
    period_seconds = int(round(sum(per_period.values())))
    responder = order.responder or Responder.PROBATION
    respond_by = prompt_at(first.started_at)
    level = confidence(incidents, health, engine_technical)
    condition = condition_words(order, incidents)
    what = code_words(sorted({c for i in incidents for c in i.codes}), first.condition)
    when = (f"from {day_hm(first.started_at)} to {hm(ended)}" if ended is not None
            else f"from {day_hm(first.started_at)}, still going when this pack was built")
    zone = _zone_name(first)
    if ended is not None and ended == first.started_at:     # a moment (a tamper), not a stretch
        headline = f"{who_name} {what}{f' ({zone})' if zone else ''} at {day_hm(first.started_at)}."
    else:
        headline = f"{who_name} {what}{f' ({zone})' if zone else ''} {when}: {duration_words(seconds)}."
    # The renderer adds the date of birth and the curfew address beside the name.
    who = f"{who_name}; order {order.reference or order.id} ({order.cohort.label if order.cohort else 'no cohort'})"
    # The renderer prints the deadlines, the address and the totals itself; the facts add what
    # only some packs need.
    facts = []
    if len(per_period) > 1:
        facts.append(Fact(label="Accumulated violation", value="; ".join(
            f"period from {day_hm(p)}: {duration_words(s)}" for p, s in sorted(per_period.items()))))
    if len(incidents) > 1:
        facts.append(Fact(label="Incidents", value=f"{len(incidents)}, from {day_hm(first.started_at)}"))
    if special:
        facts.append(Fact(label="Specials", value="a specials case: shorter deadlines apply"))
    if any(i.excuses for i in incidents):
        facts.append(Fact(label="Excused time", value="accepted excuses are taken off the times above"))
    return Summary(
        headline=headline, who=who, condition=condition, started_at=first.started_at, ended_at=ended,
        duration_seconds=seconds, period_seconds=period_seconds,
        not_technical=not_technical_words(incidents, health, engine_technical, level, escalated_by),
        confidence=level, risk=risk_words(order, subject, incidents, past),
        decision=decision_words(responder, order.cohort, respond_by), respond_by=respond_by,
        notification_due=due.notify_by, pack_due=due.pack_by, special=special, facts=tuple(facts))


__all__ = ["AGENCY_NAMES", "RESPONSE_DAYS", "agency", "condition_words", "confidence", "contact_line",
           "decision_options", "decision_words", "pack_order", "pack_subject", "risk_words", "summary", "template_for"]
