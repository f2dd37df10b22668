"""Merge rules from tables of cases: who may write, and what the hub keeps."""
from __future__ import annotations

import pytest

from emdesk.domain.users import Role
from emdesk.sync.policy import RULES, HubRow, Policy, Writer, merge, may_write, visit_booking

OFFICER_A, OFFICER_B = Writer("a", Role.FIELD_OFFICER), Writer("b", Role.FIELD_OFFICER)
MONITOR, TECH, BOSS = Writer("m", Role.MONITORING_OPERATOR), Writer("t", Role.TECHNICIAN), Writer("s", Role.SUPERVISOR)


@pytest.mark.parametrize("table, who, current, incoming, refused", [
    ("orders", OFFICER_A, None, {"id": "o"}, "ask them to vary the order"),
    ("orders", MONITOR, None, {"id": "o"}, None),
    ("subjects", TECH, None, {"id": "s"}, "personal details are kept by the monitoring centre"),
    ("visits", OFFICER_A, {"officer_id": "a"}, {"officer_id": "a"}, None),
    ("visits", OFFICER_A, {"officer_id": "b"}, {"officer_id": "b"}, "belongs to another officer"),
    ("visits", OFFICER_A, {"officer_id": "b"}, {"officer_id": "a"}, "belongs to another officer"),   # no stealing
    ("visits", BOSS, {"officer_id": "b"}, {"officer_id": "b"}, None),
    ("alerts", OFFICER_A, None, {}, "monitoring centre"),
    ("devices", TECH, None, {}, None),
    ("notes", TECH, None, {}, "technicians do not write case notes"),
    ("users", BOSS, None, {}, "administrator"),
    ("checklist_ticks", OFFICER_A, None, {"by": "a"}, None),
    ("checklist_ticks", OFFICER_A, None, {"by": "b"}, "belongs to another officer"),
    ("checklist_ticks", TECH, None, {"by": "t"}, "ticked by the visiting officer"),
    ("checklist_ticks", MONITOR, None, {"by": "m"}, None),
])
def test_who_may_write(table, who, current, incoming, refused):
    cur = HubRow(current, "1") if current is not None else None
    reason = may_write(RULES[table], who, cur, incoming)
    assert (reason is None) if refused is None else (refused in reason)


OPEN_A = {"officer_id": "a", "status": "scheduled", "crew": []}


@pytest.mark.parametrize("who, held, after, case_officer, refused", [
    # Her own case: she books herself, gives a visit up, finishes it.
    (OFFICER_A, None, OPEN_A, "a", None),
    (OFFICER_A, OPEN_A, {**OPEN_A, "officer_id": None}, "a", None),
    (OFFICER_A, OPEN_A, {**OPEN_A, "status": "completed"}, "b", None),      # a cover visit finished
    (OFFICER_A, OPEN_A, {**OPEN_A, "notes": "dog"}, "b", None),              # her cover visit, edited
    # Booking herself into a colleague's case, or reopening a visit there: refused.
    (OFFICER_A, None, OPEN_A, "b", "another officer's case"),
    (OFFICER_A, {**OPEN_A, "status": "failed"}, OPEN_A, "b", "another officer's case"),
    (OFFICER_A, {**OPEN_A, "officer_id": None}, OPEN_A, "b", "another officer's case"),
    # A visit that brings only the case's own officer: nobody is handed a case.
    (OFFICER_A, None, {**OPEN_A, "officer_id": "b"}, "b", None),
    # Crews are planned: not by a field officer, on her case or another's.
    (OFFICER_A, OPEN_A, {**OPEN_A, "crew": ["a", "c"]}, "a", "crews are planned"),
    (OFFICER_A, None, {**OPEN_A, "crew": ["a"]}, "a", "crews are planned"),
    (OFFICER_A, {**OPEN_A, "crew": ["a", "c"]}, {**OPEN_A, "crew": ["a"]}, "a", "crews are planned"),
    # Planners book and crew anyone anywhere.
    (BOSS, None, {**OPEN_A, "crew": ["a", "c"]}, "b", None),
    (MONITOR, OPEN_A, {**OPEN_A, "officer_id": "c", "crew": ["c"]}, "b", None),
])
def test_who_may_book_a_visit(who, held, after, case_officer, refused):
    reason = visit_booking(who, held, after, case_officer)
    assert (reason is None) if refused is None else (refused in reason)


def test_every_synced_table_has_a_rule():
    from emdesk.store.tables import BY_TABLE
    assert set(BY_TABLE) == set(RULES)


def t(n) -> str:
    """A real stamp for a small number (the cases read better with numbers)."""
    return f"{int(n):013d}-0000-test"


