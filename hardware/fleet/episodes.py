"""Scripted episodes: true violations and technical noise, each with its label.

A violation changes what the wearer does (the day plan, or a device's state); noise
changes only what the devices report or how it reaches the file.  Noise is kept at
least 30 minutes clear of the wearer's violation, so it never hides one.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import time, timedelta

import numpy as np
from shapely.geometry import Point

from emdesk.domain.conditions import AlcoholMode, Curfew
from emdesk.domain.curfew import curfew_intervals
from emdesk.domain.devices import Device, DeviceKind
from emdesk.domain.geography import zone_contains

from .devices import Ev
from .movement import Frame, Map, ZoneArea, position
from .plan import HOME, DayPlan, Planner, Special, Stop
from .world import Period, Wearer

MIN = 60.0
HOUR = 3600.0

VIOLATIONS = ("late_return", "left_during_curfew", "absent_whole_curfew", "out_at_curfew_end",
              "exclusion_brief", "exclusion_long", "inclusion_exit", "strap_tamper", "battery_died",
              "hmu_moved", "hmu_unplugged", "drinking", "checkin_missed")
NOISE = ("gps_drift", "multipath_jump", "wild_fix_in_zone", "comms_gap", "hmu_power_cut", "clock_jitter",
         "duplicate_delivery", "out_of_order_delivery")
CURFEW_KINDS = frozenset(VIOLATIONS[:4])
ZONE_KINDS = frozenset({"exclusion_brief", "exclusion_long", "inclusion_exit"})
VIOLATION_SHARE = 0.20      # of wearers, a day: 300 demo subjects give a few dozen
NOISE_SHARE = 0.15
CLEAR_S = 30 * MIN          # noise keeps this far from a violation
# GPS noise is what fools a location rule, so it is drawn more often where it can be.
NOISE_WEIGHTS = {"gps_drift": 3, "multipath_jump": 3, "wild_fix_in_zone": 3, "comms_gap": 2, "hmu_power_cut": 2,
                 "clock_jitter": 1, "duplicate_delivery": 1, "out_of_order_delivery": 1}


class EpisodeError(ValueError):
    """A forced episode the wearer's order or kit cannot have."""


@dataclass
class Label:
    kind: str
    truth: str
    start: int        # ms
    end: int


@dataclass
class Ctx:
    """One wearer's day: what is known before anything is scripted."""

    wearer: Wearer
    period: Period
    rng: random.Random
    nprng: np.random.Generator
    frame: Frame
    map: Map
    planner: Planner
    end: float
    curfews: list[tuple[float, float]]
    evening: tuple[float, float] | None
    zones: list[ZoneArea]
    prompts: list[tuple[float, float]]          # check-in prompt, window end (s)

    @property
    def start_ms(self) -> int:
        return self.period.start_ms

    def ms(self, s: float) -> int:
        return self.start_ms + int(round(s * 1000))

    def dev(self, kind: DeviceKind) -> Device | None:
        return self.wearer.device(kind)

    @property
    def worn(self) -> Device | None:
        return self.dev(DeviceKind.GPS_TAG) or self.dev(DeviceKind.RF_TAG) or self.dev(DeviceKind.ALCOHOL_TAG)

    @property
    def exclusions(self) -> list[ZoneArea]:
        return [z for z in self.zones if z.exclusion]

    @property
    def inclusions(self) -> list[ZoneArea]:
        return [z for z in self.zones if not z.exclusion]


@dataclass
class Script:
    """What a wearer's violation does to the day."""

    plan: DayPlan
    kind: str | None = None
    evening_index: int | None = None
    zone: ZoneArea | None = None
    fast: list[tuple[float, float]] = field(default_factory=list)   # GPS every 15 s
    battery_dies: float | None = None
    instants: list[tuple[str, float]] = field(default_factory=list)  # (event kind, s) on kit
    unplugged: tuple[float, float | None] | None = None
    drinking_from: float | None = None
    missed_prompt: int | None = None
    label: Label | None = None


