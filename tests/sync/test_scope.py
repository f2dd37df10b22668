"""Who receives what: principals by role, audiences by table."""
from __future__ import annotations

import pytest

from emdesk.domain.users import Role
from emdesk.sync.scope import CaseLink, audience, principal_of, visit_holders

WALES_A = CaseLink(region="Wales", officer_id="a")
COVERED = CaseLink(region="Wales", officer_id="a", visitors=frozenset({"c", "d"}))    # c and d visit a's case
WALES_ALL = {"all", "region:Wales", "officer:a"}


@pytest.mark.parametrize("role, expected", [
    (Role.FIELD_OFFICER, "officer:u1"), (Role.TECHNICIAN, "tech"),
    (Role.MONITORING_OPERATOR, "region:Wales"), (Role.SUPERVISOR, "all"), (Role.ADMIN, "all"),
])
def test_principal_by_role(role, expected):
    assert principal_of(role, "u1", "Wales") == expected


@pytest.mark.parametrize("table, record, cases, expected", [
    ("orders", {}, [WALES_A], {"all", "region:Wales", "officer:a"}),
    ("subjects", {}, [WALES_A, CaseLink("London", "b")], {"all", "region:Wales", "officer:a", "region:London", "officer:b"}),
    ("visits", {"officer_id": "c"}, [WALES_A], {"all", "region:Wales", "officer:a", "officer:c"}),
    ("devices", {}, [], {"tech", "all"}),
    ("devices", {}, [WALES_A], {"tech", "all", "region:Wales", "officer:a"}),
    ("incidents", {}, [WALES_A], {"all", "region:Wales"}),        # not officers
    ("alerts", {}, [WALES_A], {"all", "region:Wales"}),
    ("users", {}, [], {"*"}),
    ("checklist_ticks", {"by": "c"}, [WALES_A], {"all", "region:Wales", "officer:a"}),   # the case's, not tech
    # Officers visiting a case get the door's rows: order, person, kit...
    ("orders", {}, [COVERED], WALES_ALL | {"officer:c", "officer:d"}),
    ("subjects", {}, [COVERED], WALES_ALL | {"officer:c", "officer:d"}),
    ("devices", {}, [COVERED], WALES_ALL | {"tech", "officer:c", "officer:d"}),
    # ...but not the case's history, nor the other visits of the case.
    ("notes", {}, [COVERED], WALES_ALL),
    ("visits", {"officer_id": "a", "status": "scheduled"}, [COVERED], WALES_ALL),
    ("visits", {"officer_id": "c", "crew": ["c", "d"], "status": "scheduled"}, [COVERED],
     WALES_ALL | {"officer:c", "officer:d"}),
    ("visits", {"officer_id": "c", "crew": ["c", "d"], "status": "completed"}, [COVERED], WALES_ALL),
    ("incidents", {}, [COVERED], {"all", "region:Wales"}),
])
def test_audience(table, record, cases, expected):
    assert audience(table, record, cases) == expected


@pytest.mark.parametrize("holders, expected", [
    (frozenset(), WALES_ALL),                                  # the visit finished: the case's only
    (frozenset({"c"}), WALES_ALL | {"officer:c"}),             # its officer while it is open
    (frozenset({"c", "d"}), WALES_ALL | {"officer:c", "officer:d"}),
])
def test_a_visits_checklist_goes_to_the_officers_holding_it(holders, expected):
    assert audience("checklist_ticks", {"by": "c"}, [COVERED], holders) == expected


@pytest.mark.parametrize("visit, expected", [
    ({"officer_id": "a", "status": "scheduled"}, {"a"}),
    ({"officer_id": "a", "crew": ["a", "b"], "status": "in_progress"}, {"a", "b"}),
    ({"officer_id": None, "crew": ["b"], "status": "scheduled"}, {"b"}),
    ({"officer_id": "a", "crew": ["a", "b"], "status": "completed"}, set()),
    ({"officer_id": "a", "status": "failed"}, set()),
    ({"officer_id": "a", "status": "cancelled"}, set()),
    ({"officer_id": "a", "status": "scheduled", "deleted": True}, set()),
    ({"status": "scheduled"}, set()),
])
def test_who_an_open_visit_brings_to_its_case(visit, expected):
    assert visit_holders(visit) == expected
