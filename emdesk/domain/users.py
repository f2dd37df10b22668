"""Users, roles and what each role may see (least privilege)."""
from __future__ import annotations

from enum import Enum

from .people import Address
from .records import Record


class Role(str, Enum):
    FIELD_OFFICER = "field_officer"
    TECHNICIAN = "technician"
    MONITORING_OPERATOR = "monitoring_operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Permission(str, Enum):
    VIEW_OWN_CASELOAD = "view_own_caseload"
    VIEW_REGION_CASES = "view_region_cases"
    VIEW_ALL_CASES = "view_all_cases"
    VIEW_PERSONAL_DETAILS = "view_personal_details"
    VIEW_DEVICES = "view_devices"
    MANAGE_DEVICES = "manage_devices"
    RECORD_VISITS = "record_visits"
    ENTER_ORDERS = "enter_orders"
    WORK_ALERTS = "work_alerts"
    VIEW_MANAGEMENT_FIGURES = "view_management_figures"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.FIELD_OFFICER: frozenset({P.VIEW_OWN_CASELOAD, P.VIEW_PERSONAL_DETAILS, P.RECORD_VISITS, P.VIEW_DEVICES}),
    # Technicians handle kit: the wearer's name on an allocation, nothing more.
    Role.TECHNICIAN: frozenset({P.VIEW_DEVICES, P.MANAGE_DEVICES}),
    Role.MONITORING_OPERATOR: frozenset({P.VIEW_REGION_CASES, P.VIEW_PERSONAL_DETAILS, P.WORK_ALERTS, P.ENTER_ORDERS, P.VIEW_DEVICES}),
    Role.SUPERVISOR: frozenset({P.VIEW_ALL_CASES, P.VIEW_PERSONAL_DETAILS, P.VIEW_MANAGEMENT_FIGURES, P.ENTER_ORDERS, P.VIEW_DEVICES, P.VIEW_AUDIT, P.WORK_ALERTS}),
    Role.ADMIN: frozenset({P.MANAGE_USERS, P.VIEW_AUDIT, P.VIEW_DEVICES}),
}


def can(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


class User(Record, frozen=True, kw_only=True):
    table = "users"

    username: str
    display_name: str
    role: Role
    region: str = ""
    phone: str = ""
    base: Address | None = None
    active: bool = True

    def can(self, permission: Permission) -> bool:
        return can(self.role, permission)