def relative_spans(period: Period, spans, end: float) -> list[tuple[float, float]]:
    out = []
    for a, b in spans:
        ra, rb = period.rel(a), period.rel(b)
        if rb > 0 and ra < end:
            out.append((max(0.0, ra), min(end, rb)))
    return out


def curfew_spans(wearer: Wearer, period: Period) -> list[tuple[float, float]]:
    day = period.day
    raw = curfew_intervals(wearer.order.conditions.curfew, day - timedelta(days=1), day + timedelta(days=1))
    return relative_spans(period, raw, period.seconds)


def zone_active(zone: ZoneArea, period: Period, end: float) -> list[tuple[float, float]]:
    z = zone.zone
    spans = [(0.0, end)]
    if z.active_windows:
        day = period.day
        spans = relative_spans(period, curfew_intervals(Curfew(windows=z.active_windows),
                                                        day - timedelta(days=1), day + timedelta(days=1)), end)
    lo = period.rel(z.active_from) if z.active_from else 0.0
    hi = period.rel(z.active_until) if z.active_until else end
    return [(max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo)]


def checkin_prompts(wearer: Wearer, period: Period) -> list[tuple[float, float]]:
    c = wearer.order.conditions.checkins
    if c is None:
        return []
    days = min(max(c.per_week, 0), 7)
    out = []
    for offset in (0, 1):
        d = period.day + timedelta(days=offset)
        if d.weekday() >= days:
            continue
        for t in c.at:
            s = period.local(offset, t)
            if 0 <= s < period.seconds:
                out.append((s, s + c.window_min * MIN))
    return sorted(out)


# --- the clean day ---------------------------------------------------------------------

def base_plan(ctx: Ctx) -> tuple[DayPlan, int | None]:
    """Home in curfew (with a margin either side), or home for the night; up in the morning."""
    rng = ctx.rng
    wake = rng.uniform(20 * MIN, 3 * HOUR)
    obligations, evening_index = [], None
    for cs, ce in ctx.curfews:
        pre, post = rng.uniform(5, 60) * MIN, rng.uniform(10, 90) * MIN
        if (cs, ce) == ctx.evening:
            evening_index = len(obligations)
        obligations.append((max(0.0, cs - pre), min(ctx.end, ce + post)))
    if ctx.evening is None:
        night = ctx.period.local(0, _clock(18)) + rng.uniform(0, 6.5 * HOUR)
        obligations.append((min(night, ctx.end), ctx.end))
    return DayPlan(obligations, [], wake), evening_index


def _clock(h: int, m: int = 0) -> time:
    return time(h, m)


def daytime_leave(ctx: Ctx, plan: DayPlan, need: float, *, within: list[tuple[float, float]] | None = None) -> float | None:
    """A time to leave home, after waking, with ``need`` seconds clear before any obligation."""
    rng = ctx.rng
    first = min([a for a, b in plan.obligations if a > plan.wake] + [ctx.end])
    lo = plan.wake + 30 * MIN
    spans = [(max(a, lo), min(b, first) - need) for a, b in (within if within is not None else [(lo, first)])]
    spans = [(a, b) for a, b in spans if b > a]
    if not spans:
        return None
    a, b = rng.choice(spans)
    return rng.uniform(a, b)


# --- violations ----------------------------------------------------------------------

def feasible_violations(ctx: Ctx) -> list[str]:
    w = ctx.wearer
    has = {k: w.device(k) is not None for k in DeviceKind}
    out = []
    ev = ctx.evening
    home_kit = has[DeviceKind.HMU] or has[DeviceKind.GPS_TAG]
    if ev and home_kit and ev[0] > 4 * HOUR:
        cs, ce = ev
        length = ce - cs
        out += ["late_return"] if length >= 2 * HOUR else []
        out += ["left_during_curfew"] if length >= 4 * HOUR else []
        out += ["absent_whole_curfew"]
        out += ["out_at_curfew_end"] if length >= 3 * HOUR else []
    if has[DeviceKind.GPS_TAG] and ctx.exclusions:
        out += ["exclusion_brief", "exclusion_long"]
    if has[DeviceKind.GPS_TAG] and ctx.inclusions:
        out += ["inclusion_exit"]
    if ctx.worn is not None:
        out.append("strap_tamper")
    if has[DeviceKind.GPS_TAG]:
        out.append("battery_died")
    if has[DeviceKind.HMU]:
        out += ["hmu_moved", "hmu_unplugged"]
    if has[DeviceKind.ALCOHOL_TAG]:
        out.append("drinking")
    if any(b <= ctx.end for _, b in ctx.prompts):
        out.append("checkin_missed")
    return out


