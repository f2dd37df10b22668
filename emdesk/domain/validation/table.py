"""The intake rule table's machinery: a rule is a code, a field, a description and a pure
check, registered in order by ``@rule``; rules.py puts the table together and runs it."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from .draft import Draft
from .problems import Severity

# Statute and service limits.
CURFEW_DAY_MIN_H = 2
CURFEW_DAY_MAX_H = 20
CURFEW_WEEK_MAX_H = 112
CURFEW_MAX_YEARS = 2
HDC_DAY_MIN_H = 9
ADULT_AGE = 18
COMMUNITY_ORDER_MIN_AGE = 18    # Sentencing Act 2020 s.202(1): "a person aged 18 or over"
EM_BAIL_MIN_AGE = 12            # Bail Act 1976 s.3AA(2): "has attained the age of twelve years"
MIN_AGE = 10            # the age of criminal responsibility in England and Wales
MAX_AGE = 110
CIRCLE_RADIUS_M = (50.0, 20_000.0)
POLYGON_AREA_M2 = (2_000.0, 500_000_000.0)


# --- The table ---------------------------------------------------------------------

Finding = str | tuple[str, str]      # a message on the rule's field, or (field, message)


@dataclass(frozen=True)
class Rule:
    code: str
    field: str              # the path, or path pattern, the rule reports on
    description: str        # what the rule demands, for lists of rules
    check: Callable[[Draft], Iterable[Finding]]
    # An error keeps the order a draft; a warning goes with it for someone to confirm.
    severity: Severity = Severity.ERROR


TABLE: list[Rule] = []      # in the order the rule modules are imported (rules.py)


def rule(code: str, field_path: str, description: str, severity: Severity = Severity.ERROR):
    def register(check: Callable[[Draft], Iterable[Finding]]):
        TABLE.append(Rule(code, field_path, description, check, severity))
        return check
    return register


def age_on(d: Draft, day: date) -> int | None:
    """The wearer's age in whole years on ``day`` (None without a date of birth)."""
    dob = d.dob
    if dob is None:
        return None
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))
