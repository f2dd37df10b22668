"""The demo's casework on yesterday's breaches: what the centre and the agencies did with them.

The engine makes the demo's incidents from the fleet's telemetry; nobody acts on them, so
the management figures for breaches would read "no data" and the agencies' inboxes would
be empty.  Here the demo's people act out yesterday: the region's monitoring operator
escalates the worst of the genuine incidents, builds and issues their packs, and the
responsible agency's account in that region responds to about half of them.  Only the
people's decisions and their moments are made up; every action goes through the real
services on a clock held at its simulated moment, so the records and the audit trail are
what the desktop would have written then.
"""
from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from emdesk.domain.clock import FixedClock
from emdesk.domain.engine.events import ms
from emdesk.domain.engine.periods import period_bounds, period_day
from emdesk.domain.monitoring import BreachOutcomeCode, BreachPack, Incident, IncidentStatus, RaduStep
from emdesk.domain.orders import Order, Responder
from emdesk.domain.responses import codes_for, follows_radu
from emdesk.domain.users import AGENCY_OF, Role, User
from emdesk.store import Store

from .incidents import IncidentService
from .packs import PackService
from .responses import ResponseService

ESCALATED_SHARE = 1 / 3         # of the genuine incidents, the worst first
# A pack takes about a second to render: the live demo's start stays quick on a big world.
MAX_PACKS = 6
RESPONDED_SHARE = 1 / 2         # of the issued packs
_AGENCY_ROLE = {Responder.POLICE: Role.POLICE, Responder.PROBATION: Role.PROBATION,
                Responder.HOME_OFFICE: Role.HOME_OFFICE}
# What an agency most often decides, most likely first (NAO: most breaches end in a warning
# or the same bail; recall and remand are the few).
_LIKELY = {Responder.POLICE: (5, 2, 1, 1, 3), Responder.PROBATION: (4, 2, 4, 1, 1, 2),
           Responder.HOME_OFFICE: (2, 4, 1, 1, 1, 3)}
_OPEN = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)


@dataclass(frozen=True)
class CaseworkReport:
    escalated: int = 0
    issued: int = 0
    responded: int = 0          # outcomes decided
    steps: int = 0              # RADU steps recorded
    skipped: bool = False       # packs were there already: nothing done


def _rng(seed: int, incident: Incident) -> random.Random:
    """One stream per breach, from what the engine made of it (not its random id), so the same
    world and seed act out the same casework."""
    key = f"{seed}|{incident.order_id}|{incident.started_at.isoformat()}|{incident.condition}"
    return random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def _users(store: Store) -> dict[tuple[Role, str], User]:
    """The first account of each role in each region (by username: the same one every time)."""
    out: dict[tuple[Role, str], User] = {}
    for user in sorted(store.find(User), key=lambda u: u.username):
        out.setdefault((user.role, user.region), user)
    return out


def _agency_user(users: dict[tuple[Role, str], User], responder: Responder | None, region: str) -> User | None:
    if responder is None:
        return None
    role = _AGENCY_ROLE[responder]
    if role is Role.HOME_OFFICE:
        return next((u for (r, _), u in users.items() if r is role), None)
    return users.get((role, region))


def yesterdays_breaches(store: Store, now: datetime) -> list[Incident]:
    """Yesterday's period's genuine incidents still waiting for a person, one a wearer (its
    worst), worst first."""
    start_ms, _ = period_bounds(period_day(now) - timedelta(days=1))
    worst: dict[str, Incident] = {}
    for i in store.find(Incident, where={"status": [s.value for s in _OPEN]}):
        if i.technical or ms(i.period_start) != start_ms or not i.subject_id:
            continue
        held = worst.get(i.subject_id)
        if held is None or (-i.priority, i.started_at, i.id) < (-held.priority, held.started_at, held.id):
            worst[i.subject_id] = i
    return sorted(worst.values(), key=lambda i: (-i.priority, i.started_at, i.id))


def act_out_casework(store: Store, now: datetime, *, seed: int = 2026) -> CaseworkReport:
    """Escalate, pack, issue and respond to yesterday's worst breaches at believable moments
    before ``now``, in the order they happened; does nothing when the store holds any breach
    pack already."""
    if store.find(BreachPack, limit=1):
        return CaseworkReport(skipped=True)
    users = _users(store)
    # A region with no operator of its own is worked by the supervisor, as on the desktop.
    supervisor = next((u for (r, _), u in users.items() if r is Role.SUPERVISOR), None)
    breaches = yesterdays_breaches(store, now)
    plans: list[_Plan] = []
    for incident in breaches[:min(MAX_PACKS, round(len(breaches) * ESCALATED_SHARE))]:
        operator = users.get((Role.MONITORING_OPERATOR, incident.region), supervisor)
        if operator is None:
            continue
        rng = _rng(seed, incident)
        escalate_at = (incident.ended_at or incident.started_at) + _minutes(rng, 15, 75)
        if escalate_at > now - timedelta(minutes=90):       # breached too late last night to finish
            continue
        # The pack within hours, well inside its deadline (noon tomorrow), and before now.
        issue_at = min(escalate_at + _minutes(rng, 60, 360), now - _minutes(rng, 30, 60))
        plans.append(_Plan(incident, operator, rng, escalate_at, issue_at - _minutes(rng, 5, 20), issue_at))
    # The agencies answer about half, the packs they have had longest first; the rest await.
    by_issue = sorted(plans, key=lambda p: p.issue_at)
    for plan in [p for p in by_issue if _agency_user(users, _responder(store, p.incident), p.incident.region)
                 ][:round(len(plans) * RESPONDED_SHARE)]:
        plan.agency = _agency_user(users, _responder(store, plan.incident), plan.incident.region)
    acts = sorted((a for plan in plans for a in plan.acts(now)), key=lambda a: a[0])
    held = store.clock
    report = CaseworkReport()
    try:
        for at, act in acts:
            # The store's clock too: its audit entries and timestamps say when it was done.
            store.clock = FixedClock(at.replace(microsecond=0))      # a desk's clock, to the second
            report = act(store, store.clock, report)
    finally:
        store.clock = held
    return report


