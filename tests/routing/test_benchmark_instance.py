"""The routing benchmark's instance (40 officers, 320 visits): every plan on it keeps every
rule, the planner beats the nearest-neighbour baseline, and no deadline is missed."""
from __future__ import annotations

import pytest

from benchmarks.routing_bench import instance
from emdesk.routing import solve
from emdesk.routing.baseline import nearest_neighbour
from emdesk.routing.check import violations


@pytest.mark.slow
def test_the_benchmark_instance_is_planned_feasibly():
    problem = instance()
    assert (len(problem.officers), len(problem.jobs)) == (40, 320)
    plan = solve(problem, time_limit=8)
    assert violations(problem, plan) == []
    assert plan.kpi_missed == ()
    assert plan.seconds < 15
    served = sum(len(r.stops) for r in plan.routes)
    baseline = nearest_neighbour(problem)
    assert violations(problem, baseline) == []
    assert served >= sum(len(r.stops) for r in baseline.routes)
    assert served >= 300
    assert plan.km_total < baseline.km_total
