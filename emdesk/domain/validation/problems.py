"""A problem found in an order: a rule code, the field it is about, a plain message."""
from __future__ import annotations

import msgspec


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    code: str        # stable rule code, e.g. "SUBJ-DOB-MISSING"
    field: str       # dotted path into the intake record, e.g. "subject.date_of_birth"
    message: str     # what is wrong and what to do, in plain words

    def __str__(self) -> str:
        return f"{self.field}: {self.message} [{self.code}]"
