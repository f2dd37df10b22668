"""Each field officer's today and tomorrow: 5 to 8 visits around the booked installs.

Booked install appointments are fixed; the rest of the day is filled with collections
of kit from ended orders first (equipment goes missing when nobody calls), then checks
on active cases (a colleague's in the same region when the officer's own run out).
Visits earlier today already have an outcome.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from emdesk.domain.clock import local_date
from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Order
from emdesk.domain.users import User
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus

from . import visits
from .cases import Removal
from .gen import Gen


def officer_days(gen: Gen, officers: list[User], *, booked: dict[str, list[datetime]],
                 removals: dict[str, list[Removal]], active: dict[str, list[Order]],
                 serials: dict[str, tuple[str, ...]]) -> tuple[list[Visit], list[Note]]:
    out: list[Visit] = []
    notes: list[Note] = []
    for officer in officers:
        jobs = list(removals.get(officer.id, []))
        own = list(active.get(officer.id, []))
        cover = [o for k, orders in active.items() if k != officer.id for o in orders if o.region == officer.region]
        caseload = own + cover
        for day in (gen.today, gen.today + timedelta(days=1)):
            fixed = [t for t in booked.get(officer.id, []) if local_date(t) == day]
            wanted = max(0, gen.rng.randint(5, 8) - len(fixed))
            free = [t for t in visits.slot_times(gen, day)
                    if all(abs(t - f) >= visits.WINDOW for f in fixed)]
            seen: set[int] = set()
            for at in sorted(gen.rng.sample(free, min(wanted, len(free)))):
                status = visits.status_at(gen, at)
                if jobs and status is VisitStatus.SCHEDULED:
                    job = jobs.pop(0)
                    out.append(visits.visit(gen, order_id=job.order.id, subject_id=job.order.subject_id,
                                            kind=VisitKind.REMOVAL, at=at, officer_id=officer.id,
                                            attempt=job.attempt, serials=job.serials))
                    continue
                choices = [i for i in range(len(own)) if i not in seen] or [
                    i for i in range(len(own), len(caseload)) if i not in seen]
                if not choices:
                    continue
                i = gen.pick(choices)
                seen.add(i)
                out.append(_check(gen, caseload[i], officer, at, status, serials.get(caseload[i].id, ()), notes))
    return out, notes


def _check(gen: Gen, order: Order, officer: User, at: datetime, status: VisitStatus,
           serials: tuple[str, ...], notes: list[Note]) -> Visit:
    outcome = outcome_at = None
    if status is VisitStatus.COMPLETED:
        if gen.chance(0.85):
            outcome = OutcomeCode.CHECKED_OK
        else:
            outcome, status = OutcomeCode.NOT_AT_ADDRESS, VisitStatus.FAILED
        outcome_at = at + timedelta(minutes=gen.rng.randint(15, 50))
        if status is VisitStatus.FAILED:
            notes.append(visits.note(gen, order.subject_id, order.id, officer.id, outcome_at,
                                     "No answer at the check visit; monitoring centre asked to call the wearer."))
    return visits.visit(gen, order_id=order.id, subject_id=order.subject_id, kind=VisitKind.CHECK, at=at,
                        officer_id=officer.id, status=status, outcome=outcome, outcome_at=outcome_at,
                        serials=serials)
