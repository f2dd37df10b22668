"""One wearer's day, start to finish: plan, script, emit, add noise, stamp ids."""
from __future__ import annotations

import random
from collections import defaultdict

import numpy as np

from emdesk.domain.devices import DeviceKind
from emdesk.domain.geography import zone_defect
from emdesk.domain.ids import derived_id

from . import devices as dv
from . import episodes as ep
from .devices import Ev
from .movement import Frame, Map, ZoneArea
from .plan import Planner
from .world import Period, Wearer

MIN = 60.0
HOUR = 3600.0
GPS_NOISE = frozenset({"gps_drift", "multipath_jump", "wild_fix_in_zone"})
DELIVERY_NOISE = frozenset({"comms_gap", "clock_jitter", "duplicate_delivery", "out_of_order_delivery"})


def context(wearer: Wearer, period: Period, seed: int) -> ep.Ctx:
    # Seeded by the order alone (and the seed): other wearers never change this one's day.
    rng = random.Random(f"emdesk-fleet:{seed}:{wearer.order.id}:{period.day.isoformat()}")
    nprng = np.random.default_rng(rng.getrandbits(64))
    frame = Frame(*wearer.home)
    zones = [ZoneArea.of(z, frame) for z in wearer.order.conditions.zones if zone_defect(z.shape) is None]
    map_ = Map(frame, zones)
    end = period.seconds
    curfews = ep.curfew_spans(wearer, period)
    evening = next(((a, b) for a, b in curfews if 0 < a < end), None)
    return ep.Ctx(wearer, period, rng, nprng, frame, map_, Planner(rng, map_), end, curfews, evening, zones,
                  ep.checkin_prompts(wearer, period))


def _gps_battery(ctx: ep.Ctx, script: ep.Script, home, wake: float) -> dv.Battery:
    rng = ctx.rng
    rate = rng.uniform(2.0, 3.2)
    if script.battery_dies is not None:
        hours = script.battery_dies / HOUR
        level0 = min(95.0, 1 + rate * hours)
        return dv.Battery(level0, (level0 - 1) / hours, [])
    habit = rng.choices(("evening", "morning", "forgetful"), (75, 15, 10))[0]
    if habit == "evening":
        # On charge some time in the evening, once home: a sofa and a cable.
        wanted = ctx.period.local(0, ep._clock(18)) + rng.uniform(0, 4) * HOUR
        span = next(((a, b) for a, b in home if b > wanted + 30 * MIN), None)
        charges = [max(wanted, span[0] + rng.uniform(5, 30) * MIN)] if span is not None else []
        return dv.Battery(100 - rate * rng.uniform(7, 10), rate, charges, rng.uniform(35, 50), prompted=True)
    if habit == "morning":
        return dv.Battery(rng.uniform(25, 45), rate, [rng.uniform(0, 0.8 * wake)], rng.uniform(35, 50), prompted=True)
    return dv.Battery(rng.uniform(20, 35), rate, [], rng.uniform(35, 50), prompted=True)


