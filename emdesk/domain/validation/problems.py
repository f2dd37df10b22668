"""A problem found in an order: a rule code, the field it is about, a plain message, a severity.

An ``error`` keeps the order a draft until it is put right.  A ``warning`` is kept on the
order for someone to confirm (an address placed by nobody, to be checked on the map) but
does not stop the order going ahead.
"""
from __future__ import annotations

from enum import Enum

import msgspec


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    code: str        # stable rule code, e.g. "SUBJ-DOB-MISSING"
    field: str       # dotted path into the intake record, e.g. "subject.date_of_birth"
    message: str     # what is wrong and what to do, in plain words
    severity: Severity = Severity.ERROR

    @property
    def blocking(self) -> bool:
        return self.severity is not Severity.WARNING

    def __str__(self) -> str:
        mark = "" if self.blocking else " (warning)"
        return f"{self.field}: {self.message} [{self.code}]{mark}"


def errors(problems) -> list[Problem]:
    """The problems that keep an order a draft."""
    return [p for p in problems if p.blocking]


def warnings(problems) -> list[Problem]:
    """The problems to confirm that do not keep an order a draft."""
    return [p for p in problems if not p.blocking]
