"""Field actions: work done at the door that the centre depends on, kept as one unit.

An installation writes the visit (completed, installed), the devices (installed, paired,
on the order) and the order (active, the fitted serials) in one local transaction.  The
desktop marks those writes as one action (``Store.action``); they travel together and the
hub takes all of them or none, so no replica ever holds a visit that says installed beside
an order still waiting for its kit.

Each action declares, per table, the fields it may change (``Grant``).  A role that may
not otherwise write a table (a field officer and orders, say) writes exactly those fields
through the action and nothing else.  ``check`` then judges the whole action against the
hub's current rows (pure: rows in, a reason out), so an installation on an order revoked
while the officer was offline, or on a device a technician has since marked faulty, is
refused as a whole with a reason the officer can act on.

Rows are plain data (``msgspec.to_builtins`` of the records: enums as their values).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .ids import id_time_ms
from .users import Role
from .visit_rules import visit_id
from .visits import Visit, VisitCause

Lookup = Callable[[str, str], "dict[str, Any] | None"]   # (table, id) -> the hub's current row


class FieldAction(str, Enum):
    INSTALLATION = "installation"
    REMOVAL = "removal"
    DEVICE_REFUSED = "device_refused"
    ATTEMPT_FAILED = "attempt_failed"

    @property
    def label(self) -> str:
        return {"installation": "installation", "removal": "removal",
                "device_refused": "refused device", "attempt_failed": "failed attempt"}[self.value]


@dataclass(frozen=True)
class Grant:
    """What an action may do to one table."""

    fields: frozenset[str]
    releases: bool = False      # may take the row out of the writer's scope (kit back to stock)
    claims: bool = False        # may take unallocated stock, outside the writer's scope, onto her case


@dataclass(frozen=True)
class ActionRow:
    """One row of an action: the hub's version before, and after the pushed change."""

    table: str
    id: str
    before: dict[str, Any] | None
    after: dict[str, Any]           # the hub's row with the fields the writer changed applied
    changed: frozenset[str]


@dataclass(frozen=True)
class ActionSpec:
    action: FieldAction
    roles: frozenset[Role]
    grants: dict[str, Grant]
    check: Callable[[str, list[ActionRow], Lookup], "str | None"]


DEVICE_MOVE = frozenset({"state", "order_id", "subject_id", "paired_with", "history"})
VISIT_OUTCOME = frozenset({"status", "outcome", "outcome_at", "device_serials", "notes", "not_recovered"})
# A failed attempt writes its outcome and may book the next attempt: a whole new visit row.
VISIT_BOOKING = frozenset(Visit.__struct_fields__) - {"id", "created_at", "updated_at", "origin", "deleted", "hlc"}
FIELD_ROLES = frozenset({Role.FIELD_OFFICER, Role.SUPERVISOR, Role.ADMIN})

# Outcomes only an action may record: written alone they would be half an installation.
OUTCOME_ACTIONS: dict[str, FieldAction] = {
    "installed": FieldAction.INSTALLATION,
    "removed": FieldAction.REMOVAL,
    "equipment_not_recovered": FieldAction.REMOVAL,
}

FINISHED = ("completed", "cancelled", "failed")


def _one(rows: list[ActionRow], table: str) -> list[ActionRow]:
    return [r for r in rows if r.table == table]


def _visit(rows: list[ActionRow], kind: str, what: str) -> tuple[ActionRow | None, str | None]:
    visits = _one(rows, "visits")
    if len(visits) != 1:
        return None, f"an {what} records exactly one visit ({len(visits)} sent)"
    v = visits[0]
    if v.before is None or v.before.get("deleted"):
        return None, f"the {kind} visit is not on the hub (deleted by the monitoring centre?)"
    if v.before.get("kind") != kind:
        return None, f"this is a {v.before.get('kind')} visit, not a {kind}"
    if v.after.get("order_id") != v.before.get("order_id"):
        return None, f"an {what} cannot move its visit to another order"
    return v, None


