"""In-test stand-ins for the services contract, for tests that need exact control.

The workspace and screenshot tests use the real services over a demo store; these
fakes serve unit tests of single widgets (and failure cases the real ones rarely show).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from emdesk.domain.clock import FixedClock
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.users import Role, User
from emdesk.domain.validation.problems import Problem
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


@dataclass
class FakeContext:
    user: User
    cases: FakeCases = field(default_factory=FakeCases)
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
