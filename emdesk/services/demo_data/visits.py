"""Field visits: install attempts, checks, removals, and each officer's working day.

Install attempts follow the NAO's picture: about 62% fitted within two attempts, the
rest failing for "not at address", "refused", "late order" or "wrong address" first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from emdesk.domain.clock import local_date
from emdesk.domain.devices import DeviceKind
from emdesk.domain.monitoring import Note
from emdesk.domain.visit_rules import Window, rebooking_id
from emdesk.domain.visits import OutcomeCode, Visit, VisitCause, VisitKind, VisitStatus

from .gen import Gen

# Failures before the successful attempt: 0 or 1 -> fitted within two attempts.
_FAILURES = ((0, 47), (1, 18), (2, 22), (3, 13))
_INSTALL_FAILURES = ((OutcomeCode.NOT_AT_ADDRESS, 45), (OutcomeCode.REFUSED, 15), (OutcomeCode.LATE_ORDER, 20),
                     (OutcomeCode.WRONG_ADDRESS, 15), (OutcomeCode.UNSAFE, 5))
# A working day on the road: visit windows start at these local times.
SLOTS = ((9, 0), (10, 15), (11, 30), (12, 45), (14, 0), (15, 15), (16, 30), (17, 45), (19, 0), (20, 15))
WINDOW = timedelta(hours=1)

_NOTES = {
    OutcomeCode.NOT_AT_ADDRESS: "No answer at the door; calling card left and the responsible officer told.",
    OutcomeCode.REFUSED: "Subject refused to have the tag fitted; said nobody told them about a curfew. "
                         "Responsible officer informed.",
    OutcomeCode.LATE_ORDER: "Order reached us after the last install run of the day; rebooked for the next run.",
    OutcomeCode.WRONG_ADDRESS: "House number on the order does not exist on this street; "
                               "asked the notifying body to confirm the address.",
    OutcomeCode.UNSAFE: "Aggressive dog loose at the address; withdrew and rebooked as a two-officer visit.",
    OutcomeCode.EQUIPMENT_NOT_RECOVERED: "Subject has moved out; the home unit was not at the address.",
}


@dataclass(frozen=True)
class Attempt:
    at: datetime                 # window start
    outcome: OutcomeCode
    outcome_at: datetime


def install_attempts(gen: Gen, earliest: datetime, latest: datetime) -> list[Attempt]:
    """Attempts on the slot grid up to and including the successful one, all over by ``latest``."""
    failures = gen.weighted(_FAILURES)
    gaps = [timedelta(hours=gen.rng.uniform(4, 26)) for _ in range(failures)]
    codes = [gen.weighted(_INSTALL_FAILURES) for _ in range(failures)]
    first = earliest + timedelta(minutes=gen.rng.randint(30, 300))

    def times(k: int) -> list[datetime]:
        out = [slot_from(gen, first)]
        for gap in gaps[:k]:
            out.append(slot_from(gen, out[-1] + gap))
        return out

    planned = times(failures)
    # Too little time since the order arrived for that many failures: fewer of them.
    while failures and planned[-1] + WINDOW > latest:
        failures -= 1
        planned = times(failures)
    if planned[-1] + WINDOW > latest:
        planned = [slot_before(gen, latest - WINDOW)]
    out = []
    for i, at in enumerate(planned):
        outcome = codes[i] if i < failures else OutcomeCode.INSTALLED
        out.append(Attempt(at=at, outcome=outcome, outcome_at=at + timedelta(minutes=gen.rng.randint(15, 50))))
    return out


def failed_attempts(gen: Gen, earliest: datetime, latest: datetime, failures: int) -> list[Attempt]:
    """Up to ``failures`` failed attempts on the slot grid, all over by ``latest`` (at least one).

    The install backlog: an order in force whose tag has not been fitted yet.
    """
    codes = [gen.weighted(_INSTALL_FAILURES) for _ in range(failures)]
    out = [slot_from(gen, earliest + timedelta(minutes=gen.rng.randint(30, 300)))]
    for _ in range(failures - 1):
        out.append(slot_from(gen, out[-1] + timedelta(hours=gen.rng.uniform(4, 26))))
    planned = [t for t in out if t + WINDOW <= latest] or [slot_before(gen, latest - WINDOW)]
    return [Attempt(at=at, outcome=code, outcome_at=at + timedelta(minutes=gen.rng.randint(10, 40)))
            for at, code in zip(planned, codes)]


def visit(gen: Gen, *, order_id: str, subject_id: str, kind: VisitKind, at: datetime, officer_id: str | None,
          attempt: int = 1, status: VisitStatus = VisitStatus.SCHEDULED, outcome: OutcomeCode | None = None,
          outcome_at: datetime | None = None, serials: tuple[str, ...] = (), notes: str = "",
          booked_at: datetime | None = None, cause: VisitCause | None = None, previous: Visit | None = None,
          due_by: datetime | None = None, crew: int = 1, equipment: tuple[DeviceKind, ...] = (),
          window: Window | None = None) -> Visit:
    """A visit booked for ``at``: an appointment (the hour it starts) unless ``window`` is the
    span the rules gave it (then it waits for the planner: no arrival yet, unless done)."""
    booked = booked_at or min(at - timedelta(hours=gen.rng.randint(2, 30)), gen.now)
    updated = outcome_at or booked
    vid = gen.id_at(booked)
    if previous is not None and cause is VisitCause.FAILED_ATTEMPT:
        vid = rebooking_id(previous)      # the id the rules give the next attempt, on any desktop
    start, end = (window.start, window.end) if window else (at, at + WINDOW)
    done = status is not VisitStatus.SCHEDULED
    return Visit(id=vid, created_at=booked, updated_at=min(updated, gen.now), order_id=order_id,
                 subject_id=subject_id, kind=kind, attempt=attempt, window_start=start, window_end=end,
                 officer_id=officer_id, status=status, outcome=outcome, outcome_at=outcome_at, notes=notes,
                 device_serials=serials, cause=cause, previous_visit_id=previous.id if previous else None,
                 due_by=due_by, appointment=window is None or window.appointment, crew_size=crew,
                 crew=(officer_id,) if done and officer_id else (),
                 planned_arrival=at if done else None,
                 planned_departure=(at + timedelta(minutes=45)) if done else None, equipment=equipment)


def attempt_visits(gen: Gen, attempts: list[Attempt], *, order_id: str, subject_id: str, officer_id: str,
                   serials: tuple[str, ...], booked_at: datetime, due_by: datetime | None = None, crew: int = 1,
                   equipment: tuple[DeviceKind, ...] = ()) -> tuple[list[Visit], list[Note]]:
    """The install attempts of an order: the first made by the order, each later one by the failure
    before it (two officers after an unsafe one)."""
    visits, notes = [], []
    for n, a in enumerate(attempts, start=1):
        ok = a.outcome.success
        previous = visits[-1] if visits else None
        unsafe = any(v.outcome is OutcomeCode.UNSAFE for v in visits)
        visits.append(visit(gen, order_id=order_id, subject_id=subject_id, kind=VisitKind.INSTALL, at=a.at,
                            officer_id=officer_id, attempt=n,
                            status=VisitStatus.COMPLETED if ok else VisitStatus.FAILED,
                            outcome=a.outcome, outcome_at=a.outcome_at, serials=serials if ok else (),
                            booked_at=max(booked_at, a.at - timedelta(hours=gen.rng.randint(1, 6))),
                            cause=VisitCause.FAILED_ATTEMPT if previous else VisitCause.ORDER_ACTIVE,
                            previous=previous, due_by=due_by, crew=2 if unsafe else crew, equipment=equipment))
        if not ok:
            notes.append(note(gen, subject_id, order_id, officer_id, a.outcome_at, _NOTES[a.outcome]))
    return visits, notes


def note(gen: Gen, subject_id: str, order_id: str | None, author_id: str, at: datetime, text: str) -> Note:
    return Note(id=gen.id_at(at), created_at=at, updated_at=at, subject_id=subject_id, order_id=order_id,
                author_id=author_id, at=at, text=text)


def failure_note(code: OutcomeCode) -> str:
    return _NOTES[code]


def slot_times(gen: Gen, day: date) -> list[datetime]:
    return [gen.at_local(day, h, m) for h, m in SLOTS]


def slot_from(gen: Gen, after: datetime, taken: set[datetime] | frozenset = frozenset()) -> datetime:
    """The first free slot on the grid starting at or after ``after``."""
    day = local_date(after)
    for _ in range(14):
        for t in slot_times(gen, day):
            if t >= after and t not in taken:
                return t
        day += timedelta(days=1)
    raise AssertionError("no free slot in a fortnight")   # a caseload never books that many


def slot_before(gen: Gen, before: datetime) -> datetime:
    """The last slot on the grid starting at or before ``before``."""
    day = local_date(before)
    while True:
        earlier = [t for t in slot_times(gen, day) if t <= before]
        if earlier:
            return earlier[-1]
        day -= timedelta(days=1)


def next_free_slot(gen: Gen, after: datetime, *, not_before_day: date,
                   taken: set[datetime] | frozenset = frozenset()) -> datetime:
    """The first free slot at least an hour after ``after``, not before ``not_before_day``."""
    return slot_from(gen, max(after + timedelta(hours=1), gen.at_local(not_before_day, 0)), taken)


def status_at(gen: Gen, at: datetime) -> VisitStatus:
    """Where a visit booked for ``at`` stands now."""
    if at + WINDOW <= gen.now:
        return VisitStatus.COMPLETED
    if at <= gen.now:
        return VisitStatus.IN_PROGRESS
    return VisitStatus.SCHEDULED
