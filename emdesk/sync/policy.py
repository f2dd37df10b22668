"""Merge rules, declared per table: the engine looks them up, it never hard-codes them.

- append-only (notes, checklist ticks): ids are made where the event happens; a second
  copy is ignored, nothing is ever overwritten, so they never conflict;
- fields last-writer-wins (visits, orders, devices): each field keeps its own HLC, a
  newer field wins and the losing value is kept in the conflicts table for a supervisor
  to see; histories (``union_fields``) are merged entry by entry, never lost; a visit is
  written only by its officer (``owner_field``) or the monitoring centre;
- forward-only (alerts): status only moves forward and the first acknowledgement wins;
- hub-authoritative (subjects, users, reference data): only roles entrusted with them
  may change them, and a refusal says why;
- row last-writer-wins (incidents, packs, outcomes): the newer stamp wins; the agencies
  write only the outcomes of packs issued to them (``authorship.outcome_refusal``).

Roles outside a table's writers change it only through a field action
(``emdesk.domain.field_actions``), and then only the fields the action grants: a field
officer's installation moves her order to active with its serials, nothing else.

Stamps are compared as numbers (``hlc.key``), never as text.  Replaying a version the
hub already holds (same content, older stamp) is a duplicate, not a conflict.

Every function here is pure: (current hub row, incoming op, who) -> decision.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import msgspec

from emdesk.domain import hlc as hlcmod
from emdesk.domain.field_actions import Grant, changed_outside
from emdesk.domain.monitoring import ALERT_ORDER, AlertStatus
from emdesk.domain.users import AGENCY_OF, Role, region_refusal

from .scope import visit_holders

# Bookkeeping fields that are not "content" for field-level merges.
META_FIELDS = frozenset({"id", "created_at", "updated_at", "origin", "deleted", "hlc"})


class Policy(str, Enum):
    APPEND_ONLY = "append_only"
    FIELDS_LWW = "fields_lww"
    FORWARD_ONLY = "forward_only"
    HUB_AUTHORITATIVE = "hub_authoritative"
    ROW_LWW = "row_lww"


ALL_ROLES = frozenset(Role)
SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMIN})
AGENCIES = frozenset(AGENCY_OF)


@dataclass(frozen=True)
class TableRule:
    table: str
    policy: Policy
    writers: frozenset[Role]
    refusal: str                      # said to a user whose role may not write here
    owner_field: str | None = None    # the record field naming the one user who may write it
    union_fields: frozenset[str] = frozenset()   # lists merged entry by entry (histories)


RULES: dict[str, TableRule] = {r.table: r for r in (
    TableRule("notes", Policy.APPEND_ONLY, ALL_ROLES - {Role.TECHNICIAN},
              "technicians do not write case notes"),
    # A tick is made by the officer at the door (``by``), never changed: unticking is a later tick.
    TableRule("checklist_ticks", Policy.APPEND_ONLY, frozenset({Role.FIELD_OFFICER, Role.MONITORING_OPERATOR}) | SUPERVISING,
              "visit checklists are ticked by the visiting officer", owner_field="by"),
    TableRule("visits", Policy.FIELDS_LWW, frozenset({Role.FIELD_OFFICER, Role.MONITORING_OPERATOR}) | SUPERVISING,
              "only the visiting officer or the monitoring centre records a visit", owner_field="officer_id"),
    TableRule("alerts", Policy.FORWARD_ONLY, frozenset({Role.MONITORING_OPERATOR}) | SUPERVISING,
              "alerts are worked by the monitoring centre"),
    TableRule("orders", Policy.FIELDS_LWW, frozenset({Role.MONITORING_OPERATOR}) | SUPERVISING,
              "orders are kept by the monitoring centre: ask them to vary the order",
              union_fields=frozenset({"history", "variations"})),
    TableRule("subjects", Policy.HUB_AUTHORITATIVE, frozenset({Role.MONITORING_OPERATOR}) | SUPERVISING,
              "personal details are kept by the monitoring centre: ask them to correct the record"),
    TableRule("users", Policy.HUB_AUTHORITATIVE, frozenset({Role.ADMIN}),
              "accounts are managed by an administrator"),
    TableRule("devices", Policy.FIELDS_LWW, frozenset({Role.TECHNICIAN}) | SUPERVISING,
              "device stock is kept by technicians; officers change kit by installing, removing or refusing it",
              union_fields=frozenset({"history"})),
    TableRule("incidents", Policy.ROW_LWW, frozenset({Role.MONITORING_OPERATOR}) | SUPERVISING,
              "incidents are built by the monitoring centre"),
    TableRule("breach_packs", Policy.ROW_LWW, frozenset({Role.MONITORING_OPERATOR}) | SUPERVISING,
              "breach packs are built by the monitoring centre"),
    # Packs are the centre's (agencies read the ones issued to them); an outcome is the agency's
    # own record (RADU, the decision), or one the centre took down by phone.
    TableRule("outcomes", Policy.ROW_LWW, frozenset({Role.MONITORING_OPERATOR}) | SUPERVISING | AGENCIES,
              "breach outcomes are recorded by the responsible agency or the monitoring centre"),
)}


@dataclass(frozen=True)
class HubRow:
    """The hub's current version of a row."""

    data: dict[str, Any]
    hlc: str
    field_hlcs: dict[str, str] = field(default_factory=dict)
    deleted: bool = False


