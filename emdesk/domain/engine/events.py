"""One order's events as columns (numpy arrays), in time order.

Positions are the volume, so the rules work on whole arrays at once; the rare events
(tamper, battery, home unit) are few enough to walk one by one.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from emdesk.domain.monitoring import EventKind

# Kinds as small integers, in a fixed order: the stored telemetry keeps the code.
KINDS: tuple[EventKind, ...] = tuple(EventKind)
CODE: dict[EventKind, int] = {k: i for i, k in enumerate(KINDS)}
BY_VALUE: dict[str, int] = {k.value: i for i, k in enumerate(KINDS)}
POSITION = CODE[EventKind.POSITION]

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


def ms(at: datetime) -> int:
    """An aware instant as integer milliseconds since the epoch."""
    if at.tzinfo is None:
        raise ValueError("engine times must be aware datetimes")
    return int(round(at.timestamp() * 1000))


def instant(value_ms: int) -> datetime:
    return datetime.fromtimestamp(value_ms / 1000, tz=timezone.utc)


@dataclass(frozen=True, eq=False)
class EventBatch:
    """Columns of equal length, sorted by ``at`` (then kind).

    ``device`` indexes ``Watch.devices``; ``lat``/``lon``/``hdop``/``speed``/``value`` are
    NaN where the event has none; ``late`` marks a delivery that arrived after later
    events had already been evaluated (the rules still use it; the UI says so).
    """

    at: np.ndarray        # int64 ms
    kind: np.ndarray      # int16, index into KINDS
    device: np.ndarray    # int16, index into Watch.devices
    lat: np.ndarray       # float64
    lon: np.ndarray
    hdop: np.ndarray
    speed: np.ndarray     # m/s as reported by the device
    value: np.ndarray
    late: np.ndarray      # bool

    def __len__(self) -> int:
        return int(self.at.shape[0])

    @classmethod
    def empty(cls) -> "EventBatch":
        return cls.from_rows([])

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence]) -> "EventBatch":
        """From tuples ``(at_ms, kind_code, device_index, lat, lon, hdop, speed, value, late)``
        (None for an absent number); sorted here, so callers need not."""
        rows = list(rows)
        if not rows:
            z = np.zeros(0)
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int16), np.zeros(0, np.int16),
                       z, z.copy(), z.copy(), z.copy(), z.copy(), np.zeros(0, bool))
        cols = list(zip(*rows))

        def f(i: int) -> np.ndarray:
            return np.array([np.nan if v is None else v for v in cols[i]], dtype=np.float64)

        batch = cls(np.array(cols[0], np.int64), np.array(cols[1], np.int16), np.array(cols[2], np.int16),
                    f(3), f(4), f(5), f(6), f(7), np.array([bool(v) for v in cols[8]], bool))
        return batch.sorted()

    def sorted(self) -> "EventBatch":
        order = np.lexsort((self.kind, self.at))
        if np.all(order[:-1] < order[1:]):
            return self
        return self.take(order)

    def take(self, index: np.ndarray) -> "EventBatch":
        """The rows at ``index`` (an integer array or a boolean mask)."""
        return EventBatch(*(getattr(self, f)[index] for f in _FIELDS))

    def of_kind(self, *kinds: EventKind) -> np.ndarray:
        """A boolean mask of the rows of these kinds."""
        return np.isin(self.kind, [CODE[k] for k in kinds])

    def between(self, start_ms: int, end_ms: int) -> "EventBatch":
        lo, hi = np.searchsorted(self.at, [start_ms, end_ms], side="left")
        return self.take(np.arange(lo, hi))


_FIELDS = ("at", "kind", "device", "lat", "lon", "hdop", "speed", "value", "late")


def stretches(at: np.ndarray, kind: np.ndarray, opening: EventKind, closing: EventKind) -> list[tuple[int, int | None]]:
    """(from, to) of each stretch between an opening and a closing event, in time order
    (a repeated opening or a stray closing changes nothing); to None: still open."""
    o, c = CODE[opening], CODE[closing]
    rows = np.flatnonzero((kind == o) | (kind == c))
    out: list[tuple[int, int | None]] = []
    since = None
    for t, k in zip(at[rows].tolist(), kind[rows].tolist()):
        if k == o and since is None:
            since = t
        elif k == c and since is not None:
            out.append((since, t))
            since = None
    return out + ([(since, None)] if since is not None else [])
