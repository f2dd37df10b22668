"""Each field officer's today and tomorrow: 5 to 8 visits around the booked installs.

Booked install appointments are fixed; the rest of the day is filled with collections
of kit from ended orders first (equipment goes missing when nobody calls), then checks
on active cases (a colleague's in the same region when the officer's own run out).
Visits earlier today already have an outcome.  The visits still to make wait for the
route planner: each has the window the rules give it (when the wearer can be expected
home: the curfew, else the officer's shift; a removal the shift, the curfew having ended
with the order), its crew size and equipment, and no arrival yet; ``officer_id`` stays
the case officer's until a plan moves it.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from emdesk.domain.clock import at_local, local_date
from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.users import User
from emdesk.domain.visit_rules import Window, crew_size, shift_window, visit_window
from emdesk.domain.visits import OutcomeCode, Visit, VisitCause, VisitKind, VisitStatus

from . import visits
from .cases import Removal
from .gen import Gen


def _open_window(gen: Gen, day: date, order: Order | None = None) -> Window:
    """The rules' window for a visit still to make on ``day`` (never before now)."""
    earliest = max(gen.now, at_local(day, datetime.min.time()))
    found = (visit_window(order, earliest, use_appointment=False) if order is not None
             else shift_window(earliest))
    if local_date(found.start) != day:          # nothing left of that day: the shift's last hour
        found = shift_window(earliest)
    return found


def officer_days(gen: Gen, officers: list[User], *, booked: dict[str, list[datetime]],
                 removals: dict[str, list[Removal]], active: dict[str, list[Order]],
                 serials: dict[str, tuple[str, ...]],
                 subjects: dict[str, Subject] | None = None) -> tuple[list[Visit], list[Note]]:
    out: list[Visit] = []
    notes: list[Note] = []
    subjects = subjects or {}
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
                                            attempt=job.attempt, serials=job.serials,
                                            cause=VisitCause.FAILED_ATTEMPT if job.previous else
                                            VisitCause.ORDER_ENDED, previous=job.previous, crew=job.crew,
                                            window=_open_window(gen, day)))
                    continue
                choices = [i for i in range(len(own)) if i not in seen] or [
                    i for i in range(len(own), len(caseload)) if i not in seen]
                if not choices:
                    continue
                i = gen.pick(choices)
                seen.add(i)
                order = caseload[i]
                subject = subjects.get(order.subject_id)
                crew = crew_size(subject, order.installation.address or (subject.primary_address if subject else None))
                out.append(_check(gen, order, officer, at, status, serials.get(order.id, ()), notes, crew, day))
    return out, notes


def _check(gen: Gen, order: Order, officer: User, at: datetime, status: VisitStatus,
           serials: tuple[str, ...], notes: list[Note], crew: int, day: date) -> Visit:
    outcome = outcome_at = None
    window = None
    if status is VisitStatus.COMPLETED:
        if gen.chance(0.85):
            outcome = OutcomeCode.CHECKED_OK
        else:
            outcome, status = OutcomeCode.NOT_AT_ADDRESS, VisitStatus.FAILED
        outcome_at = at + timedelta(minutes=gen.rng.randint(15, 50))
        if status is VisitStatus.FAILED:
            notes.append(visits.note(gen, order.subject_id, order.id, officer.id, outcome_at,
                                     "No answer at the check visit; monitoring centre asked to call the wearer."))
    elif status is VisitStatus.SCHEDULED:
        window = _open_window(gen, day, order)
    return visits.visit(gen, order_id=order.id, subject_id=order.subject_id, kind=VisitKind.CHECK, at=at,
                        officer_id=officer.id, status=status, outcome=outcome, outcome_at=outcome_at,
                        serials=serials, cause=VisitCause.MANUAL, crew=crew, window=window)
