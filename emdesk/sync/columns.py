"""A first sync's events as columns: the hub packs a snapshot page, the desktop unpacks it.

A page of the JSON snapshot is a list per event, and a desktop spends more time turning a
hundred thousand of them into its rows than SQLite spends storing them.  As columns (one
little-endian array per field; order ids, devices and kinds as indexes into short lists of
the page's distinct values) the desktop reads a page with numpy, a few operations per page
rather than a few per value.  The wire form is ``protocol.EventColumns`` in msgpack.

``unpack`` trusts nothing: every array's length, every index and every kind is checked
before a row is made, and a bad page names the field that is wrong.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from emdesk.domain.engine.events import BY_VALUE
from emdesk.store.telemetry import Columns

from . import protocol as p

# (field, numpy dtype): the fixed-width columns, in the order the desktop stores them.
ARRAYS: tuple[tuple[str, str], ...] = (
    ("order", "<u4"), ("device", "<u4"), ("at", "<i8"), ("kind", "<u2"),
    ("lat", "<f8"), ("lon", "<f8"), ("hdop", "<f8"), ("speed", "<f8"), ("value", "<f8"),
    ("received", "<i8"), ("late", "u1"),
)
MAX_ROWS = 1_000_000       # far above a page (event_feed.MAX_EVENT_PAGE); a bound for a hostile one
MAX_KEY = 200              # an order id or device serial longer than this is not one the hub gave


class BadColumns(ValueError):
    """A page of columns that cannot be read: the message names the field."""


class EventArrays(NamedTuple):
    """An unpacked page: ``cols.order`` and ``cols.device`` index ``orders`` and ``devices``;
    ``cols.kind`` holds the desktop's kind codes; numbers are NaN where the event has none."""

    orders: list[str]
    devices: list[str]
    cols: Columns
    received: np.ndarray
    late: np.ndarray
    event_ids: list[str | None] | None


def _indexes(values) -> tuple[list[str], list[int]]:
    """The distinct values in order of first appearance, and each value's index among them."""
    index: dict[str, int] = {}
    idx = [index.setdefault(v, len(index)) for v in values]
    return list(index), idx


def pack(rows: list[tuple], *, head: int, after_order: str = "", after_at: int = 0, after_seq: int = 0,
         more: bool = False, hub_time_ms: int = 0) -> p.EventColumns:
    """A snapshot page's rows (``events.FEED_COLUMNS`` order: seq, then the event) as columns."""
    page = p.EventColumns(head=head, after_order=after_order, after_at=after_at, after_seq=after_seq, more=more,
                          hub_time_ms=hub_time_ms, rows=len(rows))
    if not rows:
        return page
    _seq, order, device, at, kind, lat, lon, hdop, speed, value, event_id, received, late = zip(*rows)
    page.orders, order_idx = _indexes(order)
    page.devices, device_idx = _indexes(device)
    page.kinds, kind_idx = _indexes(kind)
    values = {"order": order_idx, "device": device_idx, "at": at, "kind": kind_idx, "lat": lat, "lon": lon,
              "hdop": hdop, "speed": speed, "value": value, "received": received, "late": late}
    for name, dtype in ARRAYS:
        # None becomes NaN in a float array: "no number", as the desktop's log keeps it.
        setattr(page, name, np.asarray(values[name], dtype=dtype).tobytes())
    if any(e is not None for e in event_id):
        page.event_ids = list(event_id)
    return page


def _keys(field: str, values: list[str]) -> list[str]:
    for i, v in enumerate(values):
        if not v or len(v) > MAX_KEY:
            raise BadColumns(f"{field}[{i}] is not an id the hub gives ({len(v)} characters)")
    return values


def unpack(page: p.EventColumns) -> EventArrays:
    """The page's columns as arrays, each checked; raises ``BadColumns`` naming the field."""
    n = page.rows
    if not 0 <= n <= MAX_ROWS:
        raise BadColumns(f"rows is {n}: a page holds 0 to {MAX_ROWS:,} events")
    arrays: dict[str, np.ndarray] = {}
    for name, dtype in ARRAYS:
        raw = getattr(page, name)
        width = np.dtype(dtype).itemsize
        if len(raw) != n * width:
            raise BadColumns(f"{name} holds {len(raw)} bytes; {n} events of {width} bytes need {n * width}")
        arrays[name] = np.frombuffer(raw, dtype=dtype)
    orders, devices = _keys("orders", page.orders), _keys("devices", page.devices)
    for name, names in (("order", orders), ("device", devices), ("kind", page.kinds)):
        if n and int(arrays[name].max()) >= len(names):
            raise BadColumns(f"{name} points past the page's {len(names)} {name}s "
                             f"(index {int(arrays[name].max())})")
    unknown = [k for k in page.kinds if k not in BY_VALUE]
    if unknown:
        raise BadColumns(f"kinds holds {unknown[0]!r}, an event kind this emdesk does not know: install the latest "
                         "emdesk")
    if n and int(arrays["late"].max()) > 1:
        raise BadColumns("late must be 0 or 1")
    if page.event_ids is not None:
        if len(page.event_ids) != n:
            raise BadColumns(f"event_ids holds {len(page.event_ids)} ids for {n} events")
        if any(e is not None and len(e) > MAX_KEY for e in page.event_ids):
            raise BadColumns(f"event_ids holds an id longer than {MAX_KEY} characters")
    codes = np.array([BY_VALUE[k] for k in page.kinds] or [0], dtype=np.int64)
    cols = Columns(arrays["order"].astype(np.int64), arrays["device"].astype(np.int64), arrays["at"],
                   codes[arrays["kind"]], *(arrays[name] for name in ("lat", "lon", "hdop", "speed", "value")))
    return EventArrays(orders, devices, cols, arrays["received"], arrays["late"].astype(np.int64), page.event_ids)
