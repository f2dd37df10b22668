"""Builders for the engine's case tables: a Watch, an EventBatch and a Span from compact rows.

    w = watch(curfew="Mon-Sun 19:00-07:00", devices=("hmu", "rf_tag"))
    ev = batch([("2026-12-01T19:20Z", "hmu_range_in"), ...], w)

A row is ``(at, kind, *numbers)`` with an optional dict last (``{"dev": 1}``); the numbers
are ``lat, lon[, hdop]`` for a position and ``value`` for anything else.  Without "dev" an
``hmu_*`` event comes from the home unit and anything else from the first worn device.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from emdesk.domain.clock import at_local
from emdesk.domain.conditions import Conditions, Curfew, ReleaseDayWindow
from emdesk.domain.curfew import parse_windows
from emdesk.domain.devices import DeviceKind
from emdesk.domain.engine.events import BY_VALUE, EventBatch, ms
from emdesk.domain.engine.hits import Span
from emdesk.domain.engine.watch import Settings, Watch, WatchedDevice

HOME = (52.48, -1.89)
M_PER_DEG_LAT = 111_320.0


def t(text: str) -> int:
    """``"2026-12-01T19:20Z"`` (or with seconds) as engine milliseconds."""
    return ms(datetime.fromisoformat(text.replace("Z", "+00:00")))


def uk(day: str, clock: str) -> int:
    """A UK wall-clock time on a day as engine milliseconds (clock changes allowed for)."""
    return ms(at_local(date.fromisoformat(day), time.fromisoformat(clock)))


def north(metres: float, of: tuple[float, float] = HOME) -> tuple[float, float]:
    return of[0] + metres / M_PER_DEG_LAT, of[1]


def watch(curfew: str | None = None, home: tuple[float, float] | None = HOME,
          devices: tuple[str, ...] = ("hmu", "rf_tag"), release: tuple[str, str, str] | None = None,
          settings: Settings | None = None, **kw) -> Watch:
    """``devices``: DeviceKind values, or "phone" for a protected person's phone."""
    kit = tuple(WatchedDevice(serial=f"{name.upper()}-{i}", kind=None if name == "phone" else DeviceKind(name),
                              fitted_ms=0, protected=name == "phone") for i, name in enumerate(devices))
    cur = None
    if curfew or release:
        rel = None
        if release:
            rel = ReleaseDayWindow(day=date.fromisoformat(release[0]), start=time.fromisoformat(release[1]),
                                   end=time.fromisoformat(release[2]))
        cur = Curfew(windows=parse_windows(curfew) if curfew else (), release_day=rel)
    return Watch(order_id="O-1", reference="EM-1", subject_id="S-1", cohort=None, region="West Midlands",
                 conditions=Conditions(curfew=cur), devices=kit, home=home,
                 settings=settings or Settings(), **kw)


def _default_device(kind: str, w: Watch | None) -> int:
    if w is None:
        return 0
    kinds = [d.kind for d in w.devices]
    if kind.startswith("hmu_") and DeviceKind.HMU in kinds:
        return kinds.index(DeviceKind.HMU)
    worn = [i for i, k in enumerate(kinds) if k is not None and k.worn]
    return worn[0] if worn else 0


def batch(rows, w: Watch | None = None) -> EventBatch:
    out = []
    for row in rows:
        row = list(row)
        extra = row.pop() if isinstance(row[-1], dict) else {}
        at, kind, nums = row[0], row[1], row[2:]
        at_ms = at if isinstance(at, int) else t(at)
        dev = extra.get("dev", _default_device(kind, w))
        lat = lon = hdop = value = None
        if kind == "position":
            lat, lon = nums[0], nums[1]
            hdop = nums[2] if len(nums) > 2 else 1.0
        elif nums:
            value = nums[0]
        out.append((at_ms, BY_VALUE[kind], dev, lat, lon, hdop, None, value, False))
    return EventBatch.from_rows(out)


def track(start: str | int, minutes: int, every_s: int, where=HOME, hdop: float = 1.0, dev: int | None = None):
    """Position rows every ``every_s`` seconds for ``minutes``; ``where`` a point or a function of the step."""
    begin = start if isinstance(start, int) else t(start)
    rows = []
    for k in range(minutes * 60 // every_s):
        lat, lon = where(k) if callable(where) else where
        extra = {} if dev is None else {"dev": dev}
        rows.append((begin + k * every_s * 1000, "position", lat, lon, hdop, extra))
    return rows


def period(day: str, now: str | int | None = None) -> Span:
    """The violation period starting 07:00 UK on ``day``; ``now`` default: a day after it ends."""
    start = uk(day, "07:00")
    end = uk((date.fromisoformat(day) + timedelta(days=1)).isoformat(), "07:00")
    now_ms = end + 86_400_000 if now is None else (now if isinstance(now, int) else t(now))
    return Span(start, end, now_ms)


def span(start: str, end: str, now: str | None = None) -> Span:
    return Span(t(start), t(end), t(now) if now else t(end) + 86_400_000)


def codes(hits) -> list[tuple[str, int, int | None]]:
    return [(h.code, h.start_ms, h.end_ms) for h in hits]
