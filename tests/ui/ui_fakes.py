"""In-test stand-ins for the services contract, for tests that need exact control.

The workspace and screenshot tests use the real services over a demo store; these
fakes serve unit tests of single widgets (and failure cases the real ones rarely show).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from emdesk.domain.checklists import Step, StepKind, StepState
from emdesk.domain.clock import FixedClock
from emdesk.domain.devices import DeviceKind
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.users import Role, User
from emdesk.domain.validation.problems import Problem
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind
from emdesk.services.checklists import ChecklistState
from emdesk.services.officer_day import OfficerDay, VisitCard
from emdesk.services.rows import CaseRow, Counts, DeviceRow, OrderRow, VisitRow

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")


def user(role: Role, **kw) -> User:
    return User(username=role.value, display_name=kw.pop("display_name", "Sam Example"), role=role,
                region=kw.pop("region", "Yorkshire and the Humber"), **kw)


class FakeCases:
    def __init__(self):
        at = lambda h: NOW.replace(hour=h)  # noqa: E731
        self.visit_rows = [
            VisitRow("v1", "o1", "Alex Carter", "install", 1, at(9), at(11), "12 Briggate, Leeds, LS1 6HD",
                     "scheduled", "", ("Dangerous dog",)),
            VisitRow("v2", "o2", "Bea Jones", "check", 2, at(13), at(15), "4 Roundhay Road, Leeds, LS7 1AB",
                     "scheduled", "", ()),
        ]
        self.case_rows = [
            CaseRow("o1", "s1", "Alex Carter", "LDS-1", "Court bail", "active", "Leeds", "LS1 6HD", "Sam Example",
                    ("Dangerous dog", "Children at address"), at(9), date(2027, 1, 1), "Yorkshire and the Humber"),
        ]
        self.order_rows = [
            OrderRow("o1", "LDS-1", "Alex Carter", "Court bail", "new", "active", NOW, "Yorkshire and the Humber", 0, ()),
            OrderRow("o3", "LDS-3", "Cy Smith", "Post-release", "new", "draft", NOW, "Yorkshire and the Humber", 2,
                     ("subject.date_of_birth: Date of birth is missing. [SUBJ-DOB-MISSING]",
                      "subject.addresses[0].postcode: Postcode is not a UK postcode. [ADDR-POSTCODE]")),
        ]
        self.device_rows = [
            DeviceRow("d1", "RF-0001", "RF tag", "T1", "1.2", "In stock", "London", "", ""),
            DeviceRow("d2", "RF-0002", "RF tag", "T1", "1.2", "Installed", "Wales", "Alex Carter", "LDS-1"),
        ]
        self.calls: list[tuple] = []

    def caseload(self):
        return list(self.case_rows)

    def orders(self):
        # As the real service does: most problems first.
        return sorted(self.order_rows, key=lambda r: -r.problem_count)

    def stock(self, state=None, region=None):
        self.calls.append(("stock", state, region))
        return [d for d in self.device_rows
                if (region is None or d.region == region) and (state is None or d.state.lower().replace(" ", "_") == state)]

    def visits(self, day=None):
        return list(self.visit_rows)

    def counts(self):
        return Counts(active_orders=10, draft_orders=3, orders_with_problems=2, subjects=12, devices_in_stock=5,
                      devices_installed=9, visits_scheduled=4, visits_overdue_3_days=1, unmonitored_active=2,
                      by_cohort={"Court bail": 6, "Post-release": 4}, by_region={"Wales": 3, "London": 7})

    def regions(self):
        return ["London", "Wales"]


@dataclass
class FakeResult:
    order: Order
    subject: Subject
    problems: list[Problem]

    @property
    def accepted(self) -> bool:
        return not self.problems


class FakeIntake:
    """The two rules the form tests need, worded like the real ones."""

    def __init__(self):
        self.submitted: list[FakeResult] = []

    def blank(self):
        subject = Subject()
        return Order(subject_id=subject.id), subject

    def check(self, order: Order, subject: Subject) -> list[Problem]:
        out = []
        if subject.date_of_birth is None:
            out.append(Problem(code="SUBJ-DOB-MISSING", field="subject.date_of_birth",
                               message="Date of birth is missing."))
        postcode = subject.addresses[0].postcode if subject.addresses else ""
        if postcode and not POSTCODE.match(postcode):
            out.append(Problem(code="ADDR-POSTCODE", field="subject.addresses[0].postcode",
                               message=f"{postcode} is not a UK postcode."))
        return out

    def submit(self, order: Order, subject: Subject) -> FakeResult:
        problems = self.check(order, subject)
        status = OrderStatus.SUBMITTED if not problems else OrderStatus.DRAFT
        result = FakeResult(order.evolve(status=status, problems=tuple(problems)), subject, problems)
        self.submitted.append(result)
        return result


def card(visit_id: str, number: int, name: str, kind: str, attempt: int, start: int, **kw) -> VisitCard:
    at = lambda h: NOW.replace(hour=h)  # noqa: E731
    values = dict(
        visit_id=visit_id, order_id=f"o-{visit_id}", order_reference=f"REF-{number}", kind=kind, attempt=attempt,
        status="scheduled", outcome="", subject_name=name, age=30, phone="07700 900123",
        address=f"{number} Briggate, Leeds, LS1 6HD", lat=53.79 + number / 100, lon=-1.54 - number / 100,
        window_start=at(start), window_end=at(start + 2), planned_arrival=at(start).replace(minute=20),
        planned_departure=at(start + 1), number=number, appointment=False, conditions=("Curfew Mon-Sun 19:00-07:00",),
        access_notes=(), risk_flags=(), risk_notes="", crew_size=1, crew=(), equipment=("RF tag",),
        appointment_text=f"Hello {name.split()[0]},\nAn officer will visit you.",
    )
    values.update(kw)
    return VisitCard(**values)


class FakeOfficerDay:
    """The officer's day, as ``OfficerDayService.day`` returns it."""

    def __init__(self):
        self.cards = [
            card("v1", 1, "Alex Carter", "install", 1, 9, risk_flags=("Dangerous dog",),
                 risk_notes="Large dog at the address.", crew_size=2, crew=("Pat Partner",)),
            card("v2", 2, "Bea Jones", "check", 2, 13),
        ]
        self.base = (53.80, -1.55)

    def day(self, day=None):
        return OfficerDay(day=day or NOW.date(), officer="Sam Example", base=self.base, base_address="Base, Leeds",
                          stops=list(self.cards), km=12.3, planned=True)


