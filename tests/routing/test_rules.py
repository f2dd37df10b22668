"""Each rule of the day, one small instance each: windows, shifts, breaks, kit, regions,
two-officer visits, deadlines first, pins and re-planning."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from emdesk.domain.devices import DeviceKind
from emdesk.routing import Break, Problem, solve
from emdesk.routing.check import violations

from .instances import at, job, officer

GPS, RF, HMU = DeviceKind.GPS_TAG, DeviceKind.RF_TAG, DeviceKind.HMU


def _plan(problem: Problem, limit: float = 1.0):
    plan = solve(problem, time_limit=limit)
    assert violations(problem, plan) == []
    return plan


def _reasons(plan) -> dict[str, str]:
    return {u.job_id: u.reason for u in plan.unassigned}


def _stop(plan, job_id):
    found = plan.stops_of(job_id)
    assert found, f"{job_id} not routed: {_reasons(plan).get(job_id)}"
    return found


# -- why a visit cannot be planned, in words --------------------------------------------------

@pytest.mark.parametrize("the_job,officers,reason", [
    (job("x", region="Wales"), [officer()], "no officer in region Wales"),
    (job("x", window=(19, 20)), [officer(end=17)], "window 19:00-20:00 cannot be reached within any shift"),
    (job("x", window=(6, 7)), [officer(start=8)], "window 06:00-07:00 cannot be reached within any shift"),
    (job("x", needs=((GPS, 1),)), [officer(carries=((RF, 3),))], "not enough GPS tags carried"),
    (job("x", needs=((RF, 2),)), [officer(carries=((RF, 1),))], "not enough RF tags carried"),
    (job("x", crew_size=2), [officer()], "needs two officers"),
    (job("x", 2.0, 0.0), [officer(start=8, end=9)], "no officer's shift leaves time to get there"),
])
def test_a_visit_nobody_can_take_is_unassigned_with_the_reason(the_job, officers, reason):
    plan = _plan(Problem(jobs=(the_job,), officers=tuple(officers)), 0.3)
    assert not plan.routes
    assert reason in _reasons(plan)["x"]


def test_arrivals_lie_inside_windows_and_the_shift():
    jobs = (job("a", 0.05, window=(9, 10)), job("b", -0.05, window=(9.5, 10.5)), job("c", 0, 0.1, window=(16, 17)),
            job("d", 0.1, 0.1))
    problem = Problem(jobs=jobs, officers=(officer(start=8.5, end=18),))
    plan = _plan(problem)
    for j in jobs:
        (_, s), = _stop(plan, j.id)
        lo, hi = (j.window_start, j.window_end) if j.window_start else (at(8.5), at(18))
        assert lo <= s.arrive <= hi
        assert s.window_start == lo and s.window_end == hi


def test_the_break_is_taken_in_its_span_and_not_during_a_visit():
    lunch = Break(at(12), at(14), 30)
    jobs = tuple(job(f"j{i}", 0.01 * i, minutes=60, window=(11 + i * 0.5, 12 + i * 0.5)) for i in range(4))
    problem = Problem(jobs=jobs, officers=(officer(breaks=(lunch,)),))
    plan = _plan(problem, 1.5)
    route, = plan.routes
    (b_start, b_end), = route.breaks
    assert at(12) <= b_start <= at(14) and b_end - b_start == timedelta(minutes=30)
    for s in route.stops:
        assert s.depart <= b_start or s.arrive >= b_end


def test_kit_each_officer_carries_limits_her_installs():
    jobs = tuple(job(f"i{k}", 0.02 * k, needs=((GPS, 1),), kind="install") for k in range(3))
    problem = Problem(jobs=jobs, officers=(officer("a", carries=((GPS, 1),)), officer("b", carries=((GPS, 1),))))
    plan = _plan(problem)
    assert len(plan.unassigned) == 1
    assert "not enough GPS tags carried" in plan.unassigned[0].reason
    assert sorted(len(r.stops) for r in plan.routes) == [1, 1]


def test_an_officer_works_only_in_her_region():
    jobs = (job("wm"), job("wales", region="Wales"))
    problem = Problem(jobs=jobs, officers=(officer("a"), officer("b", region="Wales", lat=51.48, lon=-3.18)))
    plan = _plan(problem)
    assert {r.officer_id: [s.job_id for s in r.stops] for r in plan.routes} == {"a": ["wm"], "b": ["wales"]}


def test_a_two_officer_visit_is_on_both_routes_with_one_arrival_and_crew():
    jobs = (job("risky", 0.05, crew_size=2, window=(15, 16)), job("a1", -0.1), job("b1", 0.1, 0.1))
    problem = Problem(jobs=jobs, officers=(officer("a"), officer("b", lat=52.55, lon=-1.8)))
    plan = _plan(problem)
    both = _stop(plan, "risky")
    assert sorted(o for o, _ in both) == ["a", "b"]
    (_, s1), (_, s2) = both
    assert s1.arrive == s2.arrive and s1.crew == s2.crew and sorted(s1.crew) == ["a", "b"]
    assert at(15) <= s1.arrive <= at(16)


def test_two_officer_visits_carry_kit_once():
    jobs = (job("risky", crew_size=2, needs=((GPS, 1),)),)
    problem = Problem(jobs=jobs, officers=(officer("a", carries=((GPS, 1),)), officer("b")))
    plan = _plan(problem)
    (_, s1), _ = _stop(plan, "risky")
    assert s1.crew[0] == "a"          # the lead is the one with the tag


def test_deadline_visits_come_first_when_the_day_is_too_short():
    # Room for one 3-hour visit in a 4-hour shift: the one with today's deadline is served.
    jobs = (job("plain", 0.01, minutes=180), job("kpi", -0.01, minutes=180, due_by=at(24)))
    problem = Problem(jobs=jobs, officers=(officer(start=8, end=12),))
    plan = _plan(problem)
    assert [s.job_id for s in plan.routes[0].stops] == ["kpi"]
    assert plan.kpi_missed == ()
    assert "no officer who can reach it" in _reasons(plan)["plain"]


def test_a_deadline_that_cannot_be_met_is_reported_missed():
    jobs = (job("kpi", minutes=60, window=(19, 20), due_by=at(24)),)
    plan = _plan(Problem(jobs=jobs, officers=(officer(end=17),)))
    assert plan.kpi_missed == ("kpi",)


def test_a_late_deadline_is_met_early_when_it_can_bind():
    jobs = (job("kpi", 0.05, minutes=60, due_by=at(10)), job("other", -0.05, minutes=60))
    plan = _plan(Problem(jobs=jobs, officers=(officer(start=8, end=18),)))
    (_, s), = _stop(plan, "kpi")
    assert s.depart <= at(10) and plan.kpi_missed == ()


# -- re-planning --------------------------------------------------------------------------

def _day():
    jobs = tuple(job(f"j{i}", 0.03 * (i % 4) - 0.05, 0.04 * (i // 4) - 0.05) for i in range(8))
    officers = (officer("a", lat=52.45, lon=-1.95), officer("b", lat=52.52, lon=-1.85))
    return Problem(jobs=jobs, officers=officers)


def test_pinned_and_done_visits_stay_where_they_are_on_a_replan():
    first = _day()
    plan = _plan(first)
    (who, s), = _stop(plan, "j0")
    (who3, s3), = _stop(plan, "j3")
    jobs = [replace(j, pinned_officers=(who,), pinned_arrival=s.arrive) if j.id == "j0"
            else replace(j, done=True, pinned_officers=(who3,), pinned_arrival=s3.arrive) if j.id == "j3" else j
            for j in first.jobs]
    # An urgent repair appears and a visit failed and is rebooked for later: re-plan.
    jobs.append(job("urgent", 0.02, 0.02, minutes=40, due_by=at(17), kind="repair"))
    second = replace(first, jobs=tuple(jobs), not_before=at(11))
    again = _plan(second)
    (who_again, s_again), = _stop(again, "j0")
    assert (who_again, s_again.arrive) == (who, s.arrive)
    (who3_again, s3_again), = _stop(again, "j3")
    assert (who3_again, s3_again.arrive) == (who3, s3.arrive)
    _stop(again, "urgent")
    for r in again.routes:
        for st in r.stops:
            if st.job_id not in ("j0", "j3"):
                assert st.arrive >= at(11)


def test_an_officer_off_sick_loses_her_visits_to_the_others():
    first = _day()
    plan = _plan(first)
    (sick, s), = _stop(plan, "j0")
    jobs = tuple(replace(j, pinned_officers=(sick,), pinned_arrival=s.arrive) if j.id == "j0" else j
                 for j in first.jobs)
    second = replace(first, jobs=jobs, officers=tuple(o for o in first.officers if o.id != sick))
    again = _plan(second)
    assert {r.officer_id for r in again.routes} == {o.id for o in second.officers}
    (who, _), = _stop(again, "j0")
    assert who != sick
    assert sum(len(r.stops) for r in again.routes) + len(again.unassigned) == len(jobs)


def test_replanning_the_same_day_gives_a_plan_as_short():
    problem = _day()
    one, two = _plan(problem), _plan(problem)
    assert two.km_total == pytest.approx(one.km_total, rel=0.02)


def test_bad_problems_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="crew_size"):
        job("x", crew_size=3)
    with pytest.raises(ValueError, match="window"):
        job("x", window=(10, 9))
    with pytest.raises(ValueError, match="different"):
        Problem(jobs=(job("x"), job("x")), officers=())
