"""The day's routes from OR-Tools' vehicle-routing solver (VRP with time windows).

How each rule of the day goes into the model:

* officers are vehicles that start and end at their base; their shift bounds the time
  dimension's cumul at the route's start and end, and each break is a fixed-duration
  interval the route must leave room for (``SetBreakIntervalsOfVehicle``);
* the time dimension's cumul at a visit is the arrival (the start of the work): its
  window bounds it, waiting is slack; the transit of an arc is the work at its tail
  plus the drive;
* each kind of equipment is a capacity dimension: an officer starts the day with what
  she carries and each install or repair takes what it needs;
* region, stock and reach decide which officers may take a visit
  (the vehicle variable's allowed values), and a visit no officer can take is left out with
  the reason before the solver starts;
* every visit may be dropped at a penalty (a disjunction) far above any detour, and a
  visit with a contract deadline (KPI) today at a penalty a hundred times that, so
  deadlines are served first; lateness against the deadline is a soft bound;
* a two-officer visit is two nodes at the same place whose arrivals are equal, whose
  officers differ, and which are both planned or both dropped;
* visits done, or pinned to an officer (and a time), are fixed to her (and to it).

The cost is road distance, so the routes are the shortest that keep every rule.  The day
splits into parts no visit links (regions, in practice), each searched on its own with a
share of the time: guided local search from parallel cheapest insertion (measured best on
the benchmark; see benchmarks/routing_bench.py).
"""
from __future__ import annotations

import os
import time as timer
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from datetime import datetime, timedelta

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from emdesk.domain.clock import at_local, local, local_date
from emdesk.domain.devices import DeviceKind

from .problem import Job, Officer, Problem
from .result import Plan, Route, Stop, Unassigned, leave_and_back
from .travel import path_km

DROP_PENALTY = 1_000_000            # metres: no detour is worth leaving a visit out
KPI_DROP_PENALTY = 100 * DROP_PENALTY
FIXED_DROP_PENALTY = 10_000 * DROP_PENALTY
LATE_PER_SECOND = 200               # metres a second past a deadline is worth

FIRST_SOLUTION = routing_enums_pb2.FirstSolutionStrategy
METAHEURISTIC = routing_enums_pb2.LocalSearchMetaheuristic


@dataclass(frozen=True)
class SearchSettings:
    time_limit: float = 10.0
    # Each part is searched from each of these first solutions in turn (its time shared
    # between them) and the better plan kept: guided local search rarely leaves the basin
    # its first solution puts it in, and which start is better varies from day to day.
    first_solutions: tuple[int, ...] = (FIRST_SOLUTION.PARALLEL_CHEAPEST_INSERTION,
                                        FIRST_SOLUTION.LOCAL_CHEAPEST_INSERTION)
    metaheuristic: int = METAHEURISTIC.GUIDED_LOCAL_SEARCH
    gls_lambda: float = 0.1
    # Local-search operators switched on beyond OR-Tools' defaults.
    operators: tuple[str, ...] = ()
    # Processes searching parts of the day side by side (None: one per core).
    workers: int | None = None
    # A budget that does not depend on the machine's speed or load (None: the time limit
    # alone): each search stops after this many solutions, or this many failed branches
    # (which also ends a search that has no move left to try), whichever comes first; the
    # time limit is then only a safety net.  The same day gives the same plan anywhere.
    solution_limit: int | None = None
    failure_limit: int | None = None


def _hhmm(at: datetime) -> str:
    return local(at).strftime("%H:%M")


def _span_text(start: datetime, end: datetime) -> str:
    if local_date(start) == local_date(end):
        return f"{_hhmm(start)}-{_hhmm(end)}"
    return f"{local(start):%a %d %b %H:%M}-{local(end):%a %d %b %H:%M}"


def _kind_plural(kind: DeviceKind) -> str:
    return f"{kind.label}s"