@dataclass(frozen=True)
class Writer:
    user_id: str
    role: Role


@dataclass(frozen=True)
class Loser:
    """A value that lost a merge, kept so a supervisor can see it."""

    field: str
    value: Any
    hlc: str
    beaten_by: str


@dataclass(frozen=True)
class Decision:
    status: str                          # applied | merged | duplicate | refused
    row: HubRow | None = None            # the hub's row after the op (None: unchanged)
    losers: tuple[Loser, ...] = ()
    reason: str = ""


def refuse(reason: str) -> Decision:
    return Decision("refused", reason=reason)


def may_write(rule: TableRule, who: Writer, current: HubRow | None, incoming: dict[str, Any], *,
              grant: Grant | None = None, action: str = "", changed: list[str] | None = None) -> str | None:
    """Why this user may not push this op, or None if they may.

    ``grant``: the op is part of a field action that grants these fields of this table (the
    action itself is judged as a whole elsewhere); then only the granted fields may change,
    whoever writes."""
    if grant is not None:
        names = changed if changed is not None and current is not None else list(incoming)
        outside = changed_outside(grant, names)
        if outside:
            return (f"{rule.table}: an {action or 'action'} may not change {', '.join(outside)}: "
                    "ask the monitoring centre")
    elif who.role not in rule.writers:
        return f"{rule.table}: {rule.refusal}"
    if rule.table == "users" and not incoming.get("deleted"):
        # An account the hub makes: a police or probation account with no region would hold nothing.
        try:
            refusal = region_refusal(Role(incoming.get("role")), incoming.get("region") or "")
        except ValueError:
            refusal = f"role: {incoming.get('role')!r} is not a role"
        if refusal:
            return f"users.{refusal}"
    if rule.owner_field and who.role is Role.FIELD_OFFICER:
        for version in (current.data if current else None, incoming):
            if version is not None and version.get(rule.owner_field) not in (who.user_id, None):
                return f"{rule.table}: this belongs to another officer; only they or the monitoring centre can change it"
    return None


def visit_booking(who: Writer, held: dict[str, Any] | None, after: dict[str, Any],
                  case_officer: str | None) -> str | None:
    """Why a field officer may not make this visit, or None.

    An open visit brings its booked officer and crew to its case (``scope.visit_holders``),
    so who holds a visit is planned by supervisors and the monitoring centre: a field
    officer changes no crew, and brings nobody but the case's own officer to a case by
    booking or reopening a visit (she cannot grant herself, or a colleague, someone else's
    case).  ``held``: the hub's visit (None: new); ``after``: as it would be; ``case_officer``:
    the officer the visit's order is assigned to.  Field actions (a failed attempt's next
    attempt) are judged by their own rules instead."""
    if who.role is not Role.FIELD_OFFICER:
        return None
    if list(after.get("crew") or ()) != list((held or {}).get("crew") or ()):
        return "visits: crews are planned by a supervisor or the monitoring centre; ask them to change it"
    brought = visit_holders(after) - visit_holders(held or {}) - {case_officer}
    if brought:
        return ("visits: only a supervisor or the monitoring centre books a visit on another officer's case "
                "(it would hand the case to whoever holds the visit)")
    return None


def _newer(a: str, b: str) -> bool:
    return hlcmod.key(a) > hlcmod.key(b)


def _content(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in META_FIELDS}