def script_violation(ctx: Ctx, kind: str, plan: DayPlan, evening_index: int | None) -> Script:
    rng, end = ctx.rng, ctx.end
    s = Script(plan, kind, evening_index)
    place = ctx.planner.friend or ctx.planner.haunt("town") or ctx.map.place(rng, (500, 3000))
    if kind in CURFEW_KINDS and place is None:
        raise EpisodeError(f"{kind}: nowhere for the wearer to go")
    if kind in CURFEW_KINDS:
        cs, ce = ctx.evening
        pre_start, post_end = plan.obligations[evening_index]
        if kind == "late_return":
            back = cs + rng.uniform(20, min(120, (ce - cs) / 2 / MIN)) * MIN
            leave = max(plan.wake + 10 * MIN, cs - rng.uniform(1, 3) * HOUR)
            plan.obligations[evening_index] = (back, post_end)
            plan.specials.append(Special(leave, [Stop(place)], back=back, busy_until=back))
        elif kind == "left_during_curfew":
            out = cs + rng.uniform(30 * MIN, (ce - cs) - 3 * HOUR)
            back = out + rng.uniform(40, 150) * MIN
            plan.specials.append(Special(out, [Stop(place)], back=min(back, ce - 20 * MIN)))
        elif kind == "absent_whole_curfew":
            leave = max(plan.wake + 10 * MIN, cs - rng.uniform(1, 4) * HOUR)
            until = min(end, ce + rng.uniform(15, 60) * MIN)
            del plan.obligations[evening_index]
            plan.specials.append(Special(leave, [Stop(place, until=until)], end_home=until < end - 5 * MIN,
                                         busy_until=until + HOUR))
        else:   # out_at_curfew_end
            leave = ce - rng.uniform(30, min(120, (ce - cs) / 2 / MIN)) * MIN
            back = ce + rng.uniform(20, 120) * MIN
            plan.obligations[evening_index] = (pre_start, leave)
            if back < end - 10 * MIN:
                plan.specials.append(Special(leave, [Stop(place)], back=back, busy_until=back))
            else:
                plan.specials.append(Special(leave, [Stop(place, until=end)], end_home=False, busy_until=end))
        return s
    if kind in ("exclusion_brief", "exclusion_long"):
        for _ in range(10):
            z = rng.choice(ctx.exclusions)
            depth = min(150.0, rng.uniform(90, 150))
            e, p = z.entry(HOME, depth)
            if ctx.map.on_land(e) and ctx.map.on_land(p) and not any(
                    o is not z and o.contains([e[0]], [e[1]])[0] for o in ctx.exclusions):
                break
        else:
            raise EpisodeError(f"{kind}: no way into the exclusion zone on land")
        depth = math.hypot(p[0] - e[0], p[1] - e[1]) - 60
        if kind == "exclusion_brief":
            dwell = max(15.0, rng.uniform(170, 270) - 2 * depth / 1.4)
        else:
            dwell = rng.uniform(20, 60) * MIN
        leave = daytime_leave(ctx, plan, 4 * HOUR)
        if leave is None:
            raise EpisodeError(f"{kind}: no free daytime for the trip")
        s.zone = z
        plan.specials.append(Special(leave, [Stop(p, dwell=dwell, zone=z, approach=(e, p))],
                                     busy_until=leave + 3 * HOUR))
        return s
    if kind == "inclusion_exit":
        z = ctx.inclusions[0]
        for _ in range(20):
            b = rng.uniform(0, 2 * math.pi)
            e, _ = z.entry((1e5 * math.sin(b), 1e5 * math.cos(b)), 0.0, outside=rng.uniform(300, 700))
            if ctx.map.on_land(e) and not any(o.contains([e[0]], [e[1]])[0] for o in ctx.exclusions):
                break
        else:
            raise EpisodeError("inclusion_exit: no place outside the inclusion zone on land")
        leave = daytime_leave(ctx, plan, 3.5 * HOUR, within=zone_active(z, ctx.period, end))
        if leave is None:
            raise EpisodeError("inclusion_exit: no free time while the inclusion zone is active")
        s.zone = z
        plan.specials.append(Special(leave, [Stop(e, dwell=rng.uniform(15, 45) * MIN, zone=z)],
                                     busy_until=leave + 3 * HOUR))
        return s
    if kind in ("strap_tamper", "hmu_moved"):
        t = rng.uniform(HOUR, end - HOUR)
        s.instants.append((kind, t))
        s.label = Label(kind, "violation", ctx.ms(t), ctx.ms(t))
        return s
    if kind == "battery_died":
        s.battery_dies = rng.uniform(0.35, 0.9) * end
        return s
    if kind == "hmu_unplugged":
        off = rng.uniform(HOUR, end - 2.5 * HOUR)
        on = off + rng.uniform(2, 8) * HOUR
        s.unplugged = (off, on if on < end - MIN else None)
        s.label = Label(kind, "violation", ctx.ms(off), ctx.ms(on if on < end - MIN else end))
        return s
    if kind == "drinking":
        s.drinking_from = rng.uniform(ctx.period.local(0, _clock(17)), ctx.period.local(1, _clock(1)))
        return s
    if kind == "checkin_missed":
        options = [i for i, (_, b) in enumerate(ctx.prompts) if b <= end]
        s.missed_prompt = rng.choice(options)
        s.label = Label(kind, "violation", ctx.ms(ctx.prompts[s.missed_prompt][1]),
                        ctx.ms(ctx.prompts[s.missed_prompt][1]))
        return s
    raise EpisodeError(f"unknown violation kind {kind!r}; use one of {', '.join(VIOLATIONS)}")