@dataclass
class FakeOutcomeResult:
    next_visit: Visit | None
    message: str


class FakeOutcomes:
    """Stands in for emdesk.services.visit_outcomes (built in parallel; the lead wires the real one)."""

    def __init__(self):
        self.recorded: list[tuple[str, OutcomeCode, str]] = []

    def record_outcome(self, visit_id, outcome, notes):
        self.recorded.append((visit_id, outcome, notes))
        nxt = Visit(order_id="o1", subject_id="s1", kind=VisitKind.INSTALL, attempt=2,
                    window_start=NOW.replace(day=27, hour=18), window_end=NOW.replace(day=27, hour=20))
        return FakeOutcomeResult(next_visit=nxt, message=f"Recorded: {outcome.label}.")


class FakeChecklists:
    """Stands in for emdesk.services.checklists: the real shapes (``ChecklistState`` of
    ``StepState`` over real ``Step`` definitions), ticks kept in a dict as a store would."""

    STEPS = (
        Step(key="identity", label="Identity confirmed"),
        Step(key="leaflet", label="Leaflet given", required=False),
        Step(key="strap", label="Tag fitted and strap checked", help="One finger under the strap."),
        Step(key="base", label="Home unit installed", only_for=(DeviceKind.HMU,)),
        Step(key="range", label="Range test", kind=StepKind.READING, readings=("pairing_id",)),
        Step(key="ack", label="Wearer's acknowledgement", kind=StepKind.CHOICE, choices=("signed", "verbal")),
    )

    def __init__(self):
        self.saved: dict[tuple[str, str], tuple[bool, object, str]] = {}
        self.ticks: list[tuple] = []

    def open(self, visit_id):
        steps = []
        for step in self.STEPS:
            done, value, skipped = self.saved.get((visit_id, step.key), (False, None, ""))
            steps.append(StepState(step, applies=not step.only_for, done=done or bool(skipped), value=value,
                                   skipped=skipped))
        blocking = tuple(f"{s.step.label}: not done" for s in steps if s.blocking)
        return ChecklistState(visit_id=visit_id, template="fake", title="Install", steps=tuple(steps),
                              blocking=blocking, complete=not blocking,
                              resume=next((s.key for s in steps if s.applies and not s.done), None),
                              devices=(("RF-0001", DeviceKind.RF_TAG),), editable=True)

    def tick(self, visit_id, step, done=True, value=None, skipped=""):
        self.ticks.append((visit_id, step, done, value))
        self.saved[(visit_id, step)] = (done, value, skipped)
        return self.open(visit_id)


@dataclass
class FakeContext:
    user: User
    cases: FakeCases = field(default_factory=FakeCases)
    officer_day: FakeOfficerDay = field(default_factory=FakeOfficerDay)
    outcomes: FakeOutcomes | None = field(default_factory=FakeOutcomes)
    checklists: FakeChecklists | None = field(default_factory=FakeChecklists)
    kpis: None = None            # the KPI tests use the real service over the demo world
    intake: FakeIntake = field(default_factory=FakeIntake)
    audit: object = None
    store_label: str = "/tmp/fake.db (UNENCRYPTED)"
    encrypted: bool = False
    desktop_id: str = "desk-1"
    demo: bool = False
    clock: FixedClock = field(default_factory=lambda: FixedClock(NOW))
    closed: bool = False

    def close(self) -> None:
        self.closed = True
