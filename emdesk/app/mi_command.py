"""``emdesk mi``: the management picture (NAO Figure 5) printed from the store.

Text: one line a figure: label, value with its unit, numerator/denominator, and the
tolerance where one applies ("OVER TOLERANCE" when beyond it).  ``--json``: a list, one
object a figure, in display order (the format is a contract)::

    {"key": "unmonitored_share", "label": "...", "value": 0.25 | null, "unit": "share",
     "numerator": 1, "denominator": 4, "tolerance": 0.15 | null, "beyond": true,
     "note": "...", "cases": 1}

``value`` is a share as a fraction (0..1), hours, days, a count or a ratio, as ``unit``
says (share | hours | days | count | ratio); null when there is nothing to measure;
``cases`` is how many ids are behind it.  A region that no order names is not an error:
every figure is then over nothing (counts 0, averages null) and a note on standard error
says so, with the regions there are.
"""
from __future__ import annotations

import json
import sys
from datetime import date

from emdesk.domain.mi import Measure
from emdesk.domain.users import Role

from .errors import CommandError
from .monitor_commands import _store
from .wiring import Prompt, _acting_user

def parse_day(flag: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{flag}: {text!r} is not a date like 2026-12-03 (YYYY-MM-DD)") from None


def _value(m: Measure) -> str:
    if m.value is None:
        return "no data"
    if m.unit == "share":
        return f"{m.value:.1%}"
    if m.unit in ("hours", "days"):
        return f"{m.value:.1f} {m.unit}"
    if m.unit == "ratio":
        return f"{m.value:.2f}"
    return f"{m.value:,g}"


def _tolerance(m: Measure) -> str:
    if m.tolerance is None:
        return ""
    limit = f"{m.tolerance:.0%}" if m.unit == "share" else f"{m.tolerance:,g}"
    return f"  tolerance {limit}" + (" OVER TOLERANCE" if m.beyond else "")


def _number(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def line(m: Measure) -> str:
    return f"{m.label}: {_value(m)} ({_number(m.numerator)}/{_number(m.denominator)}){_tolerance(m)}"


def as_json(m: Measure) -> dict:
    return {"key": m.key, "label": m.label, "value": m.value, "unit": m.unit, "numerator": m.numerator,
            "denominator": m.denominator, "tolerance": m.tolerance, "beyond": m.beyond, "note": m.note,
            "cases": len(m.ids)}


def mi(args, prompt: Prompt) -> int:
    start, end = parse_day("--from", args.date_from), parse_day("--to", args.date_to)
    if start and end and start > end:
        raise CommandError(f"--from: {start} is after --to {end}; give a start on or before the end")
    store = _store(args, prompt)
    try:
        from emdesk.services.errors import ServiceError
        from emdesk.services.mi import ManagementService
        user = _acting_user(store, args.user, Role.SUPERVISOR)
        try:
            service = ManagementService(store, user, store.clock)
            if start and not end and start > service.period(None, None).end:
                raise CommandError(f"--from: {start} is after today; give a start on or before --to")
            figures = service.figures(start, end, args.region)
            regions = service.regions() if args.region else []
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
    finally:
        store.close()
    if args.region and args.region not in regions:
        print(f"emdesk: no orders in region {args.region!r}: every figure is over nothing "
              f"(regions: {', '.join(regions) or 'none'})", file=sys.stderr)
    if args.json:
        json.dump([as_json(m) for m in figures], sys.stdout, indent=1, ensure_ascii=False)
        print()
        return 0
    for m in figures:
        print(line(m))
    return 0


__all__ = ["as_json", "line", "mi", "parse_day"]