def out_in(spans_home: list[tuple[float, float]], a: float, b: float) -> list[tuple[float, float]]:
    """The parts of [a, b] spent away from home."""
    out, cur = [], a
    for h0, h1 in spans_home:
        if h1 <= cur or h0 >= b:
            continue
        if h0 > cur:
            out.append((cur, h0))
        cur = max(cur, h1)
    if cur < b:
        out.append((cur, b))
    return [(x, y) for x, y in out if y - x > 1]


def curfew_label(ctx: Ctx, kind: str, home: list[tuple[float, float]]) -> Label | None:
    cs, ce = ctx.evening
    out = out_in(home, cs, ce)
    if not out:
        return None
    a, b = out[0][0], out[-1][1]
    ok = {"late_return": a <= cs + 1 and b < ce and b - cs >= 20 * MIN,
          "left_during_curfew": a > cs + 1 and b < ce - 1 and b - a >= 30 * MIN,
          "absent_whole_curfew": a <= cs + 1 and b >= ce - 1,
          "out_at_curfew_end": a > cs + 1 and b >= ce - 1 and ce - a >= 30 * MIN}[kind]
    return Label(kind, "violation", ctx.ms(a), ctx.ms(b)) if ok and len(out) == 1 else None


def inside_spans(ctx: Ctx, track, zone: ZoneArea, *, outside: bool = False) -> list[tuple[float, float]]:
    """When the track is inside a zone (or outside it), at 2 s resolution."""
    times = np.arange(0.0, ctx.end, 2.0)
    x, y, _ = position(track, times)
    mask = zone.contains(x, y)
    if outside:
        mask = ~mask
    edges = np.diff(mask.astype(np.int8), prepend=0, append=0)
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(float(times[a]), float(times[b - 1])) for a, b in zip(starts, stops)]


def zone_label(ctx: Ctx, kind: str, zone: ZoneArea, fixes: list[Ev], window: tuple[float, float]) -> Label | None:
    """First..last fix inside (or, for an inclusion zone, outside) the zone, as the engine
    would measure it (on the grid, not on the simulator's flat map)."""
    lo, hi = ctx.ms(window[0] - 120), ctx.ms(window[1] + 120)
    hits = [f.at for f in fixes if lo <= f.at <= hi
            and zone_contains(zone.zone.shape, f.lat, f.lon) != (kind == "inclusion_exit")]
    if len(hits) < 2:
        return None
    return Label(kind, "violation", min(hits), max(hits))


