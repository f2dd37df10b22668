"""A labelled day of telemetry from every fitted wearer in a store.

``python -m hardware.fleet --db PATH --day YYYY-MM-DD --out DIR [--seed N] [--wearers N]
[--pace max|realtime|60x]`` writes ``DIR/telemetry.jsonl`` (what the kit said, one event
a line, in the order it reached the service) and ``DIR/labels.jsonl`` (the truth: one
line per scripted episode, a violation or technical noise), so a monitoring engine can
be scored against what really happened.

The model, per wearer (an active order with kit fitted), for the violation period 07:00
to 07:00 next day, UK time (23 or 25 hours on clock-change days):

- ``world``     the store read once: orders, fitted kit and when it went on, the home.
- ``movement``  a flat map in metres about the home, zones drawn on it, trips that bend
                like roads at walking (1.2-1.6 m/s) or driving (7-15 m/s) speed.
- ``plan``      the day as a track: home until morning, outings to work, shops,
                appointments and friends, home again before the curfew (with a margin)
                or for the night; outings keep 150 m clear of exclusion zones and inside
                inclusion zones.
- ``devices``   what each device says about the track: GPS fixes (every minute, every
                15 s during a violation), home-unit range in/out, battery levels with
                daily charging, alcohol readings, check-ins with a position.
- ``episodes``  about one wearer in five gets one scripted violation (only of a kind
                the order and kit allow: curfew, zones, tamper, battery, home unit,
                alcohol, check-in) and about one in seven one noise episode (GPS drift,
                multipath jumps, a wild fix in a zone, comms gaps with a late backlog,
                a power cut, clock jitter, duplicate or out-of-order delivery), never
                within 30 minutes of the violation.  Labels carry its true start and end.
- ``sim``       one wearer, start to finish, from a generator seeded by (seed, order,
                day): the same store, seed and day give byte-identical files, and
                ``--wearers`` changes only who is in them, not anyone's day.
- ``writer``    the files: atomic for ``max``; appended as simulated time passes for
                ``realtime`` and ``60x`` (a label once its episode has ended).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from . import writer
from .episodes import NOISE, VIOLATIONS, EpisodeError
from .sim import simulate_wearer
from .world import Period, Wearer, load_wearers, violation_period

__all__ = ["FleetDay", "simulate", "write_day", "run", "VIOLATIONS", "NOISE", "EpisodeError",
           "Period", "Wearer", "load_wearers", "violation_period", "simulate_wearer"]


@dataclass
class FleetDay:
    """A simulated day: ``telemetry`` as (delivered at ms, line) in file order, ``labels``
    as (ends at ms, line) by start."""

    period: Period
    wearers: int
    telemetry: list[tuple[int, dict]]
    labels: list[tuple[int, dict]]

    def summary(self) -> str:
        truths = [l["truth"] for _, l in self.labels]
        return (f"{self.period.day}: {self.wearers} wearers, {len(self.telemetry)} events, "
                f"{truths.count('violation')} violations, {truths.count('noise')} noise episodes")


def simulate(store_path: str | Path, day: date, *, seed: int = 2026, wearers: int | None = None,
             force: Mapping[str, str | tuple[str, ...]] | None = None) -> FleetDay:
    """Simulate the violation period of ``day`` for the store's fitted wearers.

    ``force`` maps an order reference (or id) to episode kinds to script on that wearer
    instead of the random draw (a violation kind, a noise kind, or one of each);
    ``EpisodeError`` says if the order or kit cannot have it.
    """
    period = violation_period(day)
    people = load_wearers(store_path, period, limit=wearers)
    force = dict(force or {})
    events, labels = [], []
    for w in people:
        wanted = force.pop(w.reference, None) or force.pop(w.order.id, None) or ()
        wanted = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        v = next((k for k in wanted if k in VIOLATIONS), None)
        n = next((k for k in wanted if k in NOISE), None)
        unknown = [k for k in wanted if k not in VIOLATIONS and k not in NOISE]
        if unknown:
            raise EpisodeError(f"force: {unknown[0]!r} is not an episode kind; use one of "
                               f"{', '.join(VIOLATIONS + NOISE)}")
        evs, labs = simulate_wearer(w, period, seed, violation=v, noise=n)
        events += evs
        labels += [(lab, w.reference) for lab in labs]
    if force:
        raise EpisodeError(f"force: no simulated wearer has order {next(iter(force))!r}")
    events.sort(key=lambda e: (e.deliver, e.device, e.rank))
    telemetry = [(e.deliver, {**e.line(), "at": writer.iso(e.at)}) for e in events]
    labels.sort(key=lambda p: (p[0].start, p[1], p[0].kind))
    label_lines = [(lab.end, {"order_reference": ref, "kind": lab.kind, "truth": lab.truth,
                              "start": writer.iso(lab.start), "end": writer.iso(lab.end)}) for lab, ref in labels]
    return FleetDay(period, len(people), telemetry, label_lines)


def write_day(fleet: FleetDay, out: str | Path, *, pace: str | float = "max", start_ms: int | None = None,
              until_ms: int | None = None) -> tuple[Path, Path]:
    """Write the day's two files into ``out``: at once (``"max"``), or paced (``"realtime"``,
    ``"60x"`` or a factor) from ``start_ms`` (default the period start) to ``until_ms``."""
    out = Path(out)
    paths = out / writer.TELEMETRY, out / writer.LABELS
    if pace == "max":
        writer.write_atomic(paths[0], (writer.encode(line) for _, line in fleet.telemetry))
        writer.write_atomic(paths[1], (writer.encode(line) for _, line in fleet.labels))
        return paths
    factor = writer.PACES.get(pace) if isinstance(pace, str) else float(pace)
    if factor is None:
        raise ValueError(f"pace: {pace!r}; use max, realtime or 60x")
    labels = sorted(fleet.labels, key=lambda p: p[0])
    writer.write_paced(out, fleet.telemetry, labels, factor,
                       start_ms=fleet.period.start_ms if start_ms is None else start_ms, until_ms=until_ms)
    return paths


def run(store_path: str | Path, day: date, out: str | Path, *, seed: int = 2026, wearers: int | None = None,
        pace: str = "max") -> str:
    """The command line's work: simulate, write, and say what was written."""
    fleet = simulate(store_path, day, seed=seed, wearers=wearers)
    write_day(fleet, out, pace=pace)
    return fleet.summary()
