"""The nearest-neighbour baseline the benchmark measures the planner against.

Time-oriented nearest neighbour (Solomon 1987): the officer who is free earliest goes
next, to the visit she can start soonest (drive plus wait; the nearer on a tie) that she may take (her region, her stock) and can still reach in
its window and get home from within her shift; her break is taken before the move that
would otherwise push past its latest start.  An officer with nowhere left to go goes
home.  Two-officer visits are left out (the heuristic plans one officer at a time), as
are pins: it answers "how good is the obvious plan", nothing more.
"""
from __future__ import annotations

import time as timer
from datetime import datetime, timedelta

from .problem import Problem
from .result import Plan, Route, Stop, Unassigned, leave_and_back
from .travel import path_km


def nearest_neighbour(problem: Problem) -> Plan:
    started = timer.monotonic()
    officers, jobs = list(problem.officers), list(problem.jobs)
    V = len(officers)
    points = [(o.lat, o.lon) for o in officers] + [(j.lat, j.lon) for j in jobs]
    metres, seconds = problem.travel.matrices(points)
    unassigned: list[Unassigned] = []
    todo = set()
    for i, job in enumerate(jobs):
        if job.done:
            continue
        if job.crew_size == 2:
            unassigned.append(Unassigned(job.id, "the baseline plans one officer at a time"))
        else:
            todo.add(i)
    now = problem.not_before
    t = [o.shift_start for o in officers]
    at = list(range(V))                     # point index where each officer is
    stock = [{k: n for k, n in o.carries} for o in officers]
    pending_break = [list(o.breaks) for o in officers]
    taken: list[list[tuple[datetime, datetime]]] = [[] for _ in officers]
    stops: list[list[Stop]] = [[] for _ in officers]
    open_ = set(range(V))

    def drive(a: int, b: int) -> timedelta:
        return timedelta(seconds=int(seconds[a, b]))

    while open_ and todo:
        v = min(open_, key=lambda k: (t[k], k))
        o = officers[v]
        best = None
        for i in todo:
            job = jobs[i]
            if job.region and o.region and job.region != o.region:
                continue
            if any(stock[v].get(k, 0) < n for k, n in job.needs):
                continue
            p = V + i
            depart, brk = t[v], None
            lo = job.window_start or o.shift_start
            hi = job.window_end or o.shift_end
            if now is not None:
                lo = max(lo, now)
            arrive = max(depart + drive(at[v], p), lo)
            b = pending_break[v][0] if pending_break[v] else None
            if b is not None and (depart >= b.earliest or arrive + timedelta(minutes=job.service_minutes) > b.latest):
                start = max(depart, b.earliest)
                if start > b.latest:
                    continue
                brk = (start, start + timedelta(minutes=b.minutes))
                arrive = max(brk[1] + drive(at[v], p), lo)
            done = arrive + timedelta(minutes=job.service_minutes)
            if arrive > hi or done + drive(p, v) > o.shift_end:
                continue
            # Time-oriented: the visit she can start soonest (drive and wait), then the nearest.
            key = (arrive, int(metres[at[v], p]))
            if best is None or key < best[0]:
                best = (key, i, arrive, done, brk)
        if best is None:
            open_.discard(v)
            continue
        _, i, arrive, done, brk = best
        job = jobs[i]
        if brk is not None:
            taken[v].append(brk)
            pending_break[v].pop(0)
        lo = job.window_start or o.shift_start
        hi = job.window_end or o.shift_end
        stops[v].append(Stop(job_id=job.id, lat=job.lat, lon=job.lon, arrive=arrive, depart=done,
                             window_start=lo, window_end=hi, crew=(o.id,), kind=job.kind))
        for k, n in job.needs:
            stock[v][k] -= n
        t[v], at[v] = done, V + i
        todo.discard(i)
    for i in sorted(todo):
        unassigned.append(Unassigned(jobs[i].id, "the nearest-neighbour baseline found no officer for it"))
    routes = []
    for v, o in enumerate(officers):
        if not stops[v]:
            continue
        home = (o.lat, o.lon)
        path = [home, *((s.lat, s.lon) for s in stops[v]), home]
        km = path_km(path)
        home_by = stops[v][-1].depart + drive(at[v], v)
        for b in pending_break[v]:
            # Due before she is back: taken on the way home; else after getting back.
            start = max(stops[v][-1].depart, b.earliest) if home_by > b.latest else max(home_by, b.earliest)
            taken[v].append((start, start + timedelta(minutes=b.minutes)))
        first = V + jobs.index(next(j for j in jobs if j.id == stops[v][0].job_id))
        leave, back = leave_and_back(stops[v][0].arrive, drive(v, first), stops[v][-1].depart, drive(at[v], v),
                                     tuple(taken[v]))
        routes.append(Route(officer_id=o.id, base=home, stops=tuple(stops[v]), km=round(km, 3),
                            leave=leave, back=back, breaks=tuple(taken[v])))
    kpi = [j.id for j in jobs if j.due_by is not None and not j.done and (
        j.id in {u.job_id for u in unassigned}
        or any(s.job_id == j.id and s.depart > j.due_by for r in routes for s in r.stops))]
    return Plan(routes=tuple(routes), unassigned=tuple(unassigned), kpi_missed=tuple(kpi),
                seconds=round(timer.monotonic() - started, 3), solver="nearest neighbour")