def drinking_values(ctx: Ctx, times: np.ndarray, start: float | None) -> tuple[list[float], Label | None]:
    rng = ctx.rng
    alcohol = ctx.wearer.order.conditions.alcohol
    level = alcohol is not None and alcohol.mode is AlcoholMode.LEVEL
    threshold = (alcohol.threshold if alcohol and alcohol.threshold else 20.0)
    values = []
    for t in times:
        if level and ctx.period.local(0, _clock(18)) < t and rng.random() < 0.25:
            values.append(rng.uniform(0, min(12.0, threshold - 6)))
        else:
            values.append(0.0 if rng.random() < 0.9 else rng.uniform(0.1, 2.0))
    if start is None:
        return values, None
    k0 = int(np.searchsorted(times, start))
    peak = rng.uniform(max(60.0, threshold + 40), 150.0)
    curve = [rng.uniform(8, 18), peak * rng.uniform(0.45, 0.6), peak]
    v = peak
    while v > 3:
        v -= rng.uniform(10, 16)
        curve.append(max(v, 0.0))
    for i, c in enumerate(curve):
        if k0 + i < len(values):
            values[k0 + i] = c
    over = [times[i] for i in range(len(values)) if values[i] > threshold and i >= k0]
    if len(over) < 3:
        return values, None
    return values, Label("drinking", "violation", ctx.ms(over[0]), ctx.ms(over[-1]))


# --- noise ---------------------------------------------------------------------------

def feasible_noise(ctx: Ctx) -> list[str]:
    w = ctx.wearer
    gps, hmu = w.device(DeviceKind.GPS_TAG), w.device(DeviceKind.HMU)
    out = []
    if gps is not None and ctx.evening is not None:
        out.append("gps_drift")
    if gps is not None:
        out.append("multipath_jump")
    if gps is not None and ctx.exclusions:
        out.append("wild_fix_in_zone")
    if ctx.worn is not None:
        out += ["comms_gap", "duplicate_delivery", "out_of_order_delivery"]
    if hmu is not None:
        out.append("hmu_power_cut")
    if gps is not None or w.device(DeviceKind.ALCOHOL_TAG) is not None:
        out.append("clock_jitter")
    return out


def clear_of(window: tuple[float, float] | None, a: float, b: float) -> bool:
    return window is None or b < window[0] - CLEAR_S or a > window[1] + CLEAR_S


def _pick_time(ctx: Ctx, length: float, busy, spans=None, tries: int = 40) -> float | None:
    spans = spans or [(MIN, ctx.end - MIN)]
    spans = [(a, b - length) for a, b in spans if b - length > a]
    if not spans:
        return None
    for _ in range(tries):
        a, b = ctx.rng.choice(spans)
        t = ctx.rng.uniform(a, b)
        if clear_of(busy, t, t + length):
            return t
    return None


def _busy_ms(ctx: Ctx, busy) -> tuple[int, int] | None:
    return None if busy is None else (ctx.ms(busy[0] - CLEAR_S), ctx.ms(busy[1] + CLEAR_S))


def _clear_ms(ctx: Ctx, busy, at: int) -> bool:
    b = _busy_ms(ctx, busy)
    return b is None or not (b[0] <= at <= b[1])


