"""Day routes: emdesk's planner against a nearest-neighbour baseline and VROOM, on one instance.

The instance (``instance()``, seeded): 40 field officers, four in each of the ten regions,
based in the demo world's towns (emdesk/domain/gazetteer.py), on day shifts (08:00-18:00)
or late shifts (11:00-21:00), each with a 30-minute break and carrying 5 RF tags, 5 home
units and 3 GPS tags; 320 visits at addresses within a few kilometres of the region's
towns within 15 km of the region's bases (a team covers its patch): installs (RF tag +
home unit, or a GPS tag), checks, removals and repairs, 30% with a booked two-hour slot,
15% with the curfew's evening window (17:00-20:30), the rest any time in a shift; one install in three has today's KPI deadline.

All three solvers get the same travel matrix (road metres and seconds from the same
road-speed model), the same windows, shifts, breaks, service times, stock and regions
(VROOM: skills).  Two-officer visits and pins are not in this instance: VROOM and the
baseline cannot express them (the planner's tests cover them).  Each plan is checked
against every rule (``emdesk.routing.check``) and its travel is the great-circle length of
its routes, as ``emdesk plan`` reports it.

Goals: the planner's plan within 30 s on this 2-core machine; at least 20% less travel
than nearest neighbour; at most 2% more than VROOM (or less); no KPI visit missed when
some plan serves them all.

    python -m benchmarks --only routing_bench    (or python -m benchmarks.routing_bench [--time-limit S])
"""
from __future__ import annotations

import argparse
import math
import random
import time
from datetime import datetime, timedelta, timezone

from emdesk.domain.devices import DeviceKind
from emdesk.domain.gazetteer import REGIONS, towns_in
from emdesk.domain.visits import VisitKind
from emdesk.routing import Break, Job, Officer, Plan, Problem, Route, Stop, Unassigned, solve
from emdesk.routing.baseline import nearest_neighbour
from emdesk.routing.check import violations
from emdesk.routing.problem import service_minutes
from emdesk.routing.travel import great_circle_km

SEED = 11
OFFICERS_PER_REGION = 4
VISITS = 320
DAY = datetime(2026, 12, 3, tzinfo=timezone.utc)        # a winter day: UK time is UTC
TIME_LIMIT = 20.0
GOAL_SECONDS = 30.0
GOAL_VS_NN = 0.20
GOAL_VS_VROOM = 0.02
REACH_KM = 15
CARRIED = ((DeviceKind.RF_TAG, 5), (DeviceKind.HMU, 5), (DeviceKind.GPS_TAG, 3))


def _at(h: float) -> datetime:
    return DAY + timedelta(hours=h)


