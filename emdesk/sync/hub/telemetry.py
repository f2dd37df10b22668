"""The telemetry port over the hub's storage (SQLite hub file or PostgreSQL): ingest and the
engine run at the hub with the same code as on a desktop (``emdesk.services.ingest``).

    with open_hub_port("postgresql://emdesk_hub@db/emdesk") as port:    # or a hub SQLite path
        IngestService(port).ingest(lines)

Events go into ``hub_device_events`` (``events.py``: COPY on PostgreSQL), with their dirty
periods in the same transaction; the engine's incidents and alerts are written as records
by the hub itself, as a push would write them (hub stamps, audiences, feed entries), so
they reach the monitoring workstations of their region with the next ``emdesk sync``.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from pathlib import Path

import msgspec
import numpy as np

from emdesk.domain.devices import Device
from emdesk.domain.engine.events import BY_VALUE
from emdesk.domain.engine.fleet import WATCHED_STATUSES, Fleet, compile_fleet
from emdesk.domain.monitoring import Alert, Incident
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject

from ..ordering import RANK
from ..policy import RULES
from ..scope import ALL
from . import events as ev
from .engine import Hub
from .storage import StorageUnavailable, is_postgres, open_storage

_decoders: dict[type, msgspec.json.Decoder] = {}


def _decode(cls, text: str):
    dec = _decoders.get(cls) or _decoders.setdefault(cls, msgspec.json.Decoder(cls))
    return dec.decode(text)


def _plain_kind(rows: Sequence[Sequence]) -> Sequence[Sequence]:
    """Kinds as their text: a database driver may write an enum member by its name."""
    if rows and isinstance(rows[0][3], Enum):
        return [(*r[:3], r[3].value, *r[4:]) for r in rows]
    return rows


class HubTelemetry:
    """``emdesk.services.telemetry_port.TelemetryPort`` over a hub."""

    def __init__(self, hub: Hub):
        self.hub = hub
        self.storage = hub.storage
        self._seen: dict[tuple[str, int], int] = {}     # dirty marks as last read: their gen

    def now_ms(self) -> int:
        return self.hub.now_ms()

    def fleet(self) -> Fleet:
        with self.storage.read(ALL) as tx:
            orders = [o for o in (_decode(Order, t) for (t,) in tx.all(
                "SELECT data FROM hub_rows WHERE tbl = 'orders' AND deleted = 0")) if o.status in WATCHED_STATUSES]
            wanted = sorted({o.subject_id for o in orders if o.subject_id})
            subjects = {s.id: s for s in (_decode(Subject, t) for (t,) in tx.all_in(
                "SELECT data FROM hub_rows WHERE tbl = 'subjects' AND id IN ({})", wanted))}
            devices = [_decode(Device, t) for (t,) in tx.all(
                "SELECT data FROM hub_rows WHERE tbl = 'devices' AND deleted = 0")]
        return compile_fleet(orders, subjects, devices)

    def high_water(self) -> dict[str, int]:
        with self.storage.read(ALL) as tx:
            return {d: int(at) for d, at in tx.all("SELECT device, at FROM hub_device_contact")}

    def append(self, rows: Sequence[Sequence], dirty: Iterable[tuple[str, int]]) -> int:
        """Store events (duplicates ignored) and mark their periods, in one transaction;
        returns how many rows were new."""
        with self.storage.events_write() as tx:
            added = ev.insert_events(tx, _plain_kind(rows))
            ev.mark_dirty(tx, dirty)
        return added

    def dirty(self) -> list[tuple[str, int]]:
        with self.storage.read(ALL) as tx:
            found = tx.all("SELECT order_id, period_start, gen FROM hub_watch_dirty ORDER BY period_start, order_id")
        self._seen = {(o, int(p)): int(g) for o, p, g in found}
        return [(o, int(p)) for o, p, _ in found]

    def events(self, order_id: str, start_ms: int, end_ms: int) -> list[tuple]:
        """(device, at, kind, lat, lon, hdop, speed, value, late) in time order."""
        with self.storage.read(ALL) as tx:
            return [tuple(r) for r in tx.all(
                "SELECT device, at, kind, lat, lon, hdop, speed, value, late FROM hub_device_events "
                "WHERE order_id = ? AND at >= ? AND at < ? ORDER BY at, kind", [order_id, start_ms, end_ms])]

    def event_columns(self, order_id: str, start_ms: int, end_ms: int) -> tuple[np.ndarray, list[str]]:
        """The engine's float table (at, kind code, device index, lat, lon, hdop, speed, value,
        late; NaN for none) and the serials the device index names."""
        rows = self.events(order_id, start_ms, end_ms)
        if not rows:
            return np.zeros((0, 9)), []
        serials = sorted({r[0] for r in rows})
        index = {s: i for i, s in enumerate(serials)}
        table = np.array([(r[1], BY_VALUE[str(r[2])], index[r[0]], *(np.nan if v is None else v for v in r[3:8]),
                           r[8] or 0) for r in rows], dtype=np.float64)
        return table, serials

    def known(self, rows: Sequence[Sequence]) -> set[tuple[str, int, str]]:
        """Which of these rows (device, at, kind) the hub holds already."""
        out: set[tuple[str, int, str]] = set()
        with self.storage.read(ALL) as tx:
            for r in _plain_kind(rows):
                if tx.scalar("SELECT 1 FROM hub_device_events WHERE device = ? AND at = ? AND kind = ?",
                             [r[1], r[2], r[3]]) is not None:
                    out.add((r[1], r[2], r[3]))
        return out

    def last_heard(self, serials: Sequence[str]) -> dict[str, int]:
        wanted = set(serials)
        return {d: at for d, at in self.high_water().items() if d in wanted}

    def last_contact(self, order_id: str) -> int | None:
        with self.storage.read(ALL) as tx:
            at = tx.scalar("SELECT max(at) FROM hub_device_events WHERE order_id = ?", [order_id])
        return None if at is None else int(at)

    def _incidents(self, order_id: str) -> list[Incident]:
        with self.storage.read(ALL) as tx:
            return [_decode(Incident, t) for (t,) in tx.all(
                "SELECT data FROM hub_rows WHERE tbl = 'incidents' AND order_id = ? AND deleted = 0", [order_id])]

    def incidents_of(self, order_id: str, period_start: datetime) -> list[Incident]:
        return [i for i in self._incidents(order_id) if i.period_start == period_start]

    def genuine_since(self, order_id: str, since: datetime, before: datetime) -> int:
        return sum(1 for i in self._incidents(order_id) if not i.technical and since <= i.period_start < before)

    def save_evaluation(self, incidents: list[Incident], alerts: list[Alert],
                        cleared: list[tuple[str, int]]) -> None:
        """The engine's findings written as the hub's own records (stamped after every version
        the hub holds, fanned out to their audiences as any record), and the evaluated
        periods' marks cleared, in one transaction."""
        hub, now = self.hub, self.hub.now_ms()
        when = hub.clock.now()
        with self.storage.write(writer=ALL) as tx:
            for record in sorted([*incidents, *alerts], key=lambda r: RANK[type(r).table]):
                tbl = type(record).table
                current = hub._load(tx, tbl, record.id)
                stamp = hub._hub_stamp(current)
                # Stamped as a desktop's store stamps what it writes (Store.put_many).
                made = (_decode(type(record), current.text).created_at if current is not None else None)
                data = msgspec.to_builtins(record.evolve(hlc=stamp, origin="hub", updated_at=when,
                                                         created_at=made or record.created_at or when))
                hub._decide(tx, RULES[tbl], tbl, record.id, data, stamp, bool(record.deleted), None, current, now)
            ev.clear_dirty(tx, cleared, self._seen)
        for mark in cleared:
            self._seen.pop(tuple(mark), None)

    # -- beyond the port ---------------------------------------------------------------

    def count(self, order_id: str | None = None) -> int:
        with self.storage.read(ALL) as tx:
            if order_id is None:
                return int(tx.scalar("SELECT count(*) FROM hub_device_events", default=0))
            return int(tx.scalar("SELECT count(*) FROM hub_device_events WHERE order_id = ?", [order_id], default=0))

    def prune(self, before_ms: int) -> int:
        """Drop events older than ``before_ms`` (their retention is over); returns how many.
        Desktops keep what they pulled until their own retention drops it."""
        with self.storage.events_write() as tx:
            return tx.execute("DELETE FROM hub_device_events WHERE at < ?", [before_ms]).rowcount


@contextmanager
def open_hub_port(store: str) -> Iterator[HubTelemetry]:
    """The port over the hub at ``store``: what ``emdesk hub serve --store`` takes (a
    ``postgresql://`` URL, as the hub role, or a hub SQLite path).  A path where no hub has
    been made is refused (``StorageUnavailable``), never turned into a new, empty hub."""
    if not is_postgres(store):
        _require_sqlite_hub(Path(str(store).removeprefix("sqlite:///")))
    storage = open_storage(store, create=False)
    try:
        yield HubTelemetry(Hub(storage))
    finally:
        storage.close()


def _require_sqlite_hub(path: Path) -> None:
    problem = None
    if not path.is_file():
        problem = "there is no hub"
    else:
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hub_state'").fetchone()
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            found, problem = None, f"the file is not a hub database ({exc})"
        if found is None and problem is None:
            problem = "the file is not an emdesk hub (no hub_state table)"
    if problem:
        raise StorageUnavailable(f"{problem} at {path}: create one with `emdesk hub init --store {path}` "
                                 "(or check the path)")


__all__ = ["HubTelemetry", "open_hub_port"]