def gps_noise(ctx: Ctx, kind: str, fixes: list[Ev], track, home: list[tuple[float, float]], busy) -> Label | None:
    """Drift at home, a multipath jump, or a wild fix in a zone, written into the fixes."""
    rng, frame = ctx.rng, ctx.frame
    if kind == "gps_drift":
        cs, ce = ctx.evening
        spans = [(max(a, cs), min(b, ce)) for a, b in home if min(b, ce) - max(a, cs) > 40 * MIN]
        t0 = _pick_time(ctx, 30 * MIN, busy, spans)
        if t0 is None:
            return None
        t1 = t0 + rng.uniform(10, 30) * MIN
        hit = [f for f in fixes if ctx.ms(t0) <= f.at <= ctx.ms(t1)]
        if len(hit) < 3:
            return None
        theta, r = rng.uniform(0, 2 * math.pi), rng.uniform(30, 80)
        for f in hit:
            theta += rng.gauss(0, 0.35)
            r = min(80.0, max(30.0, r + rng.gauss(0, 8)))
            lat, lon = frame.latlon(r * math.sin(theta), r * math.cos(theta))
            f.lat, f.lon = round(float(lat), 6), round(float(lon), 6)
            f.hdop, f.speed = round(rng.uniform(4, 12), 1), round(rng.uniform(0, 1.5), 1)
        return Label(kind, "noise", hit[0].at, hit[-1].at)
    if kind == "multipath_jump":
        still = [i for i, f in enumerate(fixes[1:-1], 1) if f.speed is not None and f.speed < 0.5
                 and _clear_ms(ctx, busy, f.at) and fixes[i + 1].at - f.at <= 130_000]
        for _ in range(20):
            if not still:
                return None
            i = rng.choice(still)
            f = fixes[i]
            t = (f.at - ctx.start_ms) / 1000
            x, y, _ = position(track, np.array([t]))
            dist, bearing = rng.uniform(300, 2000), rng.uniform(0, 2 * math.pi)
            jx, jy = float(x[0]) + dist * math.sin(bearing), float(y[0]) + dist * math.cos(bearing)
            if not ctx.map.allowed([(jx, jy)]):
                continue
            lat, lon = frame.latlon(jx, jy)
            f.lat, f.lon = round(float(lat), 6), round(float(lon), 6)
            last = f
            nxt = fixes[i + 1].at
            extra = []
            if rng.random() < 0.5:
                lat2, lon2 = frame.latlon(jx + rng.gauss(0, 25), jy + rng.gauss(0, 25))
                last = Ev(f.device, f.at + rng.randint(15_000, 25_000), "position", round(float(lat2), 6),
                          round(float(lon2), 6), round(rng.uniform(0.9, 2.5), 1), f.speed)
                extra.append(last)
            if nxt - f.at > 60_000:
                # The device takes the next fix early when one looks wrong: back within the minute.
                bx, by, _ = position(track, np.array([t + 50]))
                lat3, lon3 = frame.latlon(float(bx[0]) + rng.gauss(0, 3), float(by[0]) + rng.gauss(0, 3))
                extra.append(Ev(f.device, f.at + 50_000, "position", round(float(lat3), 6), round(float(lon3), 6),
                                1.2, f.speed))
            fixes[i + 1:i + 1] = extra
            return Label(kind, "noise", f.at, last.at)
        return None
    if kind == "wild_fix_in_zone":
        for _ in range(40):
            i = rng.randrange(1, len(fixes) - 1) if len(fixes) > 2 else None
            if i is None:
                return None
            f = fixes[i]
            if not _clear_ms(ctx, busy, f.at):
                continue
            t = (f.at - ctx.start_ms) / 1000
            x, y, _ = position(track, np.array([t]))
            z = rng.choice(ctx.exclusions)
            if z.shape.distance(_pt(x[0], y[0])) < 900:      # 1 km or more in seconds
                continue
            _, p = z.entry((float(x[0]), float(y[0])), rng.uniform(100, 200))
            lat, lon = frame.latlon(p[0] + rng.gauss(0, 20), p[1] + rng.gauss(0, 20))
            if not zone_contains(z.zone.shape, float(lat), float(lon)):
                continue
            # An extra fix seconds after a good one: kilometres in seconds, an impossible speed.
            wild = Ev(f.device, f.at + rng.randint(6_000, 12_000), "position", round(float(lat), 6),
                      round(float(lon), 6), round(rng.uniform(0.9, 2.2), 1), f.speed)
            fixes.insert(i + 1, wild)
            return Label(kind, "noise", wild.at, wild.at)
        return None
    raise EpisodeError(f"unknown GPS noise {kind!r}")