def row(data, hlc, fields=None, deleted=False):
    fields = {k: t(v) for k, v in fields.items()} if fields else {k: t(hlc) for k in data}
    return HubRow(dict(data), t(hlc), fields, deleted)


@pytest.mark.parametrize("policy_table, current, incoming, hlc, changed, status, expect, losers", [
    # append-only: a second copy changes nothing
    ("notes", row({"text": "first"}, "5"), {"text": "second"}, "9", None, "duplicate", None, []),
    # field LWW: newer field wins, older loses and is kept
    ("visits", row({"notes": "x", "outcome": None}, "5"), {"notes": "y", "outcome": None}, "7", ["notes"],
     "applied", {"notes": "y"}, [("notes", "x")]),
    ("visits", row({"notes": "x"}, "5"), {"notes": "old"}, "3", ["notes"], "merged", {"notes": "x"}, [("notes", "old")]),
    # different fields from two officers' edits both survive
    ("visits", row({"notes": "n1", "outcome": "refused"}, "5", {"notes": "6", "outcome": "5"}),
     {"notes": "n0", "outcome": "installed"}, "4", ["outcome"], "merged", {"notes": "n1", "outcome": "refused"},
     [("outcome", "installed")]),
    ("visits", row({"notes": "n1", "outcome": "refused"}, "6", {"notes": "6", "outcome": "2"}),
     {"notes": "n0", "outcome": "installed"}, "4", ["outcome"], "applied", {"notes": "n1", "outcome": "installed"},
     [("outcome", "refused")]),
    # forward-only: status never goes back; first acknowledgement wins
    ("alerts", row({"status": "acknowledged", "acknowledged_by": "m1"}, "5"),
     {"status": "new", "acknowledged_by": None}, "9", None, "merged", {"status": "acknowledged", "acknowledged_by": "m1"},
     [("status", "new")]),
    ("alerts", row({"status": "acknowledged", "acknowledged_by": "m1"}, "5"),
     {"status": "closed", "acknowledged_by": "m2"}, "9", None, "merged", {"status": "closed", "acknowledged_by": "m1"},
     [("acknowledged_by", "m2")]),
    ("alerts", row({"status": "new", "acknowledged_by": None}, "5"),
     {"status": "acknowledged", "acknowledged_by": "m2"}, "1", None, "applied",
     {"status": "acknowledged", "acknowledged_by": "m2"}, []),
    # row LWW
    ("incidents", row({"serious": False}, "5"), {"serious": True}, "6", None, "applied", {"serious": True}, []),
    ("incidents", row({"serious": False}, "5"), {"serious": True}, "4", None, "merged", {"serious": False},
     [("*", None)]),
    # ... and the same version sent again under a new op id is a duplicate, not a conflict
    ("incidents", row({"serious": False}, "5"), {"serious": False}, "4", None, "duplicate", {"serious": False}, []),
    # histories merge entry by entry: the centre's move and the officer's both survive
    ("orders", row({"status": "active", "history": [{"at": "2026-11-26T08:00:00Z", "by": "m"}]}, "5"),
     {"status": "active", "history": [{"at": "2026-11-26T07:00:00Z", "by": "a"}]}, "4", ["history"], "applied",
     {"history": [{"at": "2026-11-26T07:00:00Z", "by": "a"}, {"at": "2026-11-26T08:00:00Z", "by": "m"}]}, []),
    ("devices", row({"state": "allocated", "history": [1]}, "5"), {"state": "installed", "history": [1, 2]}, "6",
     ["state", "history"], "applied", {"state": "installed", "history": [1, 2]}, [("state", "allocated")]),
])
def test_merge(policy_table, current, incoming, hlc, changed, status, expect, losers):
    d = merge(RULES[policy_table], current, incoming, t(hlc), changed=changed)
    assert d.status == status
    result = d.row.data if d.row else current.data
    for k, v in (expect or {}).items():
        assert result[k] == v
    assert [(x.field, x.value) if x.field != "*" else ("*", None) for x in d.losers] == losers


@pytest.mark.parametrize("table", ["visits", "devices", "orders", "alerts"])
def test_tombstones_are_final(table):
    deleted = merge(RULES[table], row({"a": 1}, "5"), {"a": 1}, t(6), deleted=True)
    assert deleted.row.deleted
    late_edit = merge(RULES[table], deleted.row, {"a": 2}, t(9))
    assert late_edit.status == "merged" and late_edit.row is None


def test_first_version_is_applied_as_sent():
    d = merge(RULES["orders"], None, {"id": "o", "status": "draft"}, t(3))
    assert d.status == "applied" and d.row.data["status"] == "draft" and d.row.field_hlcs["status"] == t(3)


def test_policies_are_declared_not_hard_coded():
    assert {r.policy for r in RULES.values()} == set(Policy)