def _order(lookup: Lookup, order_id: str) -> tuple[dict | None, str | None]:
    order = lookup("orders", order_id)
    if order is None or order.get("deleted"):
        return None, "the order is not on the hub (withdrawn by the monitoring centre?)"
    return order, None


def _check_installation(writer_id: str, rows: list[ActionRow], lookup: Lookup) -> str | None:
    v, problem = _visit(rows, "install", "installation")
    if problem:
        return problem
    serials = tuple(v.after.get("device_serials") or ())
    if v.after.get("status") != "completed" or v.after.get("outcome") != "installed" or not serials:
        return "an installation completes its visit as installed, with the fitted serials"
    repeat = (v.before.get("status") == "completed" and v.before.get("outcome") == "installed"
              and set(v.before.get("device_serials") or ()) == set(serials))
    if v.before.get("status") in FINISHED and not repeat:
        return (f"the visit is already {v.before['status']} on the hub (changed while you were offline): "
                "call the monitoring centre about the equipment fitted")
    order_id = v.before["order_id"]
    order, problem = _order(lookup, order_id)
    if problem:
        return problem
    if order.get("status") not in ("submitted", "active"):
        return (f"order {order.get('reference') or order_id} is {order.get('status')} on the hub (changed by the "
                "monitoring centre while you were offline): call them about the equipment fitted")
    orders = _one(rows, "orders")
    if len(orders) > 1 or (orders and orders[0].id != order_id):
        return "an installation changes only the order it installs"
    if orders:
        after = orders[0].after
        if after.get("status") != "active":
            return "an installation makes its order active"
        missing = set(serials) - set(after.get("device_serials") or ())
        if missing:
            return f"the order does not record {', '.join(sorted(missing))} as fitted"
    elif order.get("status") != "active" or not set(serials) <= set(order.get("device_serials") or ()):
        return "an installation must make its order active with the fitted serials"
    devices = {r.after.get("serial"): r for r in _one(rows, "devices")}
    if set(devices) != set(serials) or len(devices) != len(_one(rows, "devices")):
        return (f"the visit says {', '.join(serials)} were fitted but the devices sent are "
                f"{', '.join(sorted(str(s) for s in devices)) or 'none'}")
    for serial, d in devices.items():
        before = d.before
        if before is None or before.get("deleted"):
            return f"{serial} is not in the hub's stock records"
        if before.get("serial") != serial:
            return f"{serial}: a device's serial cannot change"
        state, on = before.get("state"), before.get("order_id")
        if state in ("allocated", "installed") and on != order_id:
            return f"{serial} is {state} on another order on the hub"
        if state == "in_stock" and before.get("region") and order.get("region") \
                and before["region"] != order["region"]:
            return f"{serial} is stock of {before['region']}, not {order['region']}"
        if state not in ("in_stock", "allocated", "installed"):
            return f"{serial} is recorded as {str(state).replace('_', ' ')} on the hub: it cannot be fitted"
        after = d.after
        if after.get("state") != "installed" or after.get("order_id") != order_id \
                or after.get("subject_id") != order.get("subject_id"):
            return f"{serial} must be recorded as installed on this order and its wearer"
        if after.get("paired_with") not in (None, *(s for s in serials if s != serial)):
            return f"{serial} can only be paired with equipment of this installation"
    return None


