"""Who receives what: principals by role, audiences by table."""
from __future__ import annotations

import pytest

from emdesk.domain.users import Role
from emdesk.sync.scope import CaseLink, audience, principal_of

WALES_A = CaseLink(region="Wales", officer_id="a")


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
    ("telemetry", {}, [WALES_A], {"all", "region:Wales"}),        # not officers
    ("alerts", {}, [WALES_A], {"all", "region:Wales"}),
    ("users", {}, [], {"*"}),
    ("checklist_ticks", {"by": "c"}, [WALES_A], {"all", "region:Wales", "officer:a"}),   # the case's, not tech
])
def test_audience(table, record, cases, expected):
    assert audience(table, record, cases) == expected
