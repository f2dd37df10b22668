"""Every intake rule in one table: a stable code, a field, a plain message, a pure check.

About one order in four reaches the service with something wrong (NAO 2.16).  Each rule
below says exactly what is wrong and what to do, against the field the person must fix.

Field paths
-----------
A problem's ``field`` is a dotted path into the intake record (the JSON/CSV import
format, see docs/order-import.md), which mirrors the domain structs:

- ``reference``: the notifying body's reference (top level of the record);
- ``subject.<field>``, e.g. ``subject.date_of_birth``, ``subject.identifiers``,
  ``subject.identifiers.pnc``, ``subject.responsible_adult.phone``;
- ``subject.addresses[i]`` (a whole address) and ``subject.addresses[i].postcode``;
  ``i`` counts from 0 in the order the addresses were given;
- ``order.<field>``, e.g. ``order.start``, ``order.device_kinds``, ``order.documents``,
  ``order.responsible_officer.phone``, ``order.installation.address.postcode``,
  ``order.installation.appointment``, ``order.variation.changes``;
- ``order.conditions.curfew.windows[i]``: the i-th weekly window, counting the windows
  a compact string like ``"Mon-Fri 19:00-07:00"`` stands for, day by day, in the order
  written; ``order.conditions.curfew.windows`` for the schedule as a whole;
- ``order.conditions.zones[i]``, ``order.conditions.zones[i].name``,
  ``order.conditions.zones[i].circle.radius_m``, ``order.conditions.zones[i].polygon``.

A path that names a struct (``subject.addresses[0]``) means the problem is with the
whole group; the UI shows it on the group's box.

Every check copes with a draft that is mostly empty (fields None or missing): it reports
what is missing and never raises.
"""
from __future__ import annotations

from ..orders import Order
from ..people import Subject

# The rule modules register their rules as they are imported, so this order is the table's
# order (the order problems are reported in): people, the order, its conditions, the case.
from . import rules_subject  # noqa: F401  isort: skip
from . import rules_order  # noqa: F401  isort: skip
from . import rules_conditions  # noqa: F401  isort: skip
from . import rules_case  # noqa: F401  isort: skip
from .draft import Draft, ValidationContext
from .problems import Problem
from .table import TABLE, Rule

# --- Public ------------------------------------------------------------------------

RULE_TABLE: tuple[Rule, ...] = tuple(TABLE)
RULES: dict[str, str] = {r.code: r.description for r in RULE_TABLE}


def validate(order: Order, subject: Subject, ctx: ValidationContext) -> list[Problem]:
    """Everything wrong with an intake, in table order; empty when the order can go ahead."""
    draft = Draft(order, subject, ctx)
    problems = []
    for rule in RULE_TABLE:
        for finding in rule.check(draft):
            path, message = finding if isinstance(finding, tuple) else (rule.field, finding)
            problems.append(Problem(code=rule.code, field=path, message=message, severity=rule.severity))
    return problems


__all__ = ["RULES", "RULE_TABLE", "Rule", "ValidationContext", "validate"]

