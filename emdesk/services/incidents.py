"""What an operator does to an incident that the engine cannot: triage it, excuse time, reopen.

Triage, as the queue's keys do it: acknowledge (someone has it), classify it genuine or
technical with a reason, add a note, escalate it to a breach pack.  Classifying it
technical closes it (the equipment, not the wearer: nothing to notify); genuine leaves
it with the operator, acknowledged, for an excuse or an escalation.  The operator's
verdict stands when the engine re-evaluates the period (``classified_by``).

An excuse (a reasonable excuse, or an absence the responsible officer authorised) takes
its stretch off the incident and off the period's accumulated violation; reopening an
incident closed as technical puts it back in front of people.  Every action is audited,
kept in the incident's history (who, when, why), and syncs as any record write.
"""
from __future__ import annotations

from datetime import datetime

from emdesk.domain.clock import Clock
from emdesk.domain.engine.events import ms
from emdesk.domain.engine.hits import Span
from emdesk.domain.engine.incidents import Excused, excused_seconds
from emdesk.domain.engine.periods import period_bounds, period_day
from emdesk.domain.monitoring import Excuse, ExcuseKind, Incident, IncidentChange, IncidentStatus, Note
from emdesk.domain.users import Permission, User
from emdesk.store import Store

from .errors import AccessDenied, ServiceError
from .evaluation import period_totals

# The statuses a person still works: the engine's auto-closed ones must be reopened first,
# closed and escalated ones are decided.
_WORKING = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)
NOTE_LIMIT = 10_000


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(f"reason: {what}")
    return reason


def _refuse(incident: Incident, doing: str) -> ServiceError:
    hint = {IncidentStatus.AUTO_CLOSED: "reopen it first if it needs a person",
            IncidentStatus.CLOSED: "it is closed; reopen it first if that was wrong",
            IncidentStatus.ESCALATED: "it has been escalated for a breach pack already"}.get(incident.status, "")
    return ServiceError(f"status: cannot {doing} an incident that is {incident.status.value.replace('_', ' ')}"
                        + (f" ({hint})" if hint else ""))


