"""Role names on the command line: one spelling everywhere (``--as``, ``users add --role``).

The names are the ones the README uses (``field-officer``, ``monitoring``...); the stored
values (``field_officer``, ``monitoring_operator``) are accepted too, so scripts written
either way keep working.
"""
from __future__ import annotations

from emdesk.domain.users import Role

NAMES: dict[str, Role] = {
    "field-officer": Role.FIELD_OFFICER,
    "technician": Role.TECHNICIAN,
    "monitoring": Role.MONITORING_OPERATOR,
    "supervisor": Role.SUPERVISOR,
    "admin": Role.ADMIN,
    "police": Role.POLICE,
    "probation": Role.PROBATION,
    "home-office": Role.HOME_OFFICE,
}
ALIASES: dict[str, Role] = {role.value: role for role in Role} | {
    "field_officer": Role.FIELD_OFFICER, "monitoring-operator": Role.MONITORING_OPERATOR}

# Roles that have a workspace to show (``--as``): every role but the administrator's.
ROLES = {name: role.value for name, role in NAMES.items() if role is not Role.ADMIN}


def role_named(text: str) -> Role:
    """The role a command-line name means; ValueError naming the choices."""
    found = NAMES.get(text) or ALIASES.get(text)
    if found is None:
        raise ValueError(f"{text!r} is not a role: choose {', '.join(NAMES)}")
    return found


def name_of(role: Role) -> str:
    return next(name for name, r in NAMES.items() if r is role)