class _Model:
    """The problem in integer seconds and metres, with who may take what and why not."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.officers = list(problem.officers)
        self.by_id = {o.id: o for o in self.officers}
        self.notes: list[str] = []
        self.unassigned: list[Unassigned] = []
        self.jobs: list[Job] = []
        for job in problem.jobs:
            if job.done and not all(p in self.by_id for p in job.pinned_officers):
                self.notes.append(f"{job.id}: done by an officer not in this plan; left out")
                continue
            if job.pinned_officers and not all(p in self.by_id for p in job.pinned_officers):
                # Pinned to an officer who is not working (off sick): the pin goes, the visit stays.
                job = _unpinned(job)
            self.jobs.append(job)
        instants = [o.shift_start for o in self.officers] + [o.shift_end for o in self.officers]
        for j in self.jobs:
            instants += [t for t in (j.window_start, j.window_end, j.pinned_arrival) if t is not None]
        if problem.not_before is not None:
            instants.append(problem.not_before)
        self.epoch = (min(instants) if instants else datetime(2000, 1, 1).astimezone()) - timedelta(hours=2)
        self.horizon = self.sec(max(instants)) + 6 * 3600 if instants else 86400
        last_shift = max((o.shift_end for o in self.officers), default=None)
        self.kpi_horizon = problem.kpi_horizon or (
            at_local(local_date(last_shift) + timedelta(days=1), datetime.min.time()) if last_shift else None)
        # Locations: officers' bases first, then each job once.
        points = [(o.lat, o.lon) for o in self.officers] + [(j.lat, j.lon) for j in self.jobs]
        self.metres, self.seconds = problem.travel.matrices(points) if points else (np.zeros((0, 0)),) * 2

    # -- time ---------------------------------------------------------------------------------

    def sec(self, at: datetime) -> int:
        return int((at - self.epoch).total_seconds())

    def at(self, sec: int) -> datetime:
        return self.epoch + timedelta(seconds=int(sec))

    def job_point(self, j: int) -> int:
        return len(self.officers) + j

    def drive(self, a: int, b: int) -> int:
        return int(self.seconds[a, b])

    def arrival_range(self, job: Job) -> tuple[int, int]:
        """Earliest and latest arrival the job itself allows (its window, not before now)."""
        if job.done and job.pinned_arrival is not None:
            t = self.sec(job.pinned_arrival)
            return t, t
        lo = self.sec(job.window_start) if job.window_start else 0
        hi = self.sec(job.window_end) if job.window_end else self.horizon
        if job.pinned_arrival is not None:
            lo = hi = self.sec(job.pinned_arrival)
        if self.problem.not_before is not None and not job.done:
            lo = max(lo, self.sec(self.problem.not_before))
        return lo, hi

    def latest_end(self, vehicles: list[int]) -> int:
        return max(self.sec(self.officers[v].shift_end) for v in vehicles)

    def kpi(self, job: Job) -> bool:
        return job.due_by is not None and not job.done and (
            self.kpi_horizon is None or job.due_by <= self.kpi_horizon)

    # -- who may take what --------------------------------------------------------------------

    def in_region(self, job: Job, o: Officer) -> bool:
        return not job.region or not o.region or job.region == o.region

    def stocked(self, job: Job, o: Officer) -> bool:
        return all(o.carried(k) >= n for k, n in job.needs)

    def reaches(self, j: int, o: Officer) -> bool:
        job, v = self.jobs[j], self.officers.index(o)
        if job.done:
            return True
        lo, hi = self.arrival_range(job)
        p = self.job_point(j)
        earliest = max(self.sec(o.shift_start) + self.drive(v, p), lo)
        latest = min(hi, self.sec(o.shift_end) - job.service_minutes * 60 - self.drive(p, v))
        return earliest <= latest

    def eligible(self, j: int) -> tuple[list[int], list[int], str | None]:
        """(officers for the lead node, officers for the second, or why nobody can go)."""
        job = self.jobs[j]
        if job.pinned_officers:
            vs = [self.officers.index(self.by_id[p]) for p in job.pinned_officers]
            return [vs[0]], vs[1:2] if job.crew_size == 2 else [], None
        regional = [o for o in self.officers if self.in_region(job, o)]
        if not regional:
            return [], [], f"no officer in region {job.region}" if job.region else "no officer is working"
        if job.crew_size == 2 and len(regional) < 2:
            return [], [], (f"needs two officers and only {regional[0].name or regional[0].id} works in region "
                            f"{job.region or 'any'}")
        reach = [o for o in regional if self.reaches(j, o)]
        if not reach:
            return [], [], self._unreachable(job)
        if job.crew_size == 2 and len(reach) < 2:
            return [], [], (f"needs two officers but only one can reach it in the window "
                            f"{self._window_text(job)}")
        lead = [o for o in reach if self.stocked(job, o)]
        if not lead:
            return [], [], self._short_of(job, reach)
        index = {o.id: i for i, o in enumerate(self.officers)}
        return [index[o.id] for o in lead], [index[o.id] for o in reach] if job.crew_size == 2 else [], None

    def _window_text(self, job: Job) -> str:
        if job.window_start is None:
            return "of their shift"
        return _span_text(job.window_start, job.window_end)

    def _unreachable(self, job: Job) -> str:
        if job.window_end is not None and self.problem.not_before is not None \
                and job.window_end < self.problem.not_before:
            return f"window {self._window_text(job)} is already over"
        if job.window_start is None:
            return "no officer's shift leaves time to get there, do the work and get back"
        return f"window {self._window_text(job)} cannot be reached within any shift"

    def _short_of(self, job: Job, officers: list[Officer]) -> str:
        for kind, n in job.needs:
            most = max(o.carried(kind) for o in officers)
            if most < n:
                return (f"not enough {_kind_plural(kind)} carried: it needs {n}, and the officers who can reach "
                        f"it carry at most {most}")
        return "no officer who can reach it carries all the equipment it needs"


def _unpinned(job: Job) -> Job:
    return replace(job, pinned_officers=(), pinned_arrival=None)


def solve(problem: Problem, *, time_limit: float = 10.0, settings: SearchSettings | None = None) -> Plan:
    """Plan the day: every job is on a route or in ``unassigned`` with the reason."""
    started = timer.monotonic()
    settings = settings or SearchSettings(time_limit=time_limit)
    m = _Model(problem)
    officers, jobs = m.officers, m.jobs
    planned: list[int] = []
    allowed: dict[int, tuple[list[int], list[int]]] = {}
    for j, job in enumerate(jobs):
        lead, second, why = m.eligible(j)
        if why is not None:
            if not job.done:
                m.unassigned.append(Unassigned(job.id, why))
            continue
        planned.append(j)
        allowed[j] = (lead, second)
    if not officers or not planned:
        return _plan(m, [], {}, planned, started, "OR-Tools (nothing to route)")
    parts = _parts(len(officers), planned, allowed)
    workers = min(settings.workers or os.cpu_count() or 1, len(parts))
    if workers > 1:
        return _in_processes(problem, m, parts, settings, workers, started)
    routes: list = []
    break_times: dict[int, list[tuple[int, int]]] = {}
    deadline = started + settings.time_limit
    for k, (vehicles, part_jobs) in enumerate(parts):
        # Each part gets a share of the time left in proportion to its size.
        nodes = sum(jobs[j].crew_size for j in part_jobs)
        left = max(0.1, deadline - timer.monotonic())
        share = left * nodes / max(1, sum(jobs[j].crew_size for _, pj in parts[k:] for j in pj))
        tries = [_solve_part(m, vehicles, part_jobs, allowed, settings, first, share / len(settings.first_solutions))
                 for first in settings.first_solutions]
        found = min((t for t in tries if t is not None), key=lambda t: t[2], default=None)
        if found is None:
            for j in part_jobs:
                if not jobs[j].done:
                    m.unassigned.append(Unassigned(jobs[j].id, "the planner found no feasible plan in the time "
                                                                "allowed: give it longer"))
            continue
        part_routes, part_breaks, _ = found
        routes += part_routes
        break_times.update(part_breaks)
    # Both officers of a two-officer visit arrive together: the later of their earliest times.
    together: dict[int, int] = {}
    for _, seq in routes:
        for j, _, t in seq:
            together[j] = max(together.get(j, t), t)
    return _plan(m, routes, together, planned, started, "OR-Tools routing (GLS)", break_times)


SPAWN_SECONDS = 1.5          # starting a worker process and importing OR-Tools in it


def _in_processes(problem: Problem, m: _Model, parts, settings: SearchSettings, workers: int,
                  started: float) -> Plan:
    """The parts of the day searched in ``workers`` processes at once (OR-Tools holds the
    GIL, so threads would take turns): the largest parts first, each to the least loaded
    worker, each worker sharing its time among its parts by size."""
    def size(part) -> int:
        return sum(m.jobs[j].crew_size for j in part[1])

    groups: list[list] = [[] for _ in range(workers)]
    loads = [0] * workers
    for part in sorted(parts, key=size, reverse=True):
        k = loads.index(min(loads))
        groups[k].append(part)
        loads[k] += size(part)
    budget = max(0.2, settings.time_limit - (timer.monotonic() - started) - SPAWN_SECONDS)
    single = replace(settings, workers=1)
    tasks = []
    for k, group in enumerate(groups):
        tasks.append([(Problem(jobs=tuple(m.jobs[j] for j in part_jobs),
                               officers=tuple(m.officers[v] for v in vehicles), travel=problem.travel,
                               not_before=problem.not_before, kpi_horizon=m.kpi_horizon),
                       replace(single, time_limit=budget * size((vehicles, part_jobs)) / loads[k]))
                      for vehicles, part_jobs in group])
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        plans = [p for batch in pool.map(_solve_batch, tasks) for p in batch]
    order = {o.id: i for i, o in enumerate(m.officers)}
    routes = sorted((r for p in plans for r in p.routes), key=lambda r: order[r.officer_id])
    unassigned = tuple(m.unassigned) + tuple(u for p in plans for u in p.unassigned)
    kpi = tuple(u.job_id for u in m.unassigned if m.kpi(next(j for j in m.jobs if j.id == u.job_id)))
    return Plan(routes=tuple(routes), unassigned=unassigned,
                kpi_missed=kpi + tuple(k for p in plans for k in p.kpi_missed),
                seconds=round(timer.monotonic() - started, 3), solver=f"OR-Tools routing (GLS, {workers} processes)",
                notes=tuple(m.notes) + tuple(n for p in plans for n in p.notes))


def _solve_batch(batch: list[tuple[Problem, SearchSettings]]) -> list[Plan]:
    return [solve(problem, settings=settings) for problem, settings in batch]


def _parts(n_officers: int, planned: list[int], allowed: dict[int, tuple[list[int], list[int]]]):
    """Independent parts of the day: officers linked by a visit either may take, with
    their visits.  Regions never share a visit, so each region is solved on its own: ten
    small searches go much further in the same time than one large one."""
    parent = list(range(n_officers))

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for j in planned:
        lead, second = allowed[j]
        vs = lead + second
        for v in vs[1:]:
            parent[find(v)] = find(vs[0])
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for v in range(n_officers):
        groups.setdefault(find(v), ([], []))[0].append(v)
    for j in planned:
        lead, _ = allowed[j]
        groups[find(lead[0])][1].append(j)
    return [g for g in groups.values() if g[1]]


def _solve_part(m: _Model, vehicles: list[int], planned: list[int], allowed, settings: SearchSettings,
                first_solution: int, time_limit: float):
    """Routes for some officers and the visits only they can take: [(officer, [(job, node,
    arrival)])], each officer's breaks, in the model's seconds, and the objective; None if
    nothing was found."""
    officers, jobs = m.officers, m.jobs
    V = len(vehicles)
    local_v = {v: k for k, v in enumerate(vehicles)}
    # Nodes: one depot per officer, then one node per officer a job needs.
    node_job: list[int | None] = [None] * V
    node_point: list[int] = list(vehicles)
    job_nodes: dict[int, list[int]] = {}
    for j in planned:
        job_nodes[j] = []
        for _ in range(jobs[j].crew_size):
            job_nodes[j].append(len(node_job))
            node_job.append(j)
            node_point.append(m.job_point(j))
    n_nodes = len(node_job)
    pts = np.array(node_point)
    service = np.array([0 if j is None else jobs[j].service_minutes * 60 for j in node_job], dtype=np.int64)
    metres = m.metres[np.ix_(pts, pts)].astype(np.int64)
    transit = m.seconds[np.ix_(pts, pts)].astype(np.int64) + service[:, None]
    np.fill_diagonal(transit, 0)

    manager = pywrapcp.RoutingIndexManager(n_nodes, V, list(range(V)), list(range(V)))
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    cost = routing.RegisterTransitMatrix(metres.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost)
    time_cb = routing.RegisterTransitMatrix(transit.tolist())
    routing.AddDimension(time_cb, m.horizon, m.horizon, False, "Time")
    clock = routing.GetDimensionOrDie("Time")

    for k, v in enumerate(vehicles):
        o = officers[v]
        first = m.sec(o.shift_start)
        for j in planned:
            job = jobs[j]
            if job.fixed and v in (allowed[j][0] + allowed[j][1]):
                lo, _ = m.arrival_range(job)
                first = min(first, lo - m.drive(v, m.job_point(j)))
        clock.CumulVar(routing.Start(k)).SetRange(max(0, first), m.sec(o.shift_end))
        clock.CumulVar(routing.End(k)).SetRange(max(0, first), max(m.sec(o.shift_end), first))

    for j in planned:
        job = jobs[j]
        lo, hi = m.arrival_range(job)
        penalty = FIXED_DROP_PENALTY if job.fixed else KPI_DROP_PENALTY if m.kpi(job) else DROP_PENALTY
        lead, second = allowed[j]
        indices = [manager.NodeToIndex(n) for n in job_nodes[j]]
        for k, index in enumerate(indices):
            clock.CumulVar(index).SetRange(lo, hi)
            routing.AddDisjunction([index], penalty)
            # SetAllowedVehiclesForIndex's Python binding rejects lists in OR-Tools 9.15; narrowing
            # the vehicle variable is the same constraint (-1 stays: the visit may be dropped).
            routing.VehicleVar(index).SetValues([-1, *(local_v[v] for v in (lead if k == 0 else second))])
        latest_start = m.sec(job.due_by) - job.service_minutes * 60 if job.due_by is not None else None
        if latest_start is not None and not job.done and latest_start < min(hi, m.latest_end(vehicles)):
            # Only where the deadline can bind: a soft bound makes OR-Tools check each move
            # with its scheduling LP, which slows the search tenfold.
            clock.SetCumulVarSoftUpperBound(indices[0], max(0, latest_start), LATE_PER_SECOND)
        if len(indices) == 2:
            a, b = indices
            solver.Add(routing.ActiveVar(a) == routing.ActiveVar(b))
            solver.Add(clock.CumulVar(a) == clock.CumulVar(b))
            # Different officers when planned (a dropped node's vehicle is -1 on both sides).
            solver.Add(routing.VehicleVar(a) + 1000 - routing.ActiveVar(a) * 1000 != routing.VehicleVar(b))

    kinds = sorted({k for j in planned for k, _ in jobs[j].needs}, key=lambda k: k.value)
    for kind in kinds:
        demand = [0 if j is None or n != job_nodes[j][0] else jobs[j].need(kind)
                  for n, j in enumerate(node_job)]
        cb = routing.RegisterUnaryTransitVector(demand)
        routing.AddDimensionWithVehicleCapacity(cb, 0, [officers[v].carried(kind) for v in vehicles], True,
                                                f"kit:{kind.value}")

    visit_transit = [0] * routing.Size()
    for index in range(routing.Size()):
        visit_transit[index] = int(service[manager.IndexToNode(index)])
    breaks: dict[int, list] = {}
    for k, v in enumerate(vehicles):
        o = officers[v]
        intervals = [solver.FixedDurationIntervalVar(m.sec(b.earliest), m.sec(b.latest), b.minutes * 60, False,
                                                     f"break {v} {i}") for i, b in enumerate(o.breaks)]
        if intervals:
            clock.SetBreakIntervalsOfVehicle(intervals, k, visit_transit)
            breaks[v] = intervals

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = first_solution
    params.local_search_metaheuristic = settings.metaheuristic
    params.guided_local_search_lambda_coefficient = settings.gls_lambda
    for name in settings.operators:
        setattr(params.local_search_operators, name, optional_boolean_pb2.BOOL_TRUE)
    params.time_limit.FromMilliseconds(max(100, int(time_limit * 1000)))
    if settings.solution_limit is not None:
        params.solution_limit = settings.solution_limit
    if settings.failure_limit is not None:
        routing.AddSearchMonitor(routing.solver().FailuresLimit(settings.failure_limit))
    if settings.solution_limit is not None or settings.failure_limit is not None:
        # Large-neighbourhood sub-searches have a clock of their own (100 ms): off it too.
        params.lns_time_limit.FromMilliseconds(max(100, int(time_limit * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    routes: list[tuple[int, list[tuple[int, int, int]]]] = []
    for k, v in enumerate(vehicles):
        index = solution.Value(routing.NextVar(routing.Start(k)))
        seq = []
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            seq.append((node_job[node], node, solution.Min(clock.CumulVar(index))))
            index = solution.Value(routing.NextVar(index))
        routes.append((v, seq))
    break_times: dict[int, list[tuple[int, int]]] = {}
    container = solution.IntervalVarContainer()
    names = {iv.Name(): v for v, ivs in breaks.items() for iv in ivs}
    for i in range(container.Size()):
        el = container.Element(i)
        if el.Var().Name() in names and el.PerformedValue():
            break_times.setdefault(names[el.Var().Name()], []).append(
                (el.StartValue(), el.StartValue() + el.DurationValue()))
    return routes, break_times, solution.ObjectiveValue()



def _plan(m: _Model, routes, together: dict[int, int], planned: list[int], started: float, solver: str,
          break_times: dict[int, list[tuple[int, int]]] | None = None) -> Plan:
    officers, jobs = m.officers, m.jobs
    crews: dict[int, list[str]] = {}
    for v, seq in routes:
        for j, node, _ in seq:
            crews.setdefault(j, []).append((node, officers[v].id))
    crew_of = {j: tuple(oid for _, oid in sorted(pairs)) for j, pairs in crews.items()}
    out: list[Route] = []
    used: dict[str, dict[DeviceKind, int]] = {}
    for v, seq in routes:
        o = officers[v]
        stops = []
        for j, node, _ in seq:
            job = jobs[j]
            arrive = m.at(together[j])
            start, end = (job.window_start, job.window_end) if job.window_start else (o.shift_start, o.shift_end)
            stops.append(Stop(job_id=job.id, lat=job.lat, lon=job.lon, arrive=arrive,
                              depart=arrive + timedelta(minutes=job.service_minutes), window_start=start,
                              window_end=end, crew=crew_of[j], kind=job.kind))
            if crew_of[j][0] == o.id:
                for k, n in job.needs:
                    used.setdefault(o.id, {}).setdefault(k, 0)
                    used[o.id][k] += n
        if not stops:
            continue
        path = [(o.lat, o.lon), *((s.lat, s.lon) for s in stops), (o.lat, o.lon)]
        km = path_km(path)
        first, last = m.job_point(seq[0][0]), m.job_point(seq[-1][0])
        brk = tuple((m.at(a), m.at(b)) for a, b in sorted((break_times or {}).get(v, [])))
        leave, back = leave_and_back(stops[0].arrive, timedelta(seconds=m.drive(v, first)), stops[-1].depart,
                                     timedelta(seconds=m.drive(last, v)), brk)
        out.append(Route(officer_id=o.id, base=(o.lat, o.lon), stops=tuple(stops), km=round(km, 3),
                         leave=leave, back=back, breaks=brk))
    routed = set(crew_of)
    unassigned = list(m.unassigned)
    for j in planned:
        if j in routed or jobs[j].done:
            continue
        unassigned.append(Unassigned(jobs[j].id, _why_dropped(m, j, used)))
    kpi_missed = []
    departs = {s.job_id: s.depart for r in out for s in r.stops}
    for job in jobs:
        if not m.kpi(job):
            continue
        if job.id in departs:
            if departs[job.id] > job.due_by:
                kpi_missed.append(job.id)
        else:
            kpi_missed.append(job.id)
    return Plan(routes=tuple(out), unassigned=tuple(unassigned), kpi_missed=tuple(kpi_missed),
                seconds=round(timer.monotonic() - started, 3), solver=solver, notes=tuple(m.notes))


def _why_dropped(m: _Model, j: int, used: dict[str, dict[DeviceKind, int]]) -> str:
    job = m.jobs[j]
    lead, _, _ = m.eligible(j)
    for kind, n in job.needs:
        left = [m.officers[v].carried(kind) - used.get(m.officers[v].id, {}).get(kind, 0) for v in lead]
        if left and max(left) < n:
            return (f"not enough {_kind_plural(kind)} carried: those of the officers who can reach it "
                    f"are all taken by other visits")
    if job.pinned_arrival is not None:
        return f"pinned at {_hhmm(job.pinned_arrival)}, which clashes with the officer's other fixed visits"
    if job.crew_size == 2:
        return "no two officers who can reach it have room for it at the same time in their day"
    return (f"no officer who can reach it in the window {m._window_text(job)} has room left in their day "
            f"(visits with deadlines come first)")
