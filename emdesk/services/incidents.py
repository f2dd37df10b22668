"""What an operator does to an incident that the engine cannot: excuse time, reopen.

An excuse (a reasonable excuse, or an absence the responsible officer authorised) takes
its stretch off the incident and off the period's accumulated violation; reopening an
incident the engine closed as technical puts it back in front of people.  Both are
audited, kept in the incident's history, and sync as any record.
"""
from __future__ import annotations

from datetime import datetime

from emdesk.domain.clock import Clock
from emdesk.domain.engine.events import ms
from emdesk.domain.engine.hits import Span
from emdesk.domain.engine.incidents import Excused, excused_seconds
from emdesk.domain.engine.periods import period_bounds, period_day
from emdesk.domain.monitoring import Excuse, ExcuseKind, Incident, IncidentChange, IncidentStatus
from emdesk.domain.users import Permission, User
from emdesk.store import Store

from .errors import AccessDenied, ServiceError
from .evaluation import period_totals


class IncidentService:
    def __init__(self, store: Store, user: User, clock: Clock):
        if not user.can(Permission.WORK_ALERTS):
            raise AccessDenied(f"{user.role.label} accounts do not work incidents")
        self.store, self.user, self.clock = store, user, clock

    def _get(self, incident_id: str) -> Incident:
        incident = self.store.get(Incident, incident_id)
        if incident is None:
            raise ServiceError(f"no incident {incident_id}")
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

    def reopen(self, incident_id: str, reason: str) -> Incident:
        incident = self._get(incident_id)
        if incident.status is not IncidentStatus.AUTO_CLOSED:
            raise ServiceError(f"only an incident the engine closed can be reopened (this one is {incident.status.value})")
        if not reason.strip():
            raise ServiceError("reason: say why it needs a person after all")
        changed = incident.evolve(status=IncidentStatus.OPEN, history=(*incident.history, IncidentChange(
            at=self.clock.now(), status=IncidentStatus.OPEN, by=self.user.id, reason=reason.strip())))
        return self._save([changed], "reopen")[0]

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