def _responder(store: Store, incident: Incident) -> Responder | None:
    order = store.get(Order, incident.order_id)
    return order.responder if order else None


@dataclass
class _Plan:
    """One breach's casework: who does what when."""

    incident: Incident
    operator: User
    rng: random.Random
    escalate_at: datetime
    build_at: datetime
    issue_at: datetime
    agency: User | None = None
    pack: BreachPack | None = None

    def acts(self, now: datetime) -> list[tuple[datetime, Callable[[Store, FixedClock, CaseworkReport], CaseworkReport]]]:
        out = [(self.escalate_at, self._escalate), (self.build_at, self._build), (self.issue_at, self._issue)]
        if self.agency is None:
            return out
        responder = _responder_of(self.agency)
        codes = codes_for(responder)
        code = self.rng.choices(codes, weights=_LIKELY[responder][:len(codes)])[0]
        at = self.issue_at
        if not follows_radu(responder):
            # Within hours; a pack issued this morning gets its answer before now if it is quick.
            at = at + min(_minutes(self.rng, 40, 240), (now - at) * self.rng.uniform(0.5, 0.9))
            return [*out, (at, lambda store, clock, r: self._outcome(store, clock, r, code))]
        for step, gap in ((RaduStep.RECEIVE, (5, 40)), (RaduStep.ASSESS, (15, 60)), (RaduStep.DECIDE, (20, 120)),
                          (RaduStep.UPDATE, (10, 45))):
            at = at + _minutes(self.rng, *gap)
            if at >= now:           # as far as the police had got by now
                break
            out.append((at, lambda store, clock, r, step=step: self._step(store, clock, r, step, code)))
        return out

    def _escalate(self, store: Store, clock: FixedClock, r: CaseworkReport) -> CaseworkReport:
        IncidentService(store, self.operator, clock).escalate(
            self.incident.id, f"{self.incident.condition.replace('_', ' ')} breach, not technical: the kit was healthy")
        return replace(r, escalated=r.escalated + 1)

    def _build(self, store: Store, clock: FixedClock, r: CaseworkReport) -> CaseworkReport:
        self.pack = PackService(store, self.operator, clock).build([self.incident.id])
        return r

    def _issue(self, store: Store, clock: FixedClock, r: CaseworkReport) -> CaseworkReport:
        self.pack = PackService(store, self.operator, clock).issue(self.pack.id)
        return replace(r, issued=r.issued + 1)

    def _outcome(self, store: Store, clock: FixedClock, r: CaseworkReport, code: BreachOutcomeCode) -> CaseworkReport:
        ResponseService(store, self.agency, clock).record_outcome(self.pack.pack_id, code, _NOTES[code])
        return replace(r, responded=r.responded + 1)

    def _step(self, store: Store, clock: FixedClock, r: CaseworkReport, step: RaduStep,
              code: BreachOutcomeCode) -> CaseworkReport:
        ResponseService(store, self.agency, clock).record_step(
            self.pack.pack_id, step, _RADU_NOTES[step], code=code if step is RaduStep.DECIDE else None)
        return replace(r, steps=r.steps + 1, responded=r.responded + (step is RaduStep.DECIDE))


def _responder_of(agency: User) -> Responder:
    return Responder(AGENCY_OF[agency.role])


_RADU_NOTES = {RaduStep.RECEIVE: "Pack received by the force control room",
               RaduStep.ASSESS: "Assessed against the bail conditions and the wearer's history",
               RaduStep.DECIDE: "Decision recorded",
               RaduStep.UPDATE: "Monitoring centre and the court told"}
_NOTES: dict[BreachOutcomeCode, str] = {
    BreachOutcomeCode.ENGAGE: "Officer to see the wearer this week about the breach",
    BreachOutcomeCode.ADJUST_CONDITIONS: "Conditions to be reviewed with the wearer",
    BreachOutcomeCode.FORMAL_WARNING: "Formal warning issued in writing",
    BreachOutcomeCode.RECALL: "Recall requested",
    BreachOutcomeCode.RETURN_TO_COURT: "Breach proceedings: returned to court",
    BreachOutcomeCode.NO_FURTHER_ACTION: "Explanation accepted",
    BreachOutcomeCode.PRIORITISE_CASEWORK: "Casework prioritised",
    BreachOutcomeCode.DETENTION: "Referred for detention",
    BreachOutcomeCode.ARREST: "Arrest requested",
    BreachOutcomeCode.PROSECUTION: "Referred for prosecution",
}


__all__ = ["CaseworkReport", "act_out_casework", "yesterdays_breaches"]
