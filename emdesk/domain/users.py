"""Users, roles and what each role may see (least privilege)."""
from __future__ import annotations

from datetime import time
from enum import Enum

from .people import Address
from .records import Record


class Role(str, Enum):
    FIELD_OFFICER = "field_officer"
    TECHNICIAN = "technician"
    MONITORING_OPERATOR = "monitoring_operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # The responsible agencies' own accounts (NAO Figure 1): they receive breach packs
    # addressed to their agency in their region and record the response.
    POLICE = "police"
    PROBATION = "probation"
    HOME_OFFICE = "home_office"

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
    # "Who was near this place then?" reads everyone's trails: a supervisor's call, with a reason.
    MATCH_TRAILS = "match_trails"
    # Build, amend and issue breach packs (the monitoring centre).
    BUILD_PACKS = "build_packs"
    # Receive packs addressed to one's agency and record RADU steps and outcomes.
    RESPOND_TO_BREACHES = "respond_to_breaches"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.FIELD_OFFICER: frozenset({P.VIEW_OWN_CASELOAD, P.VIEW_PERSONAL_DETAILS, P.RECORD_VISITS, P.VIEW_DEVICES}),
    # Technicians handle kit: the wearer's name on an allocation, nothing more.
    Role.TECHNICIAN: frozenset({P.VIEW_DEVICES, P.MANAGE_DEVICES}),
    Role.MONITORING_OPERATOR: frozenset({P.VIEW_REGION_CASES, P.VIEW_PERSONAL_DETAILS, P.WORK_ALERTS, P.ENTER_ORDERS, P.VIEW_DEVICES,
                                         P.BUILD_PACKS}),
    Role.SUPERVISOR: frozenset({P.VIEW_ALL_CASES, P.VIEW_PERSONAL_DETAILS, P.VIEW_MANAGEMENT_FIGURES, P.ENTER_ORDERS, P.VIEW_DEVICES, P.VIEW_AUDIT, P.WORK_ALERTS,
                                    P.MATCH_TRAILS, P.BUILD_PACKS}),
    Role.ADMIN: frozenset({P.MANAGE_USERS, P.VIEW_AUDIT, P.VIEW_DEVICES}),
    # Agencies see the packs issued to them (the pack carries the evidence), nothing else.
    Role.POLICE: frozenset({P.RESPOND_TO_BREACHES}),
    Role.PROBATION: frozenset({P.RESPOND_TO_BREACHES}),
    Role.HOME_OFFICE: frozenset({P.RESPOND_TO_BREACHES}),
}


# The standard field day: evening installs (curfews start at 19:00) need a late finish.
SHIFT_START, SHIFT_END = time(8, 0), time(20, 0)
BREAK_FROM, BREAK_UNTIL = time(12, 0), time(15, 0)


# Which agency each agency role speaks for (the value of ``orders.Responder``).
AGENCY_OF: dict[Role, str] = {Role.POLICE: "police", Role.PROBATION: "probation", Role.HOME_OFFICE: "home_office"}


def can(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def agency_regions(role: Role, region: str) -> frozenset[str] | None:
    """The regions whose breach packs an agency account reads: the Home Office every region
    (None); a police force or probation region its own, and none when no region is set (a
    missing region must not read as every region)."""
    if role is Role.HOME_OFFICE:
        return None
    return frozenset({region}) if region else frozenset()


def region_refusal(role: Role, region: str) -> str | None:
    """Why an account of ``role`` may not be made with this region, or None: police and
    probation accounts work one region."""
    if role in (Role.POLICE, Role.PROBATION) and not (region or "").strip():
        return f"region: a {role.value} account works one region's breach packs: give its region, or it would see none"
    return None


class User(Record, frozen=True, kw_only=True):
    table = "users"

    username: str
    display_name: str
    role: Role
    region: str = ""
    phone: str = ""
    base: Address | None = None
    active: bool = True
    # A field officer's working day in local (Europe/London) time, and the break taken in
    # it: ``break_minutes`` starting somewhere between ``break_from`` and ``break_until``.
    # None means the service's standard day (SHIFT_START-SHIFT_END, a 30-minute break).
    shift_start: time | None = None
    shift_end: time | None = None
    break_minutes: int = 30
    break_from: time | None = None
    break_until: time | None = None

    @property
    def shift(self) -> tuple[time, time]:
        return self.shift_start or SHIFT_START, self.shift_end or SHIFT_END

    @property
    def break_span(self) -> tuple[time, time]:
        """When the break may start (local wall-clock times)."""
        return self.break_from or BREAK_FROM, self.break_until or BREAK_UNTIL

    def can(self, permission: Permission) -> bool:
        return can(self.role, permission)