def _check_removal(writer_id: str, rows: list[ActionRow], lookup: Lookup) -> str | None:
    v, problem = _visit(rows, "removal", "removal")
    if problem:
        return problem
    if v.before.get("status") in ("cancelled",):
        return "the removal visit was cancelled on the hub: call the monitoring centre about the equipment"
    outcome = v.after.get("outcome")
    if v.after.get("status") != "completed" or outcome not in ("removed", "equipment_not_recovered"):
        return "a removal completes its visit as removed (or equipment not recovered)"
    order_id = v.before["order_id"]
    if _one(rows, "orders"):
        return "a removal does not change the order: the monitoring centre ends it"
    devices = _one(rows, "devices")
    if not devices:
        return "a removal records what happened to each device"
    recovered = set(v.after.get("device_serials") or ())
    for d in devices:
        serial = d.after.get("serial")
        if d.before is None or d.before.get("deleted"):
            return f"{serial} is not in the hub's stock records"
        if d.before.get("serial") != serial:
            return f"{serial}: a device's serial cannot change"
        if d.before.get("order_id") != order_id or d.before.get("state") not in ("installed", "awaiting_collection"):
            return f"{serial} is not with the wearer of this order on the hub"
        want = "recovered" if serial in recovered else "lost"
        if d.after.get("state") != want:
            return f"{serial} must be recorded as {want}"
        if d.after.get("order_id") is not None or d.after.get("subject_id") is not None \
                or d.after.get("paired_with") is not None:
            return f"{serial} leaves the order and its wearer when it is removed"
    if recovered - {d.after.get("serial") for d in devices}:
        return "the visit names devices that the removal does not record"
    if outcome == "removed" and any(d.after.get("state") == "lost" for d in devices):
        return "the visit says everything was removed but a device is recorded as not recovered"
    reasons = v.after.get("not_recovered") or {}
    unexplained = sorted(str(d.after.get("serial")) for d in devices
                         if d.after.get("state") == "lost" and not str(reasons.get(d.after.get("serial")) or "").strip())
    if unexplained:
        return f"the removal gives no reason why {', '.join(unexplained)} was not recovered"
    return None


def _check_device_refused(writer_id: str, rows: list[ActionRow], lookup: Lookup) -> str | None:
    if len(rows) != 1 or rows[0].table != "devices":
        return "a refused device is recorded on its own"
    d = rows[0]
    if d.before is None or d.before.get("deleted"):
        return "the device is not in the hub's stock records"
    if d.after.get("state") != "faulty" or d.before.get("state") not in ("in_stock", "allocated", "installed",
                                                                            "recovered", "faulty"):
        return "a refused device is set aside as faulty"
    if d.after.get("order_id") not in (None, d.before.get("order_id")):
        return "a refused device cannot be moved to another order"
    return None


# Outcome codes as the rows carry them (domain rules name the same sets as enums).
_RETRY = frozenset({"not_at_address", "refused", "wrong_address", "unsafe", "equipment_fault", "late_order"})
_FAILURES = _RETRY | {"order_cancelled"}


