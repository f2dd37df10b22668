"""``emdesk plan``: plan (or re-plan) a day's routes on the store and print them.

``--json`` prints the contract documented in the README (``DayPlan.as_json``); without it,
a table per officer.  A plain store plans as its first supervisor; an encrypted one as
``--user`` (a supervisor or monitoring operator), after the password.
"""
from __future__ import annotations

import json
import sys

from emdesk import paths
from emdesk.domain.clock import local, local_date
from emdesk.domain.gazetteer import REGIONS
from emdesk.domain.users import Role
from emdesk.services.day_plan import DayPlan, DayPlanError, DayPlanService
from emdesk.services.errors import ServiceError

from .errors import CommandError
from .wiring import Prompt, _acting_user, _open, make_clock


def plan(args, prompt: Prompt) -> int:
    if args.region is not None and args.region not in REGIONS:
        raise CommandError(f"--region: no region {args.region!r}: choose one of {', '.join(REGIONS)}")
    clock = make_clock()
    today = local_date(clock.now())
    if args.date < today:
        raise CommandError(f"--date: {args.date.isoformat()} is over (today is {today.isoformat()}): "
                           "plan today or a day to come")
    path = args.db or paths.default_store()
    if not path.exists():
        raise CommandError(f"--db: no store at {path}: run `emdesk demo` or `emdesk init --db {path}` first")
    store = _open(path, args.user, prompt, clock)
    try:
        user = _acting_user(store, args.user, Role.SUPERVISOR)
        try:
            result = DayPlanService(store, user, clock).plan(args.date, args.region, args.time_limit,
                                                             off_duty=args.off_duty)
        except DayPlanError as exc:
            raise CommandError(str(exc).replace("off duty:", "--off-duty:", 1)) from exc
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
    finally:
        store.close()
    if args.json:
        json.dump(result.as_json(), sys.stdout, indent=2)
        print()
    else:
        print(as_text(result))
    return 0


def _t(at) -> str:
    return local(at).strftime("%H:%M")


def as_text(result: DayPlan) -> str:
    lines = [f"Plan for {result.day:%A %d %B %Y} (UK time): {sum(len(r.stops) for r in result.routes)} stops, "
             f"{result.km_total:.1f} km, {len(result.unassigned)} unassigned, "
             f"{len(result.kpi_missed)} KPI deadline(s) missed; searched {result.seconds:.1f} s"]
    for r in result.routes:
        lines.append("")
        lines.append(f"{r.officer.username} ({r.officer.region}): {len(r.stops)} stops, {r.km:.1f} km")
        if not r.stops:
            lines.append("  (no visits)")
        for i, s in enumerate(r.stops, 1):
            crew = "" if len(s.crew) < 2 else "  with " + ", ".join(
                result.usernames.get(u, u) for u in s.crew if u != r.officer.id)
            late = "  KPI MISSED" if s.visit.id in result.kpi_missed else ""
            lines.append(f"  {i:>2}. {_t(s.arrive)}-{_t(s.depart)}  {s.visit.kind.value:<8} "
                         f"{s.order_reference or s.visit.order_id:<16} window {_t(s.window_start)}-{_t(s.window_end)}"
                         f"{crew}{late}")
    if result.unassigned:
        lines.append("")
        lines.append("Unassigned:")
        for v, why in result.unassigned:
            lines.append(f"  {v.id}  {v.kind.value:<8} {why}")
    return "\n".join(lines)


__all__ = ["plan", "as_text"]