def simulate_wearer(wearer: Wearer, period: Period, seed: int, *, violation: str | None = None,
                    noise: str | None = None) -> tuple[list[Ev], list[ep.Label]]:
    """The wearer's events (ids stamped, ``deliver`` set) and labels.  ``violation`` or
    ``noise`` force that episode (``EpisodeError`` if the order or kit cannot have it);
    otherwise each is drawn at its share of wearers."""
    ctx = context(wearer, period, seed)
    rng, end = ctx.rng, ctx.end
    draw_violation, draw_noise = rng.random(), rng.random()
    # Kit fitted during the period: its first day is left clean.
    settled = all(f <= period.start_ms for f in wearer.fitted_ms.values())
    plan, evening_index = ep.base_plan(ctx)

    kinds = ep.feasible_violations(ctx)
    vkind = None
    if violation is not None:
        vkind = _forced(violation, "violation", ep.VIOLATIONS, kinds, wearer.reference)
    elif settled and kinds and draw_violation < ep.VIOLATION_SHARE:
        vkind = rng.choice(kinds)
    script = ep.Script(plan)
    if vkind is not None:
        try:
            script = ep.script_violation(ctx, vkind, plan, evening_index)
        except ep.EpisodeError:
            if violation is not None:
                raise
            vkind = None
    track_obj = ctx.planner.day(script.plan, end)
    track = track_obj.arrays()
    home = track_obj.home_spans(end)
    labels: list[ep.Label] = []

    def fail(what: str) -> None:
        if violation is not None:
            raise ep.EpisodeError(f"{wearer.reference}: {violation}: {what}")

    fast: list[tuple[float, float]] = []
    if vkind in ep.CURFEW_KINDS:
        label = ep.curfew_label(ctx, vkind, home)
        if label is None:
            fail("the day did not come out as scripted")
            vkind = None
        else:
            labels.append(label)
            fast = ep.out_in(home, *ctx.evening)
    elif vkind in ep.ZONE_KINDS:
        fast = ep.inside_spans(ctx, track, script.zone, outside=vkind == "inclusion_exit")
        if vkind == "inclusion_exit":
            fast = [(a, b) for a, b in fast if b - a > 10 * MIN]
    elif script.label is not None:
        labels.append(script.label)

    events: list[Ev] = []
    d = {k: wearer.device(k) for k in DeviceKind}
    gps, rf, hmu, alc, nf = (d[DeviceKind.GPS_TAG], d[DeviceKind.RF_TAG], d[DeviceKind.HMU],
                             d[DeviceKind.ALCOHOL_TAG], d[DeviceKind.NON_FITTED])
    start_ms = ctx.start_ms
    dead = None
    fixes: list[Ev] = []
    if gps is not None:
        loc = wearer.order.conditions.location
        interval = float(loc.fix_interval_s) if loc and loc.fix_interval_s else 60.0
        interval = min(max(interval, 15.0), 300.0)
        phase = rng.uniform(0, interval)
        battery = _gps_battery(ctx, script, home, script.plan.wake)
        evs, dead = battery.run(rng, end, gps.serial, start_ms, dv.piggyback(phase, interval, end))
        events += evs
        if dead is not None and vkind == "battery_died":
            labels.append(ep.Label(vkind, "violation", dv.to_ms(start_ms, dead), period.end_ms))
        elif vkind == "battery_died":
            fail("the battery did not run down")
            vkind = None
        times = dv.fix_times(rng, end, interval, phase, fast, dead)
        fixes = dv.gps_fixes(gps.serial, track, ctx.frame, times, ctx.nprng, start_ms)
        if vkind in ep.ZONE_KINDS:
            label = ep.zone_label(ctx, vkind, script.zone, fixes, (fast[0][0], fast[-1][1])) if fast else None
            if label is None:
                fail("the wearer's fixes did not show it")
                vkind = None
            else:
                labels.append(label)
    for tag in (rf, alc):
        if tag is None:
            continue
        if tag is alc:
            times = dv.alcohol_times(rng, end)
            values, label = ep.drinking_values(ctx, times, script.drinking_from)
            if vkind == "drinking":
                if label is None:
                    fail("the readings did not go over the threshold")
                    vkind = None
                else:
                    labels.append(label)
            events += dv.alcohol_readings(tag.serial, times, values, start_ms)
            reports = times + 2.0
        else:
            reports = np.arange(rng.uniform(0, dv.BATTERY_EVERY_S), end, dv.BATTERY_EVERY_S)
        battery = dv.Battery(rng.uniform(30, 100), rng.uniform(0.005, 0.02), [], long_life=True)
        events += battery.run(rng, end, tag.serial, start_ms, reports)[0]
    if hmu is not None and (rf or gps):
        events += dv.range_events(hmu.serial, home, end, rng, start_ms, dead)
    if nf is not None:
        for i, (prompt, window_end) in enumerate(ctx.prompts):
            if i == script.missed_prompt:
                continue
            window = window_end - prompt
            t = prompt + rng.uniform(min(MIN, 0.1 * window), 0.7 * window)
            if t < end:
                events += dv.checkin(nf.serial, t, track, ctx.frame, rng, start_ms)
    worn = ctx.worn
    for kind, t in script.instants:
        device = hmu if kind == "hmu_moved" else worn
        events.append(dv.instant(device.serial, t, kind, start_ms))
    if script.unplugged is not None:
        off, on = script.unplugged
        events.append(dv.instant(hmu.serial, off, "hmu_power_off", start_ms))
        if on is not None:
            events.append(dv.instant(hmu.serial, on, "hmu_power_on", start_ms))

    # Noise: one episode at most, clear of the violation.
    busy = None
    if labels:
        busy = ((labels[0].start - start_ms) / 1000, (labels[0].end - start_ms) / 1000)
        if vkind == "battery_died":
            low = [e.at for e in events if e.kind == "battery_low"]
            busy = (((min(low) if low else labels[0].start) - start_ms) / 1000, end)
    nkinds = ep.feasible_noise(ctx)
    nkind = None
    if noise is not None:
        nkind = _forced(noise, "noise", ep.NOISE, nkinds, wearer.reference)
    elif settled and nkinds and draw_noise < ep.NOISE_SHARE:
        nkind = rng.choices(nkinds, weights=[ep.NOISE_WEIGHTS[k] for k in nkinds])[0]
    nlabel = None
    if nkind in GPS_NOISE:
        nlabel = ep.gps_noise(ctx, nkind, fixes, track, home, busy)
    elif nkind == "hmu_power_cut":
        cut = ep.hmu_cut(ctx, hmu.serial, busy)
        if cut is not None:
            events += cut[0]
            nlabel = cut[1]
    events += fixes

    # What the kit was not yet wearing, it did not say.
    fitted = wearer.fitted_ms
    events = [e for e in events if fitted.get(e.device, 0) <= e.at and start_ms <= e.at < period.end_ms]
    by_device: dict[str, list[Ev]] = defaultdict(list)
    for e in events:
        by_device[e.device].append(e)
    for serial, evs in by_device.items():
        evs.sort(key=lambda e: (e.at, e.kind))
        for n, e in enumerate(evs):
            e.id = derived_id("emdesk-fleet", str(seed), serial, str(n), ms=e.at)
            e.deliver, e.rank = e.at, n
    if nkind in DELIVERY_NOISE:
        device = (gps or alc) if nkind == "clock_jitter" else (gps or worn)
        nlabel = ep.delivery_noise(ctx, nkind, events, device.serial, busy)
        for e in events:
            if not e.id:
                e.id = derived_id("emdesk-fleet", str(seed), e.device, f"{e.kind}@{e.at}", ms=e.at)
    if nkind is not None and nlabel is None and noise is not None:
        raise ep.EpisodeError(f"{wearer.reference}: {noise}: no room for it in the day")
    if nlabel is not None:
        labels.append(nlabel)
    return events, labels


def _forced(kind: str, what: str, known, feasible, reference: str) -> str:
    """A kind asked for by name, if this wearer's order and kit allow it."""
    if kind not in known:
        raise ep.EpisodeError(f"unknown {what} kind {kind!r}; use one of {', '.join(known)}")
    if kind not in feasible:
        raise ep.EpisodeError(f"{reference}: cannot have {kind} (its order and kit allow "
                              f"{', '.join(feasible) or 'none'})")
    return kind