class IncidentService:
    def __init__(self, store: Store, user: User, clock: Clock):
        if not user.can(Permission.WORK_ALERTS):
            raise AccessDenied(f"{user.role.label} accounts do not work incidents")
        self.store, self.user, self.clock = store, user, clock

    def _get(self, incident_id: str) -> Incident:
        incident = self.store.get(Incident, incident_id)
        if incident is None:
            raise ServiceError(f"incident_id: no incident {incident_id}; refresh the queue")
        if not self.user.can(Permission.VIEW_ALL_CASES) and incident.region != self.user.region:
            raise AccessDenied("that incident is not in your region")
        return incident

    def excuse(self, incident_id: str, kind: ExcuseKind, start: datetime, end: datetime, reason: str) -> Incident:
        incident = self._get(incident_id)
        reason = reason.strip()
        if not reason:
            raise ServiceError("reason: say why the time is excused (who authorised it, what happened)")
        if not start < end:
            raise ServiceError("the excused stretch must end after it starts")
        until = incident.ended_at or self.clock.now()
        if end <= incident.started_at or start >= until:
            raise ServiceError("the excused stretch does not overlap the incident: check the times")
        now = self.clock.now()
        excuses = (*incident.excuses, Excuse(kind=kind, start=start, end=end, reason=reason, by=self.user.id, at=now))
        stop = ms(until)
        gross = (stop - ms(incident.started_at)) / 1000
        net = gross - excused_seconds(ms(incident.started_at), stop, [Excused(ms(e.start), ms(e.end)) for e in excuses])
        changed = incident.evolve(excuses=excuses, seconds=round(max(0.0, net), 3), history=(*incident.history, IncidentChange(
            at=now, status=incident.status, by=self.user.id, reason=f"{kind.value.replace('_', ' ')}: {reason}")))
        return self._save([changed], "excuse")[0]

    def acknowledge(self, incident_id: str) -> Incident:
        """Someone has it: the notification clock still runs."""
        incident = self._get(incident_id)
        if incident.status is not IncidentStatus.OPEN:
            raise _refuse(incident, "acknowledge")
        return self._change(incident, "acknowledge", IncidentStatus.ACKNOWLEDGED, "acknowledged")

    def classify(self, incident_id: str, genuine: bool, reason: str) -> Incident:
        """Genuine (the wearer's doing): it stays with the operator, acknowledged.  Technical
        (the equipment's): it is closed and comes off the period's accumulated violation."""
        incident = self._get(incident_id)
        verdict = "genuine" if genuine else "technical"
        reason = _reason(reason, f"say why it is {verdict} (what the evidence shows)")
        if incident.status not in _WORKING:
            raise _refuse(incident, f"classify as {verdict}")
        status = IncidentStatus.ACKNOWLEDGED if genuine else IncidentStatus.CLOSED
        return self._change(incident, "classify", status, f"classified {verdict}: {reason}", technical=not genuine,
                            classified_by=self.user.id, serious=genuine and incident.priority >= 70)

    def escalate(self, incident_id: str, reason: str) -> Incident:
        """The decision that it is a breach for the responsible officials: the pack's clock
        runs from here (the pack itself is built elsewhere)."""
        incident = self._get(incident_id)
        reason = _reason(reason, "say why it goes to the officials (what the breach is)")
        if incident.status not in _WORKING:
            raise _refuse(incident, "escalate")
        # Escalating is a verdict too: the wearer's doing, whatever the engine read into it.
        return self._change(incident, "escalate", IncidentStatus.ESCALATED, f"escalated for a breach pack: {reason}",
                            technical=False, classified_by=self.user.id, serious=incident.priority >= 70)

    def add_note(self, incident_id: str, text: str) -> Incident:
        """A case note on the wearer's order (append-only), named in the incident's history."""
        incident = self._get(incident_id)
        text = (text or "").strip()
        if not text:
            raise ServiceError("text: write the note (what was done, who was spoken to)")
        if len(text) > NOTE_LIMIT:
            raise ServiceError(f"text: a note holds at most {NOTE_LIMIT:,} characters ({len(text):,} given); split it")
        if not incident.subject_id:
            raise ServiceError("subject_id: this incident names no wearer to keep a note for")
        now = self.clock.now()
        note = Note(subject_id=incident.subject_id, order_id=incident.order_id, author_id=self.user.id, at=now,
                    text=text)
        line = text.splitlines()[0]
        summary = line if len(line) <= 80 else line[:79] + "…"
        with self.store.transaction():
            self.store.put_many([note], actor=self.user.id, audit_action="note")
            return self._change(incident, "note", incident.status, f"note {note.id}: {summary}")

    def _change(self, incident: Incident, action: str, status: IncidentStatus, reason: str, **fields) -> Incident:
        changed = incident.evolve(status=status, history=(*incident.history, IncidentChange(
            at=self.clock.now(), status=status, by=self.user.id, reason=reason)), **fields)
        return self._save([changed], action)[0]

    def reopen(self, incident_id: str, reason: str) -> Incident:
        incident = self._get(incident_id)
        closed_technical = incident.status is IncidentStatus.CLOSED and incident.technical
        if incident.status is not IncidentStatus.AUTO_CLOSED and not closed_technical:
            raise ServiceError(f"status: only an incident the engine closed, or one classified technical, can be "
                               f"reopened (this one is {incident.status.value.replace('_', ' ')})")
        if not reason.strip():
            raise ServiceError("reason: say why it needs a person after all")
        # A verdict reopened is withdrawn: the engine's reading holds until someone classifies it again.
        return self._change(incident, "reopen", IncidentStatus.OPEN, reason.strip(), classified_by="")

    def _save(self, changed: list[Incident], action: str) -> list[Incident]:
        first = changed[0]
        start, end = period_bounds(period_day(first.period_start))
        others = [i for i in self.store.find(Incident, where={"order_id": first.order_id})
                  if i.period_start == first.period_start]
        out = period_totals(others, changed, Span(start, end, ms(self.clock.now())))
        with self.store.transaction():
            saved = self.store.put_many(out, actor=self.user.id, audit_action=action)
        by_id = {i.id: i for i in saved}
        return [by_id[i.id] for i in changed]
