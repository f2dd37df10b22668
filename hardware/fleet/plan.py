"""A wearer's day as a track: home, then outings to work, shops, appointments, friends.

The day is planned around *obligations* (spans the wearer means to be at home: the
curfew with a margin either side, the night for everyone else) and *specials* (outings
an episode scripts: a late night, a walk into a zone).  What is left is free time,
filled with outings that always come home before the next obligation.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from .movement import Map, Track, Trip, ZoneArea, trip

HOME = (0.0, 0.0)
MIN = 60.0
HOUR = 3600.0

# kind: (reach from home in m, dwell in s, weight)
PLACES: dict[str, tuple[tuple[float, float], tuple[float, float], float]] = {
    "shop": ((300, 3000), (10 * MIN, 50 * MIN), 4),
    "appointment": ((800, 5000), (30 * MIN, 90 * MIN), 1),
    "friend": ((500, 4000), (40 * MIN, 3 * HOUR), 2),
    "park": ((300, 1500), (20 * MIN, 80 * MIN), 1.5),
    "town": ((1000, 6000), (30 * MIN, 2 * HOUR), 1.5),
}
WORK_DWELL = (6 * HOUR, 9 * HOUR)


@dataclass
class Stop:
    """A scripted stop: go to ``place`` (entering ``zone`` if given) and leave at ``until``
    or after ``dwell``; ``approach`` (E, P) walks straight from E to P and back."""

    place: tuple[float, float]
    dwell: float = 0.0
    until: float | None = None
    zone: ZoneArea | None = None
    approach: tuple[tuple[float, float], tuple[float, float]] | None = None


@dataclass
class Special:
    """A scripted outing: leave home at ``leave``; home again at ``back`` exactly (if
    given), or straight after the last stop, or never (``end_home`` False)."""

    leave: float
    stops: list[Stop]
    back: float | None = None
    end_home: bool = True
    busy_until: float = 0.0          # keep random outings clear until then


@dataclass
class DayPlan:
    obligations: list[tuple[float, float]]
    specials: list[Special] = field(default_factory=list)
    wake: float = 0.0


class Planner:
    def __init__(self, rng: random.Random, map_: Map):
        self.rng, self.map = rng, map_
        self.work = map_.place(rng, (1500, 8000)) if rng.random() < 0.4 else None
        self.friend = map_.place(rng, (500, 4000))
        self._places: dict[str, list[tuple[float, float]]] = {}

    def haunt(self, kind: str) -> tuple[float, float] | None:
        # Each wearer has a few regular haunts of each kind, not a new place every time.
        known = self._places.setdefault(kind, [])
        if known and (len(known) >= 3 or self.rng.random() < 0.6):
            return self.rng.choice(known)
        p = self.map.place(self.rng, PLACES[kind][0])
        if p is not None:
            known.append(p)
        return p

    def _home_trip(self, a) -> Trip | None:
        return self.map.trip(self.rng, a, HOME)

    def outing(self, track: Track, leave: float, back_by: float) -> None:
        """Random stops from ``leave``, home by ``back_by`` (or no outing if none fits)."""
        rng = self.rng
        start_len = len(track.t)
        track.stay_until(leave)
        cur, went, home_trip = HOME, False, None
        for attempt in range(8):
            if self.work is not None and not went and back_by - track.now > 8 * HOUR and rng.random() < 0.85:
                place, dwell = self.work, rng.uniform(*WORK_DWELL)
            else:
                kind = rng.choices(list(PLACES), weights=[p[2] for p in PLACES.values()])[0]
                place, dwell = self.haunt(kind), rng.uniform(*PLACES[kind][1])
            if place is None or place == cur:
                continue
            go = self.map.trip(rng, cur, place)
            ret = self._home_trip(place) if go else None
            if go is None or ret is None:
                continue
            room = back_by - 2 * MIN - track.now - go.duration - ret.duration
            if room < 8 * MIN:
                break
            track.follow(go)
            track.stay_until(track.now + min(dwell, room))
            # The way home the budget was checked against is the way home taken.
            cur, went, home_trip = place, True, ret
            if rng.random() < 0.45:
                break
        if not went:
            del track.t[start_len:], track.x[start_len:], track.y[start_len:]
            return
        track.follow(home_trip)

    def special(self, track: Track, s: Special) -> None:
        rng = self.rng
        track.stay_until(s.leave)
        cur = HOME
        for stop in s.stops:
            if stop.approach:
                e, p = stop.approach
                go = self.map.trip(rng, cur, e, ignore=stop.zone) or trip(rng, cur, e, straight=True)
                track.follow(go)
                walk = trip(rng, e, p, walk=True, straight=True)
                track.follow(walk)
                track.stay_until(stop.until if stop.until is not None else track.now + stop.dwell)
                track.follow(Trip([p, e], walk.durations))
                cur = e
            else:
                go = self.map.trip(rng, cur, stop.place, ignore=stop.zone) or trip(rng, cur, stop.place, straight=True)
                track.follow(go)
                track.stay_until(stop.until if stop.until is not None else track.now + stop.dwell)
                cur = stop.place
        if not s.end_home:
            return
        ret = self.map.trip(rng, cur, HOME, ignore=next((st.zone for st in s.stops if st.zone), None))
        ret = ret or trip(rng, cur, HOME, straight=True)
        if s.back is not None:
            track.stay_until(s.back - ret.duration)
        track.follow(ret)

    def day(self, plan: DayPlan, end: float) -> Track:
        """The whole period's track: free time between obligations filled with outings."""
        rng = self.rng
        blocked = sorted([*plan.obligations, (0.0, plan.wake),
                          *((s.leave - 20 * MIN, max(s.busy_until, s.back or 0.0) + 20 * MIN) for s in plan.specials)])
        track = Track()
        specials = sorted(plan.specials, key=lambda s: s.leave)
        for a, b in _free(blocked, end):
            # Specials that start before this free span run first.
            while specials and specials[0].leave <= a:
                self.special(track, specials.pop(0))
            a = max(a, track.now)
            while b - a > 50 * MIN:
                leave = a + rng.uniform(0, min(2 * HOUR, 0.3 * (b - a)))
                before = track.now
                self.outing(track, leave, b)
                if track.now == before or rng.random() < 0.5:
                    break
                a = track.now + rng.uniform(20 * MIN, 90 * MIN)
        for s in specials:
            self.special(track, s)
        track.stay_until(end)
        return track


def _free(blocked: list[tuple[float, float]], end: float) -> list[tuple[float, float]]:
    out, reach = [], 0.0
    for a, b in sorted(blocked):
        if a > reach:
            out.append((reach, min(a, end)))
        reach = max(reach, b)
    if reach < end:
        out.append((reach, end))
    return [(a, b) for a, b in out if b > a]

