"""Which GPS fixes can be believed, and the gaps in what the devices sent.

A fix is technical when its HDOP is poor, or when it is a spike: one or two fixes that
only an impossible speed could reach from the fix before and leave for the fix after,
while the fixes either side agree with each other.  A genuine fast trip is a run of
fixes each reachable from the last, so it is never a spike.  All of it is array
arithmetic over each device's fixes, so a national day costs a few passes.
"""
from __future__ import annotations

import numpy as np

from emdesk.domain.devices import DeviceKind
from emdesk.domain.geography import to_bng
from emdesk.domain.monitoring import EventKind

from .events import CODE, DAY_MS, MINUTE_MS, POSITION, EventBatch, stretches
from .hits import Hit, Span
from .watch import Settings, Watch

ACCURACY_PER_HDOP_M = 5.0     # a fix is good to about 5 m per unit of HDOP
GAP_CONFIDENCE = 0.6          # a gap alone is most likely kit or coverage
HOME_GAP_CONFIDENCE = 0.9     # ... the more so when the home unit has the wearer in range
_TRACKED = (DeviceKind.GPS_TAG, DeviceKind.NON_FITTED)


def _in_span(start_ms: int, span: Span) -> bool:
    return span.start_ms <= start_ms < min(span.end_ms, span.now_ms)


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 950 else f"{metres:.0f} m"


def _minutes(duration_ms: int) -> str:
    return f"{round(duration_ms / MINUTE_MS)} min"