def merge(rule: TableRule, current: HubRow | None, incoming: dict[str, Any], hlc: str, *,
          deleted: bool = False, changed: list[str] | None = None) -> Decision:
    """The hub's row after applying one op that the writer was allowed to make."""
    if current is None:
        fields = {k: hlc for k in incoming if k not in META_FIELDS}
        return Decision("applied", HubRow(dict(incoming), hlc, fields, deleted))
    if rule.policy is Policy.APPEND_ONLY:
        return Decision("duplicate")
    if current.deleted and not deleted:
        # Tombstones are final: a late edit must not bring a deleted row back.
        return Decision("merged", None, (Loser("*", incoming, hlc, current.hlc),),
                        reason="the record was deleted")
    if deleted:
        newer = _newer(hlc, current.hlc)
        data = dict(incoming) if newer else dict(current.data)
        data["deleted"] = True
        return Decision("applied", HubRow(data, hlcmod.later(hlc, current.hlc), dict(current.field_hlcs), True))
    if rule.policy is Policy.FORWARD_ONLY:
        return _forward_only(current, incoming, hlc)
    if rule.policy is Policy.FIELDS_LWW:
        return _fields_lww(rule, current, incoming, hlc, changed)
    return _row_lww(current, incoming, hlc)


def _row_lww(current: HubRow, incoming: dict, hlc: str) -> Decision:
    if not _newer(hlc, current.hlc):
        if _content(incoming) == _content(current.data):
            return Decision("duplicate")         # an old version sent again: nothing lost, no conflict
        return Decision("merged", None, (Loser("*", incoming, hlc, current.hlc),))
    fields = {k: hlc for k in incoming if k not in META_FIELDS}
    return Decision("applied", HubRow(dict(incoming), hlc, fields, False))


def _entry_key(entry: Any) -> str:
    return msgspec.json.encode(entry, order="sorted").decode()


def union(held: list | tuple | None, incoming: list | tuple | None) -> list:
    """Two versions of a history merged: every entry of either, once, in time order (``at``)."""
    seen: dict[str, Any] = {}
    for entry in (*(held or ()), *(incoming or ())):
        seen.setdefault(_entry_key(entry), entry)
    entries = list(seen.values())
    if all(isinstance(e, dict) and isinstance(e.get("at"), str) for e in entries):
        entries.sort(key=lambda e: e["at"])      # ISO instants of one form: text order is time order
    return entries


def _fields_lww(rule: TableRule, current: HubRow, incoming: dict, hlc: str, changed: list[str] | None) -> Decision:
    names = [k for k in (changed if changed is not None else incoming) if k not in META_FIELDS and k in incoming]
    data, field_hlcs, losers = dict(current.data), dict(current.field_hlcs), []
    for name in names:
        held = field_hlcs.get(name, current.hlc)
        if name in rule.union_fields:
            merged = union(data.get(name), incoming[name])
            if merged != list(data.get(name) or ()):
                data[name] = merged
            field_hlcs[name] = hlcmod.later(held, hlc)
        elif incoming[name] == data.get(name):
            field_hlcs[name] = hlcmod.later(held, hlc)
        elif _newer(hlc, held):
            losers.append(Loser(name, data.get(name), held, hlc))
            data[name], field_hlcs[name] = incoming[name], hlc
        else:
            losers.append(Loser(name, incoming[name], hlc, held))
    new_hlc = hlcmod.later(current.hlc, hlc)
    if not _newer(current.hlc, hlc):
        data.update({k: incoming[k] for k in ("updated_at", "origin") if k in incoming})
    data["hlc"] = new_hlc
    row = HubRow(data, new_hlc, field_hlcs, False)
    own_lost = any(loser.hlc == hlc for loser in losers)
    return Decision("merged" if own_lost else "applied", row, tuple(losers))


def _forward_only(current: HubRow, incoming: dict, hlc: str) -> Decision:
    data = dict(current.data)
    rank = {s.value: i for i, s in enumerate(ALERT_ORDER)}
    have, want = data.get("status", AlertStatus.NEW.value), incoming.get("status", AlertStatus.NEW.value)
    losers = []
    if rank.get(want, 0) > rank.get(have, 0):
        data["status"] = want
    elif want != have:
        losers.append(Loser("status", want, hlc, current.hlc))
    if data.get("acknowledged_by") is None and incoming.get("acknowledged_by") is not None:
        data["acknowledged_by"] = incoming["acknowledged_by"]
        data["acknowledged_at"] = incoming.get("acknowledged_at")
    elif incoming.get("acknowledged_by") not in (None, data.get("acknowledged_by")):
        losers.append(Loser("acknowledged_by", incoming["acknowledged_by"], hlc, current.hlc))
    new_hlc = hlcmod.later(current.hlc, hlc)
    data["hlc"] = new_hlc
    row = HubRow(data, new_hlc, dict(current.field_hlcs), False)
    return Decision("merged" if losers else "applied", row, tuple(losers))
