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
from dataclasses import dataclass
from datetime import datetime, timedelta

from emdesk.domain.clock import FixedClock
from emdesk.domain.engine.events import ms
from emdesk.domain.engine.periods import period_bounds, period_day
from emdesk.domain.monitoring import BreachOutcomeCode, BreachPack, Incident, IncidentStatus, RaduStep
from emdesk.domain.orders import Responder
from emdesk.domain.responses import codes_for, follows_radu
from emdesk.domain.users import Role, User
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


def _agency_user(users: dict[tuple[Role, str], User], responder: Responder, region: str) -> User | None:
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
    before ``now``; does nothing when the store holds any breach pack already."""
    if store.find(BreachPack, limit=1):
        return CaseworkReport(skipped=True)
    users = _users(store)
    # A region with no operator of its own is worked by the supervisor, as on the desktop.
    supervisor = next((u for (r, _), u in users.items() if r is Role.SUPERVISOR), None)
    breaches = yesterdays_breaches(store, now)
    escalated, packs = 0, []
    for incident in breaches[:min(MAX_PACKS, round(len(breaches) * ESCALATED_SHARE))]:
        operator = users.get((Role.MONITORING_OPERATOR, incident.region), supervisor)
        if operator is None:
            continue
        rng = _rng(seed, incident)
        escalate_at = (incident.ended_at or incident.started_at) + _minutes(rng, 15, 75)
        if escalate_at > now - timedelta(minutes=90):       # breached too late last night to finish
            continue
        IncidentService(store, operator, FixedClock(escalate_at)).escalate(
            incident.id, f"{incident.condition.replace('_', ' ')} breach, not technical: the kit was healthy")
        escalated += 1
        # The pack within hours, well inside its deadline (noon tomorrow), and before now.
        issue_at = min(escalate_at + _minutes(rng, 60, 360), now - _minutes(rng, 30, 60))
        built = PackService(store, operator, FixedClock(issue_at - _minutes(rng, 5, 20))).build([incident.id])
        packs.append((PackService(store, operator, FixedClock(issue_at)).issue(built.id), rng))
    # The agencies answer about half, the packs they had longest first; the rest await.
    responded = steps = 0
    answerable = [(p, rng) for p, rng in sorted(packs, key=lambda x: x[0].sent_at)
                  if _agency_user(users, p.responder, p.region) is not None]
    for pack, rng in answerable[:round(len(packs) * RESPONDED_SHARE)]:
        done, did = _respond(store, _agency_user(users, pack.responder, pack.region), pack, rng, now)
        responded += done
        steps += did
    return CaseworkReport(escalated=escalated, issued=len(packs), responded=responded, steps=steps)


def _respond(store: Store, agency: User, pack: BreachPack, rng: random.Random, now: datetime) -> tuple[int, int]:
    """The agency's response, as far as it got by ``now``: (outcomes decided, RADU steps)."""
    codes = codes_for(pack.responder)
    code = rng.choices(codes, weights=_LIKELY[pack.responder][:len(codes)])[0]
    at = pack.sent_at
    if not follows_radu(pack.responder):
        # Within hours; a pack issued this morning gets its answer before now, if quick.
        at = at + min(_minutes(rng, 40, 240), (now - at) * rng.uniform(0.5, 0.9))
        ResponseService(store, agency, FixedClock(at)).record_outcome(pack.pack_id, code, _NOTES[code])
        return 1, 0
    decided = steps = 0
    for step, gap in ((RaduStep.RECEIVE, (5, 40)), (RaduStep.ASSESS, (15, 60)), (RaduStep.DECIDE, (20, 120)),
                      (RaduStep.UPDATE, (10, 45))):
        at = at + _minutes(rng, *gap)
        if at >= now:
            break
        ResponseService(store, agency, FixedClock(at)).record_step(
            pack.pack_id, step, _RADU_NOTES[step], code=code if step is RaduStep.DECIDE else None)
        steps += 1
        decided += step is RaduStep.DECIDE
    return decided, steps


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
