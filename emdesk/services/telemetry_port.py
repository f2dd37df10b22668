"""Where ingest keeps telemetry and the engine keeps its findings: a port, two back ends.

A desktop (or a standalone monitoring store) keeps them in its SQLite store
(``StoreTelemetry`` here); the hub keeps them in its own storage (``emdesk.sync.hub``).
Ingest and evaluation talk only to this interface.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

import json
from dataclasses import fields, replace

import numpy as np

from emdesk.domain.devices import Device
from emdesk.domain.engine.events import ms
from emdesk.domain.engine.watch import Settings
from emdesk.domain.monitoring import Alert, Incident
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.store import Store

from .errors import ServiceError
from .watches import WATCHED_STATUSES, Fleet, compile_fleet

ENGINE = "engine"
SETTINGS_KEY = "engine_settings"     # store meta: JSON overriding the engine's thresholds


def engine_settings(text: str | None) -> Settings:
    """The engine's thresholds with a service's own overrides (``{"curfew_grace_s": 600}``);
    an unknown name or a wrong type is refused, naming it."""
    if not text:
        return Settings()
    try:
        given = json.loads(text)
    except ValueError as exc:
        raise ServiceError(f"{SETTINGS_KEY}: not JSON ({exc}); write e.g. {{\"curfew_grace_s\": 600}}") from None
    names = {f.name: f.type for f in fields(Settings)}
    for name, value in given.items():
        if name not in names:
            raise ServiceError(f"{SETTINGS_KEY}: no setting {name!r}; choose from {', '.join(sorted(names))}")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ServiceError(f"{SETTINGS_KEY}: {name} must be a number of 0 or more, not {value!r}")
    return replace(Settings(), **given)       # the actor the audit trail and histories name for the engine's own writes


class TelemetryPort(Protocol):
    def now_ms(self) -> int: ...
    def fleet(self) -> Fleet: ...
    def high_water(self) -> dict[str, int]: ...
    def append(self, rows: Sequence[Sequence], dirty: Iterable[tuple[str, int]]) -> int: ...
    def known(self, rows: Sequence[Sequence]) -> set[tuple[str, int, str]]: ...
    def dirty(self) -> list[tuple[str, int]]: ...
    def events(self, order_id: str, start_ms: int, end_ms: int) -> list[tuple]: ...
    def event_columns(self, order_id: str, start_ms: int, end_ms: int) -> tuple[np.ndarray, list[str]]: ...
    def last_contact(self, order_id: str) -> int | None: ...
    def last_heard(self, serials: Sequence[str]) -> dict[str, int]: ...
    def incidents_of(self, order_id: str, period_start: datetime) -> list[Incident]: ...
    def genuine_since(self, order_id: str, since: datetime, before: datetime) -> int: ...
    def save_evaluation(self, incidents: list[Incident], alerts: list[Alert],
                        cleared: list[tuple[str, int]]) -> None: ...


class StoreTelemetry:
    """The port over a local store (plain or encrypted)."""

    def __init__(self, store: Store):
        self.store = store
        self.log = store.telemetry
        self.log.ingesting()
        self.log.fold()            # rows a killed bulk ingest landed but did not fold

    def now_ms(self) -> int:
        return ms(self.store.clock.now())

    def fleet(self) -> Fleet:
        orders = self.store.find(Order, where={"status": [s.value for s in WATCHED_STATUSES]})
        subject_ids = {o.subject_id for o in orders if o.subject_id}
        subjects = self.store.get_many(Subject, subject_ids)
        devices: list[Device] = self.store.find(Device, where={"order_id": [o.id for o in orders]}) if orders else []
        known = self.store.find(Device)
        return compile_fleet(orders, subjects, [*devices, *(d for d in known if d.order_id is None)],
                             engine_settings(self.store.meta(SETTINGS_KEY)))

    def high_water(self) -> dict[str, int]:
        return self.log.last_contact_by_device()

    def append(self, rows, dirty) -> int:
        return self.log.append(rows, dirty)

    # The column path (a store port only): parsed chunks written without text rows.
    def register(self, orders, devices):
        return self.log.register(orders, devices)

    def high_by_key(self) -> dict[int, int]:
        return self.log.high_by_key()

    def append_columns(self, cols, event_ids, received_ms, late, dirty, *, landing: bool = False) -> int:
        return self.log.append_columns(cols, event_ids, received_ms, late, dirty, landing=landing)

    def fold(self) -> tuple[int, int]:
        return self.log.fold()

    def known(self, rows):
        return self.log.known(rows)

    def dirty(self) -> list[tuple[str, int]]:
        return self.log.dirty()

    def events(self, order_id: str, start_ms: int, end_ms: int) -> list[tuple]:
        return self.log.for_order(order_id, start_ms, end_ms)

    def event_columns(self, order_id: str, start_ms: int, end_ms: int):
        return self.log.columns_for(order_id, start_ms, end_ms)

    def last_contact(self, order_id: str) -> int | None:
        return self.log.newest_at(order_id)

    def last_heard(self, serials):
        return self.log.last_heard(serials)

    def incidents_of(self, order_id: str, period_start: datetime) -> list[Incident]:
        return [i for i in self.store.find(Incident, where={"order_id": order_id}) if i.period_start == period_start]

    def genuine_since(self, order_id: str, since: datetime, before: datetime) -> int:
        return sum(1 for i in self.store.find(Incident, where={"order_id": order_id})
                   if not i.technical and since <= i.period_start < before)

    def save_evaluation(self, incidents, alerts, cleared) -> None:
        with self.store.transaction() as db:
            if incidents:
                self.store.put_many(incidents, actor=ENGINE)
            if alerts:
                self.store.put_many(alerts, actor=ENGINE)
            self.log.clear_dirty(db, cleared)


__all__ = ["ENGINE", "StoreTelemetry", "TelemetryPort"]
