"""On random small days, every plan keeps every rule, and every visit is on a route or
unassigned with a reason (the planner's and the baseline's alike)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emdesk.domain.devices import DeviceKind
from emdesk.routing import Break, Problem, solve
from emdesk.routing.solver import SearchSettings
from emdesk.routing.baseline import nearest_neighbour
from emdesk.routing.check import violations

from .instances import at, job, officer

REGIONS = ("West Midlands", "East Midlands")
KINDS = (DeviceKind.RF_TAG, DeviceKind.GPS_TAG)


@st.composite
def days(draw):
    n_off = draw(st.integers(1, 3))
    officers = []
    for k in range(n_off):
        start = draw(st.sampled_from((7, 8, 10, 12)))
        end = start + draw(st.sampled_from((4, 8, 10)))
        brk = (Break(at(start + 2), at(start + 3), 30),) if draw(st.booleans()) else ()
        officers.append(officer(f"o{k}", lat=52.4 + draw(st.floats(-0.2, 0.2)), lon=-1.9 + draw(st.floats(-0.3, 0.3)),
                                start=start, end=end, region=draw(st.sampled_from(REGIONS)), breaks=brk,
                                carries=tuple((kind, draw(st.integers(0, 2))) for kind in KINDS)))
    jobs = []
    for i in range(draw(st.integers(1, 8))):
        w = draw(st.one_of(st.none(), st.tuples(st.integers(7, 21), st.sampled_from((1, 2, 4)))))
        needs = tuple((kind, 1) for kind in KINDS if draw(st.integers(0, 3)) == 0)
        jobs.append(job(f"j{i}", draw(st.floats(-0.3, 0.3)), draw(st.floats(-0.4, 0.4)),
                        minutes=draw(st.sampled_from((20, 30, 60))),
                        window=(w[0], w[0] + w[1]) if w else None, region=draw(st.sampled_from(REGIONS)),
                        crew_size=draw(st.sampled_from((1, 1, 1, 2))), needs=needs,
                        due_by=at(24) if draw(st.booleans()) else None))
    return Problem(jobs=tuple(jobs), officers=tuple(officers))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days())
def test_every_plan_keeps_every_rule(problem):
    plan = solve(problem, time_limit=0.3)
    assert violations(problem, plan) == []
    routed = {s.job_id for r in plan.routes for s in r.stops}
    unassigned = {u.job_id for u in plan.unassigned}
    assert routed | unassigned == {j.id for j in problem.jobs}
    assert not routed & unassigned
    assert all(len(u.reason) > 10 for u in plan.unassigned)


@settings(max_examples=30, deadline=None)
@given(days())
def test_the_baseline_keeps_every_rule_too(problem):
    assert violations(problem, nearest_neighbour(problem)) == []


# A budget in search steps, not seconds: a time limit searches less on a loaded machine (the
# suite runs in parallel), so what it found would depend on the load.  On 100 random days
# this budget found the same plans (visits served and km) as a one-second search.
BUDGET = SearchSettings(time_limit=60, solution_limit=200, failure_limit=10_000)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days())
def test_the_planner_serves_at_least_as_many_as_the_baseline(problem):
    ours, nn = solve(problem, settings=BUDGET), nearest_neighbour(problem)
    served = lambda p: sum(1 for r in p.routes for s in r.stops if s.crew[0] == r.officer_id)   # noqa: E731
    assert served(ours) >= served(nn) - sum(1 for j in problem.jobs if j.crew_size == 2)
