"""The planner against brute force on instances small enough to try every plan."""
from __future__ import annotations

import itertools
import random
from datetime import timedelta

import pytest

from emdesk.routing import Problem, solve
from emdesk.routing.check import violations
from emdesk.routing.travel import RoadSpeedModel

from .instances import job, officer

MODEL = RoadSpeedModel()


def _metres(problem: Problem):
    points = [(o.lat, o.lon) for o in problem.officers] + [(j.lat, j.lon) for j in problem.jobs]
    metres, seconds = MODEL.matrices(points)
    return metres, seconds


def _route_metres(problem: Problem, metres, officer_index: int, job_ids: list[str]) -> int:
    index = {j.id: len(problem.officers) + i for i, j in enumerate(problem.jobs)}
    path = [officer_index, *(index[j] for j in job_ids), officer_index]
    return int(sum(metres[a, b] for a, b in zip(path, path[1:]))) if job_ids else 0


def _feasible_order(problem: Problem, seconds, v: int, order: list[int]) -> bool:
    """Earliest arrivals along ``order`` keep every window and the shift."""
    o, V = problem.officers[v], len(problem.officers)
    t, here = o.shift_start, v
    for i in order:
        j = problem.jobs[i]
        t = t + timedelta(seconds=int(seconds[here, V + i]))
        if j.window_start is not None:
            if t > j.window_end:
                return False
            t = max(t, j.window_start)
        t += timedelta(minutes=j.service_minutes)
        here = V + i
    return t + timedelta(seconds=int(seconds[here, v])) <= o.shift_end


def _best_one_officer(problem: Problem) -> int:
    metres, seconds = _metres(problem)
    best = None
    for order in itertools.permutations(range(len(problem.jobs))):
        if not _feasible_order(problem, seconds, 0, list(order)):
            continue
        cost = _route_metres(problem, metres, 0, [problem.jobs[i].id for i in order])
        best = cost if best is None else min(best, cost)
    return best


def _planned_metres(problem: Problem, plan) -> int:
    metres, _ = _metres(problem)
    index = {o.id: i for i, o in enumerate(problem.officers)}
    return sum(_route_metres(problem, metres, index[r.officer_id], [s.job_id for s in r.stops]) for r in plan.routes)


def _scatter(seed: int, n: int, spread: float = 0.25):
    rng = random.Random(seed)
    return [job(f"j{i}", rng.uniform(-spread, spread), rng.uniform(-spread, spread), minutes=rng.choice((20, 30, 60)))
            for i in range(n)]


@pytest.mark.parametrize("seed,n", [(1, 4), (2, 5), (3, 6), (4, 6), (5, 5)])
def test_one_officer_shortest_tour_matches_brute_force(seed, n):
    problem = Problem(jobs=tuple(_scatter(seed, n)), officers=(officer(),))
    plan = solve(problem, time_limit=1)
    assert violations(problem, plan) == []
    assert not plan.unassigned
    assert _planned_metres(problem, plan) == _best_one_officer(problem)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_windows_force_an_order_and_it_is_still_the_best_feasible_one(seed):
    rng = random.Random(seed)
    jobs = []
    hours = rng.sample((9, 11, 13, 15), 3) + [None, None]
    for i, h in enumerate(hours):
        jobs.append(job(f"j{i}", rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2), minutes=30,
                        window=(h, h + 1) if h else None))
    problem = Problem(jobs=tuple(jobs), officers=(officer(start=8, end=18),))
    best = _best_one_officer(problem)
    assert best is not None
    plan = solve(problem, time_limit=1)
    assert violations(problem, plan) == []
    assert not plan.unassigned
    assert _planned_metres(problem, plan) == best


@pytest.mark.parametrize("seed", [21, 22])
def test_two_officers_split_the_visits_as_brute_force_would(seed):
    # Officers at either end of the West Midlands; every split and every order is tried.
    jobs = _scatter(seed, 5, spread=0.4)
    problem = Problem(jobs=tuple(jobs), officers=(officer("a", lat=52.45, lon=-2.2), officer("b", lat=52.5, lon=-1.5)))
    metres, _ = _metres(problem)
    best = None
    for mask in range(2 ** len(jobs)):
        parts = [[j.id for k, j in enumerate(jobs) if (mask >> k) & 1 == side] for side in (0, 1)]
        cost = 0
        for v, ids in enumerate(parts):
            cost += min(_route_metres(problem, metres, v, list(p)) for p in itertools.permutations(ids))
        best = cost if best is None else min(best, cost)
    plan = solve(problem, time_limit=1.5)
    assert violations(problem, plan) == []
    assert _planned_metres(problem, plan) == best


def test_km_is_the_great_circle_length_of_the_route():
    problem = Problem(jobs=(job("north", 0.1), job("east", 0, 0.15)), officers=(officer(),))
    plan = solve(problem, time_limit=0.5)
    route = plan.routes[0]
    from emdesk.routing import great_circle_km
    path = [route.base, *((s.lat, s.lon) for s in route.stops), route.base]
    assert route.km == pytest.approx(sum(great_circle_km(a, b) for a, b in zip(path, path[1:])), abs=0.01)
    assert plan.km_total == pytest.approx(route.km)
    assert 30 < route.km < 50          # ~11 km north, ~10 km east, ~15 km back
