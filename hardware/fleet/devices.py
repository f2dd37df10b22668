"""What each kind of device says about a wearer's track.

- GPS tag: a fix every ``fix_interval_s`` (60 s unless the order says), every 15 s while a
  violation is in progress; HDOP mostly 0.8-2.0, error about 2 m per unit of HDOP.
- Home unit: the tag coming into range (``hmu_range_in``) on reaching home and leaving it.
- Worn tags: ``battery_level`` every 30 minutes.  A GPS tag drains 2.8-4.2 %/h and is
  charged daily (most in the evening, some in the morning, some forget until prompted);
  RF and alcohol tags run for months on a cell.
- Alcohol tag: a transdermal reading every 30 minutes, about zero when sober.
- Non-fitted device: a biometric check-in inside each prompt's window, with a position.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from .movement import Frame, position

MIN = 60.0
HOUR = 3600.0
FAST_FIX_S = 15.0
BATTERY_EVERY_S = 30 * MIN
ALCOHOL_EVERY_S = 30 * MIN
LOW_PCT = 15.0


@dataclass(slots=True)
class Ev:
    """One line of telemetry.  ``at`` is the device's own stamp (ms); ``deliver`` is when
    the line reaches the file (ms), normally the true time; ``rank`` orders one device's
    lines delivered in the same millisecond."""

    device: str
    at: int
    kind: str
    lat: float | None = None
    lon: float | None = None
    hdop: float | None = None
    speed: float | None = None
    value: float | None = None
    id: str = ""
    deliver: int = -1
    rank: int = 0

    def line(self) -> dict:
        return {"device": self.device, "at": self.at, "kind": self.kind, "lat": self.lat, "lon": self.lon,
                "hdop": self.hdop, "speed": self.speed, "value": self.value, "id": self.id}


def to_ms(start_ms: int, s: float) -> int:
    return start_ms + int(round(s * 1000))


def fix_times(rng: random.Random, end: float, interval: float, phase: float, fast: list[tuple[float, float]],
              silent_after: float | None) -> np.ndarray:
    """Fix instants (s): the regular cadence, and every 15 s inside the ``fast`` windows."""
    stop = min(end, silent_after) if silent_after is not None else end
    regular = np.arange(phase, stop, interval)
    keep = np.ones(len(regular), bool)
    extra = []
    for a, b in fast:
        keep &= ~((regular >= a - interval / 2) & (regular <= b + interval / 2))
        extra.append(np.arange(a + rng.uniform(0, FAST_FIX_S), min(b + FAST_FIX_S, stop), FAST_FIX_S))
    times = np.concatenate([regular[keep], *extra]) if extra else regular
    times = np.unique(np.round(times + np.array([rng.random() for _ in range(len(times))]) * 0.9, 3))
    return times[times < stop]


def piggyback(phase: float, interval: float, end: float) -> np.ndarray:
    """Battery reports ride on every 30th-minute fix or reading, 2 s after it."""
    step = max(1, round(BATTERY_EVERY_S / interval))
    return np.arange(phase, end, interval * step) + 2.0


def hdops(nprng: np.random.Generator, n: int) -> np.ndarray:
    return np.clip(np.round(nprng.lognormal(math.log(1.25), 0.25, n), 1), 0.7, 3.5)


def gps_fixes(serial: str, track, frame: Frame, times: np.ndarray, nprng: np.random.Generator,
              start_ms: int) -> list[Ev]:
    x, y, v = position(track, times)
    h = hdops(nprng, len(times))
    x = x + nprng.normal(0, 1, len(times)) * 2.0 * h
    y = y + nprng.normal(0, 1, len(times)) * 2.0 * h
    moving = v > 0.2
    speed = np.where(moving, v * nprng.uniform(0.9, 1.1, len(times)), nprng.uniform(0, 0.4, len(times)))
    lat, lon = frame.latlon(x, y)
    return [Ev(serial, to_ms(start_ms, t), "position", round(float(la), 6), round(float(lo), 6), float(hd),
               round(float(sp), 1))
            for t, la, lo, hd, sp in zip(times, lat, lon, h, speed)]


def range_events(hmu: str, home_spans: list[tuple[float, float]], end: float, rng: random.Random,
                 start_ms: int, silent_after: float | None) -> list[Ev]:
    """The home unit hears the tag arrive (in range) and leave (out of range)."""
    out = []
    for a, b in home_spans:
        if a > 0:
            out.append((a + rng.uniform(0, 20), "hmu_range_in"))
        if b < end:
            out.append((b + rng.uniform(5, 40), "hmu_range_out"))
    stop = silent_after if silent_after is not None else end
    return [Ev(hmu, to_ms(start_ms, t), k) for t, k in out if t < min(stop, end)]


@dataclass
class Battery:
    """A tag's battery over the day: level per minute, and when it was plugged in."""

    level0: float
    rate: float                           # % per hour
    charges: list[float]                  # seconds when put on charge
    charge_rate: float = 40.0             # % per hour
    prompted: bool = False                # charges when warned low (forgetful wearers)
    long_life: bool = False

    def run(self, rng: random.Random, end: float, serial: str, start_ms: int,
            reports: np.ndarray) -> tuple[list[Ev], float | None]:
        """Events and the instant it died (None if it did not)."""
        out: list[Ev] = []
        minutes = int(end // MIN) + 1
        level, charging, low_sent, dead = self.level0, False, False, None
        starts = sorted(self.charges)
        prompt_at = None
        if self.long_life:
            return [Ev(serial, to_ms(start_ms, t), "battery_level", value=float(round(self.level0 - self.rate * t / HOUR)))
                    for t in reports if t < end], None
        queue = [float(t) for t in reports if t < end]
        for m in range(minutes):
            t = m * MIN
            if (starts and t >= starts[0]) or (prompt_at is not None and t >= prompt_at):
                if starts and t >= starts[0]:
                    starts.pop(0)
                prompt_at = None
                if not charging and level < 97:
                    charging = True
                    out.append(Ev(serial, to_ms(start_ms, t + rng.uniform(0, 50)), "charging", value=float(round(level))))
            if charging:
                level = min(100.0, level + self.charge_rate / 60)
                if level >= 100:
                    charging = False
            else:
                level = max(0.0, level - self.rate / 60)
            if not charging and not low_sent and level <= LOW_PCT:
                low_sent = True
                out.append(Ev(serial, to_ms(start_ms, t + rng.uniform(0, 50)), "battery_low", value=float(round(level))))
                if self.prompted:
                    prompt_at = t + rng.uniform(15, 75) * MIN
            if level > LOW_PCT + 5:
                low_sent = False
            if level <= 1.0 and not charging:
                dead = t + rng.uniform(0, 50)
                out.append(Ev(serial, to_ms(start_ms, dead), "battery_dead", value=float(round(level))))
                break
            while queue and queue[0] < t + MIN:
                out.append(Ev(serial, to_ms(start_ms, queue.pop(0)), "battery_level", value=float(round(level))))
        return out, dead


def alcohol_times(rng: random.Random, end: float) -> np.ndarray:
    return np.arange(rng.uniform(0, ALCOHOL_EVERY_S), end, ALCOHOL_EVERY_S)


def alcohol_readings(serial: str, times: np.ndarray, values: list[float], start_ms: int) -> list[Ev]:
    return [Ev(serial, to_ms(start_ms, t), "alcohol_reading", value=round(v, 1)) for t, v in zip(times, values)]


def checkin(serial: str, t: float, track, frame: Frame, rng: random.Random, start_ms: int, passed: bool = True) -> list[Ev]:
    x, y, _ = position(track, np.array([t]))
    hd = round(rng.uniform(0.8, 2.5), 1)
    lat, lon = frame.latlon(float(x[0]) + rng.gauss(0, 2 * hd), float(y[0]) + rng.gauss(0, 2 * hd))
    at = to_ms(start_ms, t)
    return [Ev(serial, at, "position", round(float(lat), 6), round(float(lon), 6), hd, round(rng.uniform(0, 0.3), 1)),
            Ev(serial, at, "checkin", value=1.0 if passed else 0.0)]


def instant(serial: str, t: float, kind: str, start_ms: int, value: float | None = None) -> Ev:
    return Ev(serial, to_ms(start_ms, t), kind, value=value)