def _near(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    r, a = km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    return lat + r * math.cos(a) / 111.0, lon + r * math.sin(a) / (111.0 * math.cos(math.radians(lat)))


def instance(seed: int = SEED, visits: int = VISITS, per_region: int = OFFICERS_PER_REGION) -> Problem:
    rng = random.Random(seed)
    officers = []
    for region in REGIONS:
        towns = sorted(towns_in(region), key=lambda t: t.name)
        for k, town in enumerate(rng.sample(towns, min(per_region, len(towns)))):
            late = k % 2 == 1
            start, end = (11, 21) if late else (8, 18)
            lat, lon = _near(rng, town.lat, town.lon, 2)
            officers.append(Officer(
                id=f"r{REGIONS.index(region)}-o{k}", name=f"{town.name} {'late' if late else 'day'}", lat=lat, lon=lon,
                region=region, shift_start=_at(start), shift_end=_at(end),
                breaks=(Break(_at(start + 4), _at(start + 6), 30),), carries=CARRIED))
    jobs = []
    per = visits // len(REGIONS)
    for region in REGIONS:
        bases = [(o.lat, o.lon) for o in officers if o.region == region]
        # The region's towns within reach of its officers (a team covers its patch).
        towns = [t for t in sorted(towns_in(region), key=lambda t: t.name)
                 if min(great_circle_km((t.lat, t.lon), b) for b in bases) <= REACH_KM]
        for i in range(per):
            town = rng.choice(towns)
            lat, lon = _near(rng, town.lat, town.lon, 4)
            kind = rng.choices(list(VisitKind), weights=(40, 30, 10, 20))[0]
            needs: tuple = ()
            if kind is VisitKind.INSTALL:
                needs = ((DeviceKind.HMU, 1), (DeviceKind.RF_TAG, 1)) if rng.random() < 0.75 else \
                    ((DeviceKind.GPS_TAG, 1),)
            elif kind is VisitKind.REPAIR:
                needs = ((rng.choice((DeviceKind.RF_TAG, DeviceKind.HMU)), 1),)
            draw = rng.random()
            window = (None, None)
            if draw < 0.30:
                h = rng.randrange(9, 18)
                window = (_at(h), _at(h + 2))                    # a booked two-hour slot
            elif draw < 0.45:
                window = (_at(17), _at(20.5))                    # the curfew's evening at home
            due = _at(24) if kind is VisitKind.INSTALL and rng.random() < 1 / 3 else None
            jobs.append(Job(id=f"r{REGIONS.index(region)}-v{i:02d}", lat=lat, lon=lon, kind=kind.value,
                            service_minutes=service_minutes(kind), window_start=window[0], window_end=window[1],
                            needs=needs, region=region, due_by=due))
    return Problem(jobs=tuple(jobs), officers=tuple(officers))


# -- VROOM, given the very same matrix and rules -----------------------------------------------


def vroom_plan(problem: Problem, threads: int = 2, exploration: int = 5) -> Plan:
    import vroom
    started = time.monotonic()
    officers, jobs = problem.officers, problem.jobs
    V = len(officers)
    points = [(o.lat, o.lon) for o in officers] + [(j.lat, j.lon) for j in problem.jobs]
    metres, seconds = problem.travel.matrices(points)
    epoch = min(o.shift_start for o in officers) - timedelta(hours=12)

    def sec(at: datetime) -> int:
        return int((at - epoch).total_seconds())

    kinds = [k for k, _ in CARRIED]
    skill = {r: i for i, r in enumerate(sorted({o.region for o in officers}))}
    inp = vroom.Input()
    inp.set_durations_matrix("car", seconds)
    inp.set_costs_matrix("car", metres)
    for v, o in enumerate(officers):
        inp.add_vehicle(vroom.Vehicle(
            v + 1, start=v, end=v, capacity=[o.carried(k) for k in kinds], skills={skill[o.region]},
            time_window=vroom.TimeWindow(sec(o.shift_start), sec(o.shift_end)),
            breaks=[vroom.Break(100 * (v + 1) + i, time_windows=[vroom.TimeWindow(sec(b.earliest), sec(b.latest))],
                                service=b.minutes * 60) for i, b in enumerate(o.breaks)]))
    for i, j in enumerate(jobs):
        tws = [vroom.TimeWindow(sec(j.window_start), sec(j.window_end))] if j.window_start else []
        inp.add_job(vroom.Job(
            i + 1, location=V + i, default_service=j.service_minutes * 60, delivery=vroom.Amount([j.need(k) for k in kinds]),
            skills={skill[j.region]}, priority=100 if j.due_by is not None else 0, time_windows=tws))
    solution = inp.solve(exploration_level=exploration, nb_threads=threads)
    steps = solution.routes
    routes, routed = [], set()
    at = lambda s: epoch + timedelta(seconds=int(s))         # noqa: E731
    for v, o in enumerate(officers):
        mine = steps[steps["vehicle_id"] == v + 1]
        stops, breaks = [], []
        for _, row in mine.iterrows():
            start = int(row["arrival"]) + int(row["waiting_time"])
            if row["type"] == "job":
                j = jobs[int(row["id"]) - 1]
                routed.add(j.id)
                lo, hi = (j.window_start, j.window_end) if j.window_start else (o.shift_start, o.shift_end)
                stops.append(Stop(job_id=j.id, lat=j.lat, lon=j.lon, arrive=at(start),
                                  depart=at(start + j.service_minutes * 60), window_start=lo, window_end=hi,
                                  crew=(o.id,), kind=j.kind))
            elif row["type"] == "break":
                breaks.append((at(start), at(start + int(row["service"]))))
        if stops:
            path = [(o.lat, o.lon), *((s.lat, s.lon) for s in stops), (o.lat, o.lon)]
            routes.append(Route(officer_id=o.id, base=(o.lat, o.lon), stops=tuple(stops),
                                km=round(sum(great_circle_km(a, b) for a, b in zip(path, path[1:])), 3),
                                breaks=tuple(breaks)))
    unassigned = tuple(Unassigned(j.id, "VROOM left it out") for j in jobs if j.id not in routed)
    kpi = tuple(j.id for j in jobs if j.due_by is not None and (
        j.id not in routed or any(s.job_id == j.id and s.depart > j.due_by for r in routes for s in r.stops)))
    return Plan(routes=tuple(routes), unassigned=unassigned, kpi_missed=kpi,
                seconds=round(time.monotonic() - started, 3), solver="VROOM")


# -- the run --------------------------------------------------------------------------------


def _line(name: str, plan: Plan, problem: Problem) -> str:
    broken = violations(problem, plan)
    served = sum(len(r.stops) for r in plan.routes)
    return (f"{name:<22} {plan.km_total:>9.1f} km  {served:>4} visits  {len(plan.unassigned):>3} unassigned  "
            f"{len(plan.kpi_missed):>2} KPI missed  {plan.seconds:>6.2f} s  "
            f"{'feasible' if not broken else f'{len(broken)} BROKEN RULES: ' + broken[0]}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.routing_bench")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv or [])
    problem = instance(args.seed)
    kpi_jobs = sum(1 for j in problem.jobs if j.due_by is not None)
    print(f"instance: {len(problem.officers)} officers, {len(problem.jobs)} visits ({kpi_jobs} with today's KPI "
          f"deadline), seed {args.seed}; emdesk time limit {args.time_limit:g} s")
    started = time.monotonic()
    ours = solve(problem, time_limit=args.time_limit)
    ours_wall = time.monotonic() - started
    ours = Plan(routes=ours.routes, unassigned=ours.unassigned, kpi_missed=ours.kpi_missed, seconds=round(ours_wall, 3),
                solver=ours.solver)
    nn = nearest_neighbour(problem)
    try:
        peer = vroom_plan(problem)
    except ImportError:
        raise SystemExit("pyvroom is not installed: pip install -c constraints.txt -e '.[bench]' "
                         "(./dev bench does it)") from None
    for name, plan in (("emdesk (OR-Tools)", ours), ("nearest neighbour", nn), ("VROOM (pyvroom)", peer)):
        print(_line(name, plan, problem))
    served = {p.solver: sum(len(r.stops) for r in p.routes) for p in (ours, nn, peer)}
    vs_nn = 1 - ours.km_total / nn.km_total if nn.km_total else 0.0
    vs_vroom = ours.km_total / peer.km_total - 1 if peer.km_total else 0.0
    kpi_possible = min(len(ours.kpi_missed), len(peer.kpi_missed)) == 0
    checks = {
        f"solved within {GOAL_SECONDS:g} s": ours_wall <= GOAL_SECONDS,
        f"at least {GOAL_VS_NN:.0%} less travel than nearest neighbour": vs_nn >= GOAL_VS_NN,
        f"no more than {GOAL_VS_VROOM:.0%} above VROOM": vs_vroom <= GOAL_VS_VROOM,
        "no KPI visit missed when some plan serves them all": (not ours.kpi_missed) or not kpi_possible,
        "plan keeps every rule": not violations(problem, ours),
    }
    print(f"emdesk vs nearest neighbour: {abs(vs_nn):.1%} {'less' if vs_nn >= 0 else 'MORE'} travel "
          f"({served[ours.solver]} vs {served[nn.solver]} visits served)")
    print(f"emdesk vs VROOM: {abs(vs_vroom):.1%} {'more' if vs_vroom > 0 else 'less'} travel "
          f"({served[ours.solver]} vs {served[peer.solver]} visits served)")
    for goal, ok in checks.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {goal}")
    return {"ours": ours, "nn": nn, "vroom": peer, "checks": checks}


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
