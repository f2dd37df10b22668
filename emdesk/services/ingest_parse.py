"""One chunk of telemetry lines parsed and checked into columns: the CPU half of ingest.

Pure of the store, so a worker process can do it while the main one writes the chunk
before (a national day keeps both of this machine's cores busy).  Orders and devices
arrive as the store's integer keys; the result is numpy columns, cheap to send back.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass, field

import numpy as np

from emdesk.domain.engine.events import BY_VALUE
from emdesk.domain.telemetry_lines import Placed, Rejected, check, decode_many


@dataclass(frozen=True)
class Placement:
    """What parsing needs to know of the fleet: each serial's order and keys."""

    places: dict[str, Placed]
    order_key: dict[str, int]          # order id -> store key
    device_key: dict[str, int]         # serial -> store key
    unfitted: frozenset[str]


@dataclass
class Parsed:
    numbers: list[int] = field(default_factory=list)           # line numbers of the rows, in order
    rejects: list[tuple[int, str, str]] = field(default_factory=list)   # (line number, reason, words)
    order: np.ndarray = None            # int64 store keys
    device: np.ndarray = None
    at: np.ndarray = None               # int64 ms
    kind: np.ndarray = None             # int64 kind codes
    lat: np.ndarray = None              # float64, NaN for none
    lon: np.ndarray = None
    hdop: np.ndarray = None
    speed: np.ndarray = None
    value: np.ndarray = None
    event_ids: list | None = None       # None when no line carried one

    def __len__(self) -> int:
        return 0 if self.at is None else int(self.at.shape[0])


_NOT_FITTED = "device {!r} is not fitted to any order being monitored: check its allocation"
_worker: Placement | None = None


def set_worker_placement(placement: Placement) -> None:
    global _worker
    _worker = placement


def parse_block_in_worker(path: str, offset: int, length: int, first: int, now_ms: int) -> Parsed:
    """Read one block of the file (whole lines) and parse it."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    raws, numbers = [], []
    for n, raw in enumerate(data.split(b"\n"), first):
        if raw.strip():
            raws.append(raw)
            numbers.append(n)
    return parse_chunk(raws, numbers, _worker, now_ms)


def _f(v):
    return np.nan if v is None else v


def parse_chunk(raws: list[bytes], numbers: list[int], placement: Placement, now_ms: int) -> Parsed:
    # Hundreds of thousands of short-lived objects and no cycles among them: the cycle
    # collector would only walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse(raws, numbers, placement, now_ms)
    finally:
        if collecting:
            gc.enable()


def _parse(raws: list[bytes], numbers: list[int], placement: Placement, now_ms: int) -> Parsed:
    out = Parsed()
    places, unfitted = placement.places, placement.unfitted
    okey, dkey = placement.order_key, placement.device_key
    cols: tuple[list, ...] = ([], [], [], [], [], [], [], [], [])
    o_, d_, at_, k_, la_, lo_, h_, s_, v_ = (c.append for c in cols)
    ids: list = []
    any_id = False
    keep = out.numbers.append
    rejects = out.rejects.append
    for n, line in zip(numbers, decode_many(raws)):
        if line.__class__ is Rejected:
            rejects((n, line.reason, line.words))
            continue
        device = line.device
        place = places.get(device)
        if place is None and device in unfitted:
            rejects((n, "not_fitted", _NOT_FITTED.format(device)))
            continue
        ok = check(line, place, now_ms)
        if ok.__class__ is Rejected:
            rejects((n, ok.reason, ok.words))
            continue
        keep(n)
        o_(okey[place.order_id])
        d_(dkey[device])
        at_(ok[0])
        k_(BY_VALUE[ok[1]])
        la_(_f(line.lat))
        lo_(_f(line.lon))
        h_(_f(line.hdop))
        s_(_f(line.speed))
        v_(_f(line.value))
        ids.append(line.id)
        any_id = any_id or line.id is not None
    ints = [np.array(c, np.int64) for c in cols[:4]]
    floats = [np.array(c, np.float64) for c in cols[4:]]
    out.order, out.device, out.at, out.kind = ints
    out.lat, out.lon, out.hdop, out.speed, out.value = floats
    out.event_ids = ids if any_id else None
    return out


def late_marks(device: np.ndarray, at: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Which rows (in arrival order) came after a later event of their device, counting
    ``high`` (each device key's newest time before this chunk, -1 for none); ``high`` is
    moved on to the chunk's newest."""
    n = device.shape[0]
    if n == 0:
        return np.zeros(0, bool)
    order = np.lexsort((np.arange(n), device))
    dev, t = device[order], at[order]
    shift = np.int64(1) << np.int64(43)          # ms below 2**43 (until 2248): segments cannot mix
    running = np.maximum.accumulate(dev * shift + t) - dev * shift
    first = np.ones(n, bool)
    first[1:] = dev[1:] != dev[:-1]
    before = np.empty(n, np.int64)
    before[0] = -1
    before[1:] = running[:-1]
    before[first] = -1
    before = np.maximum(before, high[dev])
    late = np.empty(n, bool)
    late[order] = t < before
    last = np.flatnonzero(np.r_[dev[1:] != dev[:-1], True])
    high[dev[last]] = np.maximum(high[dev[last]], running[last])
    return late