def _same_run(flag: np.ndarray, dev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each run of True in ``flag`` within one device."""
    same_prev = np.concatenate(([False], dev[1:] == dev[:-1]))
    prev = np.concatenate(([False], flag[:-1])) & same_prev
    nxt = np.concatenate((flag[1:], [False])) & np.concatenate((same_prev[1:], [False]))
    return np.flatnonzero(flag & ~prev), np.flatnonzero(flag & ~nxt)


# --- Fix quality -------------------------------------------------------------------


def fix_quality(watch: Watch, ev: EventBatch, span: Span) -> tuple[np.ndarray, list[Hit]]:
    """A mask over all rows of ``ev`` (True: a believable fix) and the technical hits
    (``GPS-JUMP`` per spike, ``GPS-POOR`` per run of poor fixes) of the wearer's devices."""
    s = watch.settings
    good = np.zeros(len(ev), bool)
    rows = np.flatnonzero(ev.kind == POSITION)
    if rows.size == 0:
        return good, []
    rows = rows[np.argsort(ev.device[rows], kind="stable")]   # each device's fixes in time order
    dev, at, hdop = ev.device[rows], ev.at[rows], ev.hdop[rows]
    lat, lon = ev.lat[rows], ev.lon[rows]
    poor = np.isfinite(lat) & np.isfinite(lon) & (hdop > s.hdop_max)
    candidate = np.isfinite(lat) & np.isfinite(lon) & ~poor
    c = np.flatnonzero(candidate)
    jump, spikes = _spikes(dev[c], at[c], lat[c], lon[c], hdop[c], s)
    good[rows[c[~jump]]] = True

    hits = spikes + _poor_runs(dev, at, hdop, poor, s)
    # The protected person's phone is no alert of the wearer's.
    wearer = {i for i, d in enumerate(watch.devices) if not d.protected}
    hits = [h for d, h in hits if int(d) in wearer and _in_span(h.start_ms, span)]
    return good, sorted(hits, key=lambda h: h.start_ms)


def _spikes(dev, at, lat, lon, hdop, s: Settings) -> tuple[np.ndarray, list[tuple[int, Hit]]]:
    n = at.size
    jump = np.zeros(n, bool)
    if n < 3:
        return jump, []
    x, y = (np.asarray(v, float) for v in to_bng(lat, lon))
    slack = ACCURACY_PER_HDOP_M * np.nan_to_num(hdop, nan=2.0)

    def leg(i: np.ndarray, j: np.ndarray):
        """Whether fix i -> fix j needs more than the top speed, the distance and the speed."""
        d = np.hypot(x[j] - x[i], y[j] - y[i])
        dt = np.maximum(at[j] - at[i], 1) / 1000.0
        return (d - slack[i] - slack[j] > s.max_speed_mps * dt) & (dev[i] == dev[j]), d, d / dt

    idx = np.arange(n)
    edge = np.zeros(n + 1, bool)             # edge[k]: fix k is unreachable from fix k-1
    dist, speed = np.zeros(n + 1), np.zeros(n + 1)
    edge[1:n], dist[1:n], speed[1:n] = leg(idx[:-1], idx[1:])

    def fine(i, j):
        return ~leg(i, j)[0] & (dev[i] == dev[j])

    # Unreachable legs are few, so the fixes either side are compared only around them.
    k = idx[1:-1][edge[1:-2] & edge[2:-1]]             # one fix out and back
    single = k[fine(k - 1, k + 1)]
    k = idx[1:-2][edge[1:-3] & ~edge[2:-2] & edge[3:-1]]   # two fixes out together and back
    double = k[fine(k - 1, k + 2)]
    jump[single] = True
    jump[double] = True
    jump[double + 1] = True

    hits = []
    for first, last in [(int(i), int(i)) for i in single] + [(int(i), int(i) + 1) for i in double]:
        far, fast = max(dist[first], dist[last + 1]), max(speed[first], speed[last + 1])
        fixes = "one fix" if first == last else "two fixes"
        hits.append((dev[first], Hit(
            "GPS-JUMP", int(at[first]), int(at[last]), technical=True, confidence=0.95,
            detail=f"{fixes} {_km(far)} off the track and straight back: {fast * 3.6:.0f} km/h "
                   f"needed (limit {s.max_speed_mps * 3.6:.0f} km/h)")))
    return jump, hits


def _poor_runs(dev, at, hdop, poor, s: Settings) -> list[tuple[int, Hit]]:
    starts, ends = _same_run(poor, dev)
    hits = []
    for a, b in zip(starts.tolist(), ends.tolist()):
        worst = float(np.nanmax(hdop[a:b + 1]))
        hits.append((dev[a], Hit(
            "GPS-POOR", int(at[a]), int(at[b]), technical=True, confidence=0.9,
            detail=f"{b - a + 1} fix(es) with HDOP up to {worst:.1f} (limit {s.hdop_max:.1f}), "
                   f"good to about {worst * ACCURACY_PER_HDOP_M:.0f} m")))
    return hits


# --- Gaps --------------------------------------------------------------------------


def gap_hits(watch: Watch, ev: EventBatch, span: Span) -> list[Hit]:
    """``NO-FIX`` and ``COMMS-GAP`` longer than ``gap_s`` that start inside the span.

    Technical by default (a gap alone is usually kit or coverage); the incidents step
    weighs them with other evidence.  Open at ``now``: ``end_ms`` None.
    """
    gap = watch.settings.gap_s * 1000
    home = _home_known(ev)
    hits: list[Hit] = []
    for d, device in enumerate(watch.devices):
        if device.protected:
            continue
        mine = ev.device == d
        at, kind = ev.at[mine], ev.kind[mine]
        spans = stretches(at, kind, EventKind.COMMS_LOST, EventKind.COMMS_RESTORED)
        if device.kind in _TRACKED:
            spans += _silences(at, gap, span.now_ms)
        silent = _union(spans)
        if device.kind in _TRACKED:
            # A stretch without fixes that is mostly silence is a comms gap, not a fix gap.
            hits += [_gap("NO-FIX", a, b, home, device.serial, "no GPS fix while the device reported in")
                     for a, b in _fixless(at, kind, gap, span.now_ms)
                     if _length(a, b, span.now_ms) - _covered(a, b, silent, span.now_ms) > gap]
        hits += [_gap("COMMS-GAP", a, b, home, device.serial, "nothing heard from the device") for a, b in silent]
    return sorted((h for h in hits if _in_span(h.start_ms, span)), key=lambda h: h.start_ms)


def _silences(at: np.ndarray, gap: int, now_ms: int) -> list[tuple[int, int | None]]:
    if at.size == 0:
        return []
    long = np.flatnonzero(np.diff(at) > gap)
    out: list[tuple[int, int | None]] = list(zip(at[long].tolist(), at[long + 1].tolist()))
    if now_ms - int(at[-1]) > gap:
        out.append((int(at[-1]), None))
    return out


def _fixless(at: np.ndarray, kind: np.ndarray, gap: int, now_ms: int) -> list[tuple[int, int | None]]:
    """Stretches between fixes longer than the gap during which the device sent something else."""
    fixes = at[kind == POSITION]
    if fixes.size == 0:
        return []
    ends = np.concatenate((fixes[1:], [now_ms]))
    long = np.flatnonzero(ends - fixes > gap)
    # Anything else the device said strictly inside each stretch (its comms words aside).
    comms = np.isin(kind, [CODE[EventKind.COMMS_LOST], CODE[EventKind.COMMS_RESTORED]])
    said = at[(kind != POSITION) & ~comms]
    inside = np.searchsorted(said, ends[long], "left") - np.searchsorted(said, fixes[long], "right")
    out = []
    for i, n in zip(long.tolist(), inside.tolist()):
        if n > 0:
            out.append((int(fixes[i]), int(ends[i]) if i + 1 < fixes.size else None))
    return out


def _length(a: int, b: int | None, now: int) -> int:
    return (now if b is None else b) - a


def _covered(a: int, b: int | None, spans: list[tuple[int, int | None]], now: int) -> int:
    """How much of [a, b) the spans cover."""
    stop = now if b is None else b
    return sum(max(0, min(stop, now if y is None else y) - max(a, x)) for x, y in spans)


def _union(spans: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    out: list[list] = []
    for a, b in sorted(spans, key=lambda p: p[0]):
        if out and (out[-1][1] is None or a <= out[-1][1]):
            if out[-1][1] is not None and (b is None or b > out[-1][1]):
                out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _home_known(ev: EventBatch):
    """A test: was the wearer in range of the home unit throughout [a, b)?"""
    rows = ev.of_kind(EventKind.HMU_RANGE_IN, EventKind.HMU_RANGE_OUT)
    at, inside = ev.at[rows], ev.kind[rows] == CODE[EventKind.HMU_RANGE_IN]

    def known(a: int, b: int | None) -> bool:
        i = int(np.searchsorted(at, a, "right")) - 1
        if i < 0 or not inside[i]:
            return False
        j = at.size if b is None else int(np.searchsorted(at, b, "left"))
        return bool(inside[i:j].all())
    return known


def _gap(code: str, a: int, b: int | None, home, serial: str, words: str) -> Hit:
    at_home = home(a, b)
    long = f"for {_minutes(b - a)}" if b is not None else "and still going"
    where = "; the home unit had the wearer in range throughout" if at_home else ""
    return Hit(code, a, b, technical=True, confidence=HOME_GAP_CONFIDENCE if at_home else GAP_CONFIDENCE,
               detail=f"{serial}: {words} {long}{where}")


# --- Silence -----------------------------------------------------------------------


def unmonitored(last_contact_ms: int, now_ms: int, settings: Settings) -> bool:
    """Whether an order has been silent ``silent_days`` or more."""
    return now_ms - last_contact_ms >= settings.silent_days * DAY_MS


def silent_hit(watch: Watch, last_contact_ms: int, span: Span) -> Hit | None:
    """``UNMONITORED`` from the moment the silence reached ``silent_days``, if in the span."""
    s = watch.settings
    if not unmonitored(last_contact_ms, span.now_ms, s):
        return None
    start = last_contact_ms + s.silent_days * DAY_MS
    if not (span.start_ms <= start < min(span.end_ms, span.now_ms) + 1):
        return None
    days = (span.now_ms - last_contact_ms) // DAY_MS
    return Hit("UNMONITORED", start, None, technical=False, confidence=1.0,
               detail=f"nothing from any device for {days} days (limit {s.silent_days})")