def _check_attempt_failed(writer_id: str, rows: list[ActionRow], lookup: Lookup) -> str | None:
    """A visit failed (with its reason), and the next attempt it books, if any: the one the rules
    make (``visit_rules.rebooking_id``), so two desktops booking it never make two."""
    if any(r.table != "visits" for r in rows):
        return "a failed attempt records visits only"
    ids = {r.id for r in rows}
    rebooks = [r for r in rows if r.after.get("previous_visit_id") in ids]
    failed = [r for r in rows if r not in rebooks]
    if len(failed) != 1 or len(rebooks) > 1:
        return "a failed attempt records one visit and at most the next attempt it books"
    v = failed[0]
    if v.before is None or v.before.get("deleted"):
        return "the visit is not on the hub (deleted by the monitoring centre?)"
    outside = changed_outside(Grant(VISIT_OUTCOME), v.changed)
    if outside:
        return f"a failed attempt changes only the visit's outcome, not {', '.join(outside)}"
    outcome = v.after.get("outcome")
    if v.after.get("status") != "failed" or outcome not in _FAILURES:
        return "a failed attempt marks its visit failed, with the reason"
    repeat = v.before.get("status") == "failed" and v.before.get("outcome") == outcome
    if v.before.get("status") in FINISHED and not repeat:
        return (f"the visit is already {v.before['status']} on the hub (changed while you were offline): "
                "call the monitoring centre")
    order, problem = _order(lookup, v.before["order_id"])
    if problem:
        return problem
    if not rebooks:
        return None
    kind = v.before.get("kind")
    live = ("ended", "revoked") if kind == "removal" else ("submitted", "active")
    if outcome not in _RETRY or order.get("status") not in live:
        return (f"no further attempt follows {outcome.replace('_', ' ')} on a {order.get('status')} order: "
                "the rebooking was not kept")
    n = rebooks[0]
    attempt = int(v.before.get("attempt") or 1)
    expected = visit_id(v.before["order_id"], VisitCause.FAILED_ATTEMPT, f"{v.id}/{attempt + 1}", id_time_ms(v.id))
    if n.id != expected:
        return "the next attempt is not the one this failure books: update emdesk"
    a = n.after
    if n.before is not None and (n.before.get("deleted") or n.before.get("status") not in ("scheduled", "in_progress")):
        return "the next attempt has already been made (or cancelled) on the hub"
    same = {k: v.before.get(k) for k in ("order_id", "subject_id", "kind")}
    if any(a.get(k) != want for k, want in same.items()):
        return "the next attempt is for the same order, wearer and kind of visit"
    if a.get("attempt") != attempt + 1 or a.get("cause") != "failed_attempt":
        return f"the next attempt is attempt {attempt + 1}, booked because this one failed"
    if n.before is None and (a.get("status") != "scheduled" or a.get("outcome") is not None):
        return "the next attempt is booked, not done"
    if a.get("officer_id") not in (v.before.get("officer_id"), writer_id):
        return "the next attempt is booked to the officer of the failed one"
    if not (a.get("window_start") and a.get("window_end") and a["window_start"] < a["window_end"]):
        return "the next attempt needs a window that ends after it starts"
    if outcome == "unsafe" and int(a.get("crew_size") or 1) < 2:
        return "after an unsafe visit the next attempt is double-crewed"
    return None


ACTIONS: dict[FieldAction, ActionSpec] = {s.action: s for s in (
    ActionSpec(FieldAction.INSTALLATION, FIELD_ROLES, {
        "visits": Grant(VISIT_OUTCOME),
        "devices": Grant(DEVICE_MOVE, claims=True),
        "orders": Grant(frozenset({"status", "history", "device_kinds", "device_serials"})),
    }, _check_installation),
    ActionSpec(FieldAction.REMOVAL, FIELD_ROLES, {
        "visits": Grant(VISIT_OUTCOME),
        "devices": Grant(DEVICE_MOVE, releases=True),
    }, _check_removal),
    ActionSpec(FieldAction.DEVICE_REFUSED, FIELD_ROLES | {Role.TECHNICIAN}, {
        "devices": Grant(frozenset({"state", "order_id", "subject_id", "history"}), releases=True),
    }, _check_device_refused),
    ActionSpec(FieldAction.ATTEMPT_FAILED, FIELD_ROLES, {
        "visits": Grant(VISIT_BOOKING),
    }, _check_attempt_failed),
)}


def spec_for(name: str) -> ActionSpec | None:
    try:
        return ACTIONS[FieldAction(name)]
    except ValueError:
        return None


def required_action(table: str, before: dict[str, Any] | None, after: dict[str, Any]) -> FieldAction | None:
    """The action a change can only be part of (a visit newly marked installed), or None."""
    if table != "visits":
        return None
    outcome = after.get("outcome")
    if outcome in OUTCOME_ACTIONS and (before is None or before.get("outcome") != outcome):
        return OUTCOME_ACTIONS[outcome]
    return None


def changed_outside(grant: Grant, changed: Iterable[str]) -> list[str]:
    """Fields changed that the grant does not cover (bookkeeping fields excepted)."""
    return sorted(set(changed) - grant.fields - {"id", "created_at", "updated_at", "origin", "deleted", "hlc"})


__all__ = ["ACTIONS", "ActionRow", "ActionSpec", "FieldAction", "Grant", "OUTCOME_ACTIONS", "changed_outside",
           "required_action", "spec_for"]
