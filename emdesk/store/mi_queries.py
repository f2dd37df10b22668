"""Telemetry read for the management picture: each device's last sign of life before an
instant (the log's own ``last_heard`` only knows the newest)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from emdesk.domain.engine.events import BY_VALUE

if TYPE_CHECKING:
    from .store import Store

_COMMS_LOST = BY_VALUE["comms_lost"]
# Walks the (order, at) key backwards from the instant and stops at the device's first row.
_LAST = ("SELECT e.at FROM device_events e WHERE e.order_n = ? AND e.device_n = ? AND e.at <= ? AND e.kind != ? "
         "ORDER BY e.at DESC LIMIT 1")
_FIRST = "SELECT e.at FROM device_events e WHERE e.order_n = ? AND e.device_n = ? ORDER BY e.at LIMIT 1"


def last_heard_before(store: "Store", pairs: Iterable[tuple[str, str]], at_ms: int
                      ) -> tuple[dict[str, int], dict[str, int]]:
    """(order id, device serial) pairs -> (serial: the newest event time (ms UTC) at or before
    ``at_ms`` other than ``comms_lost`` (the network speaking, not the device), serial: the
    first event the log holds for it).  Devices never heard are left out of both."""
    pairs = list(pairs)
    if not pairs:
        return {}, {}
    out: dict[str, int] = {}
    first: dict[str, int] = {}
    with store.reading() as db:
        keys = {(kind, key): n for n, kind, key in db.execute("SELECT n, kind, key FROM telemetry_keys")}
        for order_id, serial in pairs:
            o, d = keys.get(("order", order_id)), keys.get(("device", serial))
            if o is None or d is None:
                continue
            row = db.execute(_LAST, [o, d, at_ms, _COMMS_LOST]).fetchone()
            if row is not None and row[0] > out.get(serial, -1):
                out[serial] = row[0]
            row = db.execute(_FIRST, [o, d]).fetchone()
            if row is not None and row[0] < first.get(serial, row[0] + 1):
                first[serial] = row[0]
    return out, first


__all__ = ["last_heard_before"]