def _pt(x, y) -> Point:
    return Point(float(x), float(y))


def hmu_cut(ctx: Ctx, hmu: str, busy) -> tuple[list[Ev], Label] | None:
    t0 = _pick_time(ctx, 25 * MIN, busy)
    if t0 is None:
        return None
    t1 = t0 + ctx.rng.uniform(5, 25) * MIN
    evs = [Ev(hmu, ctx.ms(t0), "hmu_power_off"), Ev(hmu, ctx.ms(t1), "hmu_power_on")]
    return evs, Label("hmu_power_cut", "noise", evs[0].at, evs[1].at)


def delivery_noise(ctx: Ctx, kind: str, events: list[Ev], serial: str, busy) -> Label | None:
    """Noise in how one device's lines reach the file (events already carry ids and
    ``deliver`` = true time); edits ``events`` in place."""
    rng = ctx.rng
    mine = sorted((e for e in events if e.device == serial), key=lambda e: (e.at, e.rank))
    if len(mine) < 4:
        return None
    if kind == "comms_gap":
        length = rng.uniform(10, 60) * MIN
        t0 = _pick_time(ctx, length, busy, [(mine[0].at / 1000 - ctx.start_ms / 1000,
                                             mine[-1].at / 1000 - ctx.start_ms / 1000)])
        if t0 is None:
            return None
        g0, g1 = ctx.ms(t0), ctx.ms(t0 + length)
        backlog = [e for e in mine if g0 <= e.at < g1]
        for i, e in enumerate(backlog):
            e.deliver, e.rank = g1 + 1000 + i, i
        lost = Ev(serial, g0, "comms_lost", deliver=g0, rank=-1)
        back = Ev(serial, g1, "comms_restored", deliver=g1, rank=-1)
        events += [lost, back]
        return Label(kind, "noise", g0, g1)
    if kind == "clock_jitter":
        pairs = [i for i in range(1, len(mine)) if mine[i].kind == "battery_level"
                 and 0 < mine[i].at - mine[i - 1].at <= 5_000 and _clear_ms(ctx, busy, mine[i].at)]
        if not pairs:
            return None
        i = rng.choice(pairs)
        span = rng.uniform(10, 30) * MIN * 1000
        lo, hi = mine[i].at - span / 2, mine[i].at + span / 2
        hit = [e for e in mine if lo <= e.at <= hi]
        first, last = hit[0].at, hit[-1].at
        for e in hit:
            e.at += rng.randint(-4000, 4000)
        mine[i - 1].at = mine[i - 1].deliver + rng.randint(1500, 4000)
        mine[i].at = mine[i].deliver - rng.randint(500, 2000)
        return Label(kind, "noise", first, last)
    if kind == "duplicate_delivery":
        starts = [i for i, e in enumerate(mine) if _clear_ms(ctx, busy, e.at)]
        if not starts:
            return None
        i = rng.choice(starts)
        run = [e for e in mine[i:i + rng.randint(1, 6)] if _clear_ms(ctx, busy, e.at)]
        dupes = [e for e in run if rng.random() < 0.6] or run[:1]
        for e in dupes:
            events.append(Ev(e.device, e.at, e.kind, e.lat, e.lon, e.hdop, e.speed, e.value, e.id,
                             e.deliver + rng.randint(1_000, 90_000), e.rank))
        return Label(kind, "noise", dupes[0].at, dupes[-1].at)
    if kind == "out_of_order_delivery":
        n = rng.randint(3, 8)
        starts = [i for i in range(len(mine) - n) if _clear_ms(ctx, busy, mine[i].at)
                  and _clear_ms(ctx, busy, mine[i + n - 1].at)]
        if not starts:
            return None
        i = rng.choice(starts)
        run = mine[i:i + n]
        when = run[-1].deliver + rng.randint(1_000, 20_000)
        order = list(range(n))
        while order == sorted(order):
            rng.shuffle(order)
        for e, r in zip(run, order):
            e.deliver, e.rank = when, r
        return Label(kind, "noise", run[0].at, run[-1].at)
    raise EpisodeError(f"unknown delivery noise {kind!r}")
