"""Who receives which rows: the audience of a row, as principals.

Each user pulls with exactly one principal, decided by role:
  field officer -> "officer:<id>"   her caseload and visits (and the kit on her cases), and
                                    while she holds an open visit on another's case (cover,
                                    second crew), what the door needs of that case
  technician    -> "tech"           devices and allocations
  monitoring    -> "region:<name>"  every case in the region
  supervisor/admin -> "all"
  police, probation -> "agency:<agency>:<region>"  breach packs issued to their agency in
                                    their region, and the outcomes of those packs; nothing
                                    else (no people, orders, incidents or telemetry); with
                                    no region, "agency:<agency>:(no region)": nothing at all
  Home Office -> "agency:home_office"  every region's
and every staff user also receives rows addressed to "*" (accounts); an agency desk does
not (``shared_with``): it holds only its own agency's accounts in its region (its sign-in).

The hub keeps, per row, the set of principals that may see it; when a change moves a
row out of a principal's set (a case reassigned), that principal gets an eviction and
the principals that gained it get the whole row.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from emdesk.domain.users import AGENCY_OF, Role

EVERYONE = "*"
ALL = "all"
TECH = "tech"
AGENCY = "agency:"
# A pack is the agency's once issued: sent, acknowledged, or superseded after it was sent.
ISSUED = frozenset({"sent", "acknowledged", "superseded"})
# The region of a police or probation account that has none: no pack is issued to it.
NO_REGION = "(no region)"
FINISHED_VISIT = frozenset({"completed", "failed", "cancelled"})


# The records a row points at, by field: a writer may only point a row at records she may
# hold herself (a case note on a person of another region would hand her that person).
REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "orders": (("subject_id", "subjects"),),
    "visits": (("order_id", "orders"), ("subject_id", "subjects")),
    "devices": (("order_id", "orders"), ("subject_id", "subjects")),
    "notes": (("order_id", "orders"), ("subject_id", "subjects")),
    "checklist_ticks": (("order_id", "orders"), ("subject_id", "subjects")),
    "alerts": (("order_id", "orders"), ("subject_id", "subjects")),
    "incidents": (("order_id", "orders"), ("subject_id", "subjects")),
    "breach_packs": (("order_id", "orders"), ("incident_id", "incidents")),
    "outcomes": (("order_id", "orders"), ("incident_id", "incidents")),
}


def officer(user_id: str) -> str:
    return f"officer:{user_id}"


def region(name: str) -> str:
    return f"region:{name}"


def agency(name: str, region: str = "") -> str:
    """An agency's principal: one region's desk, or (no region) the whole agency."""
    return f"{AGENCY}{name}:{region}" if region else f"{AGENCY}{name}"


def shared_with(principal: str) -> str:
    """The audience entry besides its own that a principal holds rows by: "*" for staff; for
    an agency nothing more (the accounts it needs are addressed to its principal)."""
    return principal if principal.startswith(AGENCY) else EVERYONE


def principal_of(role: Role, user_id: str, user_region: str) -> str:
    if role in AGENCY_OF:
        # The Home Office decides immigration bail nationally: its caseworkers hold every region.
        # A police force or probation region works its own region; an account with none set
        # holds nothing (a missing region must not read as every region).
        if role is Role.HOME_OFFICE:
            return agency(AGENCY_OF[role])
        return agency(AGENCY_OF[role], user_region or NO_REGION)
    if role is Role.FIELD_OFFICER:
        return officer(user_id)
    if role is Role.TECHNICIAN:
        return TECH
    if role is Role.MONITORING_OPERATOR:
        return region(user_region)
    return ALL


@dataclass(frozen=True)
class CaseLink:
    """What the hub knows of the order(s) a row belongs to."""

    region: str
    officer_id: str | None
    # Officers holding an open visit on the case (its booked officer and crew): a colleague
    # covering it, a second officer for double crewing.  They hold what the door needs.
    visitors: frozenset[str] = frozenset()


def visit_holders(record: dict[str, Any]) -> frozenset[str]:
    """The officers a visit brings to its case: its booked officer and crew while it is open;
    nobody once it is finished or deleted."""
    if record.get("deleted") or record.get("status") in FINISHED_VISIT:
        return frozenset()
    return frozenset(u for u in (record.get("officer_id"), *(record.get("crew") or ())) if u)


def case_audience(cases: Iterable[CaseLink], *, visitors: bool = True) -> set[str]:
    """``visitors``: include the officers visiting the case (the door's rows), or not
    (the case's history: notes, other visits, other visits' checklists)."""
    out = {ALL}
    for case in cases:
        if case.region:
            out.add(region(case.region))
        if case.officer_id:
            out.add(officer(case.officer_id))
        if visitors:
            out.update(officer(u) for u in case.visitors)
    return out


def issued(pack: dict[str, Any]) -> bool:
    """Whether a breach pack version has gone to its agency (never a draft)."""
    return bool(pack.get("sent_at")) and pack.get("status") in ISSUED


def agency_audience(pack: dict[str, Any]) -> set[str]:
    """The agency principals an issued pack version reaches: the Home Office (national), or the
    police's or probation's desk of its region."""
    responder = pack.get("responder")
    if not responder or not issued(pack):
        return set()
    if responder == AGENCY_OF[Role.HOME_OFFICE]:
        return {agency(responder)}
    return {agency(responder, pack["region"])} if pack.get("region") else set()


def audience(table: str, record: dict[str, Any], cases: Iterable[CaseLink],
             holders: frozenset[str] = frozenset(), packs: Iterable[dict[str, Any]] = ()) -> frozenset[str]:
    """Principals that may hold this row, given the cases it belongs to.

    ``cases``: for an order, itself; for a subject, its orders; for visits, notes,
    devices and monitoring rows, the order they refer to.  ``holders``: for a checklist
    tick, ``visit_holders`` of its visit.  ``packs``: for an outcome, the versions of its
    pack (it goes to the agencies the pack was issued to).
    """
    cases = list(cases)
    if table == "users":
        # Staff hold every account; an agency desk only its own (and its colleagues' in its
        # agency and region): the sign-in needs it, and nothing it shows names anyone else.
        role = next((r for r in AGENCY_OF if r.value == record.get("role")), None)
        if role is not None:
            return frozenset({EVERYONE, principal_of(role, record.get("id") or "", record.get("region") or "")})
        return frozenset({EVERYONE})
    if table == "devices":
        # Officers need the kit on their cases at the door, offline; technicians all kit.
        return frozenset({TECH} | case_audience(cases))
    if table in ("orders", "subjects"):
        # The name, address, conditions, risk flags and access notes the door needs.
        return frozenset(case_audience(cases))
    if table == "notes":
        # Case notes are the case's history, not needed at the door: not to visitors.
        return frozenset(case_audience(cases, visitors=False))
    if table == "checklist_ticks":
        # A visit's checklist goes where its case goes (a colleague's desktop resumes it), and
        # to the officers holding that visit while it is open; not another visit's to them.
        return frozenset(case_audience(cases, visitors=False) | {officer(u) for u in holders})
    if table == "visits":
        out = case_audience(cases, visitors=False)
        # The booked officer and crew hold an open visit even on a case that is not theirs
        # (cover, double crewing); once it is finished, only the case's own audience keeps
        # it, so an officer who lost a case is evicted from every row of it, her past
        # visits too.
        if record.get("status") not in FINISHED_VISIT:
            out.update(officer(u) for u in (record.get("officer_id"), *(record.get("crew") or ())) if u)
        return frozenset(out)
    # Alerts, incidents, packs, outcomes: the monitoring centre, not officers.  (Telemetry
    # follows the same rule in its own feed: hub/event_feed.py.)  An issued pack, and the
    # outcome of one, also go to the agency it was issued to.
    out = {ALL} | {region(c.region) for c in cases if c.region}
    if table == "breach_packs":
        out |= agency_audience(record)
    elif table == "outcomes":
        for pack in packs:
            if pack.get("pack_id") == record.get("pack_id"):
                out |= agency_audience(pack)
    return frozenset(out)
