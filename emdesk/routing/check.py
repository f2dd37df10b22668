"""Does a plan keep every rule of its problem?  Used on every solver's plan in tests and the
benchmark, so a faster or shorter plan that breaks a rule is never counted as better."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from .problem import Problem
from .result import Plan, leave_and_back

SLACK = timedelta(seconds=1)        # times are whole seconds


def violations(problem: Problem, plan: Plan) -> list[str]:
    """Every broken rule, in words; an empty list means the plan is feasible."""
    out: list[str] = []
    jobs = {j.id: j for j in problem.jobs}
    officers = {o.id: o for o in problem.officers}
    index = {("o", o.id): i for i, o in enumerate(problem.officers)}
    index.update({("j", j.id): len(problem.officers) + i for i, j in enumerate(problem.jobs)})
    points = [(o.lat, o.lon) for o in problem.officers] + [(j.lat, j.lon) for j in problem.jobs]
    _, seconds = problem.travel.matrices(points)

    def drive(a, b) -> timedelta:
        return timedelta(seconds=int(seconds[index[a], index[b]]))

    seen: Counter[str] = Counter()
    arrivals: dict[str, set[datetime]] = {}
    crews: dict[str, set[tuple[str, ...]]] = {}
    for route in plan.routes:
        o = officers.get(route.officer_id)
        if o is None:
            out.append(f"route for unknown officer {route.officer_id}")
            continue
        used: Counter = Counter()
        events: list[tuple[datetime, datetime, tuple]] = []     # (start, end, place) of each piece of work
        for s in route.stops:
            job = jobs.get(s.job_id)
            if job is None:
                out.append(f"{o.id}: unknown job {s.job_id}")
                continue
            seen[s.job_id] += 1
            arrivals.setdefault(s.job_id, set()).add(s.arrive)
            crews.setdefault(s.job_id, set()).add(s.crew)
            if o.id not in s.crew:
                out.append(f"{s.job_id}: on {o.id}'s route but not in its crew {s.crew}")
            if s.depart - s.arrive != timedelta(minutes=job.service_minutes):
                out.append(f"{s.job_id}: {job.service_minutes} minutes of work, planned {s.depart - s.arrive}")
            if job.done:
                events.append((s.arrive, s.depart, ("j", job.id)))
                continue
            lo, hi = (job.window_start, job.window_end) if job.window_start else (o.shift_start, o.shift_end)
            if not lo <= s.arrive <= hi:
                out.append(f"{s.job_id}: arrives {s.arrive:%H:%M:%S} outside its window {lo:%H:%M}-{hi:%H:%M}")
            if problem.not_before is not None and s.arrive < problem.not_before:
                out.append(f"{s.job_id}: planned before now")
            if job.region and o.region and job.region != o.region:
                out.append(f"{s.job_id}: region {job.region} visited by an officer of {o.region}")
            if job.pinned_officers and all(p in officers for p in job.pinned_officers):
                if o.id not in job.pinned_officers:
                    out.append(f"{s.job_id}: pinned to {job.pinned_officers}, planned for {o.id}")
                if job.pinned_arrival is not None and s.arrive != job.pinned_arrival:
                    out.append(f"{s.job_id}: pinned at {job.pinned_arrival}, planned at {s.arrive}")
            if s.crew and s.crew[0] == o.id:
                for k, n in job.needs:
                    used[k] += n
            events.append((s.arrive, s.depart, ("j", job.id)))
        for k, n in used.items():
            if n > o.carried(k):
                out.append(f"{o.id}: plans {n} x {k.value} but carries {o.carried(k)}")
        out += _timeline(o, events, route.breaks, drive, any(jobs[s.job_id].done for s in route.stops
                                                               if s.job_id in jobs))
    unassigned = Counter(u.job_id for u in plan.unassigned)
    for job in problem.jobs:
        n = seen[job.id]
        if job.done:
            continue
        if n and unassigned[job.id]:
            out.append(f"{job.id}: both routed and unassigned")
        elif not n and unassigned[job.id] != 1:
            out.append(f"{job.id}: neither routed nor unassigned with a reason")
        elif n and n != job.crew_size:
            out.append(f"{job.id}: needs {job.crew_size} officer(s), on {n} route(s)")
        if n and (len(arrivals[job.id]) != 1 or len(crews[job.id]) != 1):
            out.append(f"{job.id}: its crew's routes disagree on the arrival or the crew")
        if n and job.crew_size == 2 and len(set(next(iter(crews[job.id])))) != 2:
            out.append(f"{job.id}: a two-officer visit with crew {crews[job.id]}")
    for u in plan.unassigned:
        if not u.reason.strip():
            out.append(f"{u.job_id}: unassigned without a reason")
    return out


def _timeline(o, events, breaks, drive, has_done: bool) -> list[str]:
    """Leaving the base, every drive, every piece of work and break, and coming back fit
    the shift and each other."""
    out = []
    if not events:
        return out
    home = ("o", o.id)
    leave, back = leave_and_back(events[0][0], drive(home, events[0][2]), events[-1][1],
                                 drive(events[-1][2], home), tuple(breaks))
    if leave < o.shift_start - SLACK and not has_done:
        out.append(f"{o.id}: leaves at {leave:%H:%M}, before the shift starts")
    if back > o.shift_end + SLACK:
        out.append(f"{o.id}: back at {back:%H:%M:%S}, after the shift ends {o.shift_end:%H:%M}")
    gaps = [(leave, events[0][0], drive(home, events[0][2]))]
    for (_, end, a), (start, _, b) in zip(events, events[1:]):
        gaps.append((end, start, drive(a, b)))
    gaps.append((events[-1][1], back + timedelta(days=1), drive(events[-1][2], home)))
    placed = [timedelta(0)] * len(gaps)
    for b_start, b_end in breaks:
        spec = next((b for b in o.breaks if b.earliest - SLACK <= b_start <= b.latest + SLACK), None)
        if spec is None:
            out.append(f"{o.id}: break at {b_start:%H:%M} outside its allowed start times")
        if b_end <= leave or b_start >= back:
            continue
        k = next((i for i, (a, z, _) in enumerate(gaps) if a - SLACK <= b_start and b_end <= z + SLACK), None)
        if k is None:
            out.append(f"{o.id}: break {b_start:%H:%M}-{b_end:%H:%M} overlaps a visit")
        else:
            placed[k] += b_end - b_start
    for (a, z, d), extra in zip(gaps, placed):
        if z - a + SLACK < d + extra:
            out.append(f"{o.id}: {d} drive and {extra} of breaks do not fit between {a:%H:%M:%S} and {z:%H:%M:%S}")
    if len(breaks) < len(o.breaks):
        out.append(f"{o.id}: {len(o.breaks)} break(s) due, {len(breaks)} planned")
    return out
